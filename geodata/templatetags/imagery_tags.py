"""What the case page shows of the imagery candidate a case was confirmed from.

A template tag, so that patrol's page can show imagery without patrol importing geodata (geodata
sits above patrol: it opens cases through patrol's actions; docs/architecture.md).
"""

from __future__ import annotations

import json

from django import template

from ..permissions import can_review
from ..selectors import candidate_for_issue

register = template.Library()


@register.simple_tag
def imagery_of(issue, user) -> dict:
    """For an imagery case: `shape`, the candidate's change polygon as GeoJSON (WGS84), for
    everyone who sees the case; `candidate` (chips, link) for users who may review imagery."""
    candidate = candidate_for_issue(issue) if issue.source == "imagery" else None
    if candidate is None:
        return {"candidate": None, "shape": None}
    return {"candidate": candidate if can_review(user) else None, "shape": json.loads(candidate.geom.geojson)}
