"""The demo job end to end: a coarse sweep still finds focus and the dual-pixel physics holds."""

from __future__ import annotations

import json

import pytest

from focuslab.bench.demo import run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, run_demo(out, positions=12, seed=3)


def test_contrast_peak_focuses_the_subject(demo):
    _, res = demo
    assert res.subject_distance_m == pytest.approx(1.0)
    assert res.contrast_focus_error_dof < 1.0  # in focus
    assert abs(res.contrast_peak_code - res.true_best_code) < 6


def test_dual_pixel_disparity_follows_4c_over_3pi(demo):
    _, res = demo
    # geometric model (ideal response): L/R centroids 4c/(3 pi) apart; the NCC search measures it
    assert res.disparity_slope == pytest.approx(1.0, abs=0.06)
    assert abs(res.disparity_zero_code - res.true_best_code) < 6  # zero disparity at focus


def test_outputs_written(demo):
    out, _ = demo
    summary = json.loads((out / "summary.json").read_text())
    assert summary["frames"] == 12
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3 and "Dual-pixel phase" in html
    assert (out / "stack" / "stack.json").is_file()
