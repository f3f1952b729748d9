import dataclasses
import datetime as dt

import numpy as np
import pytest
from affine import Affine

from geodata.raster import cleanup, constants, indices, masks
from geodata.raster.align import estimate_shift
from geodata.raster.change import HIST_BINS, HIST_RANGE, scene_threshold, thresholds_from_histograms
from geodata.raster.constants import sensor_profile
from geodata.raster.errors import SensorMismatchError
from geodata.raster.products.base import MASK_KINDS
from geodata.raster.synth import COVERS
from geodata.raster.tiles import plan_tiles
from geodata.raster.window import WindowInput, WindowParams, classify, sample_histograms

from .conftest import field, paint

GF2 = sensor_profile("gf2")


def test_safe_divide_and_indices():
    out = indices.safe_divide(np.array([1.0, 1.0, 0.0]), np.array([2.0, 0.0, 0.0]), fill=-9)
    assert out.tolist() == [0.5, -9, -9]
    assert indices.ndvi(np.array([0.4]), np.array([0.05]))[0] == pytest.approx(0.35 / 0.45)
    assert indices.ndbi(np.array([0.3]), np.array([0.2]))[0] == pytest.approx(0.2)
    assert indices.mndwi(np.array([0.1]), np.array([0.02]))[0] > 0
    assert indices.ndwi(np.array([0.07]), np.array([0.02]))[0] > 0
    assert np.isnan(indices.ndvi(np.array([0.0]), np.array([0.0]))[0])
    assert indices.exg(np.array([0.1]), np.array([0.3]), np.array([0.1]))[0] == pytest.approx(0.4)
    assert indices.vari(np.array([0.1]), np.array([0.3]), np.array([0.1]))[0] == pytest.approx(0.2 / 0.3)
    assert np.isnan(indices.vari(np.array([0.1]), np.array([0.1]), np.array([0.2]))[0])


def test_sensor_profiles():
    s2 = sensor_profile("sentinel2")
    assert s2.bands["scl"] == 6 and s2.has_swir and s2.offset == 0
    s2new = sensor_profile("sentinel2", acquired=dt.date(2022, 1, 25))
    assert s2new.offset == pytest.approx(-0.1)
    assert sensor_profile("sentinel2", acquired=dt.date(2022, 1, 24)).offset == 0
    assert GF2.band_count == 4 and not GF2.has_swir and GF2.bands == {"blue": 1, "green": 2, "red": 3, "nir": 4}
    assert sensor_profile("landsat89").mask_band == "qa"
    assert "exg" in sensor_profile("drone_rgb").indices
    with pytest.raises(SensorMismatchError):
        sensor_profile("nope")


