"""Open311 GeoReport v2, under /open311/v2/; every resource as .json and .xml."""

from django.urls import re_path

from . import open311

F = r"\.(?P<fmt>json|xml)$"

urlpatterns = [
    re_path(r"^discovery" + F, open311.discovery, name="open311-discovery"),
    re_path(r"^services" + F, open311.services_list, name="open311-services"),
    re_path(r"^services/(?P<code>[a-z_.]+)" + F, open311.service_definition, name="open311-service"),
    re_path(r"^requests" + F, open311.requests_list, name="open311-requests"),
    re_path(r"^requests/(?P<pk>[^/]+)" + F, open311.request_detail, name="open311-request"),
    re_path(r"^tokens/(?P<token>[^/]+)" + F, open311.token_detail, name="open311-token"),
]
