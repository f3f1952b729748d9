"""What the case page shows of the imagery candidate a case was confirmed from.

Template tags, so that patrol's page can show imagery without patrol importing geodata (geodata
sits above patrol: it opens cases through patrol's actions; docs/architecture.md).
"""

from __future__ import annotations

import json

from django import template

from ..permissions import can_review
from ..selectors import candidate_for_issue

register = template.Library()


@register.simple_tag
def imagery_candidate(issue, user):
    """The candidate behind an imagery case, for users who may review imagery (chips, link)."""
    if issue.source != "imagery" or not can_review(user):
        return None
    return candidate_for_issue(issue)


@register.simple_tag
def imagery_shape(issue) -> dict | None:
    """The candidate's change polygon as GeoJSON (WGS84), for everyone who sees the case."""
    if issue.source != "imagery":
        return None
    candidate = candidate_for_issue(issue)
    return json.loads(candidate.geom.geojson) if candidate is not None else None
