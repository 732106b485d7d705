"""Photometry: the camera equation and the D65 photon constant."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError, UnknownNameError
from focuslab.sensor import (
    BAND_FRACTIONS,
    PHOTONS_PER_LUX_S_M2,
    derive_photon_constants,
    image_plane_illuminance_lux,
    photons_per_pixel,
)

H = 6.62607015e-34
C = 299792458.0


def test_constant_recomputed_from_colour_science():
    const, fractions = derive_photon_constants("D65")
    assert const == pytest.approx(PHOTONS_PER_LUX_S_M2, rel=1e-9)
    assert fractions == pytest.approx(BAND_FRACTIONS, rel=1e-9)
    assert sum(fractions) == pytest.approx(1.0, abs=1e-12)


def test_constant_brackets_monochromatic_555nm():
    # 1 lx of 555 nm light is 1/683 W/m^2 = 4.09e15 photons/s/m^2; a broadband white needs
    # more photons per lux because V < 1 away from 555 nm
    mono = (1.0 / 683.0) / (H * C / 555e-9)
    assert mono == pytest.approx(4.09e15, rel=2e-3)
    assert 2.0 * mono < PHOTONS_PER_LUX_S_M2 < 5.0 * mono


def test_illuminant_a_is_redder():
    _, frac_a = derive_photon_constants("A")
    assert frac_a[0] > BAND_FRACTIONS[0] and frac_a[2] < BAND_FRACTIONS[2]
    with pytest.raises(UnknownNameError, match="D65"):
        derive_photon_constants("D99")


def test_camera_equation_closed_form():
    # E_img = E_v T / (4 N^2 (1 + m)^2)
    assert image_plane_illuminance_lux(1000.0, f_number=2.0, transmission=0.9) == pytest.approx(56.25)
    assert image_plane_illuminance_lux(1000.0, f_number=2.0, magnification=1.0) == pytest.approx(15.625)
    # white diffuser, 100 lx, f/2, 1.4 um, 10 ms: 6.25 lx * 0.01 s * 1.96e-12 m^2 * N_D65
    ph = photons_per_pixel(
        np.ones((2, 3, 1)), illuminance_lux=100.0, f_number=2.0, pixel_pitch_um=1.4, exposure_s=0.01
    )
    expected = 6.25 * 0.01 * (1.4e-6) ** 2 * PHOTONS_PER_LUX_S_M2
    assert expected == pytest.approx(1716.0, rel=1e-3)
    np.testing.assert_allclose(ph, expected, rtol=1e-12)


def test_scaling_laws_and_band_split():
    kw = dict(illuminance_lux=50.0, f_number=1.8, pixel_pitch_um=1.0, exposure_s=0.02)
    r = np.full((4, 4, 3), 0.5)
    base = photons_per_pixel(r, **kw)
    np.testing.assert_allclose(base.sum(axis=2), photons_per_pixel(r[..., :1], **kw)[..., 0], rtol=1e-12)
    np.testing.assert_allclose(base[0, 0] / base[0, 0].sum(), BAND_FRACTIONS, rtol=1e-12)
    np.testing.assert_allclose(photons_per_pixel(r, **{**kw, "f_number": 3.6}), base / 4, rtol=1e-12)
    np.testing.assert_allclose(photons_per_pixel(r, **{**kw, "exposure_s": 0.04}), base * 2, rtol=1e-12)
    np.testing.assert_allclose(photons_per_pixel(r, **{**kw, "pixel_pitch_um": 2.0}), base * 4, rtol=1e-12)
    np.testing.assert_allclose(photons_per_pixel(r, **kw, field_angle_deg=60.0), base / 16, rtol=1e-12)
    angles = np.zeros((4, 4))
    angles[0, 0] = 60.0
    off = photons_per_pixel(r, **kw, field_angle_deg=angles)
    np.testing.assert_allclose(off[0, 0], base[0, 0] / 16, rtol=1e-12)
    np.testing.assert_allclose(off[1:], base[1:], rtol=1e-12)
    assert np.all(photons_per_pixel(r, **{**kw, "exposure_s": 0.0}) == 0)


def test_round_off_negatives_clip_to_zero():
    r = np.ones((2, 2, 1))
    r[0, 0, 0] = -1e-9  # FFT convolution round-off
    out = photons_per_pixel(r, illuminance_lux=10.0, f_number=2.0, pixel_pitch_um=1.4, exposure_s=0.01)
    assert out[0, 0, 0] == 0.0 and out[1, 1, 0] > 0


def test_dtype_and_shape_preserved():
    r32 = np.ones((3, 5), np.float32)
    out = photons_per_pixel(r32, illuminance_lux=10.0, f_number=2.0, pixel_pitch_um=1.4, exposure_s=0.01)
    assert out.dtype == np.float32 and out.shape == (3, 5)
    assert r32.sum() == 15  # input untouched


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, -0.1])
def test_bad_irradiance_values(bad):
    r = np.ones((3, 3, 3))
    r[1, 1, 1] = bad
    with pytest.raises(InvalidParameterError):
        photons_per_pixel(r, illuminance_lux=10.0, f_number=2.0, pixel_pitch_um=1.4, exposure_s=0.01)


@pytest.mark.parametrize(
    "kw",
    [
        {"illuminance_lux": -1.0},
        {"illuminance_lux": np.nan},
        {"f_number": 0.0},
        {"pixel_pitch_um": -1.0},
        {"exposure_s": -0.01},
        {"transmission": 1.5},
        {"transmission": 0.0},
        {"magnification": -0.5},
        {"field_angle_deg": 90.0},
        {"field_angle_deg": np.zeros((2, 2))},
    ],
)
def test_bad_parameters(kw):
    args = dict(illuminance_lux=10.0, f_number=2.0, pixel_pitch_um=1.4, exposure_s=0.01)
    args.update(kw)
    with pytest.raises(InvalidParameterError):
        photons_per_pixel(np.ones((3, 3, 3)), **args)


@pytest.mark.parametrize("shape", [(3,), (3, 3, 2), (3, 3, 3, 1)])
def test_bad_shapes(shape):
    with pytest.raises(InvalidParameterError, match="shape"):
        photons_per_pixel(
            np.ones(shape), illuminance_lux=10.0, f_number=2.0, pixel_pitch_um=1.4, exposure_s=0.01
        )
