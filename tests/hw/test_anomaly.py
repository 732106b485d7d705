"""Anomaly scoring: robust scaling, MinCovDet / isolation forest AUROC on held-out populations."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from focuslab.camera.presets import get_camera
from focuslab.cli.main import main
from focuslab.errors import InvalidParameterError
from focuslab.hw.anomaly import Population, RobustScaler, evaluate_anomalies, fit_anomaly_model, run_anomaly_study
from focuslab.hw.anomaly_features import FEATURES
from focuslab.hw.module_model import ModuleBuild, ModuleDesign
from focuslab.hw.population import ModuleUnit


def _units(faults) -> tuple[ModuleUnit, ...]:
    return tuple(ModuleUnit(i, ModuleBuild(), 1.0, (), (), f, i) for i, f in enumerate(faults))


def _synthetic(rng, n: int, n_bad: int) -> Population:
    """Correlated Gaussian features; the 'faulty' rows move along a direction the correlation
    makes unlikely: +-0.8 sigma per feature (half up, half down), but |shift|^2 / 0.2 = 70, i.e.
    8.4 sigma across the correlation (what a Mahalanobis distance, not a per-feature limit, sees)."""
    p = len(FEATURES)
    cov = 0.8 * np.ones((p, p)) + 0.2 * np.eye(p)
    x = rng.multivariate_normal(np.zeros(p), cov, size=n)
    shift = np.where(np.arange(p) < p // 2, 0.8, -0.8)
    x[:n_bad] += shift
    faults = ["tilt"] * n_bad + [None] * (n - n_bad)
    return Population(_units(faults), x, 0.0)


def test_robust_scaler_and_missing_values():
    x = np.array([[1.0, 10.0], [2.0, 10.0], [3.0, 10.0], [100.0, 10.0]])
    s = RobustScaler.fit(x)
    assert s.centre[0] == pytest.approx(2.5)
    assert s.scale[0] == pytest.approx(1.4826 * 1.0)
    z = s.transform(np.array([[2.5, np.nan]]))
    assert z.tolist() == [[0.0, 0.0, 1.0]]  # missing -> 0, counted in the last column


def test_scorers_find_correlation_breaking_outliers(rng):
    train = _synthetic(rng, 200, 6)
    test = _synthetic(rng, 200, 20)
    res = evaluate_anomalies(train, test, seed=1)
    assert res.auroc["mcd"] > 0.95
    assert res.auroc["iforest"] > 0.6
    # a per-feature limit (ranking by one feature) does far worse on this data
    from sklearn.metrics import roc_auc_score
    assert roc_auc_score(test.labels, test.features[:, 0]) < 0.85
    # the most anomalous units are the shifted ones, each with its three largest robust z-scores
    assert sum(t["fault"] == "tilt" for t in res.top) >= 9
    assert all(len(t["why"]) == 3 and abs(t["why"][0]["z"]) >= abs(t["why"][2]["z"]) for t in res.top)


def test_too_small_training_population():
    with pytest.raises(InvalidParameterError, match="more modules than features"):
        fit_anomaly_model(np.zeros((10, len(FEATURES))))
    design = ModuleDesign.from_camera(get_camera("phone_main"))
    with pytest.raises(InvalidParameterError, match="training population needs at least"):
        run_anomaly_study(design, modules=10, faulty_fraction=0.2, seed=0)


def test_process_pool_gives_the_same_features():
    from focuslab.hw.anomaly import measure_population
    from focuslab.hw.anomaly_features import reference_chart
    from focuslab.hw.population import sample_population

    design = ModuleDesign.from_camera(get_camera("phone_main"))
    units = sample_population(design, 2, faulty_fraction=0.5, seed=9)
    chart = reference_chart(design)
    one = measure_population(design, units, chart=chart)
    two = measure_population(design, units, chart=chart, workers=2)
    assert np.array_equal(one.features, two.features, equal_nan=True)
    with pytest.raises(InvalidParameterError, match="workers"):
        measure_population(design, units, chart=chart, workers=0)


@pytest.mark.slow
def test_held_out_population_auroc():
    """The issue's figure: AUROC on a held-out simulated population (different seed)."""
    design = ModuleDesign.from_camera(get_camera("phone_main"))
    res = run_anomaly_study(design, modules=60, faulty_fraction=0.2, seed=3)
    assert res.auroc["mcd"] > 0.9
    assert res.auroc["iforest"] > 0.8
    for kind in ("tilt", "back_focus", "dust", "defects", "noise"):  # the clear faults
        assert res.auroc_by_fault["mcd"][kind] > 0.85, kind


@pytest.mark.parametrize(("argv", "match"), [
    (["--modules", "1"], "--modules must be at least 2"),
    (["--faulty-fraction", "0"], "--faulty-fraction must be in (0, 1)"),
    (["--modules", "10", "--faulty-fraction", "0.04"], "hold no faulty module"),
    (["--modules", "20", "--faulty-fraction", "0.2"], "training population needs at least"),
])
def test_cli_bad_input(capsys, argv, match):
    assert main(["hw", "anomalies", *argv]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.slow
def test_cli_json_report_and_csv(tmp_path, capsys):
    out, report = tmp_path / "a", tmp_path / "a.html"
    rc = main(["hw", "anomalies", "--modules", "30", "--faulty-fraction", "0.2", "--seed", "4", "--json",
               "--out", str(out), "--report", str(report)])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["test"] == {"modules": 30, "faulty": 6, "seconds": doc["test"]["seconds"]}
    assert doc["auroc"]["mcd"] > 0.85 and not math.isnan(doc["auroc"]["iforest"])
    assert len((out / "features.csv").read_text().splitlines()) == 61
    html = report.read_text()
    assert html.count("data:image/png;base64") == 2 and "Most anomalous modules" in html
