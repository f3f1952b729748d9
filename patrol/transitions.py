# ruff: noqa: E501  (the table below is aligned in columns for reading; CJK labels count double)
"""Who may move a case from which state to which, in which jurisdiction: THE table.

The services (`patrol.actions.transitions`: one function per action, dispatched from
`ACTIONS` keyed by `Transition.action`), the pages and the tests read this table; nothing else
decides. `to` is None when the action keeps the status
(publishing, a deadline override). 撤销曝光 (unpublish) also needs the case to be published now. Jurisdiction rules:

- ``scope``: the case's district or township is in the user's scope (gridgov.jurisdiction);
- ``unit``: the user belongs to the case's responsible unit;
- ``grid``: the user is assigned to the case's grid cell, or reported the case;
- ``system``: only the escalation job (no person).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy as pgettext

from gridgov.models import Role

from .models import Status as S

CITY = Role.CITY_SUPERVISOR
DISTRICT = Role.DISTRICT_SUPERVISOR
TOWNSHIP = Role.TOWNSHIP_SUPERVISOR
OFFICER = Role.GRID_OFFICER
UNIT = Role.RESPONSIBLE_UNIT
ENTERPRISE = Role.ENTERPRISE_CONTACT  # rectifies its own enterprise's cases, like a unit
SUPERVISORS = {CITY: "scope", DISTRICT: "scope", TOWNSHIP: "scope"}


@dataclass(frozen=True)
class Transition:
    action: str
    label: str  # lazy: read in the request's language
    sources: tuple[str, ...]
    to: str | None
    roles: dict[str, str]  # role -> jurisdiction rule


# fmt: off
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        #          action                  label            from states                                         to            roles → rule
        Transition("verify",               _("核实立案"),   (S.REPORTED,),                                      S.VERIFIED,   SUPERVISORS),
        Transition("reject",               _("不予立案"),   (S.REPORTED,),                                      S.REJECTED,   SUPERVISORS),
        Transition("mark_duplicate",       _("标记重复"),   (S.REPORTED, S.VERIFIED),                           S.DUPLICATE,  SUPERVISORS),
        Transition("dispatch",             _("交办"),       (S.VERIFIED,),                                      S.DISPATCHED, SUPERVISORS),
        Transition("start_rectification",  _("开始整改"),   (S.DISPATCHED,),                                    S.RECTIFYING, {UNIT: "unit", ENTERPRISE: "unit"}),
        Transition("submit_rectification", _("提交整改"),   (S.DISPATCHED, S.RECTIFYING),                       S.SUBMITTED,  {UNIT: "unit", ENTERPRISE: "unit"}),
        Transition("accept",               _("验收通过"),   (S.SUBMITTED,),                                     S.ACCEPTED,   {**SUPERVISORS, OFFICER: "grid"}),
        Transition("fail",                 _("验收不通过"), (S.SUBMITTED,),                                     S.RECTIFYING, {**SUPERVISORS, OFFICER: "grid"}),
        Transition("set_deadline",         _("调整期限"),   (S.DISPATCHED, S.RECTIFYING, S.SUBMITTED),          None,         SUPERVISORS),
        Transition("publish",              _("曝光"),       (S.VERIFIED, S.DISPATCHED, S.RECTIFYING,
                                                            S.SUBMITTED, S.ACCEPTED),                        None,         {CITY: "scope", DISTRICT: "scope"}),
        Transition("unpublish",            _("撤销曝光"),   (S.VERIFIED, S.DISPATCHED, S.RECTIFYING,
                                                            S.SUBMITTED, S.ACCEPTED),                        None,         {CITY: "scope", DISTRICT: "scope"}),
        Transition("reopen",               _("重新打开"),   (S.ACCEPTED, S.REJECTED, S.DUPLICATE),              S.VERIFIED,   SUPERVISORS),
        Transition("escalate",             _("督办"),       (S.DISPATCHED, S.RECTIFYING),                       None,         {}),  # the job only
    ]
}
# fmt: on

# Actions a person can take from the web or the API (escalation belongs to the job).
USER_ACTIONS = [a for a, t in TRANSITIONS.items() if t.roles]

# Actions the pages confirm in a dialog first: they close the case, start the clock, hand the
# work on, or change what the public sees; none of them can simply be taken back.
CONFIRMED_ACTIONS = frozenset(
    {"reject", "mark_duplicate", "dispatch", "submit_rectification", "accept", "fail", "publish", "unpublish"}
)


def event_label(action: str) -> str:
    """The label of a history row: its transition's, 备注 for a note, else 上报 (the report)."""
    if action in TRANSITIONS:
        return TRANSITIONS[action].label
    return _("备注") if action == "note" else pgettext("event", "上报")
