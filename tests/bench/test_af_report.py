"""The AF report: one self-contained HTML page with the leaderboard and the plots, from fake records."""

from __future__ import annotations

import re

import numpy as np

from focuslab.bench.af_report import write_af_report
from focuslab.bench.example_frames import raw_to_display
from focuslab.bench.leaderboard import build_results
from focuslab.bench.suites import suite_cases


def _trace(n, best, start, video=False):
    t = [i / 30 for i in range(n)]
    true = list(np.linspace(start, best, n))
    return {"t_s": t, "code": [round(c) for c in true], "command": [None] * n, "reported_code": true,
            "true_code": true, "best_code": [best] * n, "error_dof": [abs(c - best) / 8 for c in true],
            "error_frames": [None] * n, "done": [False] * (n - 1) + [not video], "band_codes": [8.0] * n}


def fake_results(tmp_path=None):
    """Results of two suites (a stills and a video one) with made-up runs of three methods."""
    by_suite = {"stills-bright": suite_cases("stills-bright")[:3], "video-tracking": suite_cases("video-tracking")}
    methods = ["oracle", "contrast-sweep", "hybrid"]
    records = []
    for suite, cases in by_suite.items():
        video = suite == "video-tracking"
        for k, c in enumerate(cases):
            for j, m in enumerate(methods):
                err = [0.1, 0.3, 0.5 + k][j]
                metrics = {"final_error": err, "final_error_dof": err, "error_unit": "dof", "in_focus": err <= 1,
                           "frames_to_focus": 3 + 10 * j if err <= 1 else None, "ms_to_focus": 100.0 * (1 + j),
                           "reversals": j, "lens_travel_codes": 50.0 * (j + 1), "overshoot_codes": float(j),
                           "rms_error_dof": 0.5 * (j + 1) if video else None,
                           "time_out_of_focus_s": 0.1 * j if video else None,
                           "jerk_codes_per_s3": 1e4 * (j + 1) if video else None}
                rec = {"suite": suite, "case_id": c.case_id, "method": m, "label": c.label, "status": "ok",
                       "reason": "", "metrics": metrics, "trace": _trace(20, 300.0, c.start_code, video),
                       "done_frame": None if video else 19, "best_code": 300.0, "wall_s": 0.1}
                if k == 0 and j == 0 and not video:
                    rec["focus_curve"] = {"codes": [100, 200, 300, 400], "measure": [0.2, 0.6, 1.0, 0.5],
                                          "error_dof": [20.0, 10.0, 0.5, 10.0], "method": "TENG"}
                if k == 0 and j == 2 and tmp_path is not None:
                    from focuslab.data.image_files import write_png

                    rng = np.random.default_rng(0)
                    for key in ("before", "after"):
                        write_png(tmp_path / f"ex-{suite}-{key}.png", raw_to_display(rng.random((32, 32)), "RGGB"))
                    rec["examples"] = {"method": m, "before_code": 96, "after_code": 300,
                                       "before": f"ex-{suite}-before.png", "after": f"ex-{suite}-after.png"}
                records.append(rec)
    return build_results(by_suite, records, methods=methods, camera="phone_main_tof", seed=0, full=False,
                         command="focuslab bench")


def test_report_is_self_contained_with_leaderboards_and_plots(tmp_path):
    res = fake_results(tmp_path)
    path = write_af_report(tmp_path / "report.html", res)
    page = path.read_text()
    # no network: every image is a data URI, nothing is fetched from elsewhere
    assert not re.search(r"(src|href)\s*=\s*['\"](?!data:)", page)
    assert "http://" not in page and "https://" not in page
    assert page.count("<table class='leaderboard'>") == 2
    assert "Suite stills-bright" in page and "Suite video-tracking" in page
    assert "in focus" in page and "RMS error DoF" in page  # video columns only where video
    # overview + per stills suite (trajectory, errors, focus curve) + per video suite (trajectory, errors, over time)
    assert page.count("data:image/png;base64,") == 1 + 3 + 3 + 2 * 2  # + before/after frames of both suites
    assert "before focus (hybrid, code 96)" in page and "after focus (hybrid, code 300)" in page
    assert page.count("Per-case final focus error") == 2 and "1.50 x" in page  # case 1 of hybrid: 1.5 DoF, missed


def test_report_without_examples_or_runs(tmp_path):
    res = fake_results()
    for r in res["records"]:
        if r["method"] == "hybrid":
            r["status"] = "skipped"
    for s in res["suites"].values():
        s["methods"]["hybrid"] = {"cases": 0, "skipped": 3}
    page = write_af_report(tmp_path / "r.html", res).read_text()
    assert "skipped (3)" in page
    assert "before focus" not in page


def test_raw_to_display():
    rng = np.random.default_rng(1)
    mosaic = rng.random((16, 16)).astype(np.float32)
    before = mosaic.copy()
    out = raw_to_display(mosaic, "RGGB")
    assert out.dtype == np.uint8 and out.shape == (16, 16, 3)
    np.testing.assert_array_equal(mosaic, before)  # input untouched
    grey = raw_to_display(np.full((8, 8), np.nan), None)  # NaN becomes black, not an error
    assert grey.shape == (8, 8, 3) and grey.max() == 0
