"""Synthetic scene pairs with known changes, for tests and benchmarks.

The landscape is procedural (bilinear value noise from coarse random grids), so any window
can be generated on its own: scenes of any size are written window by window in bounded
memory. The "after" scene shows the world shifted by ``shift_px`` (misregistration) and has
clouds with shadows; both dates get sensor noise and slightly different radiometry.

Ground truth (``truth.geojson``, WGS84): one feature per injected change with
``change_type``, ``area_m2`` (ellipsoidal), ``obscured`` (touches a cloud/shadow footprint
grown by ``obscured_buffer_px``) and ``id``. Cloud and shadow footprints go to
``clouds.geojson``. Geometry is in the before frame (the after frame is off by the shift).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import shapely
from affine import Affine
from pyproj import Transformer
from rasterio.windows import Window
from shapely.geometry import box, mapping

from .cleanup import geodesic_area_m2, to_wgs84

HANGZHOU_BOUNDS = (120.0, 30.1, 120.3, 30.4)  # lon/lat

# Surface reflectance (B, G, R, NIR) of land covers.
COVERS = {
    "water": (0.060, 0.070, 0.040, 0.020),
    "vegetation": (0.035, 0.075, 0.045, 0.400),
    "grass": (0.050, 0.090, 0.070, 0.300),
    "soil": (0.080, 0.110, 0.140, 0.200),
    "urban": (0.140, 0.150, 0.160, 0.190),
    "concrete": (0.220, 0.240, 0.260, 0.280),
}
COVER_ID = {k: i for i, k in enumerate(COVERS)}
SPECTRA = np.array(list(COVERS.values()), dtype=np.float32)  # (covers, 4)
CLOUD_REFL = np.array([0.55, 0.56, 0.57, 0.58], dtype=np.float32)
SHADOW_FACTOR = 0.35
NOISE_SIGMA = 0.006


@dataclass(frozen=True)
class ScenePair:
    before: Path
    after: Path
    truth: Path
    clouds: Path
    min_area_m2: float
    pixel_size: float
    shift_px: tuple[int, int]
    n_changes: int


def _grid(rng, rows, cols):
    return rng.standard_normal((rows, cols)).astype(np.float32)


def _sample(grid: np.ndarray, cell: float, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Bilinear sample of ``grid`` (one value per ``cell`` pixels) at pixel rows × cols."""
    fr = rows / cell
    fc = cols / cell
    r0 = np.clip(np.floor(fr).astype(np.int64), 0, grid.shape[0] - 2)
    c0 = np.clip(np.floor(fc).astype(np.int64), 0, grid.shape[1] - 2)
    wr = (fr - r0).astype(np.float32)[:, None]
    wc = (fc - c0).astype(np.float32)[None, :]
    g_r = grid[r0] * (1 - wr) + grid[r0 + 1] * wr  # (nr, gcols)
    return g_r[:, c0] * (1 - wc) + g_r[:, c0 + 1] * wc


class _World:
    def __init__(self, seed: int, height: int, width: int):
        rng = np.random.default_rng([seed, 7])
        pad = 64
        self.cells = (160.0, 56.0, 10.0)
        self.grids = [_grid(rng, int((height + 2 * pad) / c) + 3, int((width + 2 * pad) / c) + 3) for c in self.cells]
        self.pad = pad

    def cover(self, rows: np.ndarray, cols: np.ndarray):
        rows = rows + self.pad
        cols = cols + self.pad
        n1 = _sample(self.grids[0], self.cells[0], rows, cols)
        n2 = _sample(self.grids[1], self.cells[1], rows, cols)
        tex = _sample(self.grids[2], self.cells[2], rows, cols)
        cov = np.full(n1.shape, COVER_ID["soil"], dtype=np.uint8)
        cov[n1 > -0.45] = COVER_ID["grass"]
        cov[n1 > 0.05] = COVER_ID["vegetation"]
        cov[(n2 > 0.55) & (n1 < 0.6)] = COVER_ID["urban"]
        cov[n1 < -0.75] = COVER_ID["water"]
        return cov, tex


