"""The actions of the transition table, one function each, and the dispatcher the API uses.

`transition_check` decides from `patrol.transitions.TRANSITIONS` alone whether a person may
take an action on a case now; `_apply` locks the case, checks, applies the action's changes,
saves and writes the audit row, all in the caller's transaction. `issue_transition` runs the
function of `ACTIONS[action]` with the request's validated parameters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gridgov.dates import parse_moment
from gridgov.errors import Conflict, InvalidInput, NotFound
from gridgov.jurisdiction import user_scope
from gridgov.models import GridAssignment, Organization, Role

from ..calendar import add_working_days, end_of_day
from ..conf import setting
from ..models import Issue, IssueEvent, Status
from ..redaction import redact
from ..selectors import dispatch_units, issues_visible, people_of
from ..transitions import TRANSITIONS, USER_ACTIONS, Transition
from .photos import photos_for

# Foreign keys _apply does not revalidate: they were checked when they were set.
_NOT_REVALIDATED = ["category", "reporter", "grid_cell", "township", "district", "responsible_unit", "duplicate_of"]


def _role(user) -> str:
    if getattr(user, "is_superuser", False):
        return Role.CITY_SUPERVISOR
    return getattr(user, "role", "") or ""


def _in_scope(user, issue: Issue) -> bool:
    """The case's township (or, for a case without one, its district) is in the user's scope."""
    area = issue.township if issue.township_id else issue.district
    return area is not None and user_scope(user).contains_area(area)


def jurisdiction_ok(*, rule: str, user, issue: Issue) -> bool:
    """The jurisdiction rules of the table: scope, unit, grid (see patrol/transitions.py)."""
    if rule == "scope":
        return _in_scope(user, issue)
    if rule == "unit":
        return bool(user.organization_id) and user.organization_id == issue.responsible_unit_id
    if rule == "grid":
        if issue.reporter_id == user.pk:
            return True
        return GridAssignment.objects.filter(cell_id=issue.grid_cell_id, user_id=user.pk).exists()
    return False


_WHY = {
    "scope": "out_of_scope",
    "unit": "not_your_unit",
    "grid": "not_your_cell",
}


def _why(rule: str, action: str) -> str:
    if rule == "scope":
        return _("案件不在您的管辖范围内，不能%(action)s。") % {"action": action}
    if rule == "unit":
        return _("案件不由您的单位负责，不能%(action)s。") % {"action": action}
    return _("您不是该网格的网格员或上报人，不能%(action)s。") % {"action": action}


def _unknown_action() -> InvalidInput:
    return InvalidInput(_("未知的操作。"), code="unknown_action", field="action")


def transition_check(*, issue: Issue, action: str, user) -> Transition:
    """Return the transition if `user` may take `action` on `issue` now; else raise Conflict saying why."""
    t = TRANSITIONS.get(action)
    if t is None or not t.roles:
        raise _unknown_action()
    if issue.status not in t.sources:
        raise Conflict(
            _("案件状态为“%(status)s”，不能%(action)s。") % {"status": Status(issue.status).label, "action": t.label},
            code="wrong_status",
            field="action",
        )
    if action == "publish" and issue.is_public:
        raise Conflict(_("案件已曝光。"), code="already_published", field="action")
    if action == "unpublish" and not issue.is_public:
        raise Conflict(_("案件未曝光，无需撤销。"), code="not_published", field="action")
    role = _role(user)
    rule = t.roles.get(role)
    if rule is None:
        label = Role(role).label if role in Role.values else _("无角色")
        raise Conflict(
            _("“%(role)s”不能%(action)s。") % {"role": label, "action": t.label},
            code="role_not_allowed",
            field="action",
        )
    if not jurisdiction_ok(rule=rule, user=user, issue=issue):
        raise Conflict(_why(rule, str(t.label)), code=_WHY[rule], field="action")
    return t


def allowed_actions(*, issue: Issue, user) -> list[str]:
    out = []
    for action in USER_ACTIONS:
        try:
            transition_check(issue=issue, action=action, user=user)
        except (Conflict, InvalidInput):
            continue
        out.append(action)
    return out


def _locked(issue_id: int) -> Issue:
    # The township's level and id decide the scope rule; its boundary is not needed here.
    locking = Issue.objects.select_for_update(of=("self",)).select_related("township").defer("township__geom")
    issue = locking.filter(pk=issue_id).first()
    if issue is None:
        raise NotFound(_("案件不存在。"), code="not_found", field="id")
    return issue


def _note(note: str, *, required: str = "") -> str:
    """The note, stripped; `required` is the message when the action needs one."""
    note = (note or "").strip()
    if required and not note:
        raise InvalidInput(required, code="note_required", field="note")
    limit = setting("PATROL_NOTE_MAX_CHARS")
    if len(note) > limit:
        raise InvalidInput(_("说明不能超过 %(n)s 个字符。") % {"n": limit}, code="max_length", field="note")
    return note


def _apply(
    *,
    issue_id: int,
    action: str,
    actor,
    note: str = "",
    point: Point | None = None,
    photo_hashes: Sequence[str] = (),
    changes=None,
    data: dict | None = None,
    require_photos: bool = False,
) -> Issue:
    """Lock the case, check the table, apply `changes(issue, now)`, save, write the audit row."""
    issue = _locked(issue_id)
    t = transition_check(issue=issue, action=action, user=actor)
    photos = photos_for(photo_hashes, actor=actor)
    if require_photos and not photos:
        raise InvalidInput(_("请上传整改照片。"), code="photos_required", field="photo_hashes")
    now = timezone.now()
    before = issue.status
    fields = ["updated_at"]
    if t.to is not None:
        issue.status = t.to
        fields.append("status")
    if changes is not None:
        fields += changes(issue, now)
    try:
        issue.full_clean(exclude=[*_NOT_REVALIDATED, "photos"])
    except ValidationError as exc:
        field = next(iter(getattr(exc, "error_dict", {"action": None})))
        raise InvalidInput(" ".join(exc.messages), code="invalid", field=field)
    issue.save(update_fields=sorted(set(fields)))
    IssueEvent.objects.create(
        issue=issue,
        action=action,
        from_status=before,
        to_status=issue.status,
        actor=actor,
        at=now,
        note=note,
        point=point,
        photo_hashes=[p.sha256 for p in photos],
        data=data or {},
    )
    return issue


def deadline_at(value, *, field: str = "deadline") -> dt.datetime | None:
    """A deadline from a request: ISO date-time as given, a bare date the end of that working
    day (18:00 local, as computed deadlines end); it must lie in the future."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        when = value if timezone.is_aware(value) else timezone.make_aware(value)
    elif isinstance(value, dt.date):
        when = end_of_day(value)
    else:
        when, bare_date = parse_moment(value, field=field)
        if bare_date:
            when = end_of_day(when.date())
    if when <= timezone.now():
        raise InvalidInput(_("期限应晚于当前时间。"), code="in_the_past", field=field)
    return when