def test_masks():
    flags = MASK_KINDS["scl"](np.array([[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]))
    # (not data, cloud, shadow, snow): 0/1 no data, 8/9/10 cloud, 3 shadow, 11 snow
    assert [np.argwhere(f.ravel()).ravel().tolist() for f in flags] == [[0, 1], [8, 9, 10], [3], [11]]
    qa = np.array([21824, 1 << 3, 1 << 4, 1])  # clear land, cloud, shadow, fill
    assert [f.tolist() for f in MASK_KINDS["qa_pixel"](qa)] == [
        [False, False, False, True],
        [False, True, False, False],
        [False, False, True, False],
        [False, False, False, False],
    ]
    m = np.zeros((9, 9), bool)
    m[4, 4] = True
    assert masks.dilate(m, 2).sum() == 25
    cloud = masks.brightness_cloud(np.array([0.5, 0.22]), np.array([0.52, 0.24]), np.array([0.55, 0.26]))
    assert cloud.tolist() == [True, False]


def test_shadow_is_uniform_darkening_only():
    soil = [np.array([v], np.float32) for v in COVERS["soil"]]
    shadowed = [v * 0.35 for v in soil]
    concrete = [np.array([v], np.float32) for v in COVERS["concrete"]]
    assert masks.shadow_by_darkening(shadowed, soil)[0]
    assert not masks.shadow_by_darkening(soil, concrete)[0]  # construction is not a shadowed "before"


def test_scene_threshold_is_a_z_score_with_floor():
    edges = np.linspace(*HIST_RANGE, HIST_BINS + 1)
    rng = np.random.default_rng(0)
    # stable pixels N(0.02, 0.03) plus 10 % changes at 0.6: median ~0.02, sigma ~0.03 (robust)
    v = np.concatenate([rng.normal(0.02, 0.03, 9000), rng.normal(0.6, 0.05, 1000)])
    t, med, sigma = scene_threshold(np.histogram(v, bins=edges)[0], 0.15, edges, z=5)
    assert med == pytest.approx(0.02 + 0.003, abs=0.01) and sigma == pytest.approx(0.033, abs=0.006)
    assert t == pytest.approx(med + 5 * sigma, abs=1e-9)
    # quiet scene: the floor (shifted by a positive median) wins
    t, med, _ = scene_threshold(np.histogram(rng.normal(0.05, 0.01, 5000), bins=edges)[0], 0.15, edges, z=5)
    assert t == pytest.approx(0.15 + med, abs=1e-9)
    assert scene_threshold(None, 0.15, edges)[0] == 0.15


def _window(before, after, prof=GF2):
    """WindowInput from reflectance stacks (as the reader gives them)."""
    b = np.asarray(before, np.float32)
    a = np.asarray(after, np.float32)
    return WindowInput(b.copy(), a.copy(), np.isfinite(b).all(0) & np.isfinite(a).all(0))


def _classify(before, after, fixed=None):
    th = thresholds_from_histograms({}, GF2, fixed)
    return classify(_window(before, after), WindowParams(GF2, pixel_size_m=4.0), th)[0]


def test_rules_each_type():
    before = field("grass", 40, 40)
    before = paint(before, "vegetation", 5, 5, 15, 15)
    before = paint(before, "soil", 5, 20, 15, 30)
    before = paint(before, "soil", 22, 5, 32, 15)
    after = paint(before, "soil", 7, 7, 13, 13)  # vegetation loss
    after = paint(after, "concrete", 7, 22, 13, 28)  # construction
    after = paint(after, "water", 24, 7, 30, 13)  # water appears
    c = _classify(before, after)
    assert (c[8:12, 8:12] == constants.CLASS_VEGETATION_LOSS).all()
    assert (c[8:12, 23:27] == constants.CLASS_CONSTRUCTION).all()
    assert (c[25:29, 8:12] == constants.CLASS_WATER_CHANGE).all()
    assert c[35:, 35:].max() == 0


def test_fixed_threshold_suppresses():
    before = field("vegetation", 30, 30)
    after = paint(before, "soil", 10, 10, 20, 20)
    assert (_classify(before, after) == 1).sum() >= 90
    assert (_classify(before, after, {"vegetation_loss": 5.0}) == 1).sum() == 0


def test_one_pixel_shift_no_edge_false_positives():
    base = field("vegetation", 60, 60, sigma=0.003)
    base = paint(base, "water", 0, 30, 60, 60)  # vertical vegetation | water edge
    base = paint(base, "soil", 20, 5, 40, 20)  # soil block inside vegetation
    base = paint(base, "concrete", 45, 35, 55, 50)  # bright block inside water
    for dy, dx in [(0, 1), (1, 0), (1, 1), (-1, 1)]:
        shifted = np.roll(base, (dy, dx), axis=(1, 2))
        c = _classify(base, shifted)[2:-2, 2:-2]
        assert c.max() == 0, (dy, dx, np.argwhere(c))


def test_estimate_shift():
    rng = np.random.default_rng(1)
    from scipy import ndimage

    img = ndimage.gaussian_filter(rng.normal(size=(256, 256)), 2)
    moved = np.roll(img, (1, -2), axis=(0, 1))  # moved[r, c] = img[r-1, c+2]
    dy, dx, peak = estimate_shift(img, moved)
    assert (dy, dx) == (-1, 2) and peak > 0.3
    assert np.allclose(moved[10 - dy, 10 - dx], img[10, 10])  # after[r - dy, c - dx] == before[r, c]


def test_opening_keeps_two_pixel_lines():
    c = np.zeros((40, 40), np.uint8)
    c[5, :] = 2  # 1-pixel line: removed
    c[10:12, 2:38] = 1  # 2-pixel road: kept whole
    for i in range(25):  # diagonal track, 3 pixels per row (2 px across): kept whole
        c[14 + i, 3 + i : 6 + i] = 2
    c[30, 30] = 3  # speck: removed
    o = cleanup.open_classes(c)
    assert o[5].max() == 0 and o[30, 30] == 0
    assert (o[10:12, 2:38] == 1).all()
    assert ((o == 2) == (c == 2) & (np.arange(40)[:, None] >= 14)).all()
    # the 3x3 opening of before erased both linear features
    assert cleanup.open_classes(c, 3)[10:12].max() == 0


def test_sieve_by_area_or_length():
    c = np.zeros((30, 60), np.uint8)
    c[5:7, 5:55] = 1  # 100 px, 50 px long
    c[15:25, 5:15] = 2  # 100 px square
    s = cleanup.sieve(c, 120, keep_border=False, min_length_px=40)
    assert (s[5:7, 5:55] == 1).all() and s[15:25, 5:15].max() == 0
    assert cleanup.sieve(c, 120, keep_border=False).max() == 0
    assert cleanup.rectangle_length(100, 104) == pytest.approx(50)
    assert cleanup.rectangle_length(100, 40) == pytest.approx(10)


def test_opening_and_sieve_keep_border():
    c = np.zeros((20, 20), np.uint8)
    c[5, :] = 2  # 1-pixel line: removed by opening
    c[10:14, 10:14] = 1  # 16 px
    c[0:2, 0:3] = 3  # small, touches the border
    o = cleanup.open_classes(c)
    assert o[5].max() == 0 and o[10:14, 10:14].min() == 1
    s = cleanup.sieve(o, 20, keep_border=True)
    assert s[10:14, 10:14].max() == 0 and s[0:2, 0:3].min() == 3
    assert cleanup.sieve(o, 20, keep_border=False).max() == 0


def test_sieve_fills_small_holes():
    c = np.zeros((20, 20), np.uint8)
    c[4:16, 4:16] = 1
    c[9, 9] = 0
    assert cleanup.sieve(c, 10)[9, 9] == 1


def test_pixel_area_projected_and_geographic():
    utm = Affine(4.0, 0, 200_000, 0, -4.0, 3_350_000)
    assert cleanup.pixel_area_m2(utm, "EPSG:32651") == pytest.approx(16.0, rel=0.01)
    geo = Affine(1e-4, 0, 120.0, 0, -1e-4, 30.3)  # ~9.6 m x 11.1 m at 30.3N
    a = cleanup.pixel_area_m2(geo, "EPSG:4326")
    assert 100 < a < 115
    assert cleanup.min_pixels_for_area(500, utm, "EPSG:32651") == 30
    assert cleanup.min_pixels_for_area(500, geo, "EPSG:4326") in range(4, 6)


def test_polygonize_regions_stats():
    c = np.zeros((10, 10), np.uint8)
    c[2:5, 2:6] = 1
    c[6:9, 0:3] = 2
    d = np.where(c > 0, -0.5, 0).astype(np.float32)
    conf = np.where(c > 0, 0.8, 0).astype(np.float32)
    regs = cleanup.polygonize_regions(c, Affine(4, 0, 0, 0, -4, 40), d, conf, (False, False, True, False))
    by = {r.cls: r for r in regs}
    assert by[1].pixels == 12 and by[1].geometry.area == pytest.approx(12 * 16) and not by[1].on_seam
    assert by[2].on_seam and by[2].sum_delta == pytest.approx(-4.5)


def test_plan_tiles_block_aligned():
    t = plan_tiles(1000, 1300, (256, 256), 500)
    assert t[0] == (0, 0, 512, 512)
    assert all(r % 256 == 0 and c % 256 == 0 for r, c, _, _ in t)
    assert sum(h * w for _, _, h, w in t) == 1000 * 1300


def test_morph_matches_scipy():
    from scipy import ndimage

    from geodata.raster import morph

    rng = np.random.default_rng(3)
    for shape in [(1, 1), (1, 7), (6, 1), (9, 13), (40, 33)]:
        a = rng.normal(size=shape).astype(np.float32)
        assert np.array_equal(morph.min3(a), ndimage.minimum_filter(a, 3, mode="nearest"))
        assert np.array_equal(morph.max3(a), ndimage.maximum_filter(a, 3, mode="nearest"))
        m = rng.random(shape) < 0.3
        assert np.array_equal(morph.dilate3(m), ndimage.binary_dilation(m, np.ones((3, 3), bool)))
        assert np.array_equal(morph.erode3(m), ndimage.minimum_filter(m.astype(np.uint8), 3, mode="nearest") > 0)
        assert np.array_equal(masks.dilate(m, 2), ndimage.maximum_filter(m.astype(np.uint8), 5, mode="constant") > 0)
        ref = ndimage.correlate(a.astype(np.float64), np.ones((3, 3)), mode="constant")
        assert np.allclose(morph.sum3(a), ref, atol=1e-5)


def test_numba_box_sums_are_morph_sum3_bit_for_bit():
    """The colour test's 3x3 sums (numba, for a whole tile and pixel by pixel) add in morph.sum3's order: the same
    float32 bits at every pixel, edges and corners included."""
    from geodata.raster import _fast_colour, morph

    rng = np.random.default_rng(5)
    for shape in [(1, 1), (1, 7), (6, 1), (2, 2), (9, 13), (40, 33)]:
        x = rng.normal(size=(4, *shape)).astype(np.float32) * np.float32(0.3)
        idx = np.array([2, 0, 3], dtype=np.int64)
        out = np.empty((3, *shape), np.float32)
        _fast_colour.box_sums3(x, idx, out)
        for k, b in enumerate(idx):
            ref = morph.sum3(x[b])
            assert np.array_equal(out[k], ref), (shape, b)
            got = np.array(
                [[_fast_colour.sum3_at(x, b, r, c) for c in range(shape[1])] for r in range(shape[0])], np.float32
            )
            assert np.array_equal(got, ref), (shape, b)
        # the colour test's naive score, a row at a time (``rules_pass``) and pixel by pixel
        y = rng.normal(size=(4, *shape)).astype(np.float32) * np.float32(0.3)
        x[0, 0, 0] = np.nan
        one, rows = _fast_colour.colour_naive_rows(x, y, idx)
        assert np.isnan(one[0, 0]) and (min(shape) < 4 or np.isfinite(one).any())
        assert np.array_equal(one, rows, equal_nan=True), shape


@pytest.mark.parametrize("dtype", ["uint16", "int16", "uint8", "float32", "int32"])
def test_scaling_kernel_gives_numpys_float32_bits(dtype):
    """The reader's one-pass scaling (numba) equals numpy's multiply, add, NaN-at-nodata bit
    for bit, with and without an offset and a nodata value (int32: numpy's float64 path)."""
    from geodata.raster import io
    from geodata.raster.products import BandFile

    rng = np.random.default_rng(3)
    raw = rng.integers(0, 120 if dtype in ("uint8",) else 12000, size=(37, 53)).astype(dtype)
    raw[3, :7] = 0
    if dtype == "float32":
        raw[5, 5], raw[6, 6] = np.inf, np.nan
    for scale, offset, nodata in ((1e-4, -0.1, 0), (2.75e-5, -0.2, None), (1 / 10000, 0.0, 0)):
        bf = BandFile("x.tif", scale=scale, offset=offset, nodata=nodata)
        ref = np.empty(raw.shape, np.float32)
        np.multiply(raw, np.float32(scale), out=ref, casting="unsafe")
        if offset:
            ref += np.float32(offset)
        if nodata is not None:
            np.copyto(ref, np.float32(np.nan), where=raw == nodata)
        got = np.empty(raw.shape, np.float32)
        io.scale_into(raw, bf, got)
        assert np.array_equal(got, ref, equal_nan=True), (dtype, scale, offset, nodata)
        # the valid mask made while scaling: set by the first band, ANDed by the next
        finite = np.empty(raw.shape, bool)
        io.scale_into(raw, bf, got, finite, first=True)
        assert np.array_equal(finite, np.isfinite(ref))
        other = raw.copy()
        other[10, 10] = 0 if nodata is not None else other[10, 10]
        io.scale_into(other, bf, got, finite, first=False)
        expect = np.isfinite(ref) & np.isfinite(got)
        assert np.array_equal(finite, expect) and (nodata is None or not finite[10, 10])


def test_colour_test_finds_roofs_on_bare_soil_not_wet_soil():
    """A roof as bright as the soil it is built on, with the soil's NDVI (what no brightness
    or NDVI test sees), is construction by its colour; soil darkened uniformly by 25 % (wet)
    and a field that greens up are not. Reflectance (B, G, R, NIR) in the range of published
    spectra of soil and painted steel; the colour threshold is what a 4 m scene's noise gives."""
    rng = np.random.default_rng(5)
    soil = np.array([0.10, 0.13, 0.16, 0.23], np.float32)[:, None, None]
    before = np.broadcast_to(soil, (4, 48, 48)).copy()
    after = before.copy()
    after[:, 6:20, 6:20] = np.array([0.15, 0.14, 0.12, 0.17], np.float32)[:, None, None]  # blue steel roof
    after[:, 28:42, 6:20] *= np.float32(0.75)  # wet soil (not dark enough for a shadow)
    after[:, 28:42, 28:42] = np.array([0.08, 0.12, 0.10, 0.32], np.float32)[:, None, None]  # crop emerging
    before += rng.normal(0, 0.004, before.shape).astype(np.float32)
    after += rng.normal(0, 0.006, after.shape).astype(np.float32)
    th = dataclasses.replace(thresholds_from_histograms({}, GF2, None), construction_colour=0.08)
    c = classify(_window(before, after), WindowParams(GF2, pixel_size_m=4.0), th)[0]
    assert (c[8:18, 8:18] == constants.CLASS_CONSTRUCTION).all()
    assert not c[:, 24:].any() and not c[26:, :].any()
    assert thresholds_from_histograms({}, GF2, None).construction_colour == np.inf  # off without a sample


def _scene_arrays(sensor, seed):
    """Before/after reflectance stacks with every kind of change, a shift, clouds, shadow and
    no data, and the product flags of sensors that have a mask."""
    rng = np.random.default_rng(seed)
    base = field("vegetation", 96, 96, seed=seed)
    base = paint(base, "water", 0, 60, 96, 96)
    base = paint(base, "soil", 50, 5, 80, 40)
    after = np.roll(base, 1, axis=2) + rng.normal(0, 0.004, base.shape).astype(np.float32)
    after = paint(after, "soil", 10, 10, 30, 30)
    after = paint(after, "concrete", 55, 10, 70, 30)
    after = paint(after, "vegetation", 20, 70, 40, 90)
    after[:, 80:90, 40:60] = 0.55  # cloud
    after[:, 85:95, 5:20] *= 0.35  # shadow
    refl_b, refl_a = base, after
    if sensor in ("sentinel2", "landsat89"):  # add a SWIR band: soil/concrete bright, water dark
        swir = lambda r: (0.5 * r[2] + 0.2 * r[3]).astype(np.float32)[None]  # noqa: E731
        refl_b = np.concatenate([base, swir(base)])
        refl_a = np.concatenate([after, swir(after)])
    if sensor == "drone_rgb":
        refl_b, refl_a = base[:3], after[:3]  # blue, green, red: the reflectance_roles order
    roles = ("blue", "green", "red", "nir", "swir1") if refl_b.shape[0] == 5 else ("blue", "green", "red", "nir")
    if sensor == "drone_rgb":
        roles = ("blue", "green", "red")
    prof = sensor_profile(sensor)
    prof = dataclasses.replace(prof, bands={r: i + 1 for i, r in enumerate(roles)}, scale=1.0, offset=0.0, nodata=None)
    refl_b = refl_b.astype(np.float32)
    refl_a = refl_a.astype(np.float32)
    refl_b[:, :3, :5] = np.nan  # no data on the before date
    win = WindowInput(refl_b, refl_a, np.isfinite(refl_b).all(0) & np.isfinite(refl_a).all(0))
    if sensor in ("sentinel2", "landsat89"):  # product mask: a cloud square on the after date
        win.flagged_before = np.zeros(refl_b.shape[1:], bool)
        win.flagged_after = win.flagged_before.copy()
        win.flagged_after[40:50, 40:50] = True
    return prof, win


def _copy(win):
    return dataclasses.replace(win, before=win.before.copy(), after=win.after.copy())


@pytest.mark.parametrize("sensor", ["gf2", "sentinel2", "landsat89", "drone_rgb"])
def test_numba_kernels_match_numpy(sensor):
    from geodata.raster import _fast
    from geodata.raster.normalize import Normalisation

    if not _fast.HAVE_NUMBA:
        pytest.skip("numba not installed")
    for seed in (0, 1):
        prof, win = _scene_arrays(sensor, seed)
        roles = prof.reflectance_roles
        norm = Normalisation(roles, tuple(1.0 + 0.01 * i for i in range(len(roles))), tuple(0.001 for _ in roles))
        params = WindowParams(prof, norm, pixel_size_m=10.0, haze_block_px=32, sun_after=(150.0, 40.0))
        th = thresholds_from_histograms({}, prof, None)
        a = classify(_copy(win), params, th, use_numba=False)
        b = classify(_copy(win), params, th, use_numba=True)
        assert (a[0] > 0).any()
        for x, y in zip(a, b, strict=True):
            assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f")
        if prof.has_nir:  # the colour test of construction, which needs a scene threshold
            thk = dataclasses.replace(th, construction_colour=0.06)
            ak = classify(_copy(win), params, thk, use_numba=False)
            bk = classify(_copy(win), params, thk, use_numba=True)
            assert not np.array_equal(ak[0], a[0])
            for x, y in zip(ak, bk, strict=True):
                assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f")
        ha, va = sample_histograms(_copy(win), params, use_numba=False)
        hb, vb = sample_histograms(_copy(win), params, use_numba=True)
        assert np.array_equal(va, vb) and ha.keys() == hb.keys()
        assert all(np.array_equal(ha[k], hb[k]) for k in ha)
        assert ("construction_colour" in ha) == prof.has_nir


def test_label_kernels_match_numpy():
    """The clean-up's label sizes and label masks (numba) are numpy's bincount and table lookup."""
    from scipy import ndimage

    from geodata.raster import _fast, cleanup

    if not _fast.HAVE_NUMBA:
        pytest.skip("numba not installed")
    rng = np.random.default_rng(11)
    for shape in [(1, 1), (3, 50), (64, 64), (97, 31)]:
        lab, n = ndimage.label(rng.random(shape) < 0.5, structure=cleanup.FOUR)
        sizes = cleanup.label_sizes(lab, n)
        assert np.array_equal(sizes, np.bincount(lab.ravel(), minlength=n + 1))
        table = sizes < 3
        assert np.array_equal(cleanup.labels_where(table, lab), table[lab])
        assert np.array_equal(cleanup.labels_where(table, lab[:, ::2]), table[lab[:, ::2]])  # a view


def test_normalisation_kernel_gives_numpys_float32_bits():
    """``Normalisation.apply`` (one numba pass) is numpy's multiply-then-add, bit for bit, NaN kept."""
    from geodata.raster.normalize import Normalisation

    rng = np.random.default_rng(4)
    x = rng.random((3, 50, 70)).astype(np.float32)
    x[0, 1, 1] = np.nan
    roles = ("blue", "green", "red")
    norm = Normalisation(roles, (1.013, 1.0, 0.97), (0.0021, -0.003, 0.0))
    got = norm.apply({r: x[i].copy() for i, r in enumerate(roles)})
    for i, r in enumerate(roles):
        g, o = norm.coefficients(r)
        ref = x[i].copy()
        if g != 1.0:
            ref *= np.float32(g)
        if o != 0.0:
            ref += np.float32(o)
        assert np.array_equal(got[r], ref, equal_nan=True), r
