"""The AF benchmark runner: aggregates, records, checkpoint/resume, skipping, replay and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from focuslab.bench.af_runner import run_benchmark, run_case, supported_requirements
from focuslab.bench.leaderboard import aggregate, leaderboard_rows, results_csv
from focuslab.bench.record_io import json_ready, load_checkpoint
from focuslab.bench.stack_cases import check_stack_folder, stack_regions
from focuslab.bench.suites import suite_cases
from focuslab.cli.main import main
from focuslab.errors import InputFileError, UnknownNameError


def _rec(method, *, in_focus, frames, err, reversals, status="ok", unit="dof"):
    m = {"in_focus": in_focus, "frames_to_focus": frames, "ms_to_focus": None if frames is None else 33.3 * frames,
         "final_error": err, "final_error_dof": err if unit == "dof" else None, "error_unit": unit,
         "reversals": reversals, "lens_travel_codes": 100.0, "overshoot_codes": 2.0}
    return {"suite": "s", "case_id": f"c{frames}{err}", "method": method, "status": status, "metrics": m}


def test_aggregate_closed_form():
    recs = [
        _rec("m", in_focus=True, frames=3, err=0.5, reversals=0),
        _rec("m", in_focus=True, frames=7, err=-0.2, reversals=2),
        _rec("m", in_focus=False, frames=None, err=4.0, reversals=4),
        {"suite": "s", "case_id": "x", "method": "m", "status": "skipped", "reason": "camera has no depth"},
    ]
    a = aggregate(recs)
    assert a["cases"] == 3 and a["skipped"] == 1
    assert a["in_focus_rate"] == pytest.approx(2 / 3)
    assert a["median_frames_to_focus"] == 5.0  # over the runs that reached focus
    assert a["median_ms_to_focus"] == pytest.approx(33.3 * 5)
    assert a["mean_abs_error_dof"] == pytest.approx((0.5 + 0.2 + 4.0) / 3)
    assert a["hunting_reversals"] == 2.0
    assert a["mean_lens_travel_codes"] == 100.0 and a["mean_overshoot_codes"] == 2.0
    assert a["mean_rms_error_dof"] is None  # stills: no video metrics


def test_aggregate_with_no_focused_run_and_all_skipped():
    a = aggregate([_rec("m", in_focus=False, frames=None, err=3.0, reversals=1)])
    assert a["in_focus_rate"] == 0.0 and a["median_frames_to_focus"] is None
    assert aggregate([{"status": "skipped"}]) == {"cases": 0, "skipped": 1}


def test_replay_errors_are_reported_in_frames():
    a = aggregate([_rec("m", in_focus=True, frames=2, err=0.5, reversals=0, unit="frames")])
    assert a["mean_abs_error_frames"] == 0.5 and a["mean_abs_error_dof"] is None


def test_json_ready_is_strict_json():
    out = json_ready({"a": np.float32(1.5), "b": [math.nan, np.inf, np.int64(3)], "c": np.array([1, 2]),
                      "d": np.bool_(True)})
    assert out == {"a": 1.5, "b": [None, None, 3], "c": [1, 2], "d": True}
    json.dumps(out, allow_nan=False)


def test_supported_requirements():
    from focuslab.af.types import AFContext

    ctx = AFContext(min_code=0, max_code=10, frame_interval_s=0.03, has_dual_pixel=True, has_depth=False)
    assert supported_requirements(ctx) == frozenset({"dual_pixel"})


def test_run_case_oracle_is_exact_and_skips_what_the_camera_lacks(tmp_path):
    from focuslab.af.registry import policy_names

    case = suite_cases("stills-bright", camera="phone_main")[1]
    methods = ["oracle"] + (["depth"] if "depth" in policy_names() else [])
    recs = run_case(case, methods, examples_dir=tmp_path / "examples")
    oracle = recs[0]
    assert oracle["status"] == "ok" and oracle["metrics"]["in_focus"]
    assert oracle["metrics"]["final_error_dof"] < 1.0
    tr = oracle["trace"]
    assert len(tr["t_s"]) == len(tr["code"]) == len(tr["error_dof"]) == len(tr["band_codes"])
    assert np.all(np.diff(tr["t_s"]) > 0)
    assert all(b > 0 for b in tr["band_codes"])
    # example frames (before/after) are saved and the focus curve peaks near the best code
    ex = oracle["examples"]
    assert (tmp_path / ex["before"]).is_file() and (tmp_path / ex["after"]).is_file()
    curve = oracle["focus_curve"]
    assert len(curve["codes"]) == len(curve["measure"]) and max(curve["measure"]) == 1.0
    step = np.diff(curve["codes"]).max()
    assert abs(curve["codes"][int(np.argmax(curve["measure"]))] - oracle["best_code"]) <= step
    if len(recs) > 1:  # phone_main has no depth sensor
        assert recs[1]["status"] == "skipped" and "depth" in recs[1]["reason"]
    json.dumps(recs, allow_nan=False)


def test_same_seed_gives_identical_records():
    case = suite_cases("low-texture")[2]
    a, b = run_case(case, ["oracle"]), run_case(case, ["oracle"])
    for r in (a[0], b[0]):
        r.pop("wall_s")
    assert a == b


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    res = run_benchmark(out, suites=["low-texture"], methods=["oracle", "contrast-sweep"], workers=1)
    return out, res


def test_outputs_written(bench):
    out, res = bench
    text = (out / "results.json").read_text()
    assert "NaN" not in text and "Infinity" not in text  # strict JSON
    data = json.loads(text)
    agg = data["suites"]["low-texture"]["methods"]
    for m in ("oracle", "contrast-sweep"):
        for key in ("in_focus_rate", "median_frames_to_focus", "mean_abs_error_dof", "hunting_reversals"):
            assert key in agg[m]
    assert agg["oracle"]["in_focus_rate"] == 1.0
    assert len(data["records"]) == 2 * len(data["suites"]["low-texture"]["cases"])
    csv = (out / "results.csv").read_text().splitlines()
    assert csv[0].startswith("suite,method,cases,skipped,in_focus_rate") and len(csv) == 3
    assert csv == results_csv(res).splitlines()
    assert (out / "report.html").is_file()
    header, rows = leaderboard_rows(res, "low-texture")
    assert header[:3] == ["method", "cases", "in focus"] and [r[0] for r in rows] == ["oracle", "contrast-sweep"]


def test_resume_reuses_checkpoints(bench):
    out, res = bench
    case = suite_cases("low-texture")[0]
    assert load_checkpoint(out, case, ["oracle", "contrast-sweep"]) is not None
    assert load_checkpoint(out, case, ["oracle"]) is None  # other methods: run again
    seen = []
    again = run_benchmark(out, suites=["low-texture"], methods=["oracle", "contrast-sweep"], resume=True,
                          progress=lambda done, total, label: seen.append((done, total, label)))
    assert seen == [(3, 3, "resumed")]  # nothing re-run
    assert again["records"] == res["records"]


def test_cli_json_and_leaderboard(tmp_path, capsys):
    assert main(["bench", "--suite", "low-texture", "--method", "oracle", "--out", str(tmp_path), "--json",
                 "--workers", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["suites"]["low-texture"]["methods"]["oracle"]["in_focus_rate"] == 1.0
    assert main(["bench", "--suite", "low-texture", "--method", "oracle", "--out", str(tmp_path), "--resume"]) == 0
    out = capsys.readouterr().out
    assert "low-texture" in out and "oracle" in out and "report.html" in out


def test_method_specs_carry_options_to_the_policy():
    from focuslab.bench.af_runner import check_methods, parse_method
    from focuslab.errors import InvalidParameterError

    assert parse_method("phase") == ("phase", {})
    assert parse_method("phase:done_dof=0.25,max_frames=8,fallback=false,calibration=null") == (
        "phase", {"done_dof": 0.25, "max_frames": 8, "fallback": False, "calibration": None})
    assert parse_method("learned-dp:far_weights=none") == ("learned-dp", {"far_weights": "none"})
    assert check_methods(["phase", "phase:max_frames=4", "phase"]) == ["phase", "phase:max_frames=4"]
    with pytest.raises(InvalidParameterError, match="key=value"):
        parse_method("phase:max_frames")
    with pytest.raises(InvalidParameterError, match="rejected its options"):
        check_methods(["phase:no_such_option=1"])
    with pytest.raises(UnknownNameError, match="valid names"):
        check_methods(["nope:x=1"])


def test_a_method_variant_runs_beside_its_default(tmp_path):
    """Two rows of one policy: the spec names the row, and the option changes the run."""
    res = run_benchmark(tmp_path, suites=["stills-bright"], methods=["contrast-sweep", "contrast-sweep:step_dof=3.0"],
                        workers=1, report=False)
    rows = res["suites"]["stills-bright"]["methods"]
    assert set(rows) == {"contrast-sweep", "contrast-sweep:step_dof=3.0"}
    by = {}
    for r in res["records"]:
        by.setdefault(r["method"], []).append(len(r["trace"]["code"]))
    assert max(by["contrast-sweep:step_dof=3.0"]) < min(by["contrast-sweep"])  # coarser steps: fewer frames


def test_cli_method_with_a_bad_option_is_one_line_exit_2(tmp_path, capsys):
    assert main(["bench", "--method", "phase:done_dof=-1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("focuslab: error:") and err.count("\n") == 1 and "done_dof" in err


def _write_png(path, shape, value=128):
    from focuslab.data.image_files import write_png

    write_png(path, np.full(shape, value, dtype=np.uint8))


@pytest.mark.parametrize("kind", ["empty", "mixed", "positions", "method", "suite", "seed", "workers", "camera"])
def test_cli_bad_input_is_one_line_exit_2(kind, tmp_path, capsys):
    d = tmp_path / "stack"
    d.mkdir()
    argv = ["bench", "--stack", str(d), "--out", str(tmp_path / "out")]
    if kind == "mixed":
        for i, shape in enumerate([(40, 60), (40, 60), (42, 60)]):
            _write_png(d / f"f{i}.png", shape)
    elif kind == "positions":
        for i in range(3):
            _write_png(d / f"f{i}.png", (40, 60))
        frames = [{"file": "f0.png", "lens_position": 0}, {"file": "f1.png"}, {"file": "f2.png", "lens_position": 2}]
        (d / "stack.json").write_text(json.dumps({"format": "focuslab.focal_stack/1", "frames": frames}))
    elif kind == "method":
        argv = ["bench", "--method", "no-such-method"]
    elif kind == "suite":
        argv = ["bench", "--suite", "no-such-suite"]
    elif kind == "seed":
        argv = ["bench", "--seed", "-1"]
    elif kind == "workers":
        argv = ["bench", "--workers", "0"]
    elif kind == "camera":
        argv = ["bench", "--camera", "no_such_camera"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("focuslab: error:") and err.count("\n") == 1 and "Traceback" not in err
    if kind in ("method", "suite", "camera"):
        assert "valid names" in err


def test_stack_checks_raise_input_errors(tmp_path):
    with pytest.raises(InputFileError):
        check_stack_folder(tmp_path / "missing")
    with pytest.raises(UnknownNameError):
        run_benchmark(tmp_path / "o", suites=["nope"])


def test_stack_regions_are_even_and_inside():
    for shape in [(870, 1325), (1536, 2048), (101, 203)]:
        for x, y, w, h in stack_regions(shape).values():
            assert x % 2 == y % 2 == 0 and x + w <= shape[1] and y + h <= shape[0] and w >= 2 and h >= 2


@pytest.mark.slow
def test_replay_without_a_lens_model_says_what_the_stack_lacks(tmp_path):
    """A folder of images has no focus distances: the learned policies are skipped, saying what
    stack.json must give for them to run (the stack's lens model, ``focuslab.af.replay``)."""
    from focuslab.bench.af_runner import REPLAY_LENS_MODEL_HINT
    from focuslab.data.image_files import write_png

    d = tmp_path / "plain"
    d.mkdir()
    rng = np.random.default_rng(1)
    for i in range(4):
        write_png(d / f"f{i}.png", (rng.random((200, 240)) * 255).astype(np.uint8))
    res = run_benchmark(tmp_path / "out", stacks=[d], methods=["learned-two-frame", "contrast-sweep"], report=False)
    recs = [r for r in res["records"] if r["method"] == "learned-two-frame"]
    assert recs and all(r["status"] == "skipped" and r["reason"].endswith(f"({REPLAY_LENS_MODEL_HINT})")
                        and "lens_model" in r["reason"] for r in recs)
    assert all(r["status"] == "ok" for r in res["records"] if r["method"] == "contrast-sweep")


def test_replay_real_stack_near_bottom_focuses_earlier(shared_data, tmp_path):
    stack = shared_data / "focal_stacks" / "depth-mapper"
    res = run_benchmark(tmp_path, stacks=[stack], methods=["oracle", "contrast-sweep"], report=False)
    recs = {(r["case_id"], r["method"]): r for r in res["records"]}
    # the sweep runs near to far: the near (bottom) region peaks earlier than the far (top) one
    assert recs[("bottom", "oracle")]["best_code"] < recs[("top", "oracle")]["best_code"]
    curves = {c: recs[(c, "oracle")]["focus_curve"] for c in ("top", "bottom")}
    peaks = {c: cv["codes"][int(np.argmax(cv["measure"]))] for c, cv in curves.items()}
    assert peaks["bottom"] < peaks["top"] and len(curves["top"]["codes"]) == 27
    for region in ("centre", "top", "bottom"):
        sweep = recs[(region, "contrast-sweep")]
        assert sweep["metrics"]["error_unit"] == "frames" and sweep["metrics"]["final_error"] <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("camera", ["phone_main_tof", "phone_tele", "no_pdaf"])
def test_oracle_row_is_exact_on_every_suite(camera):
    """The reference row: the oracle ends every case of every built-in suite in focus (issue 4), on
    every kind of preset: the suites draw only subjects the camera's lens can focus (``phone_tele``
    focuses no nearer than 0.35 m; before the draws were limited its oracle missed 3 of 19 cases)."""
    from focuslab.bench.suites import suite_names

    # no_pdaf's open-loop VCM has 3 um of play and 0.4 um of jitter (~10 codes): where the
    # oracle's command lands is up to ~0.6 DoF off (0.55 at the end of its recede clip)
    limit = {"no_pdaf": 0.75}.get(camera, 0.5)
    for suite in suite_names():
        for case in suite_cases(suite, camera=camera):
            rec = run_case(case, ["oracle"])[0]
            m = rec["metrics"]
            assert m["in_focus"] and m["final_error_dof"] < limit, (suite, case.case_id, m["final_error_dof"])
            if case.video:  # tracked every frame: the RMS error over the clip stays inside the depth of focus
                assert m["rms_error_dof"] < 1.0, (suite, case.case_id, m["rms_error_dof"])


@pytest.mark.slow
def test_process_pool_gives_the_same_records(tmp_path):
    """Cases are seeded on their own: running them in two processes changes nothing but the wall time."""
    kw = {"suites": ["low-texture"], "methods": ["oracle", "contrast-hillclimb"], "report": False}
    one = run_benchmark(tmp_path / "one", workers=1, **kw)
    two = run_benchmark(tmp_path / "two", workers=2, **kw)
    for res in (one, two):
        for r in res["records"]:
            r.pop("wall_s", None)
        for s in res["suites"].values():
            for a in s["methods"].values():
                a.pop("mean_wall_s", None)
    assert one == two


def test_stack_regions_are_centred():
    regions = stack_regions((800, 1200))
    x, y, w, h = regions["centre"]
    assert (w, h) == (150, 100) and abs(x + w / 2 - 600) <= 1 and abs(y + h / 2 - 400) <= 1  # even origins
    assert abs(regions["top"][1] + h / 2 - 160) <= 1 and abs(regions["bottom"][1] + h / 2 - 640) <= 1


def test_stills_methods_are_not_scored_on_video_suites():
    """Video suites score the methods that track (``video = True``); stills methods are skipped, saying why."""
    from focuslab.af.registry import get_policy, policy_names
    from focuslab.bench.af_runner import STILLS_ONLY_REASON, run_method, runs_video

    video = {m for m in policy_names() if runs_video(get_policy(m))}
    assert {"oracle", "continuous"} <= video
    assert not video & {"contrast-sweep", "contrast-hillclimb", "phase", "depth", "hybrid"}
    case = suite_cases("video-tracking")[0]
    for m in ("contrast-sweep", "hybrid", "phase"):
        rec, run = run_method(case, m, scene=None)  # decided before any scene is needed
        assert run is None and rec["status"] == "skipped" and rec["reason"] == STILLS_ONLY_REASON
        assert "metrics" not in rec
    recs = [{"suite": "video-tracking", "method": "phase", "status": "skipped", "reason": STILLS_ONLY_REASON}] * 3
    a = aggregate(recs)
    assert a == {"cases": 0, "skipped": 3, "skip_reason": STILLS_ONLY_REASON}
    results = {"suites": {"video-tracking": {"video": True, "methods": {"phase": a}}}}
    _, rows = leaderboard_rows(results, "video-tracking")
    assert rows[0][:3] == ["phase", "skipped (3)", "stills only"]
