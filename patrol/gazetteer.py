"""Place names → a point, for the citizen report form: NOT a geocoder.

It looks a text up among the places the platform knows: the districts, townships and grid
cells of the city (by name or code, the point being inside the area) and a small list of
well-known places below, whose coordinates are approximate (synthetic, within a few hundred
metres). It does not parse street addresses or house numbers; the form says so and asks the
citizen to check the pin on the map, which is what the report uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.gis.db.models.functions import PointOnSurface
from django.db.models import Q
from django.utils.translation import gettext as _

from gridgov.models import AdminArea, AreaLevel, GridCell

# Landmarks of the demo city (WGS84, approximate: synthetic, for the demo only).
LANDMARKS: tuple[tuple[str, float, float], ...] = (
    ("西湖断桥", 120.1513, 30.2591),
    ("西溪湿地", 120.0685, 30.2705),
    ("武林广场", 120.1645, 30.2740),
    ("杭州东站", 120.2131, 30.2906),
    ("杭州站（城站）", 120.1822, 30.2446),
    ("钱江新城", 120.2147, 30.2455),
    ("滨江区政府", 120.2108, 30.2085),
    ("萧山国际机场", 120.4340, 30.2366),
    ("下沙大学城", 120.3460, 30.3120),
    ("临平新城", 120.3000, 30.4190),
    ("未来科技城", 120.0030, 30.2870),
    ("富阳鹳山", 119.9560, 30.0510),
    ("临安青山湖", 119.7980, 30.2430),
    ("桐庐县城", 119.6850, 29.7970),
    ("千岛湖镇", 119.0440, 29.6050),
    ("建德新安江", 119.2890, 29.4760),
)

# Words a citizen may put before a place that say nothing about where it is.
_PREFIXES = re.compile(r"^(?:浙江省|浙江|杭州市|杭州)+")
_SYNTHETIC = re.compile(r"[（(]合成[)）]")
MAX_RESULTS = 5


@dataclass(frozen=True)
class Place:
    name: str
    kind: str  # district | township | grid_cell | landmark
    lat: float
    lon: float

    @property
    def kind_label(self) -> str:
        return {
            "district": _("区县"),
            "township": _("乡镇街道"),
            "grid_cell": _("网格"),
            "landmark": _("示例地名（坐标为近似值）"),
        }[self.kind]


def _normalise(text: str) -> str:
    return _PREFIXES.sub("", re.sub(r"\s+", "", text or ""))


def _inside(p) -> tuple[float, float]:
    """(lat, lon) of a point on the place's surface, computed in the database (`inside`), so
    that the boundaries themselves are never loaded."""
    return round(p.y, 6), round(p.x, 6)


def places_matching(text: str) -> list[Place]:
    """Known places whose name is in the text or the text in their name, most specific first:
    a grid cell (by its 14-digit code, or township + cell name), a township, a district, a
    landmark. At most MAX_RESULTS."""
    query = _normalise(text)[:60]
    if len(query) < 2:
        return []
    found: list[tuple[int, int, Place]] = []  # (rank, -matched length, place)
    code = re.fullmatch(r"\d{6}(?:\d{3}(?:\d{5})?)?", query)
    cells = (
        GridCell.objects.select_related("township")
        .defer("geom", "township__geom")
        .annotate(inside=PointOnSurface("geom"))
    )
    if code and len(query) == 14:
        for c in cells.filter(code=query)[:1]:
            found.append((0, -14, Place(f"{c.township.name} {c.name or c.code}", "grid_cell", *_inside(c.inside))))
    areas = (
        AdminArea.objects.filter(level__in=[AreaLevel.DISTRICT, AreaLevel.TOWNSHIP])
        .defer("geom")
        .annotate(inside=PointOnSurface("geom"))
    )
    if code and len(query) in (6, 9):
        areas = areas.filter(code=query)
    else:
        bare = _SYNTHETIC.sub("", query)
        areas = areas.filter(Q(name__icontains=bare) | Q(name__in=_name_prefixes(bare)))
    for a in areas.order_by("-level", "code")[:20]:
        name = _SYNTHETIC.sub("", a.name)
        rank = -1 if name == query else (2 if a.level == AreaLevel.TOWNSHIP else 3)
        found.append((rank, -len(name), Place(a.name, a.level, *_inside(a.inside))))
        if a.level == AreaLevel.TOWNSHIP and len(query) > len(name) and query.startswith(name):
            rest = query[len(name) :]
            for c in cells.filter(township=a, name__startswith=rest)[:3]:
                found.append((1, -len(query), Place(f"{a.name} {c.name}", "grid_cell", *_inside(c.inside))))
    for name, lon, lat in LANDMARKS:
        if name in query or query in name:
            found.append((4, -len(name), Place(name, "landmark", lat, lon)))
    found.sort(key=lambda t: (t[0], t[1], t[2].name))
    return [p for _rank, _len, p in found[:MAX_RESULTS]]


def _name_prefixes(query: str) -> list[str]:
    """Every leading part of the text, so that '西湖第1街道001社区' finds '西湖第1街道（合成）'
    and '西湖区文三路' finds '西湖区'."""
    out = []
    for end in range(2, len(query) + 1):
        head = query[:end]
        out += [head, f"{head}（合成）"]
    return out
