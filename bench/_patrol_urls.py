"""URLs for the submission bench: the whole site plus a bare baseline view at /bench/bare-issue/."""

import json
import uuid

from django.contrib.gis.geos import Point
from django.http import JsonResponse
from django.urls import include, path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from patrol.models import Issue


@csrf_exempt
def bare_issue(request):
    """The baseline: parse the same JSON and insert the same row, nothing else."""
    data = json.loads(request.body)
    issue = Issue.objects.create(
        client_uuid=uuid.UUID(data["client_uuid"]),
        content_digest="",
        category_id=data["category"],
        description=data.get("description", ""),
        point=Point(float(data["lon"]), float(data["lat"]), srid=4326),
        accuracy_m=data.get("accuracy_m"),
        reported_at=timezone.now(),
    )
    return JsonResponse({"id": issue.pk, "status": issue.status}, status=201)


urlpatterns = [
    path("bench/bare-issue/", bare_issue),
    path("", include("gridgov.urls")),
]
