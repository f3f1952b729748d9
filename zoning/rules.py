"""The zoning-sensitivity rule, in one place: where is a place sensitive, where is building banned.

A place is **sensitive** when it lies inside the ecological red line (生态保护红线) or a
priority-protection unit (优先保护单元): patrol raises a case's priority there, imagery flags
any change there as a likely violation, site analysis reports it. **Construction is forbidden**
where an access-list item of the unit says so: the item carries `forbids_construction: true`,
set by the planner (validated on write by `zoning.models.validate_access_list`), never guessed
from the wording when the rule is applied.

Callers pass what they already have: `ZoneHit`s from `zoning.selectors` (or anything with the
same `layer` and `category`), a unit, or an access list.

Only where no planner has marked the items yet — an imported delivery, whose access list is
free text in shapefile fields, and the units that existed before the flag (migration 0004) —
`suggests_construction_ban` proposes the flag from the wording; the planner confirms or clears
it in the editor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol

from .models import Category, Dimension, Layer, ZoningFeature


class Placed(Protocol):
    """What the rule reads of a unit or zone that covers a place (e.g. `selectors.ZoneHit`)."""

    layer: str
    category: str | None


def is_red_line(hit: Placed) -> bool:
    return hit.layer == Layer.RED_LINE


def is_priority_unit(hit: Placed) -> bool:
    return hit.layer == Layer.CONTROL_UNIT and hit.category == Category.PRIORITY


def is_sensitive(hits: Iterable[Placed]) -> bool:
    """Inside the red line or a priority-protection unit."""
    return any(is_red_line(h) or is_priority_unit(h) for h in hits)


def construction_bans(access_list: Sequence[Mapping] | None) -> list[str]:
    """The texts of the access-list items that forbid construction (in list order)."""
    return [str(item["text"]) for item in access_list or () if item.get("forbids_construction") is True]


def forbids_construction(feature: ZoningFeature) -> bool:
    """Whether the unit's (or zone's) access list forbids construction."""
    return bool(construction_bans(feature.access_list))


# Wording of a ban in delivered access lists: a prohibition word and a building word in a
# spatial-layout item ("禁止新建、扩建…项目", "严禁开山采矿").
_FORBID_WORDS = ("禁止", "不得", "严禁")
_BUILD_WORDS = ("建设", "新建", "扩建", "开发", "工业", "项目", "开山", "采矿")


def suggests_construction_ban(dimension: str, text: str) -> bool:
    """A proposal for the flag from an item's wording, for access lists nobody has marked yet."""
    return (
        dimension == Dimension.SPATIAL
        and any(w in text for w in _FORBID_WORDS)
        and any(w in text for w in _BUILD_WORDS)
    )


def access_item(dimension: str, text: str, *, forbids_construction: bool = False) -> dict:
    """One access-list item in its stored form (the flag is stored only when true)."""
    item = {"dimension": str(dimension), "text": text}
    if forbids_construction:
        item["forbids_construction"] = True
    return item
