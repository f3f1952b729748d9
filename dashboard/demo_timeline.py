"""How one synthetic case goes through the loop, and what its row says at a given moment.

`timeline` writes the whole future of a case (the steps of `patrol.transitions`, with the
effects `patrol.actions` would have); `state_at` replays the steps up to `now` into the columns
of the case row, as the actions would have left them. See `dashboard.demo_history` for the model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from patrol.conf import setting

from .demo_calendar import DAY, WorkCalendar
from .demo_history import PUBLISH_SHARE, Case, Event, Profile, lognormal

NOTES = {
    "verify": "经核实属实，予以立案（合成）",
    "reject": "现场核实不属实，不予立案（合成）",
    "dispatch": "请责任单位限期整改（合成）",
    "start_rectification": "已安排人员开展整改（合成）",
    "submit_rectification": "已整改完毕，附整改照片（合成）",
    "accept": "现场复查合格（合成）",
    "fail": "复查仍有问题，请继续整改（合成）",
    "reopen": "群众反映问题复发，重新立案（合成）",
    "resubmit": "已按复查意见再次整改（合成）",
}
ESCALATION_NOTES = {1: "逾期未整改，提请区县督办", 2: "督办后仍逾期，提请市级督办"}
MAX_LEVEL = 2


def _reporter(case: Case) -> tuple | None:
    return {"patrol": ("officer", case.cell), "inspection": ("district", case.district)}.get(
        case.source, ("analyst",) if case.source == "imagery" else None
    )


def timeline(case: Case, profile: Profile, town_quality: float, cal: WorkCalendar, rng: np.random.Generator) -> None:
    """Fill `case.events` with the case's whole (future included) history."""
    q = profile.quality + town_quality
    township, district = ("township", case.township), ("district", case.district)
    unit = ("unit", case.unit)
    ev = case.events
    ev.append(
        Event(
            case.reported,
            "report",
            "",
            "reported",
            _reporter(case),
            data={"source": case.source, "priority": case.priority, "zones": []},
            photo="report" if case.source != "citizen" or rng.random() < 0.7 else "",
        )
    )
    t = cal.office_after(case.reported, lognormal(rng, 3.0 * profile.factor(0.6), 1.0))
    if case.duplicate_of is not None:
        ev.append(Event(t, "mark_duplicate", "reported", "duplicate", township, "与先前上报的案件为同一问题（合成）"))
        return
    if rng.random() < (0.12 if case.source == "citizen" else 0.05):
        ev.append(Event(t, "reject", "reported", "rejected", township, NOTES["reject"]))
        return
    ev.append(Event(t, "verify", "reported", "verified", township, NOTES["verify"]))
    days = case.days
    rounds = 2 if rng.random() < 0.015 else 1  # reopened once after closing
    for cycle in range(rounds):
        actor = township if case.unit[2] == "" or rng.random() < 0.5 else district
        t = cal.office_after(t, lognormal(rng, 2.0 * profile.factor(0.5), 0.9))
        deadline = cal.deadline(t, days)
        ev.append(
            Event(t, "dispatch", "verified", "dispatched", actor, NOTES["dispatch"], {"deadline_override": False})
        )
        ev[-1].data["_deadline"] = deadline
        clock_from = t
        t = cal.office_after(t, lognormal(rng, 4.0 * profile.factor(0.5), 0.8))
        ev.append(Event(t, "start_rectification", "dispatched", "rectifying", unit, NOTES["start_rectification"]))
        # Rectification takes a share of the time allowed; worse months take longer, a few stall.
        share = lognormal(rng, 0.4 * float(np.exp(-0.45 * q)), 0.5)
        hours = share * days * 9.5
        if rng.random() < 0.02 * float(np.exp(-0.7 * q)):
            hours += float(rng.exponential(40)) * 9.5
        failed = rng.random() < 0.08 * float(np.exp(-0.4 * q))
        clock = []
        for attempt in range(2 if failed else 1):
            t = cal.office_after(t, hours if attempt == 0 else lognormal(rng, 0.3 * days * 9.5, 0.5))
            clock.append((clock_from, t))
            note = NOTES["submit_rectification"] if attempt == 0 else NOTES["resubmit"]
            ev.append(Event(t, "submit_rectification", "rectifying", "submitted", unit, note, photo="rectified"))
            t = cal.office_after(t, lognormal(rng, 4.0 * profile.factor(0.5), 1.0))
            inspector = ("officer", case.cell) if rng.random() < 0.6 else township
            if attempt == 0 and failed:
                ev.append(Event(t, "fail", "submitted", "rectifying", inspector, NOTES["fail"]))
                clock_from = t
            else:
                ev.append(Event(t, "accept", "submitted", "accepted", inspector, NOTES["accept"]))
        ev.extend(_escalations(clock, deadline, cal))
        if cycle + 1 < rounds:
            t = cal.office_after(t + float(rng.uniform(3, 25)) * DAY, float(rng.uniform(0, 9)))
            ev.append(Event(t, "reopen", "accepted", "verified", district, NOTES["reopen"]))
    if rng.random() < PUBLISH_SHARE:
        # Typical cases are published once closed (曝光); a few while the unit still works on them.
        base = ev[-1].at if rng.random() < 0.8 else next(e.at for e in ev if e.action == "start_rectification")
        at = cal.office_after(base, float(rng.uniform(2, 30)))
        ev.append(Event(at, "publish", "", "", district, ""))
        case.published = True
    ev.sort(key=lambda e: e.at)
    _fix_statuses(ev)


