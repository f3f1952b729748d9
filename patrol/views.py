"""Web pages of the patrol loop (/patrol/) and the mobile app shell (/m/)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from geodata.selectors import candidate_for_issue
from geodata.services import can_review
from gridgov.errors import GridGovError
from gridgov.validation import validated

from . import selectors
from .actions.photos import check_photo_size, photo_store
from .actions.transitions import allowed_actions, issue_transition
from .conf import setting
from .inputs import IssueFilter, TransitionRequest
from .models import Status
from .transitions import TRANSITIONS, event_label

PAGE_SIZE = 100
FILTERS = ("status", "category", "district", "since")
ACT_FIELDS = ("unit", "deadline", "duplicate_of", "public_text", "note", "action")


@login_required
def issue_list(request):
    filters = {k: request.GET.get(k) for k in FILTERS if request.GET.get(k)}
    try:
        args = IssueFilter.selector_args(validated(IssueFilter, filters))
    except GridGovError as exc:
        messages.error(request, exc.message)
        args = {}
    qs = selectors.issues_list(user=request.user, **args)
    return render(
        request,
        "patrol/issue_list.html",
        {
            "issues": qs[:PAGE_SIZE],
            "total": qs.count(),
            "statuses": Status.choices,
            "categories": selectors.categories().filter(parent__isnull=True),
            "filters": filters,
            "tasks": selectors.my_tasks(user=request.user)[:50],
        },
    )


def _imagery_candidate(issue, user):
    """The imagery change candidate a case came from, for users who may see imagery."""
    if issue.source != "imagery":
        return None
    return candidate_for_issue(issue) if can_review(user) else None


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
            "candidate": _imagery_candidate(issue, request.user),
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
            "basemap": "none",
        },
    )


def service_worker(request):
    """Served from /m/ so its scope covers the whole mobile app."""
    body = render_to_string("patrol/sw.js", {"version": setting("PATROL_PHOTO_MAX_SIDE")}, request=request)
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/m/"
    response["Cache-Control"] = "no-cache"
    return response


def manifest(request):
    body = {
        "name": "GridGov 网格巡查",
        "short_name": "网格巡查",
        "start_url": reverse("patrol-mobile"),
        "scope": "/m/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#1f5fa8",
        "lang": "zh-CN",
        "icons": [
            {"src": "/static/patrol/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/patrol/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any maskable"},
        ],
    }
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/manifest+json")
