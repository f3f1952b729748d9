"""The steps that make detection hold on real products: normalisation, haze, clouds beyond
the product mask, thin lines, class harmonisation (each on arrays with a known answer)."""

import numpy as np
import pytest

from geodata.raster import cleanup
from geodata.raster.clouds import project_shadows, shadow_direction, shadows_of_clouds
from geodata.raster.haze import correct_haze
from geodata.raster.normalize import fit_normalisation, irmad, major_axis_fit

ROLES = ("blue", "green", "red", "nir", "swir1")


def test_irmad_finds_the_unchanged_pixels_and_the_fit_recovers_gain_and_offset():
    rng = np.random.default_rng(0)
    n = 6000
    base = rng.uniform(0.02, 0.4, (n, 5))
    gain = np.array([1.05, 0.97, 1.10, 0.92, 1.02])
    offset = np.array([0.01, -0.004, 0.006, 0.02, -0.01])
    after = base * gain + offset + rng.normal(0, 0.003, (n, 5))
    changed = rng.random(n) < 0.2  # a fifth of the pixels change a lot, in their own way
    after[changed] = rng.uniform(0.02, 0.5, (changed.sum(), 5))
    prob, rho = irmad(base, after)
    assert prob[~changed].mean() > 5 * prob[changed].mean()
    norm = fit_normalisation(
        {r: base[:, i] for i, r in enumerate(ROLES)}, {r: after[:, i] for i, r in enumerate(ROLES)}
    )
    for i, r in enumerate(ROLES):  # after' = g * after + o puts it back on the before radiometry
        g, o = norm.coefficients(r)
        assert g == pytest.approx(1 / gain[i], rel=0.02) and o == pytest.approx(-offset[i] / gain[i], abs=0.003)
    assert major_axis_fit(np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0])) == pytest.approx((2.0, 1.0))


def test_normalisation_needs_samples():
    few = {r: np.ones(10) for r in ROLES}
    assert fit_normalisation(few, few).is_identity


