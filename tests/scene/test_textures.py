"""Textures: determinism, spectral slopes against the models' closed forms, ranges, bad inputs."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.scene.textures import dead_leaves, low_texture, one_over_f_noise


def power_slope(img: np.ndarray, f_lo: float, f_hi: float, *, window: bool) -> float:
    """Log-log slope of the radially averaged power spectrum over [f_lo, f_hi] cycles/px."""
    h, w = img.shape
    x = img.astype(np.float64) - img.mean()
    if window:  # non-periodic textures: Hann window against edge leakage
        x = x * np.outer(np.hanning(h), np.hanning(w))
    power = np.abs(np.fft.fft2(x)) ** 2
    f = np.hypot(np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :])
    edges = np.geomspace(f_lo, f_hi, 13)
    fc = np.sqrt(edges[:-1] * edges[1:])
    pc = [power[(f >= a) & (f < b)].mean() for a, b in itertools.pairwise(edges)]
    return float(np.polyfit(np.log(fc), np.log(pc), 1)[0])


# ---------------------------------------------------------------- dead leaves
def test_dead_leaves_deterministic_and_seed_dependent():
    a = dead_leaves((64, 80), seed=3)
    b = dead_leaves((64, 80), seed=3)
    c = dead_leaves((64, 80), seed=4)
    assert a.dtype == np.float32 and a.shape == (64, 80)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    g = np.random.default_rng(9)
    assert np.array_equal(dead_leaves((32, 32), seed=np.random.default_rng(9)), dead_leaves((32, 32), seed=g))


def test_dead_leaves_levels_and_full_coverage():
    lo, hi = 0.1, 0.7
    img = dead_leaves((96, 128), levels=(lo, hi), seed=1)
    # every sample shows some disk: values stay inside the level range, no sentinel leaks
    assert img.min() >= lo - 1e-6 and img.max() <= hi + 1e-6
    # supersample=1: each pixel is exactly one disk's level, so many exact repeats
    point = dead_leaves((96, 128), levels=(lo, hi), supersample=1, seed=1)
    assert np.unique(point).size < point.size / 4
    # anti-aliasing mixes levels at disk borders: more distinct values than point sampling
    assert np.unique(img).size > 2 * np.unique(point).size


def test_dead_leaves_colour_channels_independent():
    img = dead_leaves((48, 64), color=True, seed=2)
    assert img.shape == (48, 64, 3) and img.dtype == np.float32
    assert not np.array_equal(img[..., 0], img[..., 1])
    # same occlusion geometry in each channel: edges line up (gradients correlate)
    gx = np.diff(img, axis=1)
    nz = [np.abs(gx[..., k]) > 1e-4 for k in range(3)]
    assert (nz[0] == nz[1]).mean() > 0.9


@pytest.mark.parametrize("seed", [0, 1])
def test_dead_leaves_power_spectrum_falls_as_f_minus_2(seed):
    # Lee, Mumford & Huang 2001: r^-3 radii make S(f) ∝ f^-2 between 1/r_max and 1/r_min.
    img = dead_leaves((512, 512), r_min_px=1.0, r_max_px=128.0, seed=seed)
    slope = power_slope(img, 0.02, 0.2, window=True)
    assert slope == pytest.approx(-2.0, abs=0.2)  # measured -1.93 and -1.94


def test_dead_leaves_bad_inputs():
    with pytest.raises(InvalidParameterError):
        dead_leaves((0, 10))
    with pytest.raises(InvalidParameterError):
        dead_leaves((10.5, 10))
    with pytest.raises(InvalidParameterError):
        dead_leaves("big")
    with pytest.raises(InvalidParameterError):
        dead_leaves((16, 16), r_min_px=5.0, r_max_px=2.0)
    with pytest.raises(InvalidParameterError):
        dead_leaves((16, 16), r_min_px=float("nan"))
    with pytest.raises(InvalidParameterError):
        dead_leaves((16, 16), levels=(0.5, 0.2))
    with pytest.raises(InvalidParameterError):
        dead_leaves((16, 16), levels=(float("inf"), 0.2))
    with pytest.raises(InvalidParameterError):
        dead_leaves((16, 16), supersample=0)
    with pytest.raises(InvalidParameterError, match="disks per pass"):
        dead_leaves((16, 16), r_max_px=1e6)  # would need ~10^11 disks: refused, not attempted
    assert dead_leaves((1, 1)).shape == (1, 1)  # default r_max grows to 4 r_min on tiny grids


# ---------------------------------------------------------------- 1/f noise
@pytest.mark.parametrize("beta", [0.0, 0.5, 1.0, 1.5])
def test_one_over_f_power_slope_is_minus_two_beta(beta):
    # amplitude ∝ f^-beta  <=>  power ∝ f^-2beta; the texture is periodic, no window needed
    img = one_over_f_noise((256, 256), beta=beta, seed=5)
    assert power_slope(img, 0.02, 0.45, window=False) == pytest.approx(-2.0 * beta, abs=0.15)


def test_one_over_f_mean_and_peak_contrast_exact():
    img = one_over_f_noise((100, 140), mean=0.25, contrast=0.6, seed=7)
    assert img.dtype == np.float32
    assert float(img.astype(np.float64).mean()) == pytest.approx(0.25, rel=1e-5)
    assert float(np.abs(img.astype(np.float64) - 0.25).max()) == pytest.approx(0.6 * 0.25, rel=1e-5)
    assert img.min() >= 0.25 * (1 - 0.6) - 1e-6


def test_one_over_f_deterministic_and_zero_contrast():
    assert np.array_equal(one_over_f_noise((32, 48), seed=1), one_over_f_noise((32, 48), seed=1))
    assert not np.array_equal(one_over_f_noise((32, 48), seed=1), one_over_f_noise((32, 48), seed=2))
    flat = one_over_f_noise((16, 16), mean=0.3, contrast=0.0)
    assert np.all(flat == np.float32(0.3))


@pytest.mark.parametrize(
    "kwargs",
    [{"beta": -1}, {"beta": float("nan")}, {"mean": 0}, {"mean": float("inf")}, {"contrast": 1.5},
     {"contrast": -0.1}],
)
def test_one_over_f_bad_inputs(kwargs):
    with pytest.raises(InvalidParameterError):
        one_over_f_noise((16, 16), **kwargs)


# ---------------------------------------------------------------- low texture
def test_low_texture_bounds_and_contrast_ordering():
    m, c, s = 0.4, 0.01, 0.15
    img = low_texture((96, 128), mean=m, contrast=c, shading=s, seed=3).astype(np.float64)
    assert img.min() >= m * (1 - s) * (1 - c) - 1e-6
    assert img.max() <= m * (1 + s) * (1 + c) + 1e-6

    def fine_energy(contrast):
        x = low_texture((96, 128), mean=m, contrast=contrast, shading=s, seed=3).astype(np.float64)
        lap = x[1:-1, 1:-1] * 4 - x[:-2, 1:-1] - x[2:, 1:-1] - x[1:-1, :-2] - x[1:-1, 2:]
        return float(np.sqrt(np.mean(lap**2)) / m)

    energies = [fine_energy(k) for k in (0.0, 0.005, 0.01, 0.05)]
    # smooth shading alone has almost no fine detail (measured 1.6e-4 vs 5.2e-3 at 1 %)
    assert energies[0] < 0.05 * energies[2]
    assert all(a < b for a, b in itertools.pairwise(energies))
    # fine detail scales linearly with contrast (shading is common to all)
    assert energies[3] / energies[2] == pytest.approx(5.0, rel=0.05)


def test_low_texture_deterministic_and_bad_inputs():
    assert np.array_equal(low_texture((32, 32), seed=1), low_texture((32, 32), seed=1))
    assert not np.array_equal(low_texture((32, 32), seed=1), low_texture((32, 32), seed=2))
    for kw in ({"contrast": 2.0}, {"shading": 0.95}, {"mean": -1.0}, {"contrast": float("nan")}):
        with pytest.raises(InvalidParameterError):
            low_texture((16, 16), **kw)
