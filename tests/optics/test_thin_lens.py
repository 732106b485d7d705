"""Thin-lens focus geometry (focuslab.optics.focus) against formulas derived independently here.

The blur circle is recomputed from similar triangles: the image of an object at u forms at
v = 1 / (1/f - 1/u); a cone of base A converging to v crosses the sensor at s with diameter
A (v - s) / v (positive when v > s, i.e. the object is nearer than the focus plane).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.errors import FocuslabError, InvalidParameterError
from focuslab.optics import (
    LensSpec,
    coc_diameter_px,
    coc_diameter_um,
    coc_max_um,
    coc_per_diopter_um,
    depth_of_field_m,
    focus_distance_from_displacement_m,
    focus_distance_m,
    focus_error_dof,
    hyperfocal_distance_m,
    lens_displacement_um,
    magnification,
    sensor_distance_mm,
)

LENS = LensSpec(focal_length_mm=5.0, f_number=1.8, min_focus_distance_m=0.08)


def _image_distance_mm(f_mm, u_m):
    return 1.0 / (1.0 / f_mm - 1.0 / (u_m * 1000.0)) if math.isfinite(u_m) else f_mm


def _coc_similar_triangles_um(lens, u_m, s_mm):
    v = _image_distance_mm(lens.focal_length_mm, u_m)
    return 1000.0 * (lens.focal_length_mm / lens.f_number) * (v - s_mm) / v


@pytest.mark.parametrize("focus_m", [0.1, 0.3, 1.0, 2.5, math.inf])
@pytest.mark.parametrize("object_m", [0.08, 0.2, 0.5, 1.0, 3.0, 100.0, math.inf])
def test_coc_matches_similar_triangles(focus_m, object_m):
    s = sensor_distance_mm(LENS.focal_length_mm, focus_m)
    expected = _coc_similar_triangles_um(LENS, object_m, s)
    assert coc_diameter_um(LENS, object_m, s) == pytest.approx(expected, rel=1e-10, abs=1e-9)


def test_coc_sign_and_zero_in_focus():
    s = sensor_distance_mm(LENS.focal_length_mm, 0.5)
    assert coc_diameter_um(LENS, 0.3, s) > 0  # nearer than focus: positive
    assert coc_diameter_um(LENS, 2.0, s) < 0  # farther: negative
    assert coc_diameter_um(LENS, 0.5, s) == pytest.approx(0.0, abs=1e-9)


def test_coc_is_linear_in_diopters_with_slope_a_s():
    s = sensor_distance_mm(LENS.focal_length_mm, 0.5)
    u = np.array([0.1, 0.2, 0.4, 1.0, 10.0])
    c = coc_diameter_um(LENS, u, s)
    slope = np.diff(c) / np.diff(1.0 / u)  # um per diopter
    np.testing.assert_allclose(slope, coc_per_diopter_um(LENS, s), rtol=1e-10)
    # c_um = 1000 A_mm s_mm / u_mm = A_mm s_mm / u_m: the slope is A s numerically (mm^2 -> um m)
    assert coc_per_diopter_um(LENS, s) == pytest.approx(LENS.aperture_diameter_mm * s, rel=1e-12)


def test_coc_in_pixels():
    s = sensor_distance_mm(LENS.focal_length_mm, 1.0)
    assert coc_diameter_px(LENS, 0.2, s, 1.4) == pytest.approx(coc_diameter_um(LENS, 0.2, s) / 1.4)


@pytest.mark.parametrize("u_m", [0.06, 0.1, 0.5, 3.0, 1e4])
def test_sensor_focus_distance_round_trip(u_m):
    s = sensor_distance_mm(LENS.focal_length_mm, u_m)
    assert s == pytest.approx(_image_distance_mm(LENS.focal_length_mm, u_m), rel=1e-12)
    assert focus_distance_m(LENS.focal_length_mm, s) == pytest.approx(u_m, rel=1e-9)
    d = lens_displacement_um(LENS.focal_length_mm, u_m)
    assert d == pytest.approx((s - LENS.focal_length_mm) * 1000.0, rel=1e-12)
    assert focus_distance_from_displacement_m(LENS.focal_length_mm, d) == pytest.approx(u_m, rel=1e-9)


def test_infinity_focus():
    assert sensor_distance_mm(5.0, math.inf) == pytest.approx(5.0)
    assert math.isinf(focus_distance_m(5.0, 5.0))
    assert lens_displacement_um(5.0, math.inf) == pytest.approx(0.0)


def test_hyperfocal_and_depth_of_field_limits():
    cmax = coc_max_um(1.0)  # 2 pixel pitches
    assert cmax == pytest.approx(2.0)
    f = LENS.focal_length_mm
    h_mm = f * f / (LENS.f_number * cmax / 1000.0) + f
    assert hyperfocal_distance_m(LENS, cmax) == pytest.approx(h_mm / 1000.0, rel=1e-12)
    # focused at H, the far limit is infinity and the near limit H / 2 (exact thin lens)
    near, far = depth_of_field_m(LENS, h_mm / 1000.0, cmax)
    assert math.isinf(far)
    assert near == pytest.approx(h_mm / 2000.0, rel=1e-9)
    # elsewhere, the limits are where |c| = c_max, solved here from c(1/u) being linear
    for uf in (0.15, 0.4, 1.0):
        s = sensor_distance_mm(f, uf)
        a_s = LENS.aperture_diameter_mm * s  # um of blur per diopter
        near_expected = 1.0 / (1.0 / uf + cmax / a_s)
        far_inv = 1.0 / uf - cmax / a_s
        near, far = depth_of_field_m(LENS, uf, cmax)
        assert near == pytest.approx(near_expected, rel=1e-9)
        assert far == pytest.approx(1.0 / far_inv, rel=1e-9)
        assert abs(coc_diameter_um(LENS, near, s)) == pytest.approx(cmax, rel=1e-9)
        assert abs(coc_diameter_um(LENS, far, s)) == pytest.approx(cmax, rel=1e-9)


def test_focus_error_and_magnification():
    assert focus_error_dof(-3.0, 2.0) == pytest.approx(1.5)
    s = sensor_distance_mm(5.0, 0.5)
    assert magnification(LENS, 0.5, s) == pytest.approx(s / 500.0)
    assert magnification(LENS, math.inf, s) == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"focal_length_mm": -5.0, "f_number": 2.0},
        {"focal_length_mm": 0.0, "f_number": 2.0},
        {"focal_length_mm": 5.0, "f_number": 0.49},
        {"focal_length_mm": float("nan"), "f_number": 2.0},
        {"focal_length_mm": 5.0, "f_number": float("inf")},
        {"focal_length_mm": 5.0, "f_number": 2.0, "min_focus_distance_m": 0.004},
        {"focal_length_mm": 5.0, "f_number": 2.0, "aperture_blades": 2},
    ],
)
def test_bad_lens_raises(kwargs):
    with pytest.raises(InvalidParameterError):
        LensSpec(**kwargs)


def test_bad_distances_raise():
    s = sensor_distance_mm(5.0, 1.0)
    with pytest.raises(InvalidParameterError):
        coc_diameter_um(LENS, 0.004, s)  # object nearer than the focal length
    with pytest.raises(InvalidParameterError):
        coc_diameter_um(LENS, float("nan"), s)
    with pytest.raises(InvalidParameterError):
        sensor_distance_mm(5.0, 0.003)
    with pytest.raises(InvalidParameterError):
        focus_distance_m(5.0, 4.9)  # sensor closer than f
    with pytest.raises(FocuslabError):
        focus_distance_m(5.0, float("nan"))