def _land(h=256, w=256, seed=0):
    rng = np.random.default_rng(seed)
    spectra = np.array([[0.03, 0.06, 0.035, 0.38, 0.17], [0.08, 0.11, 0.14, 0.20, 0.29]], np.float32)
    cover = (rng.random((h // 8, w // 8)) < 0.4).astype(int).repeat(8, 0).repeat(8, 1)
    return {r: spectra[cover, i] + rng.normal(0, 0.004, (h, w)).astype(np.float32) for i, r in enumerate(ROLES)}


def test_haze_is_removed_against_the_local_normal():
    before = _land(seed=1)
    after = {r: v + np.random.default_rng(2).normal(0, 0.004, v.shape).astype(np.float32) for r, v in before.items()}
    shape = np.array([1.0, 0.78, 0.6, 0.32, 0.08], np.float32)
    haze = np.zeros((256, 256), np.float32)
    haze[:, 128:] = 0.04  # the right half of the after date is hazy
    truth_after = {r: v.copy() for r, v in after.items()}
    for i, r in enumerate(ROLES):
        after[r] = after[r] + shape[i] * haze
    res = correct_haze(before, after, np.ones((256, 256), bool), block=64)
    assert res.corrected and res.hazy[:, 160:].all() and not res.hazy[:, :96].any()
    for r in ROLES:  # away from the haze edge, the excess is gone to within the noise
        assert np.abs(after[r][:, 160:] - truth_after[r][:, 160:]).mean() < 0.003
        assert np.array_equal(after[r][:, :64], truth_after[r][:, :64])


def test_block_medians_on_the_sample_grid_equal_the_sorted_medians():
    """The batched per-cell sort (block a multiple of the step) gives the same float32 medians
    as the one sort over (cell, value), for tiles at any origin, with invalid pixels, NaN and
    cells short of samples."""
    from geodata.raster import haze

    rng = np.random.default_rng(11)
    short = 0
    for origin, shape, block, step in (
        ((0, 0), (256, 256), 64, 8),
        ((1040, 2077), (300, 211), 128, 8),
        ((5, 3), (40, 37), 32, 4),
    ):
        a = rng.normal(0, 0.02, shape).astype(np.float32)
        b = rng.normal(0, 0.02, shape).astype(np.float32)
        a[rng.random(shape) < 0.01] = np.nan
        valid = rng.random(shape) > 0.3
        valid[: shape[0] // 3, : shape[1] // 3] = False  # a cell with too few samples
        got, first = haze.block_medians(a, b, valid, origin, block, step)
        r0, c0 = origin
        rs = np.arange(((r0 + step - 1) // step) * step, r0 + shape[0], step) - r0
        cs = np.arange(((c0 + step - 1) // step) * step, c0 + shape[1], step) - c0
        at = np.ix_(rs, cs)
        sub = a[at] - b[at]
        ok = valid[at] & np.isfinite(sub)
        nr, nc = got.shape
        cell = ((rs + r0 - first[0]) // block)[:, None] * nc + ((cs + c0 - first[1]) // block)[None, :]
        ref = haze._medians_sorted(cell[ok], sub[ok], nr * nc).reshape(nr, nc)
        assert np.isfinite(ref).any()
        short += int(np.isnan(ref).sum())
        assert np.array_equal(got, ref, equal_nan=True), origin
    assert short  # some cell had too few samples


def test_haze_leaves_a_local_change_alone():
    before = _land(seed=3)
    after = {r: v.copy() for r, v in before.items()}
    for r, v in zip(ROLES, (0.22, 0.24, 0.26, 0.28, 0.31), strict=True):
        after[r][100:120, 100:120] = v  # a new 20 x 20 px building: brighter, but not haze
    assert not correct_haze(before, after, np.ones((256, 256), bool), block=64).corrected


def test_shadows_are_projected_away_from_the_sun():
    assert shadow_direction(180.0) == pytest.approx((-1.0, 0.0), abs=1e-9)  # sun south: shadow north
    cloud = np.zeros((200, 200), bool)
    cloud[90:110, 90:110] = True
    zone = project_shadows(cloud, 135.0, 45.0, 10.0, min_height_m=200, max_height_m=500)
    rows, cols = np.nonzero(zone & ~cloud)
    # sun in the south-east, 45 degrees: shadows 20-50 px to the north-west
    assert rows.mean() < 90 and cols.mean() < 90 and rows.min() >= 90 - 50 * 0.71 - 2
    this = {r: np.full((200, 200), 0.2, np.float32) for r in ("blue", "nir")}
    other = {r: v.copy() for r, v in this.items()}
    for r in this:
        this[r][60:80, 60:80] *= 0.5  # the cloud's shadow
        this[r][150:170, 150:170] *= 0.5  # a dark patch nowhere near where a shadow can be
    found = shadows_of_clouds(this, other, cloud, (135.0, 45.0), 10.0, ("blue", "nir"))
    assert found[60:80, 60:80].all() and not found[150:170, 150:170].any()


def test_thin_lines_keep_roads_and_drop_slivers():
    m = np.zeros((80, 80), bool)
    for i in range(60):  # a 45-degree road, two pixels per row (1.4 px across)
        m[10 + i, 5 + i : 7 + i] = True
    m[5:75, 78] = True  # a one-pixel sliver along an edge, 70 px long
    lines = cleanup.thin_lines(m, 20)
    assert lines[10:70].any() and not lines[:, 78].any()
    assert cleanup.geodesic_length(m[:, :77]) == pytest.approx(60 * 2**0.5, rel=0.05)
    c = m.astype(np.uint8)
    o = cleanup.open_classes(c, min_length_px=20)
    assert (o[:, :77] > 0).sum() >= m[:, :77].sum() and o[:, 78].max() == 0
    from scipy import ndimage

    assert ndimage.label(o > 0)[1] == 1  # bridged into one 4-connected region


def test_harmonise_gives_a_line_one_class():
    c = np.zeros((10, 60), np.uint8)
    c[4:6, 5:55] = 1
    c[4:6, 10:12] = 2
    c[4:6, 30:33] = 2
    out = cleanup.harmonise_classes(c, 8, min_length_px=20)
    assert set(np.unique(out[4:6, 5:55])) == {1}
    big = np.zeros((40, 40), np.uint8)
    big[5:20, 5:20] = 1
    big[5:20, 20:35] = 2  # two large adjacent changes keep their own classes
    assert np.array_equal(cleanup.harmonise_classes(big, 8, min_length_px=20), big)
