"""Open311 GeoReport v2 for citizen apps, at /open311/v2/ (http://wiki.open311.org/GeoReport_v2).

Every resource answers as `.json` and `.xml`. Errors are a list of `{code, description}`.
Only public-safe fields leave here: never the reporter, contact details or the raw text of an
unpublished case.
"""

from __future__ import annotations

import datetime as dt
import uuid
from xml.etree import ElementTree as ET

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from gridgov.errors import GridGovError, InvalidInput, NotFound
from gridgov.geo import parse_point

from . import selectors, services
from .api import photo_url
from .models import CLOSED_STATUSES, ApiKey, Category, Issue, Status

DEFAULT_DAYS = 90
MAX_RECORDS = 1000


def _iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _xml(root_name: str, item_name: str, items: list[dict]) -> bytes:
    root = ET.Element(root_name)
    for item in items:
        node = ET.SubElement(root, item_name)
        _fill(node, item)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")


def _fill(node: ET.Element, item: dict) -> None:
    for key, value in item.items():
        if isinstance(value, list):
            holder = ET.SubElement(node, key)
            for v in value:
                child = ET.SubElement(holder, key.rstrip("s") or "item")
                if isinstance(v, dict):
                    _fill(child, v)
                else:
                    child.text = "" if v is None else str(v)
        elif isinstance(value, dict):
            _fill(ET.SubElement(node, key), value)
        else:
            child = ET.SubElement(node, key)
            child.text = "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))


