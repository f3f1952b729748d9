"""Public pages of 双随机一公开 (一公开), under /public/inspections/."""

from django.urls import path

from . import api, views

urlpatterns = [
    path("", views.public_plans, name="public-inspections"),
    path("<int:pk>.json", api.PublicPlanJsonView.as_view(), name="public-inspection-json"),
    path("<int:pk>/", views.public_plan, name="public-inspection-page"),
    path("code/<str:code>.svg", views.public_code_qr, name="public-inspection-code-qr"),
    path("code/<str:code>/", views.public_code, name="public-inspection-code"),
]
