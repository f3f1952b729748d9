"""Open311 GeoReport v2 for citizen apps, at /open311/v2/ (http://wiki.open311.org/GeoReport_v2).

Every resource answers as `.json` and `.xml`. Errors are a list of `{code, description}`.
Only public-safe fields leave here: never the reporter, contact details or the raw text of an
unpublished case.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from xml.etree import ElementTree as ET

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from rest_framework import serializers

from gridgov.errors import Forbidden, GridGovError, InvalidInput, NotFound
from gridgov.geo import point_from
from gridgov.validation import PlainTextField, lat_field, lon_field, validated

from . import selectors
from .actions.reporting import issue_report
from .gazetteer import places_matching
from .inputs import CategoryCodeField, MomentField
from .models import CLOSED_STATUSES, ApiKey, Category, Issue, Status
from .serializers import photo_url

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
    """Turn GridGovErrors into Open311 error lists (404, 403, else 400).

    Open311's error has no field of its own, so the description starts with the parameter's
    name as the GeoReport specification spells it (`lat: 纬度：应为有限的数字。`).
    """

    def wrapper(request, *args, fmt: str, **kwargs):
        try:
            return fn(request, *args, fmt=fmt, **kwargs)
        except GridGovError as exc:
            status = exc.status if exc.status in (403, 404) else 400
            text = f"{exc.field}: {exc.message}" if exc.field else str(exc.message)
            return error(fmt, status, text)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return csrf_exempt(wrapper)


@open311_view
def discovery(request, *, fmt: str):
    base = request.build_absolute_uri("/open311/v2/")
    body = {
        "changeset": "2026-11-28T00:00:00+08:00",
        "contact": "GridGov 生态环境网格化监管平台（演示）",
        "key_service": _("向管理员申请 api_key。"),
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
    if not selectors.categories().filter(code=code).exists():
        raise NotFound(_("服务不存在。"), code="not_found", field="service_code")
    if fmt == "json":
        return JsonResponse({"service_code": code, "attributes": []})
    root = ET.Element("service_definition")
    ET.SubElement(root, "service_code").text = code
    ET.SubElement(root, "attributes")
    return HttpResponse(
        b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8"),
        content_type="text/xml; charset=utf-8",
    )


def _address(issue: Issue) -> str:
    """Where the case is, as far as the public may know: the city, district and township."""
    parts = [
        _("杭州市"),
        issue.district.name if issue.district_id else "",
        issue.township.name if issue.township_id else "",
    ]
    return " ".join(p for p in parts if p)


def _media(issue: Issue, request) -> str:
    """The first photo of a published case (the report's, else the rectification's), as a full
    URL; nothing for an unpublished case, whose photos are not public."""
    if not issue.is_public:
        return ""
    sets = selectors.issue_photo_sets(issue)
    first = next(iter(sets["report"] + sets["rectification"] + sets["acceptance"]), None)
    return request.build_absolute_uri(photo_url(first)) if first else ""


def _public(issue: Issue, request) -> dict:
    closed = issue.status in CLOSED_STATUSES
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
        "address": _address(issue),
        "address_id": "",
        "zipcode": "",
        "lat": round(issue.point.y, 5),
        "long": round(issue.point.x, 5),
        "media_url": _media(issue, request),
    }


class W3CDateTimeField(MomentField):
    """A W3C date-time; a '+' of the offset that arrived unencoded reads as a space."""

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).strip().replace(" ", "+"))


class RequestsFilter(serializers.Serializer):
    """GET requests.json|xml: GeoReport v2's filters (service_request_id overrides the others)."""

    service_request_id = serializers.RegexField(
        r"^\s*\d{1,12}\s*(,\s*\d{1,12}\s*)*,?$", label=gettext_lazy("服务请求编号"), required=False
    )
    service_code = PlainTextField(label=gettext_lazy("服务代码"), required=False)
    start_date = W3CDateTimeField(label=gettext_lazy("开始时间"))
    end_date = W3CDateTimeField(label=gettext_lazy("结束时间"), end=True)
    status = serializers.RegexField(r"^(open|closed)(,(open|closed))?$", label=gettext_lazy("状态"), required=False)


class RequestCreate(serializers.Serializer):
    """POST requests.json|xml (form-encoded), after the api_key check."""

    service_code = CategoryCodeField(label=gettext_lazy("服务代码"))
    lat = lat_field(required=False)
    long = lon_field(required=False)
    address_string = PlainTextField(label=gettext_lazy("地址"), required=False, allow_blank=True, max_length=200)
    description = PlainTextField(
        label=gettext_lazy("问题描述"), multiline=True, required=False, allow_blank=True, max_length=4000, default=""
    )
    media_url = PlainTextField(label=gettext_lazy("图片链接"), required=False, allow_blank=True)
    email = PlainTextField(label=gettext_lazy("电子邮箱"), required=False, allow_blank=True)
    first_name = PlainTextField(label=gettext_lazy("名"), required=False, allow_blank=True)
    last_name = PlainTextField(label=gettext_lazy("姓"), required=False, allow_blank=True)
    phone = PlainTextField(label=gettext_lazy("电话"), required=False, allow_blank=True)
    device_id = PlainTextField(label=gettext_lazy("设备编号"), required=False, allow_blank=True)
    account_id = PlainTextField(label=gettext_lazy("账号"), required=False, allow_blank=True)

    default_error_messages = {
        "point_required": gettext_lazy("请提供纬度和经度。"),
    }

    def validate(self, data):
        if data.get("lat") is None and data.get("long") is None:
            if data.get("address_string", "").strip():
                return data  # a known place name (patrol.gazetteer), looked up by the view
            raise serializers.ValidationError({"lat": self.error_messages["point_required"]})
        for name in ("lat", "long"):
            if data.get(name) is None:
                raise serializers.ValidationError({name: self.error_messages["point_required"]})
        return data


