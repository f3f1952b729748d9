"""The public side of the loop, under /public/ (no account needed).

- 曝光台 (`/public/cases/`): published cases on a map and in a paged list, each with its
  category, place, dates, rectification progress, before/after photos and the published
  (redacted) text only; never the reporter, their words or their contact.
- 我要举报 (`/public/report/`): a citizen's report (12369-style) with a place picked on the map
  or found by a known place name, photos, a description and optional contact; it answers with a
  tracking code (the case's Open311 token) and a page that follows the case (`/public/track/…`).

They live in the patrol app because they are its 曝光 step and its citizen source: the same
cases, photos and Open311 tokens, no model of their own.
"""

from __future__ import annotations

import uuid

from django.db.models import prefetch_related_objects
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from gridgov.errors import GridGovError, InvalidInput
from gridgov.geo import point_from
from gridgov.login import client_address
from gridgov.selectors import district_choices
from gridgov.validation import validated

from . import selectors
from .actions.citizen import citizen_quota_take, citizen_report
from .actions.photos import check_photo_size
from .conf import setting
from .gazetteer import places_matching
from .inputs import CitizenReportRequest, PlaceQuery, PublicCaseFilter, TrackQuery
from .models import Issue, Source, Status
from .paging import page_of

PAGE_SIZE = 20

# How far the fix has got, as the public reads it (the internal statuses are finer).
PROGRESS = {
    Status.REPORTED: gettext_lazy("已受理，待核实"),
    Status.VERIFIED: gettext_lazy("已立案，待交办"),
    Status.DISPATCHED: gettext_lazy("已交办，整改中"),
    Status.RECTIFYING: gettext_lazy("整改中"),
    Status.SUBMITTED: gettext_lazy("整改已完成，待验收"),
    Status.ACCEPTED: gettext_lazy("已整改，验收通过"),
    Status.REJECTED: gettext_lazy("经核实不予立案"),
    Status.DUPLICATE: gettext_lazy("与已受理的案件重复，并入原案件办理"),
}


def progress(issue: Issue) -> str:
    return str(PROGRESS[Status(issue.status)])


def _map_attrs() -> dict:
    return {"places_url": reverse("public-places"), "map_url": reverse("public-cases-map")}


# --- 曝光台 --------------------------------------------------------------------------------


def disclosure_list(request):
    filters = {k: request.GET.get(k) for k in ("category", "district", "q") if request.GET.get(k)}
    error = None
    try:
        args = PublicCaseFilter.selector_args(validated(PublicCaseFilter, filters))
    except GridGovError as exc:
        error, args = exc.message, {}
    page, problem = page_of(request, selectors.issues_published(**args), limit=PAGE_SIZE)
    if problem is not None:
        error = problem.message
    photos = {i.pk: selectors.issue_photo_sets(i) for i in _with_photos(page.rows)}
    rows = [{"issue": i, "progress": progress(i), "photos": photos[i.pk]} for i in page.rows]
    return render(
        request,
        "public/cases.html",
        {
            "page": page,
            "rows": rows,
            "error": error,
            "filters": filters,
            "categories": selectors.categories().filter(parent__isnull=True),
            "districts": district_choices(),
            **_map_attrs(),
        },
    )


def _with_photos(issues: list[Issue]) -> list[Issue]:
    """The page's cases with their photos and steps, in two queries rather than two per case."""
    prefetch_related_objects(issues, "photos", "events")
    return issues


def disclosure_detail(request, pk: int):
    try:
        issue = selectors.published_get(issue_id=pk)
    except GridGovError:
        return render(request, "public/not_found.html", status=404)
    return render(
        request,
        "public/case.html",
        {"issue": issue, "progress": progress(issue), "photos": selectors.issue_photo_sets(issue), **_map_attrs()},
    )


def disclosure_map(request):
    """The published cases as GeoJSON points for the 曝光台 map (public fields only)."""
    limit = setting("PATROL_PUBLIC_MAP_MAX")
    qs = (
        Issue.objects.filter(is_public=True)
        .select_related("category")
        .only("id", "point", "status", "category__name")
        .order_by("-published_at", "-id")[:limit]
    )
    features = [
        {
            "type": "Feature",
            "id": i.pk,
            "geometry": {"type": "Point", "coordinates": [round(i.point.x, 6), round(i.point.y, 6)]},
            "properties": {
                "category": i.category.name,
                "progress": progress(i),
                "rectified": i.status == Status.ACCEPTED,
                "url": reverse("public-case", args=[i.pk]),
            },
        }
        for i in qs
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features}, json_dumps_params={"ensure_ascii": False})


