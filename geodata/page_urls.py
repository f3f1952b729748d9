"""Pages of the imagery app, mounted at /imagery/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.review_page, name="geodata-review"),
    path("chips/<int:pk>/<str:which>.png", views.chip, name="geodata-chip"),
]
