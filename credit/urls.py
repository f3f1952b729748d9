"""API of the credit app, under /api/credit/."""

from django.urls import path

from . import api

urlpatterns = [
    path("enterprises/<str:credit_code>/", api.EnterpriseCreditView.as_view(), name="credit-enterprise"),
    path("penalties/", api.PenaltyCreateView.as_view(), name="credit-penalties"),
    path("vetoes/", api.VetoCreateView.as_view(), name="credit-vetoes"),
    path("commitments/", api.CommitmentView.as_view(), name="credit-commitments"),
    path("repairs/", api.RepairListView.as_view(), name="credit-repairs"),
    path("repairs/<int:pk>/decide/", api.RepairDecideView.as_view(), name="credit-repair-decide"),
    path("public/", api.PublicListView.as_view(), name="credit-public"),
]
