"""Web pages of the patrol loop (/patrol/), the mobile app shell (/m/) and the login landing."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.apps import apps
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from gridgov.errors import GridGovError
from gridgov.models import GridAssignment, Role
from gridgov.selectors import district_choices
from gridgov.validation import validated

from . import selectors
from .actions.photos import check_photo_size, photo_store
from .actions.transitions import allowed_actions, issue_transition
from .conf import setting
from .inputs import IssueFilter, TransitionRequest
from .models import Status
from .paging import page_of
from .redaction import redact
from .selectors import TaskKind
from .transitions import CONFIRMED_ACTIONS, TRANSITIONS, event_label

PAGE_SIZE = 100
FILTERS = ("status", "category", "district", "since", "until", "q", "id")
ACT_FIELDS = ("unit", "deadline", "duplicate_of", "public_text", "note", "action")

# What the confirmation dialog says each confirmed action will do (patrol.transitions.CONFIRMED_ACTIONS).
CONSEQUENCES = {
    "reject": _lazy("案件将不予立案并结案。"),
    "mark_duplicate": _lazy("案件将作为重复件结案，并链接到原案件。"),
    "dispatch": _lazy("案件将交给所选责任单位，整改期限从现在开始计算。"),
    "submit_rectification": _lazy("整改材料提交后交由网格员或监管人员验收，提交后不能修改。"),
    "accept": _lazy("案件将验收通过并结案。"),
    "fail": _lazy("案件将退回责任单位重新整改，原期限不变。"),
    "publish": _lazy("案件将在曝光台向公众公开：类别、地点、时间、整改情况、整改前后照片和曝光文字。"),
    "unpublish": _lazy("案件将从曝光台和 Open311 撤下，公众不再能看到。"),
}

# Where a role lands after signing in from the city map (`/`): its own work. Grid officers work
# on the phone; supervisors on the cockpit (我的待办, last month's figures); units on their cases;
# planners in the zoning editor; analysts on the imagery queue; an enterprise's contact on its
# enterprise's file (credit and repair).
LANDING = {
    Role.GRID_OFFICER: "patrol-mobile",
    Role.CITY_SUPERVISOR: "dashboard",
    Role.DISTRICT_SUPERVISOR: "dashboard",
    Role.TOWNSHIP_SUPERVISOR: "dashboard",
    Role.RESPONSIBLE_UNIT: "patrol-page-list",
    Role.ZONING_PLANNER: "zoning-editor",
    Role.IMAGERY_ANALYST: "geodata-review",
    Role.ENTERPRISE_CONTACT: "credit-mine",
}


@login_required
def landing(request):
    """After the login form: a grid officer who signed in from `/` (or with no target) goes
    to the mobile app; everyone else, and any other target, goes where they were headed."""
    target = request.GET.get("next") or ""
    safe = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if not safe:
        target = ""
    if target in ("", reverse("home")) and request.user.role in LANDING:
        return redirect(LANDING[request.user.role])
    return redirect(target or reverse("home"))


@login_required
def issue_list(request):
    filters = {k: request.GET.get(k) for k in FILTERS if request.GET.get(k)}
    valid = dict(filters)
    try:
        args = IssueFilter.selector_args(validated(IssueFilter, filters))
    except GridGovError as exc:
        messages.error(request, exc.message)
        args, valid = {}, {}
    page, problem = page_of(request, selectors.issues_list(user=request.user, **args), limit=PAGE_SIZE)
    if problem is not None:
        messages.error(request, problem.message)
    tasks = list(selectors.my_tasks(user=request.user)[:50])
    return render(
        request,
        "patrol/issue_list.html",
        {
            "page": page,
            "statuses": Status.choices,
            "categories": selectors.categories().filter(parent__isnull=True),
            "districts": district_choices(),
            "filters": filters,
            "map_query": urlencode(valid),
            "assigned": [t for t in tasks if t.task_kind == TaskKind.ASSIGNED],
            "reported": [t for t in tasks if t.task_kind == TaskKind.REPORTED],
        },
    )


@login_required
def issue_detail(request, pk: int):
    try:
        issue = selectors.issue_get(user=request.user, issue_id=pk)
    except GridGovError:
        return render(request, "patrol/not_found.html", status=404)
    actions = [TRANSITIONS[a] for a in allowed_actions(issue=issue, user=request.user)]
    units = []
    if any(t.action == "dispatch" for t in actions):
        units = selectors.dispatch_units(issue=issue, user=request.user)
    events = [
        {
            "e": e,
            "label": event_label(e.action),
            "from_label": Status(e.from_status).label if e.from_status in Status.values else "",
            "to_label": Status(e.to_status).label if e.to_status in Status.values else e.to_status,
        }
        for e in issue.events.all()
    ]
    publishing = any(t.action == "publish" for t in actions)
    return render(
        request,
        "patrol/issue_detail.html",
        {
            "issue": issue,
            "events": events,
            "actions": actions,
            "units": units,
            "duplicates": selectors.issue_duplicates(
                point=issue.point, category=issue.category_id, exclude_id=issue.pk
            ),
            "photo_actions": {"submit_rectification", "accept", "fail"},
            "note_required": {"reject", "fail", "reopen", "unpublish"},
            "confirmed": CONFIRMED_ACTIONS,
            "confirm_texts": {
                t.action: {"title": _("确认%(action)s？") % {"action": t.label}, "text": str(CONSEQUENCES[t.action])}
                for t in actions
                if t.action in CONFIRMED_ACTIONS
            },
            "photos": selectors.issue_photo_sets(issue),
            "publish_preview": redact(issue.description, names=selectors.people_of(issue)) if publishing else "",
            "monitoring_chart": issue.source == "online_monitoring" and apps.is_installed("sources"),
            "deadline_hour": setting("PATROL_DEADLINE_HOUR"),
        },
    )


@login_required
@require_POST
def issue_act(request, pk: int):
    """Take one action from the detail page; photos arrive in the same form."""
    try:
        selectors.issue_get(user=request.user, issue_id=pk)
        hashes = []
        for upload in request.FILES.getlist("photos"):
            check_photo_size(upload.size, field="photos")
            photo, _created = photo_store(data=upload.read(), uploaded_by=request.user, field="photos")
            hashes.append(photo.sha256)
        form = {k: request.POST.get(k) for k in ACT_FIELDS if request.POST.get(k)}
        data = validated(TransitionRequest, {**form, "photo_hashes": hashes})
        issue_transition(
            issue_id=pk, action=data["action"], actor=request.user, **TransitionRequest.service_params(data)
        )
        messages.success(request, _("已%(action)s") % {"action": TRANSITIONS[data["action"]].label})
    except GridGovError as exc:
        messages.error(request, exc.message)
    return redirect("patrol-page-detail", pk=pk)


# --- Mobile app ---------------------------------------------------------------------------


@login_required
def mobile_app(request):
    return render(
        request,
        "patrol/mobile.html",
        {
            "categories": selectors.categories(),
            # The officer's own cells: the app warns before a report outside them.
            "own_cells_json": json.dumps(
                list(
                    GridAssignment.objects.filter(user=request.user)
                    .order_by("cell__code")
                    .values_list("cell__code", flat=True)
                )
            ),
            # 双随机 tasks (static/inspections/tasks.js) when the inspections app is installed.
            "inspections_enabled": apps.is_installed("inspections"),
        },
    )


def service_worker(request):
    """Served from /m/ so its scope covers the whole mobile app."""
    body = render_to_string(
        "patrol/sw.js",
        {"version": setting("PATROL_PHOTO_MAX_SIDE"), "inspections_enabled": apps.is_installed("inspections")},
        request=request,
    )
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/m/"
    response["Cache-Control"] = "no-cache"
    return response


def manifest(request):
    body = {
        "name": _("GridGov 网格巡查"),
        "short_name": _("网格巡查"),
        "start_url": reverse("patrol-mobile"),
        "scope": "/m/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#1f5fa8",
        "lang": request.LANGUAGE_CODE,
        "icons": [
            {"src": "/static/patrol/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/patrol/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any maskable"},
        ],
    }
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/manifest+json")
