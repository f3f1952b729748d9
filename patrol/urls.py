"""API of the patrol app, under /api/patrol/."""

from django.urls import path

from . import api

urlpatterns = [
    path("issues/", api.IssueListView.as_view(), name="patrol-issues"),
    path("issues/<int:pk>/", api.IssueDetailView.as_view(), name="patrol-issue"),
    path("issues/<int:pk>/transition/", api.IssueTransitionView.as_view(), name="patrol-issue-transition"),
    path("photos/", api.PhotoUploadView.as_view(), name="patrol-photos"),
    path("photos/<str:sha>/", api.PhotoView.as_view(), name="patrol-photo"),
    path("tasks/", api.MyTasksView.as_view(), name="patrol-tasks"),
    path("categories/", api.CategoryListView.as_view(), name="patrol-categories"),
]
