"""Dead-leaves texture MTF: known blur recovered, noise subtraction, power-law model, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.metrics.noise import radial_average
from focuslab.metrics.texture import crossing_frequency, texture_mtf
from focuslab.scene.textures import dead_leaves, one_over_f_noise

N = 256
SIGMA_PX = 1.0


def _freqs(n):
    return np.fft.fftfreq(n)[:, None], np.fft.fftfreq(n)[None, :]


def _pixel_gaussian_otf(n, sigma_px):
    """2-D transfer of a Gaussian PSF integrated over a square pixel: G(|f|) sinc(fx) sinc(fy)."""
    fy, fx = _freqs(n)
    return np.exp(-2 * np.pi**2 * sigma_px**2 * (fx**2 + fy**2)) * np.sinc(fx) * np.sinc(fy)


def _apply(img, otf):
    return np.fft.ifft2(np.fft.fft2(img) * otf).real


@pytest.fixture(scope="module")
def chart():
    return dead_leaves((N, N), seed=7).astype(np.float64)


@pytest.fixture(scope="module")
def blurred(chart):
    otf = _pixel_gaussian_otf(N, SIGMA_PX)
    # truth for an isotropic texture: the annulus RMS of the 2-D transfer function
    f, h2 = radial_average(otf**2)
    return _apply(chart, otf), f, np.sqrt(h2)


def test_reference_chart_recovers_pixel_integrated_gaussian_mtf(chart, blurred):
    image, f_truth, truth = blurred
    r = texture_mtf(image, reference=chart)
    np.testing.assert_allclose(r.frequencies_cpp, f_truth, atol=1e-12)
    sel = r.frequencies_cpp <= 0.4
    # measured: max |error| 0.002 below 0.4 cy/px (window leakage); tolerance 0.01
    np.testing.assert_allclose(r.mtf[sel], truth[sel], atol=0.01)
    assert r.chart_model == "reference"
    assert r.mtf50_cpp == pytest.approx(crossing_frequency(f_truth, truth, 0.5), abs=0.003)
    assert any("no noise patch" in w for w in r.warnings)


def test_noise_subtraction_recovers_mtf_and_raw_estimate_is_biased_high(chart, blurred):
    image, _, truth = blurred
    rng = np.random.default_rng(11)
    sigma_n = 0.01
    noisy = image + sigma_n * rng.standard_normal(image.shape)
    grey = 0.45 + sigma_n * rng.standard_normal((N, N))
    sub = texture_mtf(noisy, reference=chart, noise_patch=grey)
    raw = texture_mtf(noisy, reference=chart)
    sel = (sub.frequencies_cpp > 0.05) & (sub.frequencies_cpp <= 0.35)
    # measured: max |error| 0.018 up to 0.35 cy/px with subtraction (mean 0.006 above 0.3 cy/px)
    np.testing.assert_allclose(sub.mtf[sel], truth[sel], atol=0.03)
    hi = sel & (sub.frequencies_cpp > 0.3)
    assert np.all(raw.mtf[hi] > truth[hi] + 0.01)  # noise power inflates the raw estimate
    assert np.mean(raw.mtf[hi] - truth[hi]) > 0.03
    assert np.mean(np.abs(sub.mtf[hi] - truth[hi])) < 0.3 * np.mean(raw.mtf[hi] - truth[hi])
    np.testing.assert_allclose(np.mean(sub.psd_noise), sigma_n**2, rtol=0.1)


def test_more_blur_gives_lower_texture_mtf(chart):
    mtf50 = [texture_mtf(_apply(chart, _pixel_gaussian_otf(N, s)), reference=chart).mtf50_cpp for s in (0.6, 1.0, 1.6)]
    assert np.all(np.diff(mtf50) < 0)


def test_power_law_model_on_a_power_law_texture():
    n, sigma = 512, 0.7
    tex = one_over_f_noise((n, n), beta=1.0, mean=0.4, contrast=0.9, seed=4).astype(np.float64)
    fy, fx = _freqs(n)
    blurred = _apply(tex, np.exp(-2 * np.pi**2 * sigma**2 * (fx**2 + fy**2)))
    r = texture_mtf(blurred, chart_exponent=2.0, bin_width_cpp=0.01)
    truth = np.exp(-2 * np.pi**2 * sigma**2 * r.frequencies_cpp**2)
    sel = (r.frequencies_cpp >= 0.05) & (r.frequencies_cpp <= 0.4)
    # one realisation: periodogram scatter of a few % per annulus (measured RMS error 0.027)
    assert np.sqrt(np.mean((r.mtf[sel] - truth[sel]) ** 2)) < 0.05
    assert r.mtf50_cpp == pytest.approx(np.sqrt(np.log(2) / (2 * np.pi**2 * sigma**2)), abs=0.015)
    fitted = texture_mtf(tex, bin_width_cpp=0.005)
    assert fitted.chart_model == "power_law"
    assert fitted.chart_exponent == pytest.approx(2.0, abs=0.2)


def test_rgb_input_uses_luminance_and_float32_stays_float32(chart, blurred):
    image = blurred[0]
    rgb = np.repeat(image[..., None], 3, axis=2).astype(np.float32)
    r32 = texture_mtf(rgb, reference=chart)
    r64 = texture_mtf(image, reference=chart)
    assert r32.mtf.dtype == np.float32 and r64.mtf.dtype == np.float64
    np.testing.assert_allclose(r32.mtf, r64.mtf, atol=1e-4)


def test_exposure_gain_cancels_with_a_reference(chart, blurred):
    image = blurred[0]
    a = texture_mtf(image, reference=chart)
    b = texture_mtf(2.5 * image, reference=chart)
    np.testing.assert_allclose(a.mtf, b.mtf, rtol=1e-9)


def test_determinism_and_input_unchanged(chart, blurred):
    image = blurred[0]
    before = image.copy()
    a = texture_mtf(image, reference=chart)
    b = texture_mtf(image, reference=chart)
    np.testing.assert_array_equal(a.mtf, b.mtf)
    np.testing.assert_array_equal(image, before)
    d = a.to_dict()
    assert set(d) >= {"frequencies_cpp", "mtf", "mtf50_cpp", "acutance", "warnings"}
    assert 0 < d["acutance"] < 1
    assert d["mtf50_lw_ph"] is None
    tall = texture_mtf(image, reference=chart, image_height_px=3000)
    assert tall.mtf50_lw_ph == pytest.approx(2 * 3000 * tall.mtf50_cpp)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_inputs_are_rejected(chart, bad):
    img = chart.copy()
    img[5, 5] = bad
    with pytest.raises(InvalidParameterError, match="NaN or inf"):
        texture_mtf(img)
    with pytest.raises(InvalidParameterError, match="noise_patch contains NaN"):
        texture_mtf(chart, noise_patch=img)


def test_bad_parameters_raise(chart):
    with pytest.raises(InvalidParameterError, match="window"):
        texture_mtf(chart, window="blackman")
    with pytest.raises(InvalidParameterError, match="max_frequency_cpp"):
        texture_mtf(chart, max_frequency_cpp=0.7)
    with pytest.raises(InvalidParameterError, match="fit_range_cpp"):
        texture_mtf(chart, fit_range_cpp=(0.1, 0.05))
    with pytest.raises(InvalidParameterError, match="H x W x 3"):
        texture_mtf(np.ones((32, 32, 2)))
    with pytest.raises(InvalidParameterError, match="flat"):
        texture_mtf(chart, reference=np.full((N, N), 0.5))


def test_noise_above_texture_and_non_dead_leaves_roi_warn(chart, blurred):
    rng = np.random.default_rng(3)
    flat = 0.5 + 0.01 * rng.standard_normal((64, 64))
    with pytest.raises(InvalidParameterError, match="above the noise"):
        texture_mtf(flat, noise_patch=0.5 + 0.02 * rng.standard_normal((64, 64)), fit_range_cpp=(0.02, 0.1))
    drowned = blurred[0] + 0.05 * rng.standard_normal((N, N))
    r = texture_mtf(drowned, reference=chart, noise_patch=0.45 + 0.05 * rng.standard_normal((N, N)))
    assert any("noise power exceeds" in w for w in r.warnings)
    assert np.any(r.mtf == 0.0)
    white = texture_mtf(rng.standard_normal((128, 128)) + 5.0, fit_range_cpp=(0.02, 0.1))
    assert any("exponent" in w for w in white.warnings)
