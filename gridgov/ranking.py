"""Competition ranking, the one rule every ranked table of GridGov follows (排名通报, quality).

Areas with equal values share a rank (1, 2, 2, 4), compared at the precision shown; an area
without a value has no rank (None) and never shares one. dashboard/ranking.py spells out the
rules of the 通报 around it.
"""

from __future__ import annotations


def rank(values: dict, desc: bool, digits: int = 6) -> dict:
    """Competition ranking (1, 2, 2, 4) of the areas with a value, compared rounded to `digits`;
    areas whose value is None get None (unranked)."""
    keyed = {k: round(v, digits) for k, v in values.items() if v is not None}
    order = sorted(keyed.items(), key=lambda kv: -kv[1] if desc else kv[1])
    ranks: dict = {k: None for k in values}
    previous, previous_rank = None, 0
    for i, (k, v) in enumerate(order, start=1):
        ranks[k] = previous_rank if v == previous else i
        previous, previous_rank = v, ranks[k]
    return ranks


def rank_change(previous: int | None, current: int | None) -> int | None:
    """Previous rank − rank (positive: moved up); only when ranked in both months."""
    return None if previous is None or current is None else previous - current
