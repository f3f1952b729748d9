"""The imagery API, mounted at /api/geodata/."""

from django.urls import path

from . import api

urlpatterns = [
    path("candidates/", api.CandidateListView.as_view(), name="geodata-candidates"),
    path("candidates/<int:pk>/", api.CandidateDetailView.as_view(), name="geodata-candidate"),
    path("candidates/<int:pk>/confirm/", api.CandidateConfirmView.as_view(), name="geodata-candidate-confirm"),
    path("candidates/<int:pk>/dismiss/", api.CandidateDismissView.as_view(), name="geodata-candidate-dismiss"),
    path("grid-summary/", api.GridSummaryView.as_view(), name="geodata-grid-summary"),
    path("quality/", api.QualityView.as_view(), name="geodata-quality"),
    path("scenes/", api.SceneListView.as_view(), name="geodata-scenes"),
    path("jobs/", api.JobListView.as_view(), name="geodata-jobs"),
    path("jobs/<int:pk>/", api.JobDetailView.as_view(), name="geodata-job"),
    path("jobs/<int:pk>/cancel/", api.JobCancelView.as_view(), name="geodata-job-cancel"),
]
