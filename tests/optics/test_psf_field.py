"""Field-dependent PSF: Seidel field curvature, astigmatism orientation, coma direction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.optics import FieldDependentPsf, SeidelAberrations, WavePsf, mono_spectrum
from focuslab.optics.dual_pixel import centroid_x, centroid_y
from focuslab.optics.psf_field import coma_centroid_shift_um

MONO = mono_spectrum(0.55)


def _second_moments(k):
    x = np.arange(k.shape[-1]) - k.shape[-1] // 2
    xx = (k.sum(axis=0) * x * x).sum()
    yy = (k.sum(axis=1) * x * x).sum()
    xy = (k * np.outer(x, x)).sum()
    return xx, yy, xy


def test_seidel_wavefront_terms():
    s = SeidelAberrations(w040_um=0.1, w131_um=0.2, w222_um=0.3, w220_um=0.4)
    x, y = np.array([0.5, 0.0]), np.array([0.0, 0.5])
    np.testing.assert_allclose(s.wavefront_um(x, y, (0, 0)), 0.1 * 0.5**4)  # only spherical on axis
    h = 0.8
    w = s.wavefront_um(0.5, 0.0, (h, 0.0))  # rho along the field direction
    expected = 0.1 * 0.5**4 + 0.2 * h * 0.5**3 + 0.3 * h * h * 0.25 + 0.4 * h * h * 0.25
    assert w == pytest.approx(expected)
    w_perp = s.wavefront_um(0.0, 0.5, (h, 0.0))  # sagittal: no coma, no astigmatism
    assert w_perp == pytest.approx(0.1 * 0.5**4 + 0.4 * h * h * 0.25)


def test_on_axis_equals_wave_psf():
    f = FieldDependentPsf(2.0, 1.0, seidel=SeidelAberrations(w131_um=0.3, w222_um=0.4), spectra=MONO)
    assert f.field_dependent
    np.testing.assert_allclose(f.kernel(5.0), WavePsf(2.0, 1.0, spectra=MONO).kernel(5.0), atol=1e-12)


def test_field_curvature_is_defocus_growing_as_h_squared():
    fno, w220, h = 2.0, 0.5, 0.6
    f = FieldDependentPsf(fno, 1.0, seidel=SeidelAberrations(w220_um=w220), spectra=MONO)
    extra_coc_px = 8 * fno * w220 * h * h  # blur diameter of W020 = W220 h^2, pitch 1 um
    expected = WavePsf(fno, 1.0, spectra=MONO).kernel(extra_coc_px)
    np.testing.assert_allclose(f.kernel(0.0, field_xy=(0.0, h)), expected, rtol=1e-5, atol=1e-9)
    # and it shifts best focus: at c = -extra the corner is sharp again
    np.testing.assert_allclose(
        f.kernel(-extra_coc_px, field_xy=(h, 0.0)), WavePsf(fno, 1.0, spectra=MONO).kernel(0.0), atol=1e-8
    )


def test_astigmatism_is_oriented_by_the_field_angle():
    f = FieldDependentPsf(2.0, 1.0, seidel=SeidelAberrations(w222_um=1.0), spectra=MONO)
    xx, yy, xy = _second_moments(f.kernel(0.0, field_xy=(1.0, 0.0))[0])
    assert xx > 4 * yy and abs(xy) < 1e-6  # field along x: tangential (radial) line
    xx, yy, xy = _second_moments(f.kernel(0.0, field_xy=(0.0, -1.0))[0])
    assert yy > 4 * xx and abs(xy) < 1e-6
    xx, yy, xy = _second_moments(f.kernel(0.0, field_xy=(math.sqrt(0.5), math.sqrt(0.5)))[0])
    assert xx == pytest.approx(yy, rel=1e-5) and xy > 0.5 * xx  # along the diagonal


@pytest.mark.parametrize("field", [(0.7, 0.0), (0.0, -0.7), (-0.5, 0.5)])
def test_coma_points_radially_outwards(field):
    fno, w131 = 2.0, 0.5
    f = FieldDependentPsf(fno, 1.0, seidel=SeidelAberrations(w131_um=w131), spectra=MONO)
    k = f.kernel(0.0, field_xy=field)[0]
    h = math.hypot(*field)
    shift = coma_centroid_shift_um(w131, h, fno)  # um = px here
    assert centroid_x(k) == pytest.approx(shift * field[0] / h, abs=0.03 * shift)
    assert centroid_y(k) == pytest.approx(shift * field[1] / h, abs=0.03 * shift)


def test_mirror_symmetry_across_the_axis():
    f = FieldDependentPsf(2.0, 1.0, seidel=SeidelAberrations(w131_um=0.3, w222_um=0.3), spectra=MONO)
    mirrored = f.kernel(3.0, field_xy=(0.5, 0.0))[:, :, ::-1]
    np.testing.assert_allclose(f.kernel(3.0, field_xy=(-0.5, 0.0)), mirrored, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("bad", [(float("nan"), 0.0), (0.0,), "corner", (0.1, float("inf"))])
def test_bad_field_raises(bad):
    f = FieldDependentPsf(2.0, 1.0, spectra=MONO)
    with pytest.raises(InvalidParameterError):
        f.kernel(1.0, field_xy=bad)


def test_bad_seidel_raises():
    with pytest.raises(InvalidParameterError):
        SeidelAberrations(w131_um=float("nan"))
    with pytest.raises(InvalidParameterError):
        FieldDependentPsf(2.0, 1.0, seidel={"w131_um": 0.1})