# --- 我要举报 ------------------------------------------------------------------------------

FORM_FIELDS = ("category", "lat", "lon", "address", "description", "contact_name", "contact_phone")


@csrf_protect
@never_cache
def citizen_form(request):
    values: dict = {}
    error = None
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in FORM_FIELDS}
        try:
            issue = _file_report(request, values)
            return redirect(reverse("public-track", args=[issue.token]) + "?new=1")
        except GridGovError as exc:
            error = exc
    return render(
        request,
        "public/report.html",
        {
            "values": values,
            "error": error,
            "categories": selectors.categories().select_related("parent"),
            "max_photos": setting("PATROL_MAX_PHOTOS"),
            "labels": {
                "none": _("没有找到该地名，请在地图上点选位置。"),
                "pin": _("已标记位置：纬度 {lat}，经度 {lon}"),
                "nopin": _("尚未标记位置：请在地图上点击问题所在处。"),
                "error": _("查找失败，请稍后再试或直接在地图上点选。"),
            },
            **_map_attrs(),
        },
        status=error.status if error is not None else 200,
    )


def _file_report(request, values: dict) -> Issue:
    citizen_quota_take(client=client_address(request))
    data = validated(CitizenReportRequest, {k: v for k, v in values.items() if v != ""})
    uploads = request.FILES.getlist("photos")
    if len(uploads) > setting("PATROL_MAX_PHOTOS"):
        raise InvalidInput(
            _("照片最多 %(n)s 张。") % {"n": setting("PATROL_MAX_PHOTOS")}, code="too_many", field="photos"
        )
    for upload in uploads:
        check_photo_size(upload.size, field="photos")
    if data.get("lat") is not None:
        point = point_from(data["lat"], data["lon"])
    else:
        found = places_matching(data["address"])
        if not found:
            raise InvalidInput(
                _("没有找到“%(place)s”：请在地图上点选位置，或填写区县、街道或网格的名称。")
                % {"place": data["address"][:40]},
                code="unknown_place",
                field="address",
            )
        point = point_from(found[0].lat, found[0].lon)
    contact = {"name": data["contact_name"].strip(), "phone": data["contact_phone"].strip()}
    return citizen_report(
        point=point,
        category=data["category"].code,
        description=data["description"],
        photos=[u.read() for u in uploads],
        contact=contact,
        address=data.get("address", "").strip(),
    )


def places(request):
    """Known place names matching `q` (districts, townships, grid cells, a few landmarks)."""
    try:
        q = validated(PlaceQuery, request.GET)["q"]
    except GridGovError as exc:
        return JsonResponse(exc.as_body(), status=exc.status, json_dumps_params={"ensure_ascii": False})
    body = [{"name": p.name, "kind": p.kind_label, "lat": p.lat, "lon": p.lon} for p in places_matching(q)]
    return JsonResponse({"results": body}, json_dumps_params={"ensure_ascii": False})


# --- Following a report --------------------------------------------------------------------


def track_lookup(request):
    """The form to enter a tracking code, and where it sends the citizen."""
    error = None
    if request.GET.get("code"):
        try:
            code = validated(TrackQuery, request.GET)["code"]
            if Issue.objects.filter(token=code, source=Source.CITIZEN).exists():
                return redirect("public-track", token=code)
            error = _("没有找到该查询码对应的举报，请核对后重试。")
        except GridGovError as exc:
            error = exc.message
    return render(request, "public/track_lookup.html", {"error": error, "code": request.GET.get("code", "")})


def track(request, token: uuid.UUID):
    issue = (
        Issue.objects.filter(token=token, source=Source.CITIZEN)
        .select_related("category", "district", "township", "responsible_unit")
        .defer("district__geom", "township__geom")
        .first()
    )
    if issue is None:
        return render(request, "public/not_found.html", status=404)
    steps = [
        (_("已受理"), issue.reported_at),
        (_("已核实立案"), issue.verified_at),
        (_("已交办责任单位"), issue.dispatched_at),
        (_("整改完成"), issue.rectified_at),
        (_("验收通过"), issue.accepted_at),
    ]
    return render(
        request,
        "public/track.html",
        {
            "issue": issue,
            "progress": progress(issue),
            "steps": steps,
            "closed_other": issue.status in (Status.REJECTED, Status.DUPLICATE),
            "new": request.GET.get("new") == "1",
        },
    )
