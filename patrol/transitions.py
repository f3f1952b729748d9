# ruff: noqa: E501  (the table below is aligned in columns for reading; CJK labels count double)
"""Who may move a case from which state to which, in which jurisdiction: THE table.

Services (`patrol.services.issue_transition` and the one-per-action services) and the tests
read this table; nothing else decides. `to` is None when the action keeps the status
(publishing, a deadline override). Jurisdiction rules:

- ``scope``: the case's district or township is in the user's scope (gridgov.jurisdiction);
- ``unit``: the user belongs to the case's responsible unit;
- ``grid``: the user is assigned to the case's grid cell, or reported the case;
- ``system``: only the escalation job (no person).
"""

from __future__ import annotations

from dataclasses import dataclass

from gridgov.models import Role

from .models import Status as S

CITY = Role.CITY_SUPERVISOR
DISTRICT = Role.DISTRICT_SUPERVISOR
TOWNSHIP = Role.TOWNSHIP_SUPERVISOR
OFFICER = Role.GRID_OFFICER
UNIT = Role.RESPONSIBLE_UNIT
SUPERVISORS = {CITY: "scope", DISTRICT: "scope", TOWNSHIP: "scope"}


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: tuple[str, ...]
    to: str | None
    roles: dict[str, str]  # role -> jurisdiction rule


# fmt: off
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        #          action                  label         from states                                         to            roles → rule
        Transition("verify",               "核实立案",   (S.REPORTED,),                                      S.VERIFIED,   SUPERVISORS),
        Transition("reject",               "不予立案",   (S.REPORTED,),                                      S.REJECTED,   SUPERVISORS),
        Transition("mark_duplicate",       "标记重复",   (S.REPORTED, S.VERIFIED),                           S.DUPLICATE,  SUPERVISORS),
        Transition("dispatch",             "交办",       (S.VERIFIED,),                                      S.DISPATCHED, SUPERVISORS),
        Transition("start_rectification",  "开始整改",   (S.DISPATCHED,),                                    S.RECTIFYING, {UNIT: "unit"}),
        Transition("submit_rectification", "提交整改",   (S.DISPATCHED, S.RECTIFYING),                       S.SUBMITTED,  {UNIT: "unit"}),
        Transition("accept",               "验收通过",   (S.SUBMITTED,),                                     S.ACCEPTED,   {**SUPERVISORS, OFFICER: "grid"}),
        Transition("fail",                 "验收不通过", (S.SUBMITTED,),                                     S.RECTIFYING, {**SUPERVISORS, OFFICER: "grid"}),
        Transition("set_deadline",         "调整期限",   (S.DISPATCHED, S.RECTIFYING, S.SUBMITTED),          None,         SUPERVISORS),
        Transition("publish",              "曝光",       (S.VERIFIED, S.DISPATCHED, S.RECTIFYING,
                                                          S.SUBMITTED, S.ACCEPTED),                          None,         {CITY: "scope", DISTRICT: "scope"}),
        Transition("reopen",               "重新打开",   (S.ACCEPTED, S.REJECTED, S.DUPLICATE),              S.VERIFIED,   SUPERVISORS),
        Transition("escalate",             "督办",       (S.DISPATCHED, S.RECTIFYING),                       None,         {}),  # the job only
    ]
}
# fmt: on

# Actions a person can take from the web or the API (escalation belongs to the job).
USER_ACTIONS = [a for a, t in TRANSITIONS.items() if t.roles]