def _escalations(clock: list[tuple[float, float]], deadline: float, cal: WorkCalendar) -> list[Event]:
    """督办 as the ten-minute job does it: level 1 at its first run past the deadline while the
    unit has the work, level 2 at its first run past two more working days, never beyond 2."""
    out: list[Event] = []
    level, next_at = 0, None
    step = setting("PATROL_ESCALATION_STEP_DAYS")
    for start, end in clock:
        while level < MAX_LEVEL:
            at = cal.next_job_run(max(start, deadline, next_at or 0.0))
            if at >= end:
                break
            level += 1
            next_at = cal.deadline(at, step) if level < MAX_LEVEL else None
            data = {"level": level, "_next": next_at}
            out.append(Event(at, "escalate", "", "", None, ESCALATION_NOTES[level], data))
    return out


def _fix_statuses(ev: list[Event]) -> None:
    """Escalation and publishing keep the status: give them the status they happened in."""
    status = ""
    for e in ev:
        if e.action in ("escalate", "publish"):
            e.from_status = e.to_status = status
        else:
            status = e.to_status


@dataclass
class Row:
    """The stage columns of the case row at a moment (epoch seconds; None = not yet)."""

    status: str = "reported"
    deadline: float | None = None
    verified_at: float | None = None
    dispatched_at: float | None = None
    rectified_at: float | None = None
    accepted_at: float | None = None
    closed_at: float | None = None
    escalated_at: float | None = None
    published_at: float | None = None
    next_escalation_at: float | None = None
    escalation_level: int = 0
    is_public: bool = False
    updated_at: float = 0.0
    dispatched: bool = False


def state_at(case: Case, now: float, provisional_deadline: float) -> tuple[Row, list[Event]]:
    """The row after the events up to `now`, and those events (the actions' own effects)."""
    row = Row(deadline=provisional_deadline)
    done = [e for e in case.events if e.at <= now]
    for e in done:
        a = e.action
        if e.to_status and a not in ("escalate", "publish"):
            row.status = e.to_status
        if a == "verify":
            row.verified_at = e.at
        elif a in ("reject", "mark_duplicate"):
            row.closed_at = e.at
        elif a == "dispatch":
            row.dispatched_at, row.deadline, row.dispatched = e.at, e.data["_deadline"], True
            row.escalation_level, row.next_escalation_at = 0, None
        elif a == "submit_rectification":
            row.rectified_at = e.at
        elif a == "accept":
            row.accepted_at = row.closed_at = e.at
        elif a == "reopen":
            row.accepted_at = row.closed_at = None
            row.escalation_level, row.next_escalation_at = 0, None
        elif a == "escalate":
            row.escalation_level, row.escalated_at = e.data["level"], e.at
            row.next_escalation_at = e.data["_next"]
        elif a == "publish":
            row.is_public, row.published_at = True, e.at
        row.updated_at = e.at
    return row, done