def respond(fmt: str, root: str, item: str, items: list[dict], status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(_xml(root, item, items), status=status, content_type="text/xml; charset=utf-8")
    return JsonResponse(items, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return respond(fmt, "errors", "error", [{"code": status, "description": description}], status=status)


def open311_view(fn):
    """Turn GridGovErrors into Open311 error lists (404, 403, else 400)."""

    def wrapper(request, *args, fmt: str, **kwargs):
        try:
            return fn(request, *args, fmt=fmt, **kwargs)
        except GridGovError as exc:
            status = exc.status if exc.status in (403, 404) else 400
            return error(fmt, status, exc.message)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return csrf_exempt(wrapper)


@open311_view
def discovery(request, *, fmt: str):
    base = request.build_absolute_uri("/open311/v2/")
    body = {
        "changeset": "2026-11-28T00:00:00+08:00",
        "contact": "GridGov 生态环境网格化监管平台（演示）",
        "key_service": "向管理员申请 api_key / ask the administrator for an api_key",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-11-28T00:00:00+08:00",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    if fmt == "xml":
        root = ET.Element("discovery")
        _fill(root, {k: v for k, v in body.items() if k != "endpoints"})
        eps = ET.SubElement(root, "endpoints")
        for ep in body["endpoints"]:
            node = ET.SubElement(eps, "endpoint")
            _fill(node, {k: v for k, v in ep.items() if k != "formats"})
            formats = ET.SubElement(node, "formats")
            for f in ep["formats"]:
                ET.SubElement(formats, "format").text = f
        return HttpResponse(
            b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8"),
            content_type="text/xml; charset=utf-8",
        )
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


def _service(c: Category) -> dict:
    return {
        "service_code": c.code,
        "service_name": c.name,
        "description": f"{c.parent.name} · {c.name}" if c.parent_id else c.name,
        "metadata": False,
        "type": "realtime",
        "keywords": c.code.replace(".", ","),
        "group": c.parent.name if c.parent_id else c.name,
    }


@open311_view
def services_list(request, *, fmt: str):
    cats = selectors.categories().select_related("parent")
    return respond(fmt, "services", "service", [_service(c) for c in cats])


@open311_view
def service_definition(request, code: str, *, fmt: str):
    if not Category.objects.filter(code=code, active=True).exists():
        raise NotFound(f"service_code {code[:40]} not found")
    if fmt == "json":
        return JsonResponse({"service_code": code, "attributes": []})
    root = ET.Element("service_definition")
    ET.SubElement(root, "service_code").text = code
    ET.SubElement(root, "attributes")
    return HttpResponse(
        b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8"),
        content_type="text/xml; charset=utf-8",
    )


def _public(issue: Issue) -> dict:
    closed = issue.status in CLOSED_STATUSES
    photos = [photo_url(p.sha256) for p in issue.photos.all()] if issue.is_public else []
    return {
        "service_request_id": str(issue.pk),
        "status": "closed" if closed else "open",
        "status_notes": Status(issue.status).label,
        "service_name": issue.category.name,
        "service_code": issue.category_id,
        "description": issue.public_description if issue.is_public else "",
        "agency_responsible": issue.responsible_unit.name if issue.responsible_unit_id else "",
        "service_notice": "",
        "requested_datetime": _iso(issue.reported_at),
        "updated_datetime": _iso(issue.updated_at),
        "expected_datetime": _iso(issue.deadline),
        "address": "",
        "address_id": "",
        "zipcode": "",
        "lat": round(issue.point.y, 5),
        "long": round(issue.point.x, 5),
        "media_url": photos[0] if photos else "",
    }


def _parse_dt(value: str, field: str) -> dt.datetime:
    from django.utils.dateparse import parse_datetime

    try:
        parsed = parse_datetime(value.strip().replace(" ", "+"))
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidInput(f"{field} must be a W3C (ISO 8601) date-time, e.g. 2026-11-28T10:00:00+08:00", field=field)
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@csrf_exempt
def requests_list(request, *, fmt: str):
    if request.method == "POST":
        return request_create(request, fmt=fmt)
    return _requests_get(request, fmt=fmt)


@open311_view
def _requests_get(request, *, fmt: str):
    qs = selectors.issues_public().prefetch_related("photos")
    ids = request.GET.get("service_request_id")
    if ids:
        try:
            pks = [int(x) for x in ids.split(",") if x.strip()]
        except ValueError:
            raise InvalidInput("service_request_id must be a comma-separated list of ids")
        qs = qs.filter(pk__in=pks[:MAX_RECORDS])
    else:
        codes = [c for c in request.GET.get("service_code", "").split(",") if c]
        if codes:
            qs = qs.filter(category_id__in=codes)
        end = _parse_dt(request.GET["end_date"], "end_date") if request.GET.get("end_date") else None
        start = _parse_dt(request.GET["start_date"], "start_date") if request.GET.get("start_date") else None
        if start is None:
            start = (end or timezone.now()) - dt.timedelta(days=DEFAULT_DAYS)
        qs = qs.filter(reported_at__gte=start)
        if end is not None:
            qs = qs.filter(reported_at__lte=end)
        status = request.GET.get("status")
        if status:
            wanted = set(status.split(","))
            if not wanted <= {"open", "closed"}:
                raise InvalidInput("status must be open, closed or open,closed")
            if wanted == {"open"}:
                qs = qs.exclude(status__in=CLOSED_STATUSES)
            elif wanted == {"closed"}:
                qs = qs.filter(status__in=CLOSED_STATUSES)
    items = [_public(i) for i in qs.order_by("-reported_at")[:MAX_RECORDS]]
    return respond(fmt, "service_requests", "request", items)


@open311_view
def request_create(request, *, fmt: str):
    data = request.POST
    key = data.get("api_key", "")
    if not key or not ApiKey.objects.filter(key=key, active=True).exists():
        return error(fmt, 403, "api_key 缺失或无效 / missing or invalid api_key")
    code = data.get("service_code", "")
    if not code:
        raise InvalidInput("service_code is required")
    if not Category.objects.filter(code=code, active=True).exists():
        raise InvalidInput(f"service_code {code[:40]} is not a service of this endpoint")
    if data.get("lat") in (None, "") and data.get("long") in (None, ""):
        if data.get("address_string"):
            raise InvalidInput("address_string is not supported here: give lat and long (WGS84)")
        raise InvalidInput("lat and long are required")
    point = parse_point(data.get("lat"), data.get("long"), "wgs84", lat_field="lat", lon_field="long")
    description = data.get("description", "")
    if len(description) > 4000:
        raise InvalidInput("description is longer than 4000 characters")
    contact = {
        k: data.get(k, "")[:128]
        for k in ("email", "first_name", "last_name", "phone", "device_id", "account_id")
        if data.get(k)
    }
    if data.get("media_url"):
        contact["media_url"] = data["media_url"][:512]
    issue, _ = services.issue_report(
        reporter=None,
        point=point,
        category=code,
        description=description,
        source="citizen",
        client_uuid=uuid.uuid4(),
        contact=contact,
        crs_note="open311",
    )
    body = [
        {
            "service_request_id": str(issue.pk),
            "token": str(issue.token),
            "service_notice": "已受理，将由属地网格核实",
            "account_id": None,
        }
    ]
    return respond(fmt, "service_requests", "request", body, status=201)


@open311_view
def request_detail(request, pk: str, *, fmt: str):
    issue = selectors.issues_public().prefetch_related("photos").filter(pk=int(pk)).first() if pk.isdigit() else None
    if issue is None:
        raise NotFound(f"service request {pk[:20]} not found")
    return respond(fmt, "service_requests", "request", [_public(issue)])


@open311_view
def token_detail(request, token: str, *, fmt: str):
    try:
        value = uuid.UUID(token)
    except ValueError:
        raise NotFound("token not found")
    issue = Issue.objects.filter(token=value, source="citizen").only("pk", "token").first()
    if issue is None:
        raise NotFound("token not found")
    return respond(
        fmt, "service_requests", "request", [{"service_request_id": str(issue.pk), "token": str(issue.token)}]
    )


def demo_key() -> str:
    import os

    return os.environ.get("OPEN311_DEMO_KEY", getattr(settings, "OPEN311_DEMO_KEY", "gridgov-open311-demo"))
