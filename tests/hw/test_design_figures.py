"""Design figures against closed forms: diffraction MTF50 (chiasmus x pixel sinc), the geometric
limit of field curvature, the measured slanted edge, SNR at 10 lux by hand, thin-lens DoF."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from focuslab.hw.design_edge import edge_mtf50_cpp
from focuslab.hw.design_figures import (
    FREQUENCIES_CPP,
    best_focus_w020_um,
    close_focus_dof_m,
    kernel_system_mtf,
    mtf50_cpp,
    optical_figures,
    psf_model,
    snr_at_lux,
    system_mtf,
)
from focuslab.metrics.acutance import acutance
from focuslab.optics import LensSpec, SeidelAberrations, mono_spectrum
from focuslab.sensor.spec import SensorSpec

SETTINGS = {"exposure_s": 1.0 / 30.0, "reflectance": 0.18, "viewing": "print_8x10in", "coc_max_px": 2.0}


def _chiasmus(f, wavelength_um, f_number, pitch_um):
    """Goodman eq. 6-32 in cycles/pixel: nu = f lambda N / p."""
    nu = np.minimum(np.abs(f) * wavelength_um * f_number / pitch_um, 1.0)
    return (2 / np.pi) * (np.arccos(nu) - nu * np.sqrt(1 - nu * nu))


def _sensor(**kw) -> SensorSpec:
    base = dict(name="s", pixel_pitch_um=1.4, width_px=4000, height_px=3000, quantum_efficiency=0.75,
                full_well_e=6000.0, read_noise_e=2.0, dark_current_e_per_s=30.0, prnu_fraction=0.01, dsnu_e=1.0,
                adc_bits=10, black_level_dn=64.0, conversion_gain_dn_per_e=959 / 6000, cfa="RGGB",
                channel_response=(0.8, 0.9, 0.85))
    base.update(kw)
    return SensorSpec(**base)


@pytest.mark.parametrize(("pitch_um", "f_number"), [(1.4, 2.0), (1.0, 2.8), (2.0, 1.6)])
def test_ideal_lens_mtf50_is_chiasmus_times_pixel_sinc(pitch_um, f_number):
    lens = LensSpec(focal_length_mm=4.0, f_number=f_number, name="ideal")
    model = psf_model(lens, SeidelAberrations(), {}, pitch_um, spectra=mono_spectrum(0.55))
    mx, my = system_mtf(model)
    truth_curve = _chiasmus(FREQUENCIES_CPP, 0.55, f_number, pitch_um) * np.abs(np.sinc(FREQUENCIES_CPP))
    truth = brentq(lambda f: _chiasmus(f, 0.55, f_number, pitch_um) * np.sinc(f) - 0.5, 1e-3, 0.6)
    for m in (mx, my):
        assert np.max(np.abs(m - truth_curve)) < 0.004  # pupil autocorrelation: only the edge's sampling
        assert mtf50_cpp(FREQUENCIES_CPP, m) == pytest.approx(truth, rel=0.003)
    kx, _ = kernel_system_mtf(model)  # the PSF-kernel route: its renormalised Airy tail reads ~0.5 % high
    assert np.max(np.abs(kx - truth_curve)) < 0.012 and mtf50_cpp(FREQUENCIES_CPP, kx) > truth
    # the pixel aperture is in: the optics alone would cross 0.5 far higher
    optics_only = brentq(lambda f: _chiasmus(f, 0.55, f_number, pitch_um) - 0.5, 1e-3, 2.0)
    assert optics_only > 1.1 * truth


def test_otf_and_psf_kernel_routes_agree_on_an_aberrated_corner():
    lens = LensSpec(focal_length_mm=4.0, f_number=1.8, name="aberrated")
    model = psf_model(lens, SeidelAberrations(0.05, 0.15, 0.3, 0.2), {}, 1.4)
    for field in ((0.0, 0.0), (1.0, 0.0)):
        for a, b in zip(system_mtf(model, field), kernel_system_mtf(model, field), strict=True):
            assert np.max(np.abs(a - b)) < 0.005


def test_measured_slanted_edge_agrees_with_the_analytic_system_mtf():
    lens = LensSpec(focal_length_mm=4.0, f_number=2.0, name="ideal")
    ideal = psf_model(lens, SeidelAberrations(), {}, 1.4, spectra=mono_spectrum(0.55))
    truth = brentq(lambda f: _chiasmus(f, 0.55, 2.0, 1.4) * np.sinc(f) - 0.5, 1e-3, 0.6)
    assert edge_mtf50_cpp(ideal) == pytest.approx(truth, rel=0.02)
    aberrated = psf_model(lens, SeidelAberrations(0.05, 0.15, 0.3, 0.2), {}, 1.4)
    analytic = mtf50_cpp(FREQUENCIES_CPP, system_mtf(aberrated, (1.0, 0.0))[0])
    assert edge_mtf50_cpp(aberrated, (1.0, 0.0)) == pytest.approx(analytic, rel=0.04)


def test_field_curvature_corner_tends_to_the_geometric_pillbox():
    """W220 = 2 um at f/2: a blur circle c = 8 N W220 = 32 um (14 lambda N) at the corner."""
    from focuslab.optics import pillbox_mtf

    lens = LensSpec(focal_length_mm=4.0, f_number=2.0, name="curved")
    model = psf_model(lens, SeidelAberrations(w220_um=2.0), {}, 1.4, spectra=mono_spectrum(0.55))
    mer, sag = system_mtf(model, (1.0, 0.0))
    c_px = 8 * 2.0 * 2.0 / 1.4
    truth = brentq(lambda f: pillbox_mtf(f, c_px) * np.sinc(f) - 0.5, 1e-3, 0.5)
    assert mtf50_cpp(FREQUENCIES_CPP, mer) == pytest.approx(truth, rel=0.03)
    assert mtf50_cpp(FREQUENCIES_CPP, sag) == pytest.approx(mtf50_cpp(FREQUENCIES_CPP, mer), rel=1e-3)
    centre = mtf50_cpp(FREQUENCIES_CPP, system_mtf(model)[0])
    assert centre > 5 * truth  # curvature leaves the centre sharp


def test_astigmatism_splits_sagittal_and_meridional():
    lens = LensSpec(focal_length_mm=4.0, f_number=2.0, name="astig")
    figs, _ = optical_figures(lens, SeidelAberrations(w222_um=0.5), {}, _sensor(), settings=SETTINGS)
    assert figs["corner_mtf50_meridional_cpp"] < 0.8 * figs["corner_mtf50_sagittal_cpp"]
    assert figs["corner_mtf50_cpp"] == min(figs["corner_mtf50_meridional_cpp"], figs["corner_mtf50_sagittal_cpp"])
    assert figs["corner_mtf50_lp_mm"] == pytest.approx(figs["corner_mtf50_cpp"] * 1000 / 1.4)
    assert figs["corner_mtf50_lw_ph"] == pytest.approx(2 * figs["corner_mtf50_cpp"] * 3000)


def test_snr_at_10_lux_by_hand():
    sensor = _sensor()
    s_e, snr = snr_at_lux(sensor, f_number=2.0, transmission=0.9, exposure_s=1 / 30, reflectance=0.18)
    e_img_lux = 10 * 0.18 * 0.9 / (4 * 2.0**2)  # camera equation, Lambertian grey
    photons = e_img_lux * (1 / 30) * (1.4e-6) ** 2 * 1.40060282064e16 * 0.248812834933  # D65 green band
    signal = 0.75 * 0.9 * photons
    assert s_e == pytest.approx(signal, rel=1e-9)
    assert snr == pytest.approx(signal / math.sqrt(signal + 30.0 / 30 + 2.0**2), rel=1e-9)
    assert 5 < signal < 40  # a plausible handful of electrons at 10 lux, f/2, 1.4 um, 1/30 s
    mono = _sensor(cfa="mono")
    s_mono, _ = snr_at_lux(mono, f_number=2.0, transmission=0.9, exposure_s=1 / 30, reflectance=0.18)
    assert s_mono == pytest.approx(0.75 * photons / 0.248812834933, rel=1e-9)
    # twice the pitch: four times the signal
    s4, _ = snr_at_lux(_sensor(pixel_pitch_um=2.8), f_number=2.0, transmission=0.9, exposure_s=1 / 30)
    assert s4 == pytest.approx(4 * s_e, rel=1e-9)


def test_dof_at_close_focus_solves_the_blur_circle_equation():
    lens = LensSpec(focal_length_mm=4.38, f_number=1.73, min_focus_distance_m=0.10)
    near, far = close_focus_dof_m(lens, 1.4, 2.0)
    f, u_f, c_max = 4.38, 100.0, 2.8e-3  # mm
    s = 1 / (1 / f - 1 / u_f)
    a = f / 1.73
    # c = A s (1/u - 1/u_f) = +-c_max at the limits (DESIGN.md eq.)
    assert 1 / (1 / u_f + c_max / (a * s)) == pytest.approx(near * 1000, rel=1e-9)
    assert 1 / (1 / u_f - c_max / (a * s)) == pytest.approx(far * 1000, rel=1e-9)
    assert 3.0 < (far - near) * 1000 < 8.0  # a few mm at 10 cm: macro


def test_optical_figures_acutance_and_curves():
    lens = LensSpec(focal_length_mm=4.0, f_number=2.0, name="ideal")
    figs, curves = optical_figures(lens, SeidelAberrations(), {}, _sensor(), settings=SETTINGS)
    f = np.asarray(curves["frequencies_cpp"])
    nyq = f <= 0.5
    truth = _chiasmus(f, 0.55, 2.0, 1.4) * np.abs(np.sinc(f))
    # photopic spectrum (centroid near 0.56 um) vs 0.55 um: same acutance within 1 %
    ref = acutance(f[nyq], truth[nyq], "print_8x10in", image_height_px=3000).acutance
    assert figs["acutance"] == pytest.approx(ref, rel=0.01)
    assert figs["centre_mtf50_cpp"] == pytest.approx(figs["corner_mtf50_cpp"], rel=0.01)  # no aberrations
    assert figs["megapixels"] == pytest.approx(12.0)
    assert all(np.isfinite(v) for k, v in figs.items())


def test_best_focus_is_minus_w040_and_cancels_a_zernike_defocus():
    lens = LensSpec(focal_length_mm=4.0, f_number=2.0, name="sph")
    model = psf_model(lens, SeidelAberrations(w040_um=0.15), {}, 1.4)
    assert best_focus_w020_um(model) == pytest.approx(-0.15, rel=2e-3)  # Born & Wolf 9.3
    # Z11 is orthogonal to Z4 and piston: no focus shift; a Zernike defocus a4 is W020 = 2 sqrt(3) a4
    assert best_focus_w020_um(psf_model(lens, SeidelAberrations(), {"spherical": 0.05}, 1.4)) == pytest.approx(
        0.0, abs=2e-4)
    assert best_focus_w020_um(psf_model(lens, SeidelAberrations(), {4: 0.02}, 1.4)) == pytest.approx(
        -0.02 * 2 * math.sqrt(3), rel=2e-3)
    # the added defocus is W020 rho^2 up to piston
    shifted = psf_model(lens, SeidelAberrations(w040_um=0.15), {}, 1.4, defocus_w020_um=-0.15)
    x = np.linspace(-0.7, 0.7, 9)
    diff = shifted.wavefront_um(x, 0 * x) - model.wavefront_um(x, 0 * x)
    assert np.allclose(diff - diff[4], -0.15 * x**2, atol=1e-12)
    best, _ = optical_figures(lens, SeidelAberrations(w040_um=0.15), {}, _sensor(), settings=SETTINGS)
    parax, _ = optical_figures(lens, SeidelAberrations(w040_um=0.15), {}, _sensor(),
                               settings={**SETTINGS, "focus": "paraxial"})
    assert best["focus_w020_um"] == pytest.approx(-0.15, rel=2e-3) and parax["focus_w020_um"] == 0.0
    assert best["focus_shift_um"] == pytest.approx(8 * 2.0**2 * -0.15, rel=2e-3)
    assert best["centre_mtf50_cpp"] > 1.1 * parax["centre_mtf50_cpp"]
