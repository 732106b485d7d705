"""Wave-optical PSF: diffraction MTF, pitch, tilt direction, defocus sign and geometric limit."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.optics import ChannelSpectrum, WavePsf, mono_spectrum, rgb_spectra
from focuslab.optics.dual_pixel import centroid_x, centroid_y
from focuslab.optics.mtf import area_sampled_otf, diffraction_mtf, otf_of_psf
from focuslab.optics.psf_geometric import disk_coverage
from focuslab.optics.psf_wave import plan_grid, quadrature_order, wave_psf
from focuslab.optics.pupil import (
    circular_pupil,
    coc_um_from_w020,
    pupil_coordinates,
    w020_from_coc_um,
    wavefront_um,
)


def _clear_psf(lam, fno, pitch, half, n):
    field = circular_pupil(n)[None].astype(complex)
    return wave_psf(field, wavelength_um=lam, f_number=fno, sample_pitch_um=pitch, half_width=half)[0]


@pytest.mark.parametrize(("pitch", "half"), [(0.5, 40), (1.0, 24)])
def test_diffraction_limited_transfer_function(pitch, half):
    """Kernel spectrum = chiasmus MTF x sample sinc, aliased (cutoff p/(lambda N) = 0.5 and 1
    cy/sample): to 1e-3 from 0.05 cy/sample up (below that the truncated Airy tail counts;
    the kernel is compared unnormalised)."""
    lam, fno = 0.5, 2.0
    k = _clear_psf(lam, fno, pitch, half, 128)
    f = np.linspace(0.05, 0.5, 31)
    truth = area_sampled_otf(lambda g: diffraction_mtf(g, lam, fno, sample_pitch_um=pitch), f)
    np.testing.assert_allclose(otf_of_psf(k, f).real, truth, atol=1e-3)
    np.testing.assert_allclose(otf_of_psf(k, f, axis="y").real, truth, atol=1e-3)


def test_clear_pupil_energy_is_parseval():
    """Unnormalised energy in a large kernel approaches 1 (Airy: 1 - 1/(pi^2 r/(lambda N)) approx)."""
    k = _clear_psf(0.5, 2.0, 0.5, 80, 256)  # half-size 40 lambda N
    assert 0.99 < k.sum() < 1.0
    assert k.max() == k[80, 80]
    np.testing.assert_allclose(k, k[::-1, ::-1], rtol=1e-5, atol=1e-10)  # float32 transforms
    np.testing.assert_allclose(k, k.T, rtol=1e-5, atol=1e-10)


def test_airy_peak_value():
    """The area-sampled peak of a well-sampled Airy pattern: I(0) = pi / (4 (lambda N)^2) per um^2."""
    lam, fno, p = 0.5, 4.0, 0.1  # lambda N = 2 um, 20 samples per lambda N
    k = _clear_psf(lam, fno, p, 6, 64)
    peak = math.pi / (4.0 * (lam * fno) ** 2) * p * p
    assert k[6, 6] == pytest.approx(peak, rel=2e-3)


@pytest.mark.parametrize(("key", "axis"), [("tilt_y", "y"), ("tilt_x", "x")])
def test_positive_tilt_moves_psf_towards_positive_axis(key, axis):
    """+y tilt moves the PSF down the image (rows increasing); centroid = 4 N a (mean slope)."""
    fno, a = 2.0, 0.1
    model = WavePsf(fno, 1.0, spectra=mono_spectrum(0.55), zernike_um={key: a})
    k = model.kernel(0.0)[0]
    cy, cx = centroid_y(k), centroid_x(k)
    along, across = (cy, cx) if axis == "y" else (cx, cy)
    assert along == pytest.approx(4.0 * fno * a, rel=0.02)
    assert abs(across) < 1e-9
    k_neg = WavePsf(fno, 1.0, spectra=mono_spectrum(0.55), zernike_um={key: -a}).kernel(0.0)[0]
    assert (centroid_y(k_neg) if axis == "y" else centroid_x(k_neg)) == pytest.approx(-along, rel=1e-6)


def test_defocus_conversion_round_trip():
    assert w020_from_coc_um(16.0, 2.0) == pytest.approx(1.0)
    assert coc_um_from_w020(w020_from_coc_um(-7.5, 1.8), 1.8) == pytest.approx(-7.5)


@pytest.mark.parametrize("c_px", [30.0, -30.0])
def test_large_defocus_approaches_geometric_pillbox(c_px):
    """Energy inside the geometric blur circle (|c| = 27 lambda N) > 85 %."""
    model = WavePsf(2.0, 1.0, spectra=mono_spectrum(0.55))
    k = model.kernel(c_px)[0]
    h = k.shape[0] // 2
    e = np.arange(-h - 0.5, h + 1.0)
    inside = disk_coverage(e, e, abs(c_px) / 2.0)
    assert (k * inside).sum() > 0.85
    assert (k * inside).sum() == pytest.approx(0.909, abs=0.01)


def test_defocus_sign_matters_with_astigmatism():
    """Pure defocus: PSF(c) = PSF(-c). With 0-degree astigmatism a, W(-c)(y, x) = -W(c)(x, y),
    so PSF(-c) is the transpose of PSF(c): the line focus swaps between x and y."""
    m = WavePsf(2.0, 1.0, spectra=mono_spectrum(0.55))
    # float32 transforms: a few ulps (~1e-7 relative) apart, depending on the FFT's SIMD path
    np.testing.assert_allclose(m.kernel(8.0), m.kernel(-8.0), rtol=1e-6, atol=1e-9)
    astig = WavePsf(2.0, 1.0, spectra=mono_spectrum(0.55), zernike_um={"astigmatism_0": 0.3})
    kp, kn = astig.kernel(8.0)[0], astig.kernel(-8.0)[0]
    np.testing.assert_allclose(kn, kp.T, rtol=1e-5, atol=1e-9)
    x = np.arange(kp.shape[0]) - kp.shape[0] // 2
    var_x, var_y = (kp.sum(axis=0) * x * x).sum(), (kp.sum(axis=1) * x * x).sum()
    assert var_x > 1.5 * var_y  # W = a sqrt6 rho^2 cos 2theta adds defocus along x for c > 0


def test_polychromatic_channels_grow_with_wavelength():
    m = WavePsf(2.0, 0.5, spectra=rgb_spectra())
    k = m.kernel(0.0)
    assert k.shape[0] == 3 and m.channel_names == ("R", "G", "B")
    np.testing.assert_allclose(k.sum(axis=(1, 2)), 1.0, atol=1e-12)
    x = np.arange(k.shape[-1]) - k.shape[-1] // 2
    var = (k.sum(axis=1) * x * x).sum(axis=-1)
    assert var[0] > var[1] > var[2]  # R wider than G wider than B (diffraction ~ lambda)


def test_chromatic_defocus_offset_equals_defocus():
    pitch = 1.0
    lca = (ChannelSpectrum("Y", (0.55,), (1.0,), coc_offset_um=(6.0,)),)
    with_lca = WavePsf(2.0, pitch, spectra=lca).kernel(0.0)
    plain = WavePsf(2.0, pitch, spectra=mono_spectrum(0.55)).kernel(6.0 / pitch)
    np.testing.assert_allclose(with_lca, plain, atol=1e-12)
    spectra = rgb_spectra(lca_coc_um_per_um=50.0, reference_wavelength_um=0.54)
    assert spectra[1].offsets_um()[1] == pytest.approx(0.0)
    assert spectra[0].offsets_um()[1] == pytest.approx(50.0 * (0.61 - 0.54))


def test_pupil_and_wavefront():
    amp = circular_pupil(64)
    assert amp.sum() * (2 / 64) ** 2 == pytest.approx(math.pi, rel=1e-12)
    x, y = pupil_coordinates(4)
    assert x[0, 0] < x[0, -1] and y[0, 0] < y[-1, 0]  # columns = +x, rows = +y
    w = wavefront_um(x, y, zernike_um={"defocus": 0.1}, w020_um=0.5)
    r2 = x * x + y * y
    np.testing.assert_allclose(w, 0.1 * math.sqrt(3) * (2 * r2 - 1) + 0.5 * r2)


def test_quadrature_and_grid_plans():
    assert quadrature_order(0.1, 0.55, 2.0) < quadrature_order(1.0, 0.55, 2.0) < quadrature_order(3, 0.55, 2)
    half, n = plan_grid(1.0, [0.55], 2.0, 0.5)
    assert n % 8 == 0 and n >= 8 * 1.0 / 0.55
    assert 0.55 * 2.0 * n > 2 * half * 0.5  # the grid's alias lies beyond the kernel
    with pytest.raises(InvalidParameterError, match="GeometricPsf"):
        plan_grid(500.0, [0.45], 1.8, 0.25)


@pytest.mark.parametrize(
    ("wl", "wt", "off"),
    [((550.0,), (1.0,), None), ((0.5, 0.6), (1.0,), None), ((0.5,), (-1.0,), None), ((0.5,), (0.0,), None),
     ((0.5,), (1.0,), (1.0, 2.0)), ((float("nan"),), (1.0,), None)],
)  # fmt: skip
def test_bad_channel_spectrum_raises(wl, wt, off):
    with pytest.raises(InvalidParameterError):
        ChannelSpectrum("X", wl, wt, off)
