"""A realistic synthetic Sentinel-2 L2A pair: what real products throw at the detector.

Both dates are 6-band stacked GeoTIFFs (B02, B03, B04, B08, B11 at 10 m, then SCL), the
"sentinel2" layout, tagged with their acquisition date and sensor. On top of the procedural
landscape of ``synth`` the pair has:

- mixed DN offsets: the before date is from 2021 (no offset), the after date from 2023
  (processing baseline 04.00: DN = 10000 * reflectance + 1000);
- a sensor/illumination shift (per-band gain and offset) and a season shift: every vegetated
  pixel of the after date has an NDVI 0.05-0.1 lower (a smooth field across the scene);
- a 1-pixel misregistration in both axes;
- clouds with shadows that SCL flags (8/9 and 3), on both dates, and one bright cloud with its
  shadow that SCL misses (SCL says vegetation or soil there);
- a band of thin haze across the after date that SCL does not flag (additive path radiance,
  strongest in blue, weak in SWIR, plus a slight loss of contrast);
- new roads 2 pixels wide (a forest road, a track), rendered with their true sub-pixel
  coverage, among the injected changes.

Ground truth and footprints are written in WGS84 (see ``RealisticPair``); truths touching a
cloud or shadow footprint (flagged or not) grown by ``obscured_buffer_px`` are ``obscured``.
Changes under the haze count: a reviewer can still see them.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import shapely
from rasterio.features import rasterize, shapes
from rasterio.windows import Window
from shapely.geometry import LineString, box, mapping

from .cleanup import to_wgs84
from .synth import HANGZHOU_BOUNDS, _ellipse_alpha, _sample, _World, default_transform, scene_profile, truth_feature

# Surface reflectance (B02, B03, B04, B08, B11) of land covers.
COVERS5 = {
    "water": (0.060, 0.070, 0.040, 0.020, 0.012),
    "vegetation": (0.032, 0.062, 0.036, 0.380, 0.170),
    "grass": (0.050, 0.090, 0.070, 0.300, 0.220),
    "soil": (0.080, 0.110, 0.140, 0.200, 0.290),
    "urban": (0.140, 0.150, 0.160, 0.190, 0.240),
    "concrete": (0.220, 0.240, 0.260, 0.280, 0.310),
    "road": (0.110, 0.125, 0.140, 0.180, 0.260),
}
COVER5_ID = {k: i for i, k in enumerate(COVERS5)}
SPECTRA5 = np.array(list(COVERS5.values()), dtype=np.float32)
#: SCL class of each cover (4 vegetation, 5 not vegetated, 6 water).
SCL_OF_COVER = np.array([6, 4, 4, 5, 5, 5, 5], dtype=np.uint8)
CLOUD5 = np.array([0.52, 0.53, 0.54, 0.56, 0.40], dtype=np.float32)
SHADOW_FACTOR = 0.35
#: Path radiance of thin haze per band, relative to blue (Angström-like fall-off, weak in SWIR).
HAZE_SHAPE = np.array([1.0, 0.78, 0.60, 0.32, 0.08], dtype=np.float32)
NOISE_SIGMA = 0.005
BEFORE_DATE = dt.date(2021, 9, 14)
AFTER_DATE = dt.date(2023, 9, 19)
#: Sun at the after date (degrees): shadows fall away from it, ``SHADOW_OFFSET_PX`` for the
#: cloud height used here.
SUN_AZIMUTH = 152.0
SUN_ZENITH = 38.0
CLOUD_HEIGHT_M = 450.0


@dataclass(frozen=True)
class RealisticPair:
    before: Path
    after: Path
    truth: Path  # changes (change_type, area_m2, obscured, id, kind: patch | road)
    footprints: Path  # features with "kind": flagged_cloud | unflagged_cloud | haze
    before_date: dt.date
    after_date: dt.date
    min_area_m2: float
    pixel_size: float
    shift_px: tuple[int, int]
    n_changes: int
    sun_azimuth: float
    sun_zenith: float


def shadow_offset_px(pixel_size: float, height_m: float = CLOUD_HEIGHT_M) -> tuple[float, float]:
    """(d_row, d_col) from a cloud to its shadow for the generator's sun (rows grow south)."""
    length = height_m * math.tan(math.radians(SUN_ZENITH)) / pixel_size
    az = math.radians(SUN_AZIMUTH)
    return length * math.cos(az), -length * math.sin(az)


