"""Module qualification: through-focus peak, best-focus surface fit, series truth, spec verdicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.camera.presets import get_camera
from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.hw.module_model import ModuleBuild, ModuleDesign
from focuslab.hw.module_render import capture_frame, capture_series, through_focus_positions_um
from focuslab.hw.qualify import normalize_raw, qualify_frame, qualify_series, zone_of
from focuslab.hw.qualify_fit import fit_focus_surface, through_focus_peak
from focuslab.hw.qualify_spec import QualifySpec, evaluate, load_spec, overall

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def design() -> ModuleDesign:
    return ModuleDesign.from_camera(get_camera("phone_main"))


def _norm(frames):
    return [normalize_raw(f, black_level_dn=64, white_level_dn=4095) for f in frames]


def test_through_focus_peak_is_sub_step_on_a_gaussian():
    z = np.arange(0.0, 150.0, 10.0)
    for z0 in (61.3, 67.0, 74.9):
        v = 0.9 * np.exp(-((z - z0) ** 2) / (2 * 25.0**2))
        peak, value = through_focus_peak(z, v)
        assert peak == pytest.approx(z0, abs=1e-6)
        assert value == pytest.approx(0.9, rel=1e-6)
    # a peak beyond the range is not extrapolated
    assert math.isnan(through_focus_peak(z, np.exp(-((z - 200.0) ** 2) / 2000.0))[0])
    assert math.isnan(through_focus_peak(z[:2], [0.5, 0.6])[0])


def test_surface_fit_recovers_tilt_and_decenter_exactly():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-2.8, 2.8, 40), rng.uniform(-2.1, 2.1, 40)
    m = np.arange(40) % 2 == 0
    x0, y0, km, ks = 0.25, -0.15, 3.9, -0.75
    z = 65.0 - 3.0 * x + 1.5 * y + np.where(m, km, ks) * ((x - x0) ** 2 + (y - y0) ** 2)
    s = fit_focus_surface(x, y, z, m, half_diagonal_mm=3.5)
    assert (s.decenter_x_mm, s.decenter_y_mm) == pytest.approx((x0, y0), abs=1e-6)
    assert (s.slope_x_um_per_mm, s.slope_y_um_per_mm) == pytest.approx((-3.0, 1.5), abs=1e-6)
    assert s.apparent_tilt_deg[0] == pytest.approx(math.degrees(math.atan(3.0e-3)), rel=1e-6)
    assert s.rms_residual_um < 1e-6
    # the same surface without astigmatism: decenter unobservable, reported unknown
    z2 = 65.0 - 3.0 * x + 1.5 * y + 2.0 * ((x - x0) ** 2 + (y - y0) ** 2)
    s2 = fit_focus_surface(x, y, z2, m, half_diagonal_mm=3.5)
    assert math.isnan(s2.decenter_x_mm) and math.isnan(s2.decenter_y_mm)
    with pytest.raises(InvalidParameterError, match="at least 5 meridional"):
        fit_focus_surface(x[:6], y[:6], z[:6], m[:6], half_diagonal_mm=3.5)


def test_zones():
    assert [zone_of(r) for r in (0.0, 0.2, 0.45, 0.62, 0.74, 0.8)] == ["centre", "0.3", "0.5", "0.7", "0.7", "corner"]


def test_series_recovers_tilt_and_decenter(design):
    """Truth of issue 6: a module with known tilt and decenter, recovered within 10 % of their size."""
    build = ModuleBuild(tilt_x_deg=0.3, tilt_y_deg=-0.2, decenter_x_um=250.0, decenter_y_um=-200.0)
    pos = through_focus_positions_um(design, frames=15)
    frames = capture_series(design, build, pos, seed=100, psf_model="gaussian")
    q = qualify_series(_norm(frames), pos, pixel_pitch_um=design.pixel_pitch_um,
                       decenter_tilt_deg_per_mm=design.decenter_tilt_deg_per_mm)
    tx, ty = q.sensor_tilt_deg
    dx, dy = q.decenter_um
    assert math.hypot(tx - 0.3, ty + 0.2) < 0.1 * math.hypot(0.3, 0.2)
    assert math.hypot(dx - 250.0, dy + 200.0) < 0.1 * math.hypot(250.0, 200.0)
    # apparent tilt = sensor tilt - kappa * decenter (the decentred element tilts the image)
    assert q.apparent_tilt_deg == pytest.approx(design.apparent_tilt_deg(build), abs=0.03)
    # field curvature and astigmatism at the corner, from the design's W220 / W222
    r = design.half_diagonal_mm
    want_m = float(design.best_focus_lens_um(ModuleBuild(), r, 0, "meridional")) - design.nominal_lens_um
    want_s = float(design.best_focus_lens_um(ModuleBuild(), r, 0, "sagittal")) - design.nominal_lens_um
    fc = q.field_curvature_um
    assert fc["meridional"] == pytest.approx(want_m, abs=4.0)
    assert fc["sagittal"] == pytest.approx(want_s, abs=4.0)
    # the zone best-focus table follows the truth at the zone centres (centre zone: the axis)
    assert q.zone_best_focus_um["centre"]["meridional"] == pytest.approx(
        float(design.best_focus_lens_um(build, 0.0, 0.0, "meridional")), abs=2.0)
    assert not q.warnings


@pytest.mark.slow
@pytest.mark.parametrize(("build", "seed"), [
    (ModuleBuild(tilt_x_deg=-0.5, tilt_y_deg=0.25, decenter_x_um=-300.0, decenter_y_um=150.0), 200),
    (ModuleBuild(tilt_x_deg=0.2, tilt_y_deg=0.4, decenter_x_um=200.0, decenter_y_um=250.0), 300),
    (ModuleBuild(tilt_y_deg=0.3, decenter_x_um=300.0, back_focus_um=10.0), 400),
])
def test_series_truth_more_builds(design, build, seed):
    pos = through_focus_positions_um(design, frames=15)
    q = qualify_series(_norm(capture_series(design, build, pos, seed=seed, psf_model="gaussian")), pos,
                       pixel_pitch_um=design.pixel_pitch_um, decenter_tilt_deg_per_mm=design.decenter_tilt_deg_per_mm)
    tx, ty = q.sensor_tilt_deg
    dx, dy = q.decenter_um
    assert math.hypot(tx - build.tilt_x_deg, ty - build.tilt_y_deg) < 0.1 * math.hypot(build.tilt_x_deg,
                                                                                         build.tilt_y_deg)
    assert math.hypot(dx - build.decenter_x_um, dy - build.decenter_y_um) < 0.1 * math.hypot(
        build.decenter_x_um, build.decenter_y_um)


@pytest.mark.slow
def test_perfect_module_reads_zero(design):
    pos = through_focus_positions_um(design, frames=15)
    q = qualify_series(_norm(capture_series(design, ModuleBuild(), pos, seed=500, psf_model="gaussian")), pos,
                       pixel_pitch_um=design.pixel_pitch_um, decenter_tilt_deg_per_mm=design.decenter_tilt_deg_per_mm)
    assert math.hypot(*q.sensor_tilt_deg) < 0.01  # measured: < 0.002 deg over 3 seeds
    assert math.hypot(*q.decenter_um) < 10.0  # measured: < 3.5 um


@pytest.mark.slow
def test_series_with_the_wave_psf(design):
    """The reference model (FieldDependentPsf) gives the same tilt and decenter."""
    build = ModuleBuild(tilt_x_deg=0.3, tilt_y_deg=-0.2, decenter_x_um=250.0, decenter_y_um=-200.0)
    pos = through_focus_positions_um(design, frames=15)
    q = qualify_series(_norm(capture_series(design, build, pos, seed=100, psf_model="wave")), pos,
                       pixel_pitch_um=design.pixel_pitch_um, decenter_tilt_deg_per_mm=design.decenter_tilt_deg_per_mm)
    tx, ty = q.sensor_tilt_deg
    dx, dy = q.decenter_um
    assert math.hypot(tx - 0.3, ty + 0.2) < 0.1 * math.hypot(0.3, 0.2)
    assert math.hypot(dx - 250.0, dy + 200.0) < 0.1 * math.hypot(250.0, 200.0)


def test_frame_field_map_sees_tilt_as_corner_imbalance(design):
    flat = qualify_frame(_norm([capture_frame(design, ModuleBuild(), design.nominal_lens_um + 8.0, seed=1,
                                              psf_model="gaussian")])[0])
    tilted = qualify_frame(_norm([capture_frame(design, ModuleBuild(tilt_x_deg=0.5), design.nominal_lens_um + 8.0,
                                                seed=1, psf_model="gaussian")])[0])
    assert len(flat.chart.edges) == 92
    # a tilted sensor: one side sharper than the other; the untilted module is symmetric
    assert flat.corner_imbalance < 0.1
    assert tilted.corner_imbalance > 2 * flat.corner_imbalance
    # astigmatism: the meridional MTF50 falls faster with field than the sagittal one
    z = flat.zone_mtf50_cpp
    assert z["corner"]["meridional"] < z["corner"]["sagittal"] < z["centre"]["all"]


def test_series_input_checks(design):
    f = np.zeros((480, 640))
    with pytest.raises(InvalidParameterError, match="at least 3 frames"):
        qualify_series([f, f], [0.0, 1.0], pixel_pitch_um=8.8)
    with pytest.raises(InvalidParameterError, match="one position per frame"):
        qualify_series([f, f, f], [0.0, 1.0], pixel_pitch_um=8.8)
    with pytest.raises(InvalidParameterError, match="all different"):
        qualify_series([f, f, f], [0.0, 1.0, 1.0], pixel_pitch_um=8.8)
    with pytest.raises(InvalidParameterError, match="differ in size"):
        qualify_series([f, f, np.zeros((48, 64))], [0.0, 1.0, 2.0], pixel_pitch_um=8.8)


def test_spec_example_loads_and_verdicts(tmp_path, design):
    spec = load_spec(REPO / "configs" / "hw" / "qualify_spec_example.yaml")
    assert spec.reference_cpp == 0.25 and spec.limits["tilt_max_deg"] == 0.2
    frame = qualify_frame(_norm([capture_frame(design, ModuleBuild(), design.nominal_lens_um, seed=2,
                                               psf_model="gaussian")])[0])
    v = {x.criterion: x for x in evaluate(spec, frame)}
    assert v["centre_mtf50_min_cpp"].passed is True
    assert v["tilt_max_deg"].passed is None  # one frame cannot measure tilt
    assert overall(list(v.values())) == "pass"
    strict = QualifySpec("strict", 0.25, {"centre_mtf50_min_cpp": 0.9, "corner_imbalance_max": 1.0})
    verdicts = evaluate(strict, frame)
    assert [x.passed for x in verdicts] == [False, True] and overall(verdicts) == "fail"


@pytest.mark.parametrize(("text", "match"), [
    ("format: other/1\n", "format must be"),
    ("format: focuslab.qualify_spec/1\ncriteria: {tilt_max: 1}\n", "unknown criterion"),
    ("format: focuslab.qualify_spec/1\ncriteria: {tilt_max_deg: -1}\n", "must be a number >= 0"),
    ("format: focuslab.qualify_spec/1\nreference_frequency_cpp: 2\n", "reference_frequency_cpp"),
    ("format: [unclosed\n", "cannot read spec"),
])
def test_bad_spec_files(tmp_path, text, match):
    p = tmp_path / "spec.yaml"
    p.write_text(text)
    with pytest.raises(InputFileError, match=match):
        load_spec(p)