CONTACT_FIELDS = ("email", "first_name", "last_name", "phone", "device_id", "account_id")


@csrf_exempt
def requests_list(request, *, fmt: str):
    if request.method == "POST":
        return request_create(request, fmt=fmt)
    return _requests_get(request, fmt=fmt)


@open311_view
def _requests_get(request, *, fmt: str):
    f = validated(RequestsFilter, request.GET)
    qs = selectors.issues_public().prefetch_related("photos", "events")
    if f.get("service_request_id"):
        pks = [int(x) for x in f["service_request_id"].split(",") if x.strip()]
        qs = qs.filter(pk__in=pks[:MAX_RECORDS])
    else:
        codes = [c for c in f.get("service_code", "").split(",") if c]
        if codes:
            qs = qs.filter(category_id__in=codes)
        end = f.get("end_date")
        start = f.get("start_date") or (end or timezone.now()) - dt.timedelta(days=DEFAULT_DAYS)
        qs = qs.filter(reported_at__gte=start)
        if end is not None:
            qs = qs.filter(reported_at__lte=end)
        wanted = set(f.get("status", "open,closed").split(","))
        if wanted == {"open"}:
            qs = qs.exclude(status__in=CLOSED_STATUSES)
        elif wanted == {"closed"}:
            qs = qs.filter(status__in=CLOSED_STATUSES)
    items = [_public(i, request) for i in qs.order_by("-reported_at")[:MAX_RECORDS]]
    return respond(fmt, "service_requests", "request", items)


@open311_view
def request_create(request, *, fmt: str):
    key = request.POST.get("api_key", "")
    if not key or not ApiKey.objects.filter(key=key, active=True).exists():
        raise Forbidden(_("访问密钥缺失或无效。"), code="bad_api_key", field="api_key")
    data = validated(RequestCreate, request.POST)
    contact = {k: data[k][:128] for k in CONTACT_FIELDS if data.get(k)}
    if data.get("media_url"):
        contact["media_url"] = data["media_url"][:512]
    issue, _created = issue_report(
        reporter=None,
        point=_point(data),
        category=data["service_code"].code,
        description=data["description"],
        source="citizen",
        client_uuid=uuid.uuid4(),
        contact=contact,
        crs_note="open311",
    )
    body = [
        {
            "service_request_id": str(issue.pk),
            "token": str(issue.token),
            "service_notice": _("已受理，将由属地网格核实。"),
            "account_id": None,
        }
    ]
    return respond(fmt, "service_requests", "request", body, status=201)


def _point(data: dict):
    """The request's WGS84 point, or the point of the known place its address_string names
    (districts, townships, grid cells and a few landmarks: patrol.gazetteer, not a geocoder)."""
    if data.get("lat") is not None:
        return point_from(data["lat"], data["long"])
    found = places_matching(data["address_string"])
    if not found:
        raise InvalidInput(
            _("地址不是已知的区县、街道或网格名称，请提供 WGS84 纬度和经度。"),
            code="unknown_place",
            field="address_string",
        )
    return point_from(found[0].lat, found[0].lon)


@open311_view
def request_detail(request, pk: str, *, fmt: str):
    qs = selectors.issues_public().prefetch_related("photos", "events")
    issue = qs.filter(pk=int(pk)).first() if pk.isdigit() and len(pk) <= 12 else None
    if issue is None:
        raise NotFound(_("服务请求不存在。"), code="not_found", field="service_request_id")
    return respond(fmt, "service_requests", "request", [_public(issue, request)])


@open311_view
def token_detail(request, token: str, *, fmt: str):
    try:
        value = uuid.UUID(token)
    except ValueError:
        raise NotFound(_("令牌不存在。"), code="not_found", field="token")
    issue = Issue.objects.filter(token=value, source="citizen").only("pk", "token").first()
    if issue is None:
        raise NotFound(_("令牌不存在。"), code="not_found", field="token")
    return respond(
        fmt, "service_requests", "request", [{"service_request_id": str(issue.pk), "token": str(issue.token)}]
    )


def demo_key() -> str:
    return os.environ.get("OPEN311_DEMO_KEY", getattr(settings, "OPEN311_DEMO_KEY", "gridgov-open311-demo"))