def _stamp(*fields: str):
    """The changes of an action that only records when it happened, in these fields."""

    def changes(issue, now):
        for name in fields:
            setattr(issue, name, now)
        return list(fields)

    return changes


@transaction.atomic
def issue_verify(*, issue_id: int, actor, note: str = "", point: Point | None = None) -> Issue:
    """核实立案."""
    return _apply(
        issue_id=issue_id, action="verify", actor=actor, note=_note(note), point=point, changes=_stamp("verified_at")
    )


@transaction.atomic
def issue_reject(*, issue_id: int, actor, note: str = "", point: Point | None = None) -> Issue:
    """不予立案 (closes the case)."""
    note = _note(note, required=_("不予立案须说明理由。"))
    return _apply(issue_id=issue_id, action="reject", actor=actor, note=note, point=point, changes=_stamp("closed_at"))


@transaction.atomic
def issue_mark_duplicate(*, issue_id: int, duplicate_of_id: int | None, actor, note: str = "") -> Issue:
    """Link the case to the original it repeats (closes it)."""
    if not duplicate_of_id:
        raise InvalidInput(_("请填写原案件编号。"), code="required", field="duplicate_of")
    original = issues_visible(user=actor).filter(pk=duplicate_of_id).first()
    if original is None:
        raise InvalidInput(_("原案件不存在。"), code="unknown_case", field="duplicate_of")
    if original.pk == issue_id:
        raise InvalidInput(_("案件不能重复于自身。"), code="self_duplicate", field="duplicate_of")

    def changes(issue, now):
        issue.duplicate_of_id = original.pk
        issue.closed_at = now
        return ["duplicate_of", "closed_at"]

    return _apply(
        issue_id=issue_id,
        action="mark_duplicate",
        actor=actor,
        note=_note(note),
        changes=changes,
        data={"duplicate_of": original.pk},
    )


