"""The simulated camera module: geometry of tilt / decenter / back focus, chart, PSF, capture."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.camera.presets import get_camera
from focuslab.errors import InvalidParameterError, UnknownNameError
from focuslab.hw.module_chart import chart_squares, square_coverage
from focuslab.hw.module_model import ModuleBuild, ModuleDesign
from focuslab.hw.module_psf import astigmatic_gaussian_kernel
from focuslab.hw.module_render import capture_frame, optical_image, through_focus_positions_um
from focuslab.optics.focus import coc_diameter_um, lens_displacement_um
from focuslab.optics.psf_field import SeidelAberrations


@pytest.fixture(scope="module")
def design() -> ModuleDesign:
    return ModuleDesign.from_camera(get_camera("phone_main"))


def test_design_geometry_matches_thin_lens(design):
    assert design.pixel_pitch_um == pytest.approx(4032 * 1.4 / 640)
    assert design.nominal_lens_um == pytest.approx(lens_displacement_um(4.38, 0.3))
    # the module's blur formula is the house thin-lens equation (where both apply)
    s_mm = 4.38 + (design.nominal_lens_um + 20.0) / 1000.0
    want = coc_diameter_um(design.lens, 0.3, s_mm) / design.pixel_pitch_um
    assert float(design.coc_px(ModuleBuild(), design.nominal_lens_um + 20.0, 0.0, 0.0)) == pytest.approx(want, rel=1e-9)
    assert float(design.coc_px(ModuleBuild(), design.nominal_lens_um, 0.0, 0.0)) == pytest.approx(0.0, abs=1e-9)


def test_tilt_is_linear_and_back_focus_uniform():
    d = ModuleDesign.from_camera(get_camera("phone_main"), seidel=SeidelAberrations(), decenter_tilt_deg_per_mm=0.0)
    b = ModuleBuild(tilt_x_deg=0.4, tilt_y_deg=-0.25, back_focus_um=7.0)
    x = np.array([-2.0, 0.0, 2.0])
    z = d.best_focus_lens_um(b, x, np.zeros(3), "sagittal")
    # best focus falls by tan(t) * x (um per um) across the field, and b shifts every zone
    assert z[2] - z[0] == pytest.approx(-4000.0 * math.tan(math.radians(0.4)), rel=1e-12)
    assert z[1] == pytest.approx(d.nominal_lens_um - 7.0, abs=1e-9)
    zy = d.best_focus_lens_um(b, 0.0, 1.5, "meridional")
    assert float(zy) - z[1] == pytest.approx(-1500.0 * math.tan(math.radians(-0.25)), rel=1e-12)


def test_best_focus_is_where_each_fan_is_sharp(design):
    b = ModuleBuild(tilt_x_deg=0.2, decenter_x_um=150.0, decenter_y_um=-90.0, extra_field_curvature_um=5.0)
    for x, y in ((2.5, 1.8), (-1.0, 0.7), (0.15, -0.09)):
        zm = float(design.best_focus_lens_um(b, x, y, "meridional"))
        zs = float(design.best_focus_lens_um(b, x, y, "sagittal"))
        assert float(design.fan_blur_px(b, zm, x, y)[0]) == pytest.approx(0.0, abs=1e-9)
        assert float(design.fan_blur_px(b, zs, x, y)[1]) == pytest.approx(0.0, abs=1e-9)
    # on the decentred axis there is no astigmatism
    zm = float(design.best_focus_lens_um(b, 0.15, -0.09, "meridional"))
    assert zm == pytest.approx(float(design.best_focus_lens_um(b, 0.15, -0.09, "sagittal")), abs=1e-9)
    # astigmatism at the corner: 8 N s_u / A * W222 (h = 1 from the axis)
    r = design.half_diagonal_mm
    diff = design.best_focus_lens_um(ModuleBuild(), r, 0.0, "meridional") - design.best_focus_lens_um(
        ModuleBuild(), r, 0.0, "sagittal")
    assert float(diff) == pytest.approx(design.dz_per_w_um * design.seidel.w222_um, rel=1e-12)


def test_decenter_adds_image_tilt(design):
    b = ModuleBuild(decenter_x_um=200.0)
    assert design.apparent_tilt_deg(b) == pytest.approx((-0.2 * design.decenter_tilt_deg_per_mm, 0.0))


@pytest.mark.parametrize("bad", [{"tilt_x_deg": 6.0}, {"decenter_y_um": float("nan")}, {"decenter_x_um": 5000.0}])
def test_bad_build_raises(bad):
    with pytest.raises(InvalidParameterError):
        ModuleBuild(**bad)


def test_chart_fits_the_frame_and_covers_the_zones():
    sq = chart_squares(640, 480)
    assert len(sq) == 23
    zones = {s.zone for s in sq}
    assert zones == {"centre", "0.3", "0.5", "0.7", "corner"}
    for s in sq:  # area of the rasterised square = side^2
        k = 3
        x0, y0 = int(s.centre_xy[0]) - 40, int(s.centre_xy[1]) - 40
        cov = square_coverage(s, x0, y0, (81 * k, 81 * k), k)
        assert cov.sum() / k**2 == pytest.approx(s.side_px**2, rel=2e-3)


def test_astigmatic_gaussian_second_moments():
    k = 3
    kern = astigmatic_gaussian_kernel(6.0, 2.0, math.radians(30.0), sigma0_px=0.3, samples_per_px=k)
    assert kern.sum() == pytest.approx(1.0)
    n = kern.shape[0]
    t = (np.arange(n) - n // 2) / k
    xx, yy = np.meshgrid(t, t)
    u = xx * math.cos(math.radians(30)) + yy * math.sin(math.radians(30))
    v = -xx * math.sin(math.radians(30)) + yy * math.cos(math.radians(30))
    # area sampling adds the box variance (1/k)^2 / 12
    box = (1.0 / k) ** 2 / 12.0
    assert float((kern * u * u).sum()) == pytest.approx((6.0 / 4) ** 2 + 0.09 + box, rel=0.01)
    assert float((kern * v * v).sum()) == pytest.approx((2.0 / 4) ** 2 + 0.09 + box, rel=0.01)
    assert abs(float((kern * u * v).sum())) < 1e-3


def test_capture_is_seeded_and_blur_follows_focus(design):
    b = ModuleBuild()
    a1 = capture_frame(design, b, design.nominal_lens_um, seed=3, psf_model="gaussian")
    a2 = capture_frame(design, b, design.nominal_lens_um, seed=3, psf_model="gaussian")
    assert a1.dtype == np.uint16 and a1.shape == (480, 640)
    assert np.array_equal(a1, a2)
    assert not np.array_equal(a1, capture_frame(design, b, design.nominal_lens_um, seed=4, psf_model="gaussian"))
    sharp = optical_image(design, b, design.nominal_lens_um, psf_model="gaussian")
    soft = optical_image(design, b, design.nominal_lens_um + 40.0, psf_model="gaussian")
    grad = [float(np.mean(np.diff(im[200:280, 280:360], axis=1) ** 2)) for im in (sharp, soft)]
    assert grad[0] > 1.5 * grad[1]  # squared gradient (total variation is kept by blur)
    # the light ground is at the chart's light level, the square interiors at its dark level
    assert sharp[10, 320] == pytest.approx(0.8)
    assert sharp[239, 319] == pytest.approx(0.2, abs=1e-6)


def test_wave_and_gaussian_models_agree_on_the_ground_and_squares(design):
    b = ModuleBuild(tilt_x_deg=0.3)
    w = optical_image(design, b, design.nominal_lens_um, psf_model="wave")
    g = optical_image(design, b, design.nominal_lens_um, psf_model="gaussian")
    assert float(np.mean(np.abs(w - g))) < 0.003
    with pytest.raises(UnknownNameError):
        optical_image(design, b, 0.0, psf_model="pillbox")


def test_through_focus_positions(design):
    p = through_focus_positions_um(design, frames=5, step_um=10.0)
    assert np.allclose(p - design.nominal_lens_um, [-20, -10, 0, 10, 20])
    step = np.diff(through_focus_positions_um(design, frames=3))[0]
    assert step == pytest.approx(design.lens.f_number * 2 * design.pixel_pitch_um / 3)
    with pytest.raises(InvalidParameterError):
        through_focus_positions_um(design, frames=2)
