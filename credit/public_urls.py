"""The public credit list, under /public/credit/."""

from django.urls import path

from . import views

urlpatterns = [path("", views.public_list, name="public-credit")]