@transaction.atomic
def issue_dispatch(*, issue_id: int, actor, unit_id: int | None = None, deadline=None, note: str = "") -> Issue:
    """交办: to the given unit (default: the dispatch rule's), the clock starts now.

    The unit must be one this actor may dispatch this case to (`selectors.dispatch_units`:
    inside the case's district); any other id answers as an unknown unit.
    """
    override = deadline_at(deadline)
    note = _note(note)

    def changes(issue, now):
        if unit_id is not None:
            unit = dispatch_units(issue=issue, user=actor).filter(pk=unit_id).first()
            if unit is None:
                raise InvalidInput(_("责任单位不存在或不在案件所在区县。"), code="unknown_unit", field="unit")
            issue.responsible_unit = unit
        if issue.responsible_unit_id is None:
            raise InvalidInput(_("请指定责任单位：没有派遣规则适用于此案件。"), code="unit_required", field="unit")
        issue.dispatched_at = now
        issue.deadline = override or add_working_days(now, issue.category.days_for(issue.priority))
        issue.deadline_overridden = override is not None
        issue.escalation_level = 0
        issue.next_escalation_at = None
        return [
            "responsible_unit",
            "dispatched_at",
            "deadline",
            "deadline_overridden",
            "escalation_level",
            "next_escalation_at",
        ]

    return _apply(
        issue_id=issue_id,
        action="dispatch",
        actor=actor,
        note=note,
        changes=changes,
        data={"unit": unit_id, "deadline_override": bool(override)},
    )


@transaction.atomic
def issue_start_rectification(*, issue_id: int, actor, note: str = "", point: Point | None = None) -> Issue:
    return _apply(issue_id=issue_id, action="start_rectification", actor=actor, note=_note(note), point=point)


# The steps with photos: 整改提交 needs evidence; 验收 (pass or fail) may bring the inspector's own.
# Their common arguments, as _apply takes them.
PhotoStep = dict


@transaction.atomic
def issue_submit_rectification(
    *, issue_id: int, actor, photo_hashes: Sequence[str] = (), note: str = "", point: Point | None = None
) -> Issue:
    """整改提交 with evidence photos."""
    step = PhotoStep(issue_id=issue_id, actor=actor, note=_note(note), point=point, photo_hashes=photo_hashes)
    return _apply(action="submit_rectification", changes=_stamp("rectified_at"), require_photos=True, **step)


@transaction.atomic
def issue_accept(
    *, issue_id: int, actor, note: str = "", point: Point | None = None, photo_hashes: Sequence[str] = ()
) -> Issue:
    """验收通过: closes the case."""
    step = PhotoStep(issue_id=issue_id, actor=actor, note=_note(note), point=point, photo_hashes=photo_hashes)
    return _apply(action="accept", changes=_stamp("accepted_at", "closed_at"), **step)


@transaction.atomic
def issue_fail(
    *, issue_id: int, actor, note: str = "", point: Point | None = None, photo_hashes: Sequence[str] = ()
) -> Issue:
    """验收不通过: back to rectifying; the deadline stands."""
    note = _note(note, required=_("验收不通过须说明理由。"))
    step = PhotoStep(issue_id=issue_id, actor=actor, note=note, point=point, photo_hashes=photo_hashes)
    return _apply(action="fail", **step)


@transaction.atomic
def issue_set_deadline(*, issue_id: int, actor, deadline, note: str = "") -> Issue:
    """A supervisor's override of the deadline."""
    when = deadline_at(deadline)
    if when is None:
        raise InvalidInput(_("请填写新期限。"), code="required", field="deadline")

    def changes(issue, now):
        issue.deadline = when
        issue.deadline_overridden = True
        issue.next_escalation_at = None
        return ["deadline", "deadline_overridden", "next_escalation_at"]

    return _apply(
        issue_id=issue_id,
        action="set_deadline",
        actor=actor,
        note=_note(note),
        changes=changes,
        data={"deadline": when.isoformat()},
    )


@transaction.atomic
def issue_publish(*, issue_id: int, actor, public_text: str = "", note: str = "") -> Issue:
    """曝光: make the case public; personal data (reporter, contact, numbers in text) stays out."""

    def changes(issue, now):
        issue.is_public = True
        issue.published_at = now
        text = (public_text or issue.description).strip()
        issue.public_description = redact(text, names=people_of(issue))[:4000]
        return ["is_public", "published_at", "public_description"]

    return _apply(issue_id=issue_id, action="publish", actor=actor, note=_note(note), changes=changes)


