"""Pages of the credit app, under /credit/."""

from django.urls import path

from . import views

urlpatterns = [path("mine/", views.mine, name="credit-mine")]
