"""Dual-pixel PSFs: disparity 4c/(3 pi), sign convention, energy, response parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.optics import DualPixelResponse, WavePsf, mono_spectrum
from focuslab.optics.dual_pixel import centroid_x, gaussian_pair, geometric_pair
from focuslab.optics.psf_gaussian import gaussian_kernel
from focuslab.optics.psf_geometric import aperture_kernel


def _disparity(pair):
    left, right = pair
    return float(np.squeeze(centroid_x(right) - centroid_x(left)))


@pytest.mark.parametrize("c", [10.0, 25.5, 40.0, -40.0, 120.0])
def test_geometric_disparity_is_4c_over_3pi(c):
    left, right = geometric_pair(c)
    assert _disparity((left, right)) == pytest.approx(4 * c / (3 * math.pi), rel=0.01)
    if c > 0:  # binding sign convention: object nearer than focus -> left PSF at -x
        assert centroid_x(left) < 0 < centroid_x(right)
    else:
        assert centroid_x(right) < 0 < centroid_x(left)


def test_geometric_disparity_converges_with_blur():
    errs = [abs(_disparity(geometric_pair(c)) / (4 * c / (3 * math.pi)) - 1) for c in (10.0, 40.0, 160.0)]
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < 1e-4


def test_in_focus_zero_disparity_and_equal_halves():
    for pair in (geometric_pair(0.0), gaussian_pair(0.0, 1.0, 0.0, half_width=4)):
        left, right = pair
        assert _disparity(pair) == pytest.approx(0.0, abs=1e-12)
        assert left.sum() == pytest.approx(0.5) and right.sum() == pytest.approx(0.5)


@pytest.mark.parametrize(("c", "blades"), [(17.0, None), (-17.0, None), (21.0, 5), (-21.0, 5), (0.6, None)])
def test_left_plus_right_is_the_whole_psf_for_an_ideal_response(c, blades):
    """L + R is the aperture image: its rows hold the area-sampled kernel's rows (the tent acts
    along x only), its x centroid is the kernel's, and its x variance exceeds the box-sampled
    kernel's by about the tent's extra 1/12 sample^2 (exactly for a smooth image; a disk's
    edges add +-0.03; checked on the disk)."""
    left, right = geometric_pair(c, blades=blades)
    whole = aperture_kernel(c, blades=blades)
    both = left + right
    np.testing.assert_allclose(both.sum(axis=1)[1:-1], whole.sum(axis=1), atol=1e-14)
    assert both.sum() == pytest.approx(1.0, abs=1e-14)
    x = np.arange(both.shape[1]) - both.shape[1] // 2
    xw = np.arange(whole.shape[1]) - whole.shape[1] // 2
    mean_both, mean_whole = float((both.sum(axis=0) * x).sum()), float((whole.sum(axis=0) * xw).sum())
    assert mean_both == pytest.approx(mean_whole, abs=0.01)  # 0 for the disk; the pentagon's own
    if abs(c) > 5 and blades is None:  # a disk of a few samples (box sampling collapses smaller ones)
        var_both = float((both.sum(axis=0) * (x - mean_both) ** 2).sum())
        var_whole = float((whole.sum(axis=0) * (xw - mean_whole) ** 2).sum())
        assert var_both - var_whole == pytest.approx(1 / 12, abs=0.03)
    assert np.all(left >= 0) and np.all(right >= 0)


@pytest.mark.parametrize("c", [0.3, 0.5, 0.8, -0.5, 1.0, 1.6, 2.5])
def test_blur_below_a_sample_keeps_its_disparity(c):
    """The bug this guards: area sampling turned a half-disk pair narrower than a sample into
    two identical deltas (zero disparity for |d| < 1 DoF on phone_main's 2x supersampled
    stream, so no dual-pixel AF could see the sign near focus). Linear splatting keeps the
    centroids: 4c/(3 pi) within 0.01 sample (the 1/16-sample strips)."""
    left, right = geometric_pair(c)
    assert _disparity((left, right)) == pytest.approx(4 * c / (3 * math.pi), abs=0.01)
    assert np.sign(centroid_x(right) - centroid_x(left)) == np.sign(c)


def test_left_and_right_mirror_each_other():
    left, right = geometric_pair(23.0)
    np.testing.assert_allclose(left, right[:, ::-1], atol=1e-15)


def test_crosstalk_scales_disparity_by_one_minus_two_e():
    c, e = 30.0, 0.15
    d0 = _disparity(geometric_pair(c))
    d = _disparity(geometric_pair(c, DualPixelResponse(crosstalk=e)))
    assert d == pytest.approx((1 - 2 * e) * d0, rel=1e-12)


def test_softness_reduces_disparity_monotonically():
    ds = [_disparity(geometric_pair(30.0, DualPixelResponse(split_softness=s))) for s in (0, 0.1, 0.3, 1.0)]
    assert ds[0] > ds[1] > ds[2] > ds[3] > 0


def test_gains_scale_each_side():
    left, right = geometric_pair(20.0, DualPixelResponse(left_gain=0.8, right_gain=0.9))
    assert left.sum() == pytest.approx(0.4) and right.sum() == pytest.approx(0.45)


def test_split_shift_with_field_unbalances_the_halves():
    resp = DualPixelResponse(split_shift_per_field=0.3)
    left, right = geometric_pair(20.0, resp, field_x=1.0)
    assert left.sum() > right.sum()
    left0, right0 = geometric_pair(20.0, resp, field_x=0.0)
    assert left0.sum() == pytest.approx(right0.sum())
    # area of the unit disk left of x0, over pi (segment formula)
    x0 = 0.3
    expected = (math.pi / 2 + x0 * math.sqrt(1 - x0 * x0) + math.asin(x0)) / math.pi
    assert resp.pupil_left_fraction(1.0) == pytest.approx(expected, abs=1e-6)
    assert left.sum() == pytest.approx(expected, abs=1e-3)


def test_ideal_flag():
    assert DualPixelResponse().is_ideal
    assert not DualPixelResponse(crosstalk=0.01).is_ideal


@pytest.mark.parametrize(
    "kwargs",
    [{"crosstalk": 0.5}, {"crosstalk": -0.1}, {"left_gain": 0.0}, {"right_gain": 1.2},
     {"split_softness": -1.0}, {"split_shift_per_field": float("nan")}, {"split_softness": float("inf")}],
)  # fmt: skip
def test_bad_response_raises(kwargs):
    with pytest.raises(InvalidParameterError):
        DualPixelResponse(**kwargs)


def test_gaussian_pair_disparity_and_sum():
    sd = 5.0
    left, right = gaussian_pair(sd, 0.0, 20.0, half_width=20)
    assert _disparity((left, right)) == pytest.approx(2 * sd * math.sqrt(2 / math.pi), rel=2e-3)
    np.testing.assert_allclose(left + right, gaussian_kernel(sd, truncate=20.5 / sd), atol=1e-12)
    left_n, right_n = gaussian_pair(sd, 0.0, -20.0, half_width=20)
    assert _disparity((left_n, right_n)) == pytest.approx(-_disparity((left, right)), rel=1e-9)
    # a centred defocus-free floor blurs both halves but does not move their centroids
    sm = 3.0
    left_f, right_f = gaussian_pair(sd, sm, 20.0, half_width=30)
    assert _disparity((left_f, right_f)) == pytest.approx(2 * sd * math.sqrt(2 / math.pi), rel=2e-3)
    sigma = math.hypot(sd, sm)
    np.testing.assert_allclose(left_f + right_f, gaussian_kernel(sigma, truncate=30.3 / sigma), atol=1e-12)
    # continuity at focus: a tiny defocus gives a tiny disparity
    assert abs(_disparity(gaussian_pair(1e-3, sm, 4e-3, half_width=12))) < 1e-2


@pytest.mark.parametrize("c_px", [10.0, 30.0])
def test_wave_pair_sign_energy_and_geometric_limit(c_px):
    m = WavePsf(2.0, 1.0, spectra=mono_spectrum(0.55))
    left, right = m.kernel_pair(c_px)
    np.testing.assert_allclose(left + right, m.kernel(c_px), atol=1e-12)
    assert left.sum() + right.sum() == pytest.approx(1.0)
    d = _disparity((left, right))
    geo = 4 * c_px / (3 * math.pi)
    # partition model: tends to the geometric disparity for blur >> lambda N (1.1 um here)
    assert d == pytest.approx(geo * {10.0: 0.828, 30.0: 0.939}[c_px], rel=0.01)
    dn = _disparity(m.kernel_pair(-c_px))
    assert dn == pytest.approx(-d, rel=1e-6)


def test_wave_pair_in_focus_and_coherent_halves():
    m = WavePsf(2.0, 1.0, spectra=mono_spectrum(0.55))
    assert _disparity(m.kernel_pair(0.0)) == pytest.approx(0.0, abs=1e-8)
    coh = WavePsf(2.0, 1.0, spectra=mono_spectrum(0.55), coherent_halves=True)
    left, right = coh.kernel_pair(10.0)
    # coherent half-pupils: centroid = mean wavefront slope over each half -> geometric disparity
    assert _disparity((left, right)) == pytest.approx(4 * 10.0 / (3 * math.pi), rel=0.01)
    assert not np.allclose(left + right, coh.kernel(10.0), atol=1e-4)  # interference term missing