@transaction.atomic
def issue_unpublish(*, issue_id: int, actor, note: str = "") -> Issue:
    """撤销曝光: take a published case off the public pages and Open311 (the reason is kept in
    the audit row; the published text stays on the case for a later 曝光 to replace)."""
    note = _note(note, required=_("撤销曝光须说明理由。"))

    def changes(issue, now):
        issue.is_public = False
        return ["is_public"]

    return _apply(issue_id=issue_id, action="unpublish", actor=actor, note=note, changes=changes)


@transaction.atomic
def issue_reopen(*, issue_id: int, actor, note: str = "") -> Issue:
    """Reopen a closed case: back to 已核实立案, ready to be dispatched again."""
    note = _note(note, required=_("重新打开须说明理由。"))

    def changes(issue, now):
        issue.closed_at = None
        issue.accepted_at = None
        issue.duplicate_of = None
        issue.escalation_level = 0
        issue.next_escalation_at = None
        issue.verified_at = issue.verified_at or now
        return ["closed_at", "accepted_at", "duplicate_of", "escalation_level", "next_escalation_at", "verified_at"]

    return _apply(issue_id=issue_id, action="reopen", actor=actor, note=note, changes=changes)


# Every user action of the table → its service and the request parameters it takes.
ACTIONS: dict[str, tuple[Callable[..., Issue], tuple[str, ...]]] = {
    "verify": (issue_verify, ("note", "point")),
    "reject": (issue_reject, ("note", "point")),
    "mark_duplicate": (issue_mark_duplicate, ("note", "duplicate_of_id")),
    "dispatch": (issue_dispatch, ("note", "unit_id", "deadline")),
    "start_rectification": (issue_start_rectification, ("note", "point")),
    "submit_rectification": (issue_submit_rectification, ("note", "point", "photo_hashes")),
    "accept": (issue_accept, ("note", "point", "photo_hashes")),
    "fail": (issue_fail, ("note", "point", "photo_hashes")),
    "set_deadline": (issue_set_deadline, ("note", "deadline")),
    "publish": (issue_publish, ("note", "public_text")),
    "unpublish": (issue_unpublish, ("note",)),
    "reopen": (issue_reopen, ("note",)),
}
assert set(ACTIONS) == set(USER_ACTIONS), "every user action of patrol/transitions.py needs its service"
_PARAMS = frozenset(name for _service, names in ACTIONS.values() for name in names)


def issue_transition(*, issue_id: int, action: str, actor, **params) -> Issue:
    """Run the service of `action` with the validated parameters of a request (API and pages):
    note, point, photo_hashes, unit_id, deadline, duplicate_of_id, public_text; each service
    takes the ones it needs and the others are ignored."""
    entry = ACTIONS.get(action)
    if entry is None:
        raise _unknown_action()
    service, names = entry
    unknown = set(params) - _PARAMS
    if unknown:  # a caller's mistake, not a user's: fail loudly instead of ignoring it
        raise TypeError(f"issue_transition() got unknown parameters {sorted(unknown)}")
    return service(issue_id=issue_id, actor=actor, **{n: params[n] for n in names if params.get(n) is not None})


# --- Notes from systems that keep watching a case (added for online monitoring) ------------


@transaction.atomic
def issue_note(
    *, issue_id: int, note: str, actor=None, data: dict | None = None, responsible_unit_id: int | None = None
) -> Issue:
    """Add a note to a case without moving it (action "note", same status before and after),
    e.g. further exceeded hours of an online-monitoring episode. `responsible_unit_id` names the
    responsible unit while the case is not yet dispatched (the polluting enterprise)."""
    issue = _locked(issue_id)
    note = _note(note)
    if not note:
        raise InvalidInput(_("请填写说明。"), code="note_required", field="note")
    fields = ["updated_at"]
    if responsible_unit_id is not None and responsible_unit_id != issue.responsible_unit_id:
        if issue.status not in (Status.REPORTED, Status.VERIFIED):
            raise Conflict(_("案件已交办，不能再改变责任单位。"), code="already_dispatched", field="unit")
        if not Organization.objects.filter(pk=responsible_unit_id).exists():
            raise InvalidInput(_("责任单位不存在。"), code="unit_not_found", field="unit")
        issue.responsible_unit_id = responsible_unit_id
        fields.append("responsible_unit")
    issue.save(update_fields=fields)
    IssueEvent.objects.create(
        issue=issue,
        action="note",
        from_status=issue.status,
        to_status=issue.status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        at=timezone.now(),
        note=note,
        data=data or {},
    )
    return issue
