"""NSGA-II optimizer: known optima of toy problems, determinism with a seed, the scaling laws."""

from __future__ import annotations

import pytest

from focuslab.errors import InvalidParameterError
from focuslab.hw.design_catalog import parse_catalog
from focuslab.hw.design_optimize import (
    design_evaluator,
    optimize_design,
    parse_optimize,
    scaled_lens,
    scaled_sensor,
)
from focuslab.optics import LensSpec, SeidelAberrations
from focuslab.sensor.presets import get_sensor


def _two_wells(p):
    return {"a": (p["x"] - 1) ** 2 + p["y"] ** 2, "b": (p["x"] - 3) ** 2 + p["y"] ** 2}


def test_toy_front_is_found_and_the_seed_reproduces_it():
    bounds = {"x": (-5.0, 5.0), "y": (-2.0, 2.0)}
    obj = {"a": "minimize", "b": "minimize"}
    runs = optimize_design(_two_wells, bounds, obj, trials=400, seed=2, population_size=20)
    front = [r for r in runs if r["pareto"]]
    xs = [r["params"]["x"] for r in front]
    # the true Pareto set is y = 0, 1 <= x <= 3
    assert min(xs) > 0.6 and max(xs) < 3.4 and max(xs) - min(xs) > 1.5
    assert max(abs(r["params"]["y"]) for r in front) < 0.4
    assert min(r["values"]["a"] for r in runs) < 0.05 and min(r["values"]["b"] for r in runs) < 0.05
    again = optimize_design(_two_wells, bounds, obj, trials=400, seed=2, population_size=20)
    assert again == runs
    other = optimize_design(_two_wells, bounds, obj, trials=400, seed=3, population_size=20)
    assert other != runs


def test_repeated_designs_are_evaluated_once():
    calls = []

    def counted(p):
        calls.append(p)
        return _two_wells(p)

    runs = optimize_design(counted, {"x": (-5.0, 5.0), "y": (-2.0, 2.0)}, {"a": "minimize", "b": "minimize"},
                           trials=60, seed=0, population_size=4)
    unique = {tuple(sorted(r["params"].items())) for r in runs}
    assert len(calls) == len(unique) < len(runs)  # seed 0: 49 distinct designs in 60 trials
    assert all(r["values"] == {k: _two_wells(r["params"])[k] for k in ("a", "b")} for r in runs)


def test_single_objective_maximum():
    runs = optimize_design(lambda p: {"f": -(p["x"] - 2) ** 2 - (p["y"] + 1) ** 2},
                           {"x": (-5.0, 5.0), "y": (-3.0, 3.0)}, {"f": "maximize"}, trials=300, seed=1)
    best = max(runs, key=lambda r: r["values"]["f"])
    assert best["params"]["x"] == pytest.approx(2.0, abs=0.2) and best["params"]["y"] == pytest.approx(-1.0, abs=0.2)


def test_failed_trials_are_recorded_not_fatal():
    def evaluate(p):
        if p["x"] > 0:
            raise InvalidParameterError("x too large")
        return {"a": p["x"] ** 2, "b": (p["x"] + 1) ** 2}

    runs = optimize_design(evaluate, {"x": (-2.0, 2.0)}, {"a": "minimize", "b": "minimize"}, trials=30, seed=0)
    failed = [r for r in runs if r["status"] == "failed"]
    assert failed and all(r["reason"] == "x too large" and not r["pareto"] for r in failed)
    front = [r["params"]["x"] for r in runs if r["pareto"]]
    assert front and all(x <= 0.0 for x in front) and any(-1.0 <= x <= 0.0 for x in front)


def test_aberration_and_sensor_scaling_laws():
    lens = LensSpec(focal_length_mm=4.0, f_number=2.0, name="base")
    seidel = SeidelAberrations(w040_um=0.1, w131_um=0.2, w222_um=0.3, w220_um=0.4)
    _, s, z = scaled_lens(lens, seidel, {"spherical": 0.02, 8: 0.01}, focal_length_mm=4.0, f_number=1.0)
    assert (s.w040_um, s.w131_um, s.w222_um) == pytest.approx((1.6, 1.6, 1.2))  # (N0/N)^l: 16, 8, 4
    assert z["spherical"] == pytest.approx(0.32) and z[8] == pytest.approx(0.08)  # radial orders 4 and 3
    spec, s, _ = scaled_lens(lens, seidel, {}, focal_length_mm=8.0, f_number=2.0)
    assert spec.focal_length_mm == 8.0 and spec.aperture_diameter_mm == pytest.approx(4.0)
    assert (s.w040_um, s.w131_um, s.w222_um, s.w220_um) == pytest.approx((0.2, 0.2, 0.15, 0.2))  # (f/f0)^(1-k)
    base = get_sensor("imx363")
    half = scaled_sensor(base, pixel_pitch_um=0.7)
    assert (half.width_px, half.height_px) == (8064, 6048)
    assert half.full_well_e == pytest.approx(1500.0) and half.dark_current_e_per_s == pytest.approx(0.25)
    assert half.saturation_e == pytest.approx(1500.0)
    assert half.read_noise_e == base.read_noise_e and half.size_mm == pytest.approx(base.size_mm)


def _catalog(opt):
    data = {
        "lenses": [{"name": "L", "focal_length_mm": 4.0, "f_number": 2.0, "cost": 1,
                    "seidel_um": {"w222_um": 0.2, "w220_um": 0.1}}],
        "sensors": [{"name": "S", "pixel_pitch_um": 1.4, "width_px": 4000, "height_px": 3000,
                     "quantum_efficiency": 0.7, "read_noise_e": 2.0, "full_well_e": 6000,
                     "dark_current_e_per_s": 2.0, "cost": 1}],
        "optimize": opt,
    }
    return parse_catalog(data, source="c.yaml")


def test_catalog_evaluator_trades_resolution_for_noise():
    cat = _catalog({"bounds": {"pixel_pitch_um": [0.8, 2.0]}})
    spec = parse_optimize(cat, trials=5, seed=1)
    ev = design_evaluator(spec, cat.settings)
    small, big = ev({"pixel_pitch_um": 0.8}), ev({"pixel_pitch_um": 2.0})
    assert small["snr_10lux"] < big["snr_10lux"]
    assert small["megapixels"] == pytest.approx(12.0 * (1.4 / 0.8) ** 2, rel=0.01)
    assert spec.objectives == {"corner_mtf50_lw_ph": "maximize", "snr_10lux": "maximize"}


@pytest.mark.parametrize(
    ("opt", "match"),
    [
        (None, "has no optimize: section"),
        ({"bounds": {"zoom": [1, 2]}}, "unknown parameter 'zoom'"),
        ({"bounds": {"f_number": [2.8, 1.4]}}, "0 < low < high"),
        ({"bounds": {"f_number": [0.3, 1.4]}}, "below 0.5"),
        ({"bounds": {"f_number": [1.4, 2.8]}, "objectives": {"cost": "minimize", "snr_10lux": "maximize"}},
         "'cost' is not an analytic figure"),
        ({"bounds": {"f_number": [1.4, 2.8]}, "lens": "X"}, "no lens named 'X'"),
        ({"bounds": {"f_number": [1.4, 2.8]}, "trials": 0}, "trials must be an integer >= 1"),
        ({"bound": {}}, "unknown field 'bound'"),
    ],
)
def test_bad_optimize_sections(opt, match):
    with pytest.raises(InvalidParameterError, match=match):
        parse_optimize(_catalog(opt))