def _changes(rng, height, width, pixel_area, min_area_m2, n_changes):
    mmu_px = min_area_m2 / pixel_area
    placed = []  # (r0, c0, r1, c1) with margin
    out = []
    types = ["vegetation_loss", "construction", "water_change"]
    tries = 0
    while len(out) < n_changes and tries < n_changes * 50:
        tries += 1
        u = rng.random()
        if u < 0.12:
            area_px = mmu_px * rng.uniform(0.55, 0.85)  # just below the MMU
        elif u < 0.27:
            area_px = mmu_px * rng.uniform(1.25, 1.6)  # just above
        else:
            area_px = mmu_px * math.exp(rng.uniform(math.log(2.5), math.log(120)))
        aspect = rng.uniform(0.6, 1.6)
        h = max(3, int(round(math.sqrt(area_px * aspect))))
        w = max(3, int(round(area_px / h)))
        margin = 4
        r0 = int(rng.integers(margin + 2, max(margin + 3, height - h - margin - 2)))
        c0 = int(rng.integers(margin + 2, max(margin + 3, width - w - margin - 2)))
        rects = [(r0, c0, r0 + h, c0 + w)]
        if h * w > 6 * mmu_px and rng.random() < 0.3:  # L-shape
            h2, w2 = max(3, h // 2), max(3, w // 2)
            rects.append((r0 + h, c0, min(height - margin - 2, r0 + h + h2), c0 + w2))
        R0 = min(r[0] for r in rects) - margin - 3
        C0 = min(r[1] for r in rects) - margin - 3
        R1 = max(r[2] for r in rects) + margin + 3
        C1 = max(r[3] for r in rects) + margin + 3
        if any(not (R1 <= a[0] or R0 >= a[2] or C1 <= a[1] or C0 >= a[3]) for a in placed):
            continue
        placed.append((R0, C0, R1, C1))
        t = types[len(out) % 3]
        if t == "vegetation_loss":
            before, after = ("vegetation" if rng.random() < 0.6 else "grass"), "soil"
        elif t == "construction":
            before, after = ("soil" if rng.random() < 0.6 else "grass"), "concrete"
        else:
            if rng.random() < 0.5:
                before, after = ("soil" if rng.random() < 0.5 else "grass"), "water"
            else:
                before, after = "water", ("soil" if rng.random() < 0.5 else "grass")
        out.append({"type": t, "before": before, "after": after, "rects": rects, "margin": margin})
    return out


def _clouds(rng, height, width, n):
    out = []
    for _ in range(n):
        ry = float(rng.uniform(20, 90))
        rx = float(ry * rng.uniform(0.7, 1.4))
        out.append((float(rng.uniform(0, height)), float(rng.uniform(0, width)), ry, rx))
    return out


def _paint(cov, r0, c0, rects, cover_id, grow=0):
    h, w = cov.shape
    for a, b, c, d in rects:
        ra, rb = max(a - grow - r0, 0), min(c + grow - r0, h)
        ca, cb = max(b - grow - c0, 0), min(d + grow - c0, w)
        if ra < rb and ca < cb:
            cov[ra:rb, ca:cb] = cover_id


def _ellipse_alpha(rows, cols, cy, cx, ry, rx, ramp=3.0):
    dy = (rows[:, None] - cy) / ry
    dx = (cols[None, :] - cx) / rx
    d = np.sqrt(dy * dy + dx * dx)
    return np.clip((1 - d) * min(ry, rx) / ramp, 0, 1).astype(np.float32)


def _render(world, changes, clouds, shadow_off, date, r0, c0, h, w, shift, seed, gain, bias):
    """Reflectance (4, h, w) of one window of one date."""
    dy, dx = shift if date == 1 else (0, 0)
    rows = np.arange(r0 + dy, r0 + dy + h, dtype=np.float64)
    cols = np.arange(c0 + dx, c0 + dx + w, dtype=np.float64)
    cov, tex = world.cover(rows, cols)
    wr0, wc0 = r0 + dy, c0 + dx
    for ch in changes:
        R0 = min(r[0] for r in ch["rects"]) - ch["margin"]
        C0 = min(r[1] for r in ch["rects"]) - ch["margin"]
        R1 = max(r[2] for r in ch["rects"]) + ch["margin"]
        C1 = max(r[3] for r in ch["rects"]) + ch["margin"]
        if R1 <= wr0 or R0 >= wr0 + h or C1 <= wc0 or C0 >= wc0 + w:
            continue
        _paint(cov, wr0, wc0, ch["rects"], COVER_ID[ch["before"]], grow=ch["margin"])
        if date == 1:
            _paint(cov, wr0, wc0, ch["rects"], COVER_ID[ch["after"]])
    refl = SPECTRA[cov]  # (h, w, 4)
    refl = np.moveaxis(refl, -1, 0) * (1 + 0.06 * tex)[None]
    if date == 1:
        refl = refl * gain + bias
        arow = np.arange(r0, r0 + h, dtype=np.float64)
        acol = np.arange(c0, c0 + w, dtype=np.float64)
        for cy, cx, ry, rx in clouds:
            sy, sx = cy + shadow_off[0], cx + shadow_off[1]
            if sy + ry + 3 > r0 and sy - ry - 3 < r0 + h and sx + rx + 3 > c0 and sx - rx - 3 < c0 + w:
                s = _ellipse_alpha(arow, acol, sy, sx, ry, rx)
                refl *= (1 - s * (1 - SHADOW_FACTOR))[None]
        for cy, cx, ry, rx in clouds:
            if cy + ry + 3 > r0 and cy - ry - 3 < r0 + h and cx + rx + 3 > c0 and cx - rx - 3 < c0 + w:
                a = _ellipse_alpha(arow, acol, cy, cx, ry, rx)[None]
                refl = refl * (1 - a) + CLOUD_REFL[:, None, None] * a
    rng = np.random.default_rng([seed, date, r0, c0, 11])
    refl = refl + rng.standard_normal(refl.shape, dtype=np.float32) * NOISE_SIGMA
    return refl


def default_transform(width, height, pixel_size, bounds, crs) -> Affine:
    lon = (bounds[0] + bounds[2]) / 2
    lat = (bounds[1] + bounds[3]) / 2
    x, y = Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)
    x0 = round((x - width * pixel_size / 2) / pixel_size) * pixel_size
    y0 = round((y + height * pixel_size / 2) / pixel_size) * pixel_size
    return Affine(pixel_size, 0, x0, 0, -pixel_size, y0)


