"""The mobile PWA, under /m/ (the service worker lives here so its scope covers the app)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.mobile_app, name="patrol-mobile"),
    path("sw.js", views.service_worker, name="patrol-sw"),
    path("manifest.webmanifest", views.manifest, name="patrol-manifest"),
]
