"""An independent GF-2-like pair: a generator the detector was *not* tuned on.

The project's own generators (``synth``, ``synth_realistic``) share one landscape model,
one spectral library and one kind of change; a detector tuned on them can learn their
habits. This one differs on purpose in everything but the sensor (4 m, B G R NIR, DN =
10000 x reflectance, 14 changes, a 1-pixel misregistration):

- the landscape is a mosaic of parcels (Voronoi cells of random seeds), each with its own
  spectrum drawn around a cover of another library (crops, fallow, forest, turbid and clear
  water, villages of roofs), Gaussian-filtered texture, and fixed roads;
- crops change between the dates (NDVI up or down by up to 0.08 per parcel): not a change;
- changes are rotated rectangles, ellipses and convex polygons of 700 m² to 2 ha; buildings
  come as clusters of roofs of mixed colours (red tile, blue steel, grey concrete);
- the dates differ by per-band gains and offsets, and the after date is noisier;
- two small unflagged clouds with shadows (the brightness tests must catch them).

Truth (``truth.geojson``, WGS84) like ``synth``: ``change_type``, ``area_m2``, ``obscured``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import shapely
from rasterio.features import rasterize
from scipy import ndimage
from shapely.geometry import MultiPoint, Point, box

from .cleanup import to_wgs84
from .synth import HANGZHOU_BOUNDS, default_transform, scene_profile, truth_feature

LIBRARY = {  # B, G, R, NIR
    "paddy": (0.040, 0.080, 0.060, 0.360),
    "dry_crop": (0.050, 0.085, 0.075, 0.300),
    "fallow": (0.070, 0.090, 0.110, 0.220),
    "forest": (0.025, 0.050, 0.030, 0.330),
    "bare": (0.100, 0.130, 0.160, 0.230),
    "turbid_water": (0.080, 0.100, 0.080, 0.040),
    "clear_water": (0.050, 0.060, 0.030, 0.015),
    "red_tile": (0.100, 0.090, 0.160, 0.220),
    "blue_steel": (0.180, 0.170, 0.150, 0.190),
    "concrete": (0.200, 0.210, 0.220, 0.240),
    "asphalt": (0.070, 0.080, 0.080, 0.100),
}
NAMES = list(LIBRARY)
SPEC = np.array([LIBRARY[n] for n in NAMES], np.float32)
ID = {n: i for i, n in enumerate(NAMES)}
BACKGROUND = ["paddy"] * 4 + ["dry_crop"] * 3 + ["fallow"] * 2 + ["forest"] * 4 + ["turbid_water", "clear_water"]
CROPS = {ID["paddy"], ID["dry_crop"]}
ROOFS = ("red_tile", "blue_steel", "concrete")


@dataclass(frozen=True)
class IndependentPair:
    before: Path
    after: Path
    truth: Path
    min_area_m2: float
    pixel_size: float
    n_changes: int


def _parcels(rng, size: int, n: int) -> np.ndarray:
    """Voronoi parcel id per pixel (nearest seed), computed on a coarse grid then repeated."""
    f = 4
    seeds = rng.uniform(0, size, (n, 2))
    g = np.arange(0, size, f) + f / 2
    yy, xx = np.meshgrid(g, g, indexing="ij")
    best = np.zeros(yy.shape, np.int32)
    dist = np.full(yy.shape, np.inf)
    for i, (sy, sx) in enumerate(seeds):
        d = (yy - sy) ** 2 + (xx - sx) ** 2
        closer = d < dist
        best[closer] = i
        dist[closer] = d[closer]
    return np.repeat(np.repeat(best, f, 0), f, 1)[:size, :size]


def _shape(rng, cy: float, cx: float, area_px: float):
    kind = rng.integers(0, 3)
    if kind == 0:  # rotated rectangle
        aspect = rng.uniform(0.4, 1.0)
        h = math.sqrt(area_px * aspect)
        w = area_px / h
        g = box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        return shapely.affinity.rotate(g, rng.uniform(0, 180))
    if kind == 1:  # ellipse
        r = math.sqrt(area_px / math.pi)
        a = rng.uniform(0.6, 1.0)
        return shapely.affinity.rotate(
            shapely.affinity.scale(Point(cx, cy).buffer(r, 24), a, 1 / a), rng.uniform(0, 180)
        )
    pts = rng.normal(0, 1, (9, 2)) * math.sqrt(area_px) * 0.45  # convex polygon
    g = MultiPoint([(cx + x, cy + y) for x, y in pts]).convex_hull
    return shapely.affinity.scale(g, *(2 * [math.sqrt(area_px / max(g.area, 1.0))]))


def make_independent_pair(
    out_dir,
    *,
    seed: int = 0,
    size: int = 2000,
    pixel_size: float = 4.0,
    n_changes: int = 14,
    min_area_m2: float = 500.0,
    shift_px: tuple[int, int] = (1, -1),
    crs: str = "EPSG:32651",
) -> IndependentPair:
    """Write before.tif / after.tif (gf2: 4-band uint16) and truth.geojson into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 977])
    pad = 8
    big = size + 2 * pad
    parcel = _parcels(rng, big, max(60, big * big // 12000))
    n_parcels = int(parcel.max()) + 1
    cover_of = np.array([ID[BACKGROUND[i]] for i in rng.integers(0, len(BACKGROUND), n_parcels)])
    tint = rng.uniform(0.85, 1.15, (n_parcels, 4)).astype(np.float32)
    cover = cover_of[parcel]
    # villages: clusters of roofs on bare ground, and a few asphalt roads
    for _ in range(max(3, big // 500)):
        vy, vx = rng.uniform(0, big, 2)
        for _ in range(int(rng.integers(15, 40))):
            y, x = int(vy + rng.normal(0, 25)), int(vx + rng.normal(0, 25))
            h, w = int(rng.integers(3, 7)), int(rng.integers(3, 7))
            cover[max(0, y) : max(0, y + h), max(0, x) : max(0, x + w)] = ID[ROOFS[int(rng.integers(0, 3))]]
    road_lines = []
    for _ in range(3):
        p0, p1 = rng.uniform(0, big, 2), rng.uniform(0, big, 2)
        road_lines.append(shapely.LineString([p0[::-1], p1[::-1]]).buffer(1.2))
    roads = rasterize([(g, 1) for g in road_lines], out_shape=(big, big)).astype(bool)
    cover[roads] = ID["asphalt"]
    # changes (pixel coordinates of the before frame, x = col, y = row)
    mmu_px = min_area_m2 / pixel_size**2
    changes, taken = [], []
    kinds = ("vegetation_loss", "construction", "water_change")
    while len(changes) < n_changes:
        area_px = mmu_px * math.exp(rng.uniform(math.log(1.4), math.log(40)))
        cy, cx = rng.uniform(60, size - 60, 2) + pad
        g = _shape(rng, cy, cx, area_px)
        if any(g.buffer(12).intersects(t) for t in taken):
            continue
        taken.append(g)
        t = kinds[len(changes) % 3]
        if t == "vegetation_loss":
            b, a = ("forest" if rng.random() < 0.5 else "paddy"), ("bare" if rng.random() < 0.6 else "fallow")
        elif t == "construction":
            b, a = ("bare" if rng.random() < 0.4 else "dry_crop"), ROOFS[int(rng.integers(0, 3))]
        else:
            b, a = ("paddy", "turbid_water") if rng.random() < 0.5 else ("clear_water", "bare")
        changes.append(
            {"type": t, "before": b, "after": a, "geom": g, "cluster": t == "construction" and rng.random() < 0.5}
        )
    before_cov = cover.copy()
    after_cov = cover.copy()
    for ch in changes:
        m = rasterize([(ch["geom"].buffer(3), 1)], out_shape=(big, big)).astype(bool)
        before_cov[m] = ID[ch["before"]]
        after_cov[m] = ID[ch["before"]]
        inner = rasterize([(ch["geom"], 1)], out_shape=(big, big)).astype(bool)
        if ch["cluster"]:  # roofs with gaps of bare ground between them
            rr = (np.arange(big)[:, None] // 6 + np.arange(big)[None, :] // 6) % 3 != 0
            after_cov[inner & rr] = ID[ch["after"]]
            after_cov[inner & ~rr] = ID["bare"]
        else:
            after_cov[inner] = ID[ch["after"]]
    tex = ndimage.gaussian_filter(rng.standard_normal((big, big)).astype(np.float32), 3) * 12
    dates = []
    for d, cov in enumerate((before_cov, after_cov)):
        refl = np.moveaxis(SPEC[cov], -1, 0) * np.moveaxis(tint[parcel], -1, 0) * (1 + 0.04 * tex)[None]
        if d == 1:  # crop phenology: per parcel NDVI +-0.08, not a change
            dv = rng.uniform(-0.08, 0.08, n_parcels).astype(np.float32)[parcel]
            dv = np.where(np.isin(cov, list(CROPS)), dv, 0)
            x = dv * (refl[3] + refl[2]) / 2
            refl[3] += x
            refl[2] -= x
            refl = refl * np.array([1.06, 0.97, 0.94, 1.07], np.float32)[:, None, None]
            refl += np.array([0.006, 0.002, -0.003, 0.004], np.float32)[:, None, None]
        dates.append(refl)
    # clouds with shadows on the after date
    clouds = []
    for _ in range(2):
        cy, cx, r = rng.uniform(150, size - 150), rng.uniform(150, size - 150), rng.uniform(25, 45)
        clouds.append((cy + pad, cx + pad, r))
    yy, xx = np.ogrid[:big, :big]
    for kind in ("shadow", "cloud"):  # shadows first: a cloud is never in its own shadow
        for cy, cx, r in clouds:
            oy, ox = (-30, 25) if kind == "shadow" else (0, 0)
            d = np.sqrt((yy - cy - oy) ** 2 + (xx - cx - ox) ** 2)
            a = np.clip((r - d) / 4, 0, 1).astype(np.float32)
            if kind == "cloud":
                dates[1] = dates[1] * (1 - a) + np.float32(0.6) * a
            else:
                dates[1] = dates[1] * (1 - 0.6 * a)
    transform = default_transform(size, size, pixel_size, HANGZHOU_BOUNDS, crs)
    profile = scene_profile(size, size, 4, crs, transform)
    paths = [out / "before.tif", out / "after.tif"]
    for d, path in enumerate(paths):
        dy, dx = shift_px if d == 1 else (0, 0)
        refl = dates[d][:, pad + dy : pad + dy + size, pad + dx : pad + dx + size]
        refl = refl + rng.standard_normal(refl.shape, dtype=np.float32) * (0.005 if d == 0 else 0.008)
        with rasterio.open(path, "w", **profile) as dst:
            dst.update_tags(
                GRIDGOV_SENSOR="gf2", GRIDGOV_SYNTHETIC="1", ACQUISITION_DATE=("2022-04-02", "2024-04-11")[d]
            )
            dst.write(np.clip(np.rint(refl * 10000), 1, 65535).astype(np.uint16))
    obscure = shapely.union_all(
        [Point(cx, cy).buffer(r + 6) for cy, cx, r in clouds]
        + [Point(cx + 25, cy - 30).buffer(r + 6) for cy, cx, r in clouds]
    )
    feats = []
    aff = [
        transform.a,
        transform.b,
        transform.d,
        transform.e,
        transform.c - pad * pixel_size,
        transform.f + pad * pixel_size,
    ]
    for i, ch in enumerate(changes):
        gw = to_wgs84(shapely.affinity.affine_transform(ch["geom"], aff), crs)
        feats.append(truth_feature(i, gw, ch, bool(ch["geom"].intersects(obscure))))
    truth = out / "truth.geojson"
    truth.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return IndependentPair(paths[0], paths[1], truth, min_area_m2, pixel_size, len(changes))
