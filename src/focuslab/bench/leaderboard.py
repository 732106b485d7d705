"""The AF leaderboard: per suite and method aggregates of the per-case run records.

Aggregates (over the cases a method ran on; skipped cases do not count):

* ``in_focus_rate``: fraction of runs ending in focus (final focus error <= 1 DoF);
* ``median_frames_to_focus``, ``median_ms_to_focus``: medians over the runs that reached
  focus (a run that never did is counted by ``in_focus_rate``, not here); None when none did;
* ``mean_abs_error_dof``: mean final focus error, depth-of-focus units;
* ``hunting_reversals``: mean number of direction reversals of the lens commands;
* ``mean_lens_travel_codes``, ``mean_overshoot_codes``;
* video: ``mean_rms_error_dof``, ``mean_time_out_of_focus_s``, ``mean_jerk_codes_per_s3``, and
  the RMS taken apart (:mod:`focuslab.af.run_metrics`): ``mean_reacquire_frames`` (frames to
  be in focus again after a subject change, over the runs that had one) and
  ``mean_tracking_rms_error_dof`` (the RMS outside those re-acquisitions).

Replay of a real stack without optics knows no DoF: its runs are judged in frames from the
region's sharpest frame (in focus: within one frame) and report ``mean_abs_error_frames``.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from focuslab import __version__
from focuslab.bench.record_io import json_ready
from focuslab.files import write_json_atomic, write_text_atomic

#: Leaderboard columns: (key in the aggregate, header, format).
COLUMNS = (
    ("in_focus_rate", "in focus", "{:.0%}"),
    ("median_frames_to_focus", "median frames", "{:.1f}"),
    ("median_ms_to_focus", "median ms", "{:.0f}"),
    ("mean_abs_error_dof", "mean |error| DoF", "{:.2f}"),
    ("hunting_reversals", "reversals", "{:.2f}"),
    ("mean_lens_travel_codes", "travel (codes)", "{:.0f}"),
    ("mean_overshoot_codes", "overshoot (codes)", "{:.1f}"),
)
VIDEO_COLUMNS = (
    ("mean_rms_error_dof", "RMS error DoF", "{:.2f}"),
    ("mean_time_out_of_focus_s", "out of focus (s)", "{:.2f}"),
    ("mean_jerk_codes_per_s3", "jerk (codes/s^3)", "{:.3g}"),
    ("mean_reacquire_frames", "reacquire (frames)", "{:.1f}"),
    ("mean_tracking_rms_error_dof", "tracking RMS DoF", "{:.2f}"),
)


def _values(records: Sequence[dict], key: str) -> np.ndarray:
    vals = [r.get("metrics", {}).get(key) for r in records]
    return np.array([float(v) for v in vals if v is not None and math.isfinite(float(v))], dtype=float)


def _mean(records, key):
    v = _values(records, key)
    return float(v.mean()) if v.size else None


def aggregate(records: Sequence[dict]) -> dict:
    """Aggregates of one method's records on one suite (see the module notes)."""
    ok = [r for r in records if r.get("status") == "ok"]
    out: dict = {"cases": len(ok), "skipped": len(records) - len(ok)}
    reasons = [str(r["reason"]) for r in records if r.get("status") != "ok" and r.get("reason")]
    if reasons:
        out["skip_reason"] = max(set(reasons), key=reasons.count)
    if not ok:
        return out
    focused = [r for r in ok if r.get("metrics", {}).get("in_focus")]
    in_focus = [bool(r.get("metrics", {}).get("in_focus")) for r in ok]
    frames = _values(focused, "frames_to_focus")
    ms = _values(focused, "ms_to_focus")
    err = _values(ok, "final_error_dof")
    out.update(
        in_focus_rate=float(np.mean(in_focus)),
        median_frames_to_focus=float(np.median(frames)) if frames.size else None,
        median_ms_to_focus=float(np.median(ms)) if ms.size else None,
        mean_abs_error_dof=float(np.mean(np.abs(err))) if err.size else None,
        hunting_reversals=_mean(ok, "reversals"),
        mean_lens_travel_codes=_mean(ok, "lens_travel_codes"),
        mean_overshoot_codes=_mean(ok, "overshoot_codes"),
        mean_rms_error_dof=_mean(ok, "rms_error_dof"),
        mean_time_out_of_focus_s=_mean(ok, "time_out_of_focus_s"),
        mean_jerk_codes_per_s3=_mean(ok, "jerk_codes_per_s3"),
        mean_reacquire_frames=_mean(ok, "reacquire_frames"),
        mean_tracking_rms_error_dof=_mean(ok, "tracking_rms_error_dof"),
        mean_abs_error_frames=_mean([r for r in ok if r["metrics"].get("error_unit") == "frames"], "final_error"),
        mean_wall_s=float(np.mean([r.get("wall_s", 0.0) for r in ok])),
    )
    return out


