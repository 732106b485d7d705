"""Simulated module populations: seeded truth, physically visible faults in the features."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.camera.presets import get_camera
from focuslab.errors import InvalidParameterError
from focuslab.hw.anomaly_features import (
    FEATURES,
    reference_chart,
    sensor_features,
    series_positions_um,
    unit_features,
)
from focuslab.hw.module_model import ModuleBuild, ModuleDesign
from focuslab.hw.population import (
    FAULT_KINDS,
    Dust,
    ModuleUnit,
    capture_sensor_frames,
    capture_unit,
    dust_transmission,
    sample_population,
)


@pytest.fixture(scope="module")
def design() -> ModuleDesign:
    return ModuleDesign.from_camera(get_camera("phone_main"))


def test_population_is_seeded_with_truth(design):
    a = sample_population(design, 60, faulty_fraction=0.2, seed=5)
    b = sample_population(design, 60, faulty_fraction=0.2, seed=5)
    assert a == b
    assert a != sample_population(design, 60, faulty_fraction=0.2, seed=6)
    faults = [u.fault for u in a if u.faulty]
    assert len(faults) == 12 and {f: faults.count(f) for f in FAULT_KINDS} == dict.fromkeys(FAULT_KINDS, 2)
    good = [u for u in a if not u.faulty]
    tilts = np.array([math.hypot(u.build.tilt_x_deg, u.build.tilt_y_deg) for u in good])
    assert tilts.max() < 0.25  # 0.05 deg per axis
    for u in a:
        if u.fault == "tilt":
            assert 0.35 <= math.hypot(u.build.tilt_x_deg, u.build.tilt_y_deg) <= 0.7
        if u.fault == "decenter":
            assert 250 <= math.hypot(u.build.decenter_x_um, u.build.decenter_y_um) <= 450
        if u.fault == "noise":
            assert u.read_noise_factor >= 4.0
        if u.fault == "dust":
            assert 1 <= len(u.dust) <= 3
    with pytest.raises(InvalidParameterError):
        sample_population(design, 0)
    with pytest.raises(InvalidParameterError):
        sample_population(design, 5, faulty_fraction=1.5)


def test_dust_transmission_is_the_gaussian_shadow():
    t = dust_transmission((Dust(50.0, 40.0, 6.0, 0.3),), (100, 120))
    assert t[40, 50] == pytest.approx(0.7)
    assert t[40, 56] == pytest.approx(1.0 - 0.3 * math.exp(-0.5))
    assert t[0, 119] == pytest.approx(1.0, abs=1e-12)


def _unit(**kw) -> ModuleUnit:
    base = {"index": 0, "build": ModuleBuild(), "read_noise_factor": 1.0, "defect_pixels": (), "dust": (),
            "fault": None, "seed": 11}
    base.update(kw)
    return ModuleUnit(**base)


def test_sensor_features_measure_noise_dust_and_defects(design):
    k = design.sensor.conversion_gain_dn_per_e
    good = sensor_features(**capture_sensor_frames(design, _unit()))
    noisy = sensor_features(**capture_sensor_frames(design, _unit(read_noise_factor=6.0)))
    # dark noise = K sigma_read (+ ADC quantization 1/12 DN^2), EMVA 1288 eq. 9
    for f, factor in ((good, 1.0), (noisy, 6.0)):
        want = math.sqrt((k * design.sensor.read_noise_e * factor) ** 2 + 1.0 / 12.0)
        assert f["dark_noise_dn"] == pytest.approx(want, rel=0.05)
    # flat temporal noise: photon shot noise of the flat level, 1 / sqrt(mu_e)
    mu_e = 0.5 * design.sensor.full_well_e
    assert good["flat_noise_rel"] == pytest.approx(1.0 / math.sqrt(mu_e), rel=0.1)
    # a dust shadow of depth 0.3 and sigma 8 px, seen through the 3-px smoothing: 0.3 * 64 / (64 + 9)
    dusty = sensor_features(**capture_sensor_frames(design, _unit(dust=(Dust(300.0, 200.0, 8.0, 0.3),))))
    assert dusty["flat_min_ratio"] == pytest.approx(1.0 - 0.3 * 64.0 / 73.0, abs=0.01)
    assert good["flat_min_ratio"] > 0.99 and dusty["flat_dip_fraction"] > 20 * good["flat_dip_fraction"] + 1e-4
    # planted isolated defects are counted (hot, dead and stuck pixels)
    rng = np.random.default_rng(3)
    xs, ys = rng.choice(np.arange(20, 620, 4), 150, replace=False), rng.integers(20, 460, 150)
    planted = tuple((int(x), int(y), kind) for x, y, kind in zip(xs, ys, ["hot", "dead", "stuck"] * 50, strict=True))
    bad = sensor_features(**capture_sensor_frames(design, _unit(defect_pixels=planted)))
    assert good["defect_pixels"] <= 2
    assert 150 <= bad["defect_pixels"] <= 150 + 2


def test_chart_features_see_tilt_and_back_focus(design):
    chart = reference_chart(design)
    pos = series_positions_um(design)
    rows = {}
    for name, build in (("good", ModuleBuild()), ("tilt", ModuleBuild(tilt_x_deg=0.5)),
                        ("back_focus", ModuleBuild(back_focus_um=12.0)),
                        ("decenter", ModuleBuild(decenter_x_um=300.0))):
        unit = _unit(build=build)
        rows[name] = dict(zip(FEATURES, unit_features(capture_unit(design, unit, pos), design=design, chart=chart,
                                                      positions_um=pos), strict=True))
    assert rows["good"]["tilt_deg"] < 0.03
    assert rows["tilt"]["tilt_deg"] == pytest.approx(0.5, abs=0.05)
    assert rows["tilt"]["corner_imbalance"] > 2 * rows["good"]["corner_imbalance"]
    # back focus b: every zone peaks b um earlier in lens position
    shift = rows["back_focus"]["best_focus_median_um"] - rows["good"]["best_focus_median_um"]
    assert shift == pytest.approx(-12.0, abs=2.0)
    assert rows["good"]["mtf50_centre"] > rows["back_focus"]["mtf50_centre"]
    # the short series still reads the decenter (from the astigmatism; the pairs of opposite edges)
    assert rows["good"]["decenter_um"] < 40.0
    assert rows["decenter"]["decenter_um"] == pytest.approx(300.0, abs=40.0)
