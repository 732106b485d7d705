"""AF figures of a candidate camera: summaries by hand, a real closed-loop run, the cache; results files."""

from __future__ import annotations

import csv
import io
import json
import math
import time

import pytest

from focuslab.errors import InvalidParameterError, UnknownNameError
from focuslab.hw.design_af import af_cases, af_figures, summarize_runs
from focuslab.hw.design_catalog import parse_catalog
from focuslab.hw.design_results import mark_pareto, results_csv


def _catalog(dual_pixel: bool):
    return parse_catalog({
        "lenses": [{"name": "L", "focal_length_mm": 4.38, "f_number": 1.8, "cost": 1}],
        "sensors": [{"name": "S", "pixel_pitch_um": 1.4, "width_px": 4032, "height_px": 3024,
                     "quantum_efficiency": 0.75, "read_noise_e": 2.0, "full_well_e": 6000,
                     "dark_current_e_per_s": 2.0, "dual_pixel": dual_pixel, "cost": 1}],
    })


def test_summaries_by_hand():
    runs = [{"in_focus": True, "ms_to_focus": 100.0, "final_error_dof": 0.2},
            {"in_focus": True, "ms_to_focus": 300.0, "final_error_dof": 0.6},
            {"in_focus": False, "ms_to_focus": None, "final_error_dof": 3.0},
            {"in_focus": True, "ms_to_focus": 200.0, "final_error_dof": 0.4}]
    s = summarize_runs(runs)
    assert s == {"af_in_focus_rate": 0.75, "af_ms_to_focus_median": 200.0, "af_final_error_dof_median": 0.5,
                 "af_cases": 4}
    empty = summarize_runs([])
    assert empty["af_cases"] == 0 and math.isnan(empty["af_in_focus_rate"])


def test_cases_follow_the_suite_and_are_checked():
    cam = _catalog(False).combinations()[0].camera()
    cases = af_cases(cam, 3, seed=0)
    assert [c.scene for c in cases] == ["dead_leaves", "photo", "text"]
    assert all(c.camera == "L+S" and 500 <= c.illuminance_lux <= 1000 for c in cases)
    assert [c.to_dict() for c in af_cases(cam, 3, seed=0)] == [c.to_dict() for c in cases]  # seeded
    assert len(af_cases(cam, 8)) == 8
    with pytest.raises(InvalidParameterError, match=r"0\.\.12"):
        af_cases(cam, 13)
    with pytest.raises(UnknownNameError):
        af_figures(cam, 1, method="no-such-method")


def test_closed_loop_af_on_a_candidate_and_its_cache(tmp_path):
    cam = _catalog(False).combinations()[0].camera()
    figs, runs = af_figures(cam, 1, method="contrast-hillclimb", cache_dir=tmp_path)
    assert figs["af_cases"] == 1 and len(runs) == 1
    assert figs["af_in_focus_rate"] == 1.0  # dead leaves in good light: the hill-climb focuses
    assert 0 < figs["af_ms_to_focus_median"] < 1500 and figs["af_final_error_dof_median"] <= 1.0
    assert runs[0]["frames"] >= 3  # a contrast search needs several frames
    (entry,) = list(tmp_path.glob("*.json"))
    assert json.loads(entry.read_text())["camera"] == "L+S"
    t0 = time.perf_counter()
    again, runs2 = af_figures(cam, 1, method="contrast-hillclimb", cache_dir=tmp_path)
    assert time.perf_counter() - t0 < 0.5 and again == figs and runs2 == runs
    entry.write_text("{broken")  # a damaged entry is recomputed
    assert af_figures(cam, 1, method="contrast-hillclimb", cache_dir=tmp_path)[0] == figs


@pytest.mark.slow
def test_dual_pixel_candidate_focuses_faster_with_hybrid():
    """Same lens, same cases: phase detection (after its factory calibration) beats the contrast search."""
    fig_dp, _ = af_figures(_catalog(True).combinations()[0].camera(), 2, method="hybrid")
    fig_cd, _ = af_figures(_catalog(False).combinations()[0].camera(), 2, method="hybrid")
    assert fig_dp["af_in_focus_rate"] == 1.0 and fig_cd["af_in_focus_rate"] == 1.0
    assert fig_dp["af_ms_to_focus_median"] < 0.5 * fig_cd["af_ms_to_focus_median"]


def test_results_csv_and_front_flags():
    recs = [{"name": "a", "lens": "L", "sensor": "S", "actuator": "A", "pareto": False, "cost": 2.0, "snr": 3.0,
             "mtf": math.nan},
            {"name": "b", "lens": "L", "sensor": "T", "actuator": "A", "pareto": False, "cost": 1.0, "snr": 1.0,
             "mtf": 0.3}]
    mark_pareto(recs, {"cost": "minimize", "snr": "maximize"})
    assert [r["pareto"] for r in recs] == [True, True]
    rows = list(csv.DictReader(io.StringIO(results_csv(recs))))
    assert rows[0]["mtf"] == "" and rows[1]["mtf"] == "0.3" and rows[0]["pareto"] == "True"
    assert list(rows[0])[:7] == ["name", "lens", "sensor", "actuator", "status", "pareto", "cost"]
