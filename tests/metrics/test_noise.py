"""Patch SNR, two-frame temporal SNR and the noise power spectrum against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.metrics.noise import (
    noise_power_spectrum,
    patch_snr,
    radial_average,
    remove_plane,
    temporal_snr,
)


def test_patch_snr_of_gaussian_noise_matches_mean_over_sigma():
    rng = np.random.default_rng(1)
    patch = 0.5 + 0.01 * rng.standard_normal((256, 256))
    r = patch_snr(patch)
    # std of 65536 samples is within ~0.3 % of sigma (3 standard errors ~ 0.8 %)
    assert r.snr == pytest.approx(50.0, rel=0.01)
    assert r.snr_db == pytest.approx(20 * np.log10(50.0), abs=0.1)
    assert r.snr_db == pytest.approx(20 * np.log10(float(r.mean) / float(r.std)), abs=1e-9)
    assert r.warnings == ()


def test_plane_removal_restores_snr_under_shading():
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[0:128, 0:128]
    shading = 0.4 + 0.001 * xx - 0.0005 * yy  # 0.13 peak-to-peak ramp >> noise
    patch = shading + 0.005 * rng.standard_normal((128, 128))
    raw = patch_snr(patch)
    flat = patch_snr(patch, remove_nonuniformity=True)
    assert float(raw.std) > 5 * 0.005
    assert float(flat.std) == pytest.approx(0.005, rel=0.03)
    assert float(flat.mean) == pytest.approx(float(patch.mean()), abs=1e-12)


def test_remove_plane_is_exact_on_a_plane_and_keeps_the_mean():
    yy, xx = np.mgrid[0:17, 0:23].astype(float)
    plane = 3.0 + 0.2 * xx - 0.7 * yy
    out = remove_plane(plane)
    np.testing.assert_allclose(out, np.full_like(plane, plane.mean()), atol=1e-12)


def test_temporal_snr_separates_temporal_and_fixed_pattern_noise():
    rng = np.random.default_rng(3)
    fpn = 0.004 * rng.standard_normal((256, 256))
    a = 0.3 + fpn + 0.006 * rng.standard_normal((256, 256))
    b = 0.3 + fpn + 0.006 * rng.standard_normal((256, 256))
    r = temporal_snr(a, b)
    assert float(r.std) == pytest.approx(0.006, rel=0.02)
    assert float(r.fixed_pattern_std) == pytest.approx(0.004, rel=0.05)
    assert float(r.snr) == pytest.approx(0.3 / 0.006, rel=0.02)
    # the single-frame spatial noise holds both: sqrt(0.006^2 + 0.004^2)
    assert float(patch_snr(a).std) == pytest.approx(np.hypot(0.006, 0.004), rel=0.02)


def test_rgb_patch_gives_per_channel_results_and_float32_stays_float32():
    rng = np.random.default_rng(4)
    patch = (np.array([0.2, 0.4, 0.8]) + 0.01 * rng.standard_normal((64, 64, 3))).astype(np.float32)
    r = patch_snr(patch)
    assert r.snr.shape == (3,) and r.snr.dtype == np.float32
    assert np.all(np.diff(r.snr) > 0)
    assert patch_snr(patch.astype(np.float64)).snr.dtype == np.float64


def test_nps_parseval_to_1e6_for_white_noise():
    rng = np.random.default_rng(5)
    noise = 0.02 * rng.standard_normal((200, 160))
    r = noise_power_spectrum(noise, remove_nonuniformity=False)
    h, w = r.nps_2d.shape
    integral = float(np.sum(r.nps_2d)) / (h * w)  # du dv = 1 / (H W) cycles^2/pixel^2
    assert integral == pytest.approx(float(np.var(noise)), rel=1e-6)
    assert r.variance == pytest.approx(float(np.var(noise)), rel=1e-12)


def test_white_noise_nps_is_flat_at_sigma_squared():
    rng = np.random.default_rng(6)
    sigma = 0.03
    noise = 0.5 + sigma * rng.standard_normal((512, 512))
    r = noise_power_spectrum(noise, block_px=64, remove_nonuniformity=False)
    assert r.blocks == 64
    # each annulus averages >= ~6 samples x 64 blocks: 8 % is > 3 standard errors
    np.testing.assert_allclose(r.nps, sigma**2, rtol=0.08)
    assert float(np.mean(r.nps)) == pytest.approx(sigma**2, rel=0.01)
    assert r.frequencies_cpp[0] > 0 and r.frequencies_cpp[-1] <= 0.5 + 1e-9
    # plane removal takes out (only) part of the lowest annulus's power
    detrended = noise_power_spectrum(noise, block_px=64)
    np.testing.assert_allclose(detrended.nps[2:], sigma**2, rtol=0.12)
    assert detrended.nps[0] < r.nps[0]


def test_nps_of_blurred_noise_follows_the_filter():
    rng = np.random.default_rng(7)
    n = 256
    white = rng.standard_normal((n, n))
    fy, fx = np.fft.fftfreq(n)[:, None], np.fft.fftfreq(n)[None, :]
    gain = np.exp(-2 * np.pi**2 * 1.0**2 * (fx**2 + fy**2))  # Gaussian sigma = 1 px
    coloured = np.fft.ifft2(np.fft.fft2(white) * gain).real
    r = noise_power_spectrum(coloured, remove_nonuniformity=False, block_px=64)
    expected = np.exp(-4 * np.pi**2 * r.frequencies_cpp**2)  # |gain|^2, sigma_white = 1
    sel = r.frequencies_cpp < 0.3
    np.testing.assert_allclose(r.nps[sel], expected[sel], rtol=0.25, atol=2e-3)


def test_radial_average_of_constant_is_constant():
    f, v = radial_average(np.full((64, 48), 2.5))
    np.testing.assert_allclose(v, 2.5)
    assert np.all(np.diff(f) > 0)


def test_nps_is_deterministic_and_leaves_input_unchanged():
    rng = np.random.default_rng(8)
    patch = rng.standard_normal((64, 64))
    before = patch.copy()
    a, b = noise_power_spectrum(patch), noise_power_spectrum(patch)
    np.testing.assert_array_equal(a.nps_2d, b.nps_2d)
    np.testing.assert_array_equal(patch, before)
    assert set(a.to_dict()) >= {"frequencies_cpp", "nps", "variance", "blocks", "warnings"}


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_rejected(bad):
    patch = np.ones((16, 16))
    patch[3, 4] = bad
    with pytest.raises(InvalidParameterError, match="NaN or inf"):
        patch_snr(patch)
    with pytest.raises(InvalidParameterError, match="NaN or inf"):
        noise_power_spectrum(patch)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(InvalidParameterError, match="at least 8 x 8"):
        patch_snr(np.ones((4, 40)))
    with pytest.raises(InvalidParameterError, match="H x W"):
        patch_snr(np.ones(100))
    with pytest.raises(InvalidParameterError, match="same shape"):
        temporal_snr(np.ones((16, 16)), np.ones((16, 17)))
    with pytest.raises(InvalidParameterError, match="block_px"):
        noise_power_spectrum(np.ones((32, 32)), block_px=64)
    with pytest.raises(InvalidParameterError, match="H x W"):
        noise_power_spectrum(np.ones((32, 32, 3)))
    with pytest.raises(InvalidParameterError, match="window"):
        noise_power_spectrum(np.ones((32, 32)), window="kaiser")
    with pytest.raises(InvalidParameterError, match="numeric"):
        patch_snr(np.array([["a"] * 8] * 8))


def test_degenerate_patches_warn_instead_of_lying():
    flat = patch_snr(np.full((16, 16), 0.5))
    assert np.isinf(flat.snr) and any("zero" in w for w in flat.warnings)
    dark = patch_snr(np.random.default_rng(9).standard_normal((16, 16)) - 5.0)
    assert any("<= 0" in w for w in dark.warnings)
    clipped = np.minimum(0.95 + 0.05 * np.random.default_rng(10).standard_normal((32, 32)), 1.0)
    assert any("clipping" in w for w in patch_snr(clipped).warnings)
    assert patch_snr(np.full((16, 16), 0.5)).to_dict()["snr"] is None  # inf is not JSON
