"""e-SFR against exact synthetic edges (Gaussian / pillbox PSF integrated over square pixels).

Truth: ``MTF_psf(f) sinc(f cos) sinc(f sin)`` along the edge normal
(focuslab.metrics.sfr.synthetic). Tolerances: 0.004 absolute below Nyquist and 0.6 % on MTF50
noise-free (measured: <= 0.0036 and <= 0.51 % over 2-43 deg); at 30 dB SNR on a 256 x 128 ROI
0.045 below 0.3 cy/px and 4 % on MTF50 (the noise of the data).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from focuslab.metrics.sfr import measure_sfr
from focuslab.metrics.sfr.synthetic import slanted_edge, system_mtf


def true_mtf50(psf: str, size: float, angle: float) -> float:
    return brentq(lambda f: float(system_mtf(np.array([f]), psf=psf, size_px=size, angle_deg=angle)[0]) - 0.5,
                  1e-4, 0.99, xtol=1e-12)


@pytest.mark.parametrize("angle", [2.0, 5.0, 11.0, 23.0, 35.0, 43.0])
@pytest.mark.parametrize(("psf", "size"), [("gaussian", 0.5), ("gaussian", 1.2), ("gaussian", 2.2), ("pillbox", 3.0)])
def test_sfr_matches_system_mtf(angle, psf, size):
    img = slanted_edge((128, 128), angle_deg=angle, psf=psf, size_px=size)
    r = measure_sfr(img)
    truth = np.abs(system_mtf(r.frequencies_cpp, psf=psf, size_px=size, angle_deg=angle))
    below = r.frequencies_cpp <= 0.5
    assert np.max(np.abs(r.sfr[below] - truth[below])) < 0.004
    assert r.mtf50_cpp == pytest.approx(true_mtf50(psf, size, angle), rel=0.006)
    assert r.angle_deg == pytest.approx(angle, abs=0.01 if angle < 40 else 0.05)  # near 45 deg the edge meets the sides
    assert r.orientation == "vertical"


@pytest.mark.parametrize("angle", [4.0, 25.0])
def test_diffraction_limited_edge(angle):
    """Airy PSF (lambda N = 1.5 px): its LSF tails fall as 1/s^2, so a finite ROI loses tail mass
    and the e-SFR reads high at low frequency by about 1 / ROI width; the bias halves when the
    ROI doubles (measured 0.0086 at 128 px, 0.0022 at 512 px)."""
    lam_n = 1.5
    errs = []
    for cols in (128, 256, 512):
        r = measure_sfr(slanted_edge((96, cols), angle_deg=angle, psf="diffraction", size_px=lam_n))
        truth = system_mtf(r.frequencies_cpp, psf="diffraction", size_px=lam_n, angle_deg=angle)
        below = r.frequencies_cpp <= 0.5
        errs.append(np.max(np.abs(r.sfr[below] - truth[below])))
    assert errs[2] < 0.003
    assert errs[1] == pytest.approx(errs[0] / 2, rel=0.15)
    assert errs[2] == pytest.approx(errs[1] / 2, rel=0.15)
    assert r.mtf50_cpp == pytest.approx(true_mtf50("diffraction", lam_n, angle), rel=0.003)


@pytest.mark.parametrize("angle", [1.0, -1.0, 44.0, -44.0])
def test_extreme_angles(angle):
    img = slanted_edge((128, 128), angle_deg=angle, size_px=1.0)
    r = measure_sfr(img)
    truth = system_mtf(r.frequencies_cpp, psf="gaussian", size_px=1.0, angle_deg=angle)
    below = r.frequencies_cpp <= 0.5
    assert np.max(np.abs(r.sfr[below] - truth[below])) < 0.002
    assert r.mtf50_cpp == pytest.approx(true_mtf50("gaussian", 1.0, angle), rel=0.002)
    assert r.angle_deg == pytest.approx(angle, abs=0.01)
    if abs(angle) > 40:
        assert any("near 45 deg" in w for w in r.warnings)
    else:
        assert r.warnings == ()


def test_iso_settings_without_bin_correction_are_low_by_the_bin_box():
    img = slanted_edge((128, 128), angle_deg=5.0, size_px=0.6)
    on = measure_sfr(img)
    off = measure_sfr(img, bin_correction=False)
    k_over_n = on.frequencies_cpp * on.esf_spacing_px
    np.testing.assert_allclose(off.sfr, on.sfr * np.sinc(k_over_n), rtol=1e-12)


@pytest.mark.parametrize("lsf_window_px", [None, "auto"])
@pytest.mark.parametrize("seed", [0, 1])
def test_noisy_edge_30db(seed, lsf_window_px):
    # noise floor at 30 dB: sigma(SFR) ~ 0.04 near Nyquist on 256 x 128 px (ISO window)
    rng = np.random.default_rng(seed)
    img = slanted_edge((256, 128), angle_deg=6.0, size_px=1.0, snr_db=30.0, rng=rng)
    r = measure_sfr(img, lsf_window_px=lsf_window_px)
    truth = system_mtf(r.frequencies_cpp, psf="gaussian", size_px=1.0, angle_deg=6.0)
    low = r.frequencies_cpp <= 0.3
    assert np.max(np.abs(r.sfr[low] - truth[low])) < 0.045
    assert r.mtf50_cpp == pytest.approx(true_mtf50("gaussian", 1.0, 6.0), rel=0.04)
    assert r.snr_db == pytest.approx(30.0, abs=1.5)
    assert not any("noisy" in w for w in r.warnings)
    r10 = measure_sfr(slanted_edge((256, 128), angle_deg=6.0, size_px=1.0, snr_db=17.0, rng=rng))
    assert any("noisy" in w for w in r10.warnings)


def test_auto_lsf_window_removes_the_window_bias_of_a_wide_lsf():
    img = slanted_edge((128, 128), angle_deg=6.0, size_px=2.2)
    truth = true_mtf50("gaussian", 2.2, 6.0)
    iso = measure_sfr(img).mtf50_cpp / truth - 1
    auto = measure_sfr(img, lsf_window_px="auto").mtf50_cpp / truth - 1
    assert 0.001 < iso < 0.005  # the Hann window over the record narrows a wide LSF (+0.3 %)
    assert abs(auto) < 2e-4


def test_more_blur_lowers_mtf50():
    sizes = (0.5, 0.8, 1.2, 1.8, 2.5)
    values = [measure_sfr(slanted_edge((96, 96), angle_deg=5.0, size_px=s)).mtf50_cpp for s in sizes]
    assert np.all(np.diff(values) < 0)
    rises = [measure_sfr(slanted_edge((96, 96), angle_deg=5.0, size_px=s)).rise_10_90_px for s in (0.8, 1.6)]
    assert rises[1] > rises[0]


def test_polarity_mirror_and_transpose_give_the_same_sfr():
    img = slanted_edge((120, 100), angle_deg=7.0, size_px=1.0)
    ref = measure_sfr(img)
    for variant, sign in ((img[:, ::-1], -1), (img[::-1, :], -1), (img.T, 1), (img.T[::-1, :], -1), (1.0 - img, 1)):
        r = measure_sfr(variant)
        np.testing.assert_allclose(r.sfr, ref.sfr, atol=2e-3)
        assert r.mtf50_cpp == pytest.approx(ref.mtf50_cpp, rel=2e-3)
        assert r.angle_deg == pytest.approx(sign * ref.angle_deg, abs=0.02)
    assert measure_sfr(img.T).orientation == "horizontal"


def test_gaussian_rise_matches_closed_form():
    sigma = 2.0
    r = measure_sfr(slanted_edge((128, 128), angle_deg=4.0, size_px=sigma))
    # ESF = Gaussian (x) pixel box; the 10-90 % width of a Gaussian is 2.563 sigma_total
    sigma_total = np.sqrt(sigma**2 + 1.0 / 12.0)
    assert r.rise_10_90_px == pytest.approx(2.5631 * sigma_total, rel=0.01)


def test_edge_centroid_and_contrast():
    img = slanted_edge((100, 120), angle_deg=5.0, size_px=1.0, offset_px=3.0, dark=0.2, light=0.6)
    r = measure_sfr(img, roi=(10, 5, 100, 90))
    th = np.radians(5.0)
    # centre of the edge at the ROI's middle row (image y = 5 + 44.5)
    y_mid = 5 + 44.5
    x_expected = 59.5 + (3.0 + (y_mid - 49.5) * np.sin(th)) / np.cos(th)
    assert r.edge_centroid_xy[0] == pytest.approx(x_expected, abs=0.02)
    assert r.edge_centroid_xy[1] == pytest.approx(y_mid)
    assert r.contrast == pytest.approx(0.4 / 0.8, abs=2e-3)
    assert (r.dark_level, r.light_level) == pytest.approx((0.2, 0.6), abs=2e-3)


def test_deterministic_float32_and_uint16_inputs_agree():
    img = slanted_edge((96, 96), angle_deg=5.0, size_px=1.0)
    a = measure_sfr(img)
    b = measure_sfr(img)
    np.testing.assert_array_equal(a.sfr, b.sfr)
    c = measure_sfr(img.astype(np.float32))
    np.testing.assert_allclose(c.sfr, a.sfr, atol=1e-4)
    d = measure_sfr(np.round(img * 65535).astype(np.uint16))
    np.testing.assert_allclose(d.sfr, a.sfr, atol=2e-3)
    before = img.copy()
    measure_sfr(img)
    np.testing.assert_array_equal(img, before)


def test_rgb_channels_and_luminance():
    sharp = slanted_edge((96, 96), angle_deg=5.0, size_px=0.7)
    soft = slanted_edge((96, 96), angle_deg=5.0, size_px=1.5)
    rgb = np.stack([soft, sharp, sharp], axis=-1)
    r = measure_sfr(rgb, channel="R")
    assert set(r.channels) == {"R", "G", "B", "luminance"}
    np.testing.assert_allclose(r.sfr, r.channels["R"])
    assert r.mtf50_cpp == pytest.approx(measure_sfr(soft).mtf50_cpp, rel=1e-6)
    g = measure_sfr(rgb, channel="G")
    assert g.mtf50_cpp > r.mtf50_cpp
    lum = measure_sfr(rgb)
    assert r.mtf50_cpp < lum.mtf50_cpp < g.mtf50_cpp


def test_hamming_and_linear_fit_options_agree_on_a_clean_edge():
    img = slanted_edge((128, 128), angle_deg=5.0, size_px=1.0)
    a = measure_sfr(img)
    b = measure_sfr(img, window="hamming", poly_order=1)
    assert b.mtf50_cpp == pytest.approx(a.mtf50_cpp, rel=3e-3)
    assert b.window == "hamming" and b.poly_order == 1


def test_to_dict_is_json():
    import json

    r = measure_sfr(slanted_edge((64, 64), angle_deg=5.0, size_px=1.0))
    d = json.loads(json.dumps(r.to_dict()))
    for key in ("mtf50_cpp", "mtf50p_cpp", "mtf10_cpp", "sfr_nyquist", "angle_deg", "frequencies_cpp", "sfr",
                "warnings"):
        assert key in d
    assert len(d["sfr"]) == len(d["frequencies_cpp"])