def scene_profile(width: int, height: int, count: int, crs, transform: Affine, *, block: int = 256) -> dict:
    """Creation options of a synthetic scene: a tiled, deflate-compressed, pixel-interleaved
    uint16 GeoTIFF (nodata 0), written with every core."""
    return dict(
        driver="GTiff",
        width=width,
        height=height,
        count=count,
        dtype="uint16",
        crs=crs,
        transform=transform,
        nodata=0,
        tiled=True,
        blockxsize=block,
        blockysize=block,
        compress="deflate",
        num_threads="all_cpus",
        interleave="pixel",
    )


def truth_feature(i: int, geom_wgs84, change: dict, obscured: bool, **extra) -> dict:
    """One injected change of a synthetic pair as a truth.geojson feature (``evaluate``)."""
    return {
        "type": "Feature",
        "geometry": mapping(geom_wgs84),
        "properties": {
            "id": i,
            **extra,
            "change_type": change["type"],
            "area_m2": round(geodesic_area_m2(geom_wgs84), 2),
            "obscured": obscured,
            "before": change["before"],
            "after": change["after"],
        },
    }


def make_scene_pair(
    out_dir,
    *,
    seed: int = 0,
    width: int = 2048,
    height: int = 2048,
    bounds=HANGZHOU_BOUNDS,
    crs: str = "EPSG:32651",
    sensor: str = "gf2",
    pixel_size: float = 4.0,
    min_area_m2: float = 500.0,
    shift_px: tuple[int, int] = (0, 1),
    n_changes: int | None = None,
    cloud_cover: float = 0.04,
    obscured_buffer_px: int = 8,
    block: int = 512,
    window_cols: int = 4096,
) -> ScenePair:
    """Write before.tif / after.tif (4-band B,G,R,NIR uint16, tiled, deflate), truth.geojson
    and clouds.geojson into ``out_dir``; see the module docstring."""
    if sensor != "gf2":
        raise ValueError("only the gf2 (4-band B,G,R,NIR) synthetic sensor is implemented")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    transform = default_transform(width, height, pixel_size, bounds, crs)
    rng = np.random.default_rng([seed, 1])
    pixel_area = pixel_size * pixel_size
    if n_changes is None:
        n_changes = max(12, int(width * height / 250_000))
    changes = _changes(rng, height, width, pixel_area, min_area_m2, n_changes)
    n_clouds = max(1, int(cloud_cover * width * height / (math.pi * 55 * 55 * 1.05)))
    clouds = _clouds(rng, height, width, n_clouds)
    shadow_off = (28.0, 22.0)
    world = _World(seed, height, width)
    profile = scene_profile(width, height, 4, crs, transform, block=block)
    paths = [out / "before.tif", out / "after.tif"]
    for date, path in enumerate(paths):
        gain, bias = (1.0, 0.0) if date == 0 else (1.02, 0.003)
        with rasterio.Env(GDAL_CACHEMAX=64 * 1024 * 1024), rasterio.open(path, "w", **profile) as dst:
            step_c = max(block, (window_cols // block) * block)
            for r0 in range(0, height, block):
                h = min(block, height - r0)
                for c0 in range(0, width, step_c):
                    w = min(step_c, width - c0)
                    refl = _render(world, changes, clouds, shadow_off, date, r0, c0, h, w, shift_px, seed, gain, bias)
                    dn = np.clip(np.rint(refl * 10000), 1, 65535).astype(np.uint16)
                    dst.write(dn, window=Window(c0, r0, w, h))

    # truth and clouds in WGS84
    def px_to_crs(g):
        return shapely.affinity.affine_transform(
            g, [transform.a, transform.b, transform.d, transform.e, transform.c, transform.f]
        )

    foot = []
    for cy, cx, ry, rx in clouds:
        for oy, ox in ((0, 0), shadow_off):
            e = shapely.affinity.scale(shapely.Point(cx + ox, cy + oy).buffer(1, 32), rx, ry)
            foot.append(e)
    cloud_union = shapely.union_all(foot) if foot else shapely.GeometryCollection()
    cloud_zone = cloud_union.buffer(obscured_buffer_px)
    feats = []
    for i, ch in enumerate(changes):
        g = shapely.union_all([box(c0, r0, c1, r1) for r0, c0, r1, c1 in ch["rects"]])
        obscured = bool(g.intersects(cloud_zone))
        gw = to_wgs84(px_to_crs(g), crs)
        feats.append(truth_feature(i, gw, ch, obscured))
    truth = out / "truth.geojson"
    truth.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    cl = out / "clouds.geojson"
    cl.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "geometry": mapping(to_wgs84(px_to_crs(cloud_union), crs)), "properties": {}}
                ],
            }
        )
    )
    return ScenePair(paths[0], paths[1], truth, cl, min_area_m2, pixel_size, tuple(shift_px), len(changes))


def cached_scene_pair(cache_root, *, seed: int, size: int, **kw) -> ScenePair:
    """``make_scene_pair`` of a size×size scene under ``cache_root/<size>_<seed>``, reused when
    already complete (a ``done`` marker is written last)."""
    d = Path(cache_root) / f"{size}_{seed}"
    done = d / "done.json"
    if done.exists():
        meta = json.loads(done.read_text())
        return ScenePair(
            d / "before.tif",
            d / "after.tif",
            d / "truth.geojson",
            d / "clouds.geojson",
            meta["min_area_m2"],
            meta["pixel_size"],
            tuple(meta["shift_px"]),
            meta["n_changes"],
        )
    p = make_scene_pair(d, seed=seed, width=size, height=size, **kw)
    done.write_text(
        json.dumps(
            {
                "min_area_m2": p.min_area_m2,
                "pixel_size": p.pixel_size,
                "shift_px": list(p.shift_px),
                "n_changes": p.n_changes,
            }
        )
    )
    return p