def build_results(by_suite: dict, records: Sequence[dict], *, methods: Sequence[str], camera: str, seed: int,
                  full: bool, command: str | None = None) -> dict:
    """The ``results.json`` document: settings, per suite its cases and per-method aggregates, all records."""
    from focuslab.bench.suites import describe_suite

    suites = {}
    for name, cases in by_suite.items():
        recs = [r for r in records if r["suite"] == name]
        video = any(c.video for c in cases)
        try:
            description = describe_suite(name, camera=camera)
        except Exception:  # a replayed stack is no registered suite
            description = f"Replay of the focal-stack folder {cases[0].stack}" if cases and cases[0].stack else name
        suites[name] = {
            "description": description,
            "video": video,
            "cases": [c.to_dict() for c in cases],
            "methods": {m: aggregate([r for r in recs if r["method"] == m]) for m in methods},
        }
    return json_ready({"focuslab": __version__, "command": command, "camera": camera, "seed": seed, "full": full,
                       "methods": list(methods), "suites": suites, "records": list(records)})


def leaderboard_rows(results: dict, suite: str) -> tuple[list[str], list[list[str]]]:
    """Header and formatted rows of one suite's leaderboard (methods in run order; '-' for none)."""
    s = results["suites"][suite]
    cols = COLUMNS + (VIDEO_COLUMNS if s.get("video") else ())
    if any(a.get("mean_abs_error_frames") is not None for a in s["methods"].values()):
        cols = (*cols, ("mean_abs_error_frames", "mean |error| frames", "{:.2f}"))
    header = ["method", "cases"] + [h for _, h, _ in cols]
    rows = []
    for m, agg in s["methods"].items():
        if not agg.get("cases"):
            reason = agg.get("skip_reason") or "-"  # e.g. "stills only" on a video suite
            rows.append([m, f"skipped ({agg.get('skipped', 0)})", reason] + ["-"] * (len(cols) - 1))
            continue
        row = [m, str(agg["cases"])]
        for key, _, fmt in cols:
            v = agg.get(key)
            row.append("-" if v is None else fmt.format(v))
        rows.append(row)
    return header, rows


def results_csv(results: dict) -> str:
    """One CSV row per suite and method with every aggregate."""
    keys = ["cases", "skipped"] + [k for k, _, _ in COLUMNS + VIDEO_COLUMNS] + ["mean_abs_error_frames", "mean_wall_s"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["suite", "method", *keys])
    for suite, s in results["suites"].items():
        for m, agg in s["methods"].items():
            w.writerow([suite, m] + ["" if agg.get(k) is None else agg[k] for k in keys])
    return buf.getvalue()


def write_results(out_dir: str | os.PathLike, results: dict, *, report: bool = True) -> dict[str, Path]:
    """Write ``results.json``, ``results.csv`` and (``report=True``) ``report.html`` atomically."""
    out = Path(out_dir)
    paths = {"json": write_json_atomic(out / "results.json", results),
             "csv": write_text_atomic(out / "results.csv", results_csv(results))}
    if report:
        from focuslab.bench.af_report import write_af_report

        paths["report"] = write_af_report(out / "report.html", results, base_dir=out)
    return paths