def _patches(rng, height, width, pixel_area, min_area_m2, n, taken):
    out = []
    mmu_px = min_area_m2 / pixel_area
    kinds = [
        ("vegetation_loss", ("vegetation", "grass"), ("soil",)),
        ("construction", ("soil", "grass", "vegetation"), ("concrete", "urban")),
        ("water_change", ("soil", "grass"), ("water",)),
        ("water_change", ("water",), ("soil", "grass")),
    ]
    tries = 0
    while len(out) < n and tries < 200 * n:
        tries += 1
        area_px = mmu_px * math.exp(rng.uniform(math.log(2.0), math.log(120)))
        area_px = max(area_px, 40.0)
        aspect = rng.uniform(0.5, 2.0)
        h = max(4, int(round(math.sqrt(area_px * aspect))))
        w = max(4, int(round(area_px / h)))
        r0 = int(rng.integers(12, height - h - 12))
        c0 = int(rng.integers(12, width - w - 12))
        rects = [(r0, c0, r0 + h, c0 + w)]
        if h * w > 300 and rng.random() < 0.35:  # L-shape
            rects.append((r0 + h, c0, min(height - 12, r0 + h + max(3, h // 2)), c0 + max(3, w // 2)))
        env = box(
            min(r[1] for r in rects), min(r[0] for r in rects), max(r[3] for r in rects), max(r[2] for r in rects)
        )
        if any(env.buffer(10).intersects(t) for t in taken):
            continue
        taken.append(env)
        t, befores, afters = kinds[len(out) % len(kinds)] if len(out) < 12 else kinds[int(rng.integers(0, 4))]
        before = befores[int(rng.integers(0, len(befores)))]
        after = afters[int(rng.integers(0, len(afters)))]
        if before == "soil" and after == "urban":
            after = "concrete"  # roofs on bare soil: "urban" is spectrally too close to soil to call
        out.append(
            {
                "kind": "patch",
                "type": t,
                "before": before,
                "after": after,
                "rects": rects,
                "geom": shapely.union_all([box(c0_, r0_, c1_, r1_) for r0_, c0_, r1_, c1_ in rects]),
            }
        )
    return out


def _roads(rng, height, width, n, taken):
    """Curved polylines through forest, 2 px wide (in pixel coordinates, x = col, y = row)."""
    out = []
    tries = 0
    while len(out) < n and tries < 200 * n:
        tries += 1
        length = rng.uniform(120, 320)
        r, c = rng.uniform(40, height - 40), rng.uniform(40, width - 40)
        ang = rng.uniform(0, math.pi)
        pts = [(c, r)]
        step = 12.0
        for _ in range(int(length / step)):
            ang += rng.normal(0, 0.12)
            c += step * math.cos(ang)
            r += step * math.sin(ang)
            pts.append((c, r))
        line = LineString(pts)
        poly = line.buffer(1.0, cap_style="flat")
        x0, y0, x1, y1 = poly.bounds
        if x0 < 15 or y0 < 15 or x1 > width - 15 or y1 > height - 15:
            continue
        if any(poly.buffer(10).intersects(t) for t in taken):
            continue
        taken.append(poly)
        out.append({"kind": "road", "type": "construction", "before": "vegetation", "after": "road", "geom": poly})
    return out


def _coverage(geom, oversample: int = 4):
    """Sub-pixel coverage fraction of ``geom`` (pixel coordinates) on its bounding pixels."""
    x0, y0, x1, y1 = (int(math.floor(v)) for v in geom.bounds)
    x1, y1 = x1 + 1, y1 + 1
    hi = rasterize(
        [shapely.affinity.affine_transform(geom, [oversample, 0, 0, oversample, -x0 * oversample, -y0 * oversample])],
        out_shape=((y1 - y0) * oversample, (x1 - x0) * oversample),
        dtype="uint8",
    ).astype(np.float32)
    frac = hi.reshape(y1 - y0, oversample, x1 - x0, oversample).mean(axis=(1, 3))
    return y0, x0, frac


class _Scene:
    def __init__(self, seed, height, width, pixel_size, min_area_m2, n_changes, n_roads):
        rng = np.random.default_rng([seed, 31])
        self.world = _World(seed, height, width)
        taken: list = []
        self.roads = _roads(rng, height, width, n_roads, taken)
        self.changes = self.roads + _patches(
            rng, height, width, pixel_size**2, min_area_m2, n_changes - len(self.roads), taken
        )
        for ch in self.changes:
            if ch["kind"] == "road":
                ch["cov"] = _coverage(ch["geom"])
        self.shadow_off = shadow_offset_px(pixel_size)
        # (date, cy, cx, ry, rx, flagged): flagged clouds on both dates, one missed by SCL
        self.clouds = []
        for date, flagged, ry in ((1, True, 60.0), (1, True, 45.0), (0, True, 50.0), (1, False, 40.0)):
            self.clouds.append(
                (
                    date,
                    rng.uniform(0.15, 0.85) * height,
                    rng.uniform(0.15, 0.85) * width,
                    ry,
                    ry * rng.uniform(0.8, 1.3),
                    flagged,
                )
            )
        # haze: a soft band across the scene (after date)
        self.haze_angle = rng.uniform(0.2, 1.2)
        self.haze_centre = (rng.uniform(0.35, 0.65) * height, rng.uniform(0.35, 0.65) * width)
        self.haze_halfwidth = 0.09 * min(height, width)
        self.haze_peak = 0.045  # blue path radiance at the band's centre
        self.season_grid = rng.random((height // 200 + 3, width // 200 + 3)).astype(np.float32)
        self.gain = np.array([1.03, 1.02, 1.04, 0.95, 1.02], np.float32)
        self.bias = np.array([0.004, 0.003, 0.002, -0.004, 0.003], np.float32)

    def haze(self, rows, cols):
        cy, cx = self.haze_centre
        nx, ny = math.cos(self.haze_angle), math.sin(self.haze_angle)
        d = (cols[None, :] - cx) * ny - (rows[:, None] - cy) * nx  # distance across the band
        return (self.haze_peak * np.exp(-0.5 * (d / self.haze_halfwidth) ** 2)).astype(np.float32)

    def cloud_alpha(self, date, rows, cols, *, flagged=None, shadow=False):
        out = np.zeros((rows.size, cols.size), np.float32)
        for d, cy, cx, ry, rx, fl in self.clouds:
            if d != date or (flagged is not None and fl != flagged):
                continue
            if shadow:
                cy, cx = cy + self.shadow_off[0], cx + self.shadow_off[1]
            if cy + ry + 3 > rows[0] and cy - ry - 3 < rows[-1] and cx + rx + 3 > cols[0] and cx - rx - 3 < cols[-1]:
                np.maximum(out, _ellipse_alpha(rows, cols, cy, cx, ry, rx), out=out)
        return out

    def render(self, date, r0, c0, h, w, shift, seed):
        """(reflectance (5, h, w), SCL (h, w)) of one window of one date."""
        dy, dx = shift if date == 1 else (0, 0)
        rows = np.arange(r0 + dy, r0 + dy + h, dtype=np.float64)
        cols = np.arange(c0 + dx, c0 + dx + w, dtype=np.float64)
        cov, tex = self.world.cover(rows, cols)
        frac = np.zeros((h, w), np.float32)
        for ch in self.changes:
            if ch["kind"] == "patch":
                for a, b, c, d in ch["rects"]:
                    ra, rb = max(a - 4 - int(rows[0]), 0), min(c + 4 - int(rows[0]), h)
                    ca, cb = max(b - 4 - int(cols[0]), 0), min(d + 4 - int(cols[0]), w)
                    if ra < rb and ca < cb:
                        cov[ra:rb, ca:cb] = COVER5_ID[ch["before"]]
                if date == 1:
                    for a, b, c, d in ch["rects"]:
                        ra, rb = max(a - int(rows[0]), 0), min(c - int(rows[0]), h)
                        ca, cb = max(b - int(cols[0]), 0), min(d - int(cols[0]), w)
                        if ra < rb and ca < cb:
                            cov[ra:rb, ca:cb] = COVER5_ID[ch["after"]]
            else:
                y0, x0, f = ch["cov"]
                g = ch["geom"].buffer(6)
                gx0, gy0, gx1, gy1 = (int(v) for v in g.bounds)
                ra, rb = max(gy0 - int(rows[0]), 0), min(gy1 + 1 - int(rows[0]), h)
                ca, cb = max(gx0 - int(cols[0]), 0), min(gx1 + 1 - int(cols[0]), w)
                if ra < rb and ca < cb:
                    cov[ra:rb, ca:cb] = COVER5_ID["vegetation"]  # the road is cut through forest
                if date == 1:
                    ya, yb = max(y0, int(rows[0])), min(y0 + f.shape[0], int(rows[0]) + h)
                    xa, xb = max(x0, int(cols[0])), min(x0 + f.shape[1], int(cols[0]) + w)
                    if ya < yb and xa < xb:
                        sub = frac[ya - int(rows[0]) : yb - int(rows[0]), xa - int(cols[0]) : xb - int(cols[0])]
                        np.maximum(sub, f[ya - y0 : yb - y0, xa - x0 : xb - x0], out=sub)
        refl = np.moveaxis(SPECTRA5[cov], -1, 0) * (1 + 0.06 * tex)[None]
        if date == 1:
            refl = refl * (1 - frac)[None] + SPECTRA5[COVER5_ID["road"]][:, None, None] * frac[None]
        scl = SCL_OF_COVER[cov]
        arow = np.arange(r0, r0 + h, dtype=np.float64)
        acol = np.arange(c0, c0 + w, dtype=np.float64)
        if date == 1:
            # season: NDVI of vegetated pixels 0.05-0.1 lower (NIR + red kept constant)
            veg = np.isin(cov, [COVER5_ID["vegetation"], COVER5_ID["grass"]]).astype(np.float32) * (1 - frac)
            d = 0.05 + 0.05 * _sample(self.season_grid, 200.0, arow, acol)
            x = d * (refl[3] + refl[2]) / 2 * veg
            refl[3] -= x
            refl[2] += x
            refl = refl * self.gain[:, None, None] + self.bias[:, None, None]
            t = self.haze(arow, acol)
            refl = refl * (1 - 2.0 * t)[None] + HAZE_SHAPE[:, None, None] * t[None]
        s = self.cloud_alpha(date, arow, acol, shadow=True)
        refl *= (1 - s * (1 - SHADOW_FACTOR))[None]
        a = self.cloud_alpha(date, arow, acol)
        refl = refl * (1 - a)[None] + CLOUD5[:, None, None] * a[None]
        sf = self.cloud_alpha(date, arow, acol, flagged=True, shadow=True)
        af = self.cloud_alpha(date, arow, acol, flagged=True)
        scl = np.where(sf > 0.3, np.uint8(3), scl)
        scl = np.where(af > 0.3, np.where(af > 0.8, np.uint8(9), np.uint8(8)), scl)
        rng = np.random.default_rng([seed, date, r0, c0, 17])
        refl = refl + rng.standard_normal(refl.shape, dtype=np.float32) * NOISE_SIGMA
        return refl, scl

    def footprints(self):
        """(kind, geometry in pixel coordinates) of clouds with their shadows, and the haze."""
        out = []
        for _d, cy, cx, ry, rx, fl in self.clouds:
            kind = "flagged_cloud" if fl else "unflagged_cloud"
            for oy, ox in ((0.0, 0.0), self.shadow_off):
                out.append((kind, shapely.affinity.scale(shapely.Point(cx + ox, cy + oy).buffer(1, 32), rx, ry)))
        return out


def make_realistic_pair(
    out_dir,
    *,
    seed: int = 0,
    size: int = 2400,
    pixel_size: float = 10.0,
    min_area_m2: float = 500.0,
    n_changes: int = 16,
    n_roads: int = 3,
    shift_px: tuple[int, int] = (1, 1),
    obscured_buffer_px: int = 6,
    bounds=HANGZHOU_BOUNDS,
    crs: str = "EPSG:32651",
    block: int = 512,
) -> RealisticPair:
    """Write before.tif / after.tif (sentinel2 stacks), truth.geojson and footprints.geojson."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    height = width = size
    transform = default_transform(width, height, pixel_size, bounds, crs)
    sc = _Scene(seed, height, width, pixel_size, min_area_m2, n_changes, n_roads)
    profile = scene_profile(width, height, 6, crs, transform, block=block)
    dates = (BEFORE_DATE, AFTER_DATE)
    paths = [
        out / f"S2_L2A_{d:%Y%m%d}_before.tif" if i == 0 else out / f"S2_L2A_{d:%Y%m%d}_after.tif"
        for i, d in enumerate(dates)
    ]
    for date, path in enumerate(paths):
        add = 1000 if dates[date] >= dt.date(2022, 1, 25) else 0
        with rasterio.open(path, "w", **profile) as dst:
            dst.update_tags(ACQUISITION_DATE=dates[date].isoformat(), GRIDGOV_SENSOR="sentinel2", GRIDGOV_SYNTHETIC="1")
            for r0 in range(0, height, block):
                h = min(block, height - r0)
                refl, scl = sc.render(date, r0, 0, h, width, shift_px, seed)
                dn = np.clip(np.rint(refl * 10000) + add, 1, 65535).astype(np.uint16)
                dst.write(np.concatenate([dn, scl[None].astype(np.uint16)]), window=Window(0, r0, width, h))

    def to_ll(g):
        g = shapely.affinity.affine_transform(
            g, [transform.a, transform.b, transform.d, transform.e, transform.c, transform.f]
        )
        return to_wgs84(g, crs)

    fp = sc.footprints()
    zone = shapely.union_all([g for _k, g in fp]).buffer(obscured_buffer_px)
    feats = []
    for i, ch in enumerate(sc.changes):
        g = ch["geom"]
        gw = to_ll(g)
        feats.append(truth_feature(i, gw, ch, bool(g.intersects(zone)), kind=ch["kind"]))
    truth = out / "truth.geojson"
    truth.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    rows = np.arange(height, dtype=np.float64)
    cols = np.arange(width, dtype=np.float64)
    haze = sc.haze(rows[::4], cols[::4]) >= 0.01  # where haze adds >= 0.01 to blue
    hz = [shapely.geometry.shape(g) for g, v in shapes(haze.astype(np.uint8), mask=haze) if v]
    haze_geom = shapely.affinity.scale(shapely.union_all(hz), 4, 4, origin=(0, 0)) if hz else shapely.Polygon()
    ffeats = [
        {
            "type": "Feature",
            "geometry": mapping(to_ll(shapely.union_all([g for k2, g in fp if k2 == k]))),
            "properties": {"kind": k},
        }
        for k in ("flagged_cloud", "unflagged_cloud")
    ]
    ffeats.append({"type": "Feature", "geometry": mapping(to_ll(haze_geom)), "properties": {"kind": "haze"}})
    foot = out / "footprints.geojson"
    foot.write_text(json.dumps({"type": "FeatureCollection", "features": ffeats}))
    return RealisticPair(
        paths[0],
        paths[1],
        truth,
        foot,
        BEFORE_DATE,
        AFTER_DATE,
        min_area_m2,
        pixel_size,
        tuple(shift_px),
        len(sc.changes),
        SUN_AZIMUTH,
        SUN_ZENITH,
    )


def cached_realistic_pair(cache_root, *, seed: int, size: int, **kw) -> RealisticPair:
    """``make_realistic_pair`` under ``cache_root/realistic_<size>_<seed>``, reused when complete
    (a ``done.json`` marker is written last)."""
    d = Path(cache_root) / f"realistic_{size}_{seed}"
    done = d / "done.json"
    if done.exists():
        m = json.loads(done.read_text())
        return RealisticPair(
            Path(m["before"]),
            Path(m["after"]),
            Path(m["truth"]),
            Path(m["footprints"]),
            dt.date.fromisoformat(m["before_date"]),
            dt.date.fromisoformat(m["after_date"]),
            m["min_area_m2"],
            m["pixel_size"],
            tuple(m["shift_px"]),
            m["n_changes"],
            m["sun_azimuth"],
            m["sun_zenith"],
        )
    p = make_realistic_pair(d, seed=seed, size=size, **kw)
    meta = {k: (str(v) if isinstance(v, (Path, dt.date)) else v) for k, v in p.__dict__.items()}
    done.write_text(json.dumps(meta))
    return p
