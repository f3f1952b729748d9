"""Pages of 双随机一公开: supervisors' plan editor, draw page and progress; the public pages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credit.models import Level
from gridgov.errors import GridGovError
from gridgov.jurisdiction import user_scope
from gridgov.selectors import district_choices
from gridgov.validation import validated

from . import selectors, services
from .api import PlanInput, plan_body
from .models import ManagementClass, PlanStatus
from .public import inspection_public, plan_public_body, qr_svg, verify_url
from .selectors import enterprises_by_code

POOL_ROWS = 4


def _supervisor_only(request) -> None:
    if request.user.role not in selectors.SUPERVISOR_ROLES and not request.user.is_superuser:
        raise PermissionDenied


@login_required
def plan_list(request):
    """Plans in scope and their progress by district."""
    _supervisor_only(request)
    plans = list(selectors.plans_visible(user=request.user).prefetch_related("scope")[:100])
    progress: dict[str, dict] = {}
    for plan in plans:
        if plan.status != PlanStatus.DRAWN:
            continue
        codes = list(plan.inspections.values_list("credit_code", "done_at", "outcome"))
        enterprises = enterprises_by_code(c for c, _d, _o in codes)
        for code, done_at, outcome in codes:
            e = enterprises.get(code)
            key = e.district.name if e and e.district_id else "—"
            row = progress.setdefault(key, {"district": key, "drawn": 0, "done": 0, "problems": 0})
            row["drawn"] += 1
            row["done"] += done_at is not None
            row["problems"] += outcome == "problems"
    for row in progress.values():
        row["percent"] = round(100 * row["done"] / row["drawn"]) if row["drawn"] else 0
    return render(
        request,
        "inspections/plan_list.html",
        {
            "plans": plans,
            "progress": sorted(progress.values(), key=lambda r: r["district"]),
            "can_plan": services.can_plan(request.user),
        },
    )


def _form_payload(post) -> dict:
    """The plan editor's form fields as the API's JSON body."""
    pools = []
    for n in range(POOL_ROWS):
        ratio = (post.get(f"pool{n}_ratio") or "").strip()
        if not ratio:
            continue
        try:
            ratio_value = str(Decimal(ratio) / 100)
        except InvalidOperation:
            ratio_value = ratio
        pools.append(
            {
                "management_class": post.get(f"pool{n}_class") or None,
                "credit_levels": post.getlist(f"pool{n}_levels") or None,
                "ratio": ratio_value,
            }
        )
    return {
        "name": post.get("name", ""),
        "period_start": post.get("period_start", ""),
        "period_end": post.get("period_end", ""),
        "scope": post.getlist("scope"),
        "pools": pools,
        "per_inspection": post.get("per_inspection") or 2,
    }


@login_required
def plan_new(request):
    """The plan editor (a draft; edits are refused once committed)."""
    if not services.can_plan(request.user):
        raise PermissionDenied
    scope = user_scope(request.user)
    areas = district_choices()
    areas = [a for a in areas if scope.contains_area(a)]
    if request.method == "POST":
        try:
            data = validated(PlanInput, _form_payload(request.POST))
            plan = services.plan_create(actor=request.user, **data)
        except GridGovError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("计划已保存为草稿。"))
            return redirect("inspections-plan", pk=plan.pk)
    return render(
        request,
        "inspections/plan_edit.html",
        {
            "areas": areas,
            "classes": ManagementClass.choices,
            "levels": Level.choices,
            "rows": range(POOL_ROWS),
            "form": request.POST,
        },
    )


@login_required
def plan_detail(request, pk: int):
    """The draw page: commitment, seed, the draw, and each inspection's progress."""
    _supervisor_only(request)
    try:
        plan = selectors.plan_get(user=request.user, plan_id=pk)
    except GridGovError:
        raise Http404
    return render(
        request,
        "inspections/plan_detail.html",
        {"plan": plan, "body": plan_body(plan), "can_plan": services.can_plan(request.user)},
    )


@login_required
@require_POST
def plan_act(request, pk: int):
    """承诺 or 抽取 from the draw page, with a message saying what happened."""
    action = request.POST.get("action")
    try:
        if action == "commit":
            plan = services.plan_commit(actor=request.user, plan_id=pk)
            messages.success(request, _("已承诺：种子摘要 %(sha)s 已公布，计划已冻结。") % {"sha": plan.seed_sha256})
        elif action == "draw":
            plan = services.plan_draw(actor=request.user, plan_id=pk)
            messages.success(
                request, _("已抽取 %(n)s 家企业；种子已揭示，任何人可复核。") % {"n": plan.inspections.count()}
            )
        else:
            messages.error(request, _("未知操作。"))
    except GridGovError as exc:
        if exc.status == 404:
            raise Http404
        messages.error(request, str(exc.message))
    return redirect("inspections-plan", pk=pk)


# --- Public ----------------------------------------------------------------------------------


def public_plans(request):
    plans = list(selectors.plans_public()[:200])
    return render(request, "inspections/public_plans.html", {"plans": plans})


def public_plan(request, pk: int):
    try:
        plan = selectors.plan_public_get(pk)
    except GridGovError:
        raise Http404
    body = plan_public_body(plan, request)
    for item in body["inspections"] or []:
        item["qr"] = qr_svg(item["verify_url"])
    return render(
        request,
        "inspections/public_plan.html",
        {"plan": plan, "body": body, "json_url": request.build_absolute_uri(f"/public/inspections/{plan.pk}.json")},
    )


def public_code(request, code: str):
    """The page a 行政行为码's QR code opens: says whether the code is genuine and its status; the
    enterprise and the inspectors only once the inspection is public, as in the plan's public JSON
    (its result recorded, or the whole draw public), since the list is confidential until then."""
    inspection = selectors.inspection_by_code(code)
    if inspection is None:
        return render(request, "inspections/public_code.html", {"code": code, "valid": False}, status=404)
    plan = inspection.plan
    details = None
    if inspection.done_at is not None or selectors.draw_public(plan):
        enterprise = enterprises_by_code([inspection.credit_code]).get(inspection.credit_code)
        details = inspection_public(inspection, enterprise, request)
    return render(
        request,
        "inspections/public_code.html",
        {
            "code": code,
            "valid": True,
            "inspection": details,
            "outcome": inspection.outcome or None,
            "publish_deadline": plan.publish_deadline,
            "plan": plan,
            "qr": qr_svg(verify_url(request, code)),
        },
    )


def public_code_qr(request, code: str):
    inspection = selectors.inspection_by_code(code)
    if inspection is None:
        raise Http404
    response = HttpResponse(qr_svg(verify_url(request, code)), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@login_required
def tasks_page(request):
    """我的双随机任务 on a phone: the same module the mobile app loads (static/inspections/tasks.js)."""
    return render(request, "inspections/tasks.html")
