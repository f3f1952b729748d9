"""Jurisdiction: which administrative areas a user may see.

A user's scope is a set of admin areas; an area in scope brings its descendants. The public
(anonymous) has no scope. Superusers and a scope that contains the city see everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from .models import AdminArea, AreaLevel


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    district_ids: frozenset[int] = field(default_factory=frozenset)  # whole districts in scope
    township_ids: frozenset[int] = field(default_factory=frozenset)  # every township in scope

    @property
    def empty(self) -> bool:
        return not self.everything and not self.township_ids and not self.district_ids

    def q(self, *, district: str | None = "district", township: str | None = "township") -> Q:
        """A filter for objects that carry a district and/or township foreign key."""
        if self.everything:
            # Not the empty Q(): that one vanishes when OR-ed with another condition.
            return ~Q(pk__in=[])
        q = Q(pk__in=[])
        if district:
            q |= Q(**{f"{district}__in": self.district_ids})
        if township:
            q |= Q(**{f"{township}__in": self.township_ids})
        return q

    def filter(self, qs: QuerySet, **fields: str | None) -> QuerySet:
        return qs.filter(self.q(**fields))

    def contains_area(self, area: AdminArea) -> bool:
        if self.everything:
            return True
        if area.level == AreaLevel.TOWNSHIP:
            return area.pk in self.township_ids
        if area.level == AreaLevel.DISTRICT:
            return area.pk in self.district_ids
        return False


NO_SCOPE = Scope()


def user_scope(user) -> Scope:
    """Return the user's scope, cached on the user object for the request."""
    if user is None or not user.is_authenticated:
        return NO_SCOPE
    cached = getattr(user, "_gridgov_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = Scope(everything=True)
    else:
        areas = list(user.scope.all().only("id", "level", "parent_id"))
        if any(a.level == AreaLevel.CITY for a in areas):
            scope = Scope(everything=True)
        else:
            districts = {a.pk for a in areas if a.level == AreaLevel.DISTRICT}
            townships = {a.pk for a in areas if a.level == AreaLevel.TOWNSHIP}
            if districts:
                townships |= set(AdminArea.objects.filter(parent_id__in=districts).values_list("pk", flat=True))
            scope = Scope(district_ids=frozenset(districts), township_ids=frozenset(townships))
    user._gridgov_scope = scope
    return scope
