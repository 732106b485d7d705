"""Run AF methods on benchmark cases in the closed loop and collect per-case records.

:func:`run_case` builds a case's scene once and runs every requested method on it with
:func:`focuslab.af.loop.run_af` on a :class:`~focuslab.af.backends.SimulatorBackend` (or a
:class:`~focuslab.af.backends.ReplayBackend` for a focal-stack case), skipping the methods
whose ``requires`` the camera cannot meet, and on a video case the stills methods (see
:func:`runs_video`). :func:`run_benchmark` runs methods x suites x
cases (optionally in a process pool), checkpoints each finished case to
``<out>/cases/<suite>/<case>.json`` so an interrupted bench resumes, aggregates the
leaderboard (:mod:`focuslab.bench.leaderboard`) and writes ``results.json``,
``results.csv`` and ``report.html`` atomically.

A record is a plain JSON-ready dict::

    {"suite", "case_id", "method", "label", "status": "ok"|"skipped", "reason",
     "metrics": {...RunMetrics.to_dict()...}, "trace": {"t_s", "code", "command",
     "reported_code", "true_code", "best_code", "error_dof", "error_frames", "done",
     "band_codes" (simulator)}, "best_code", "start_code", "done_frame", "code_range",
     "wall_s", and for the first case of a suite "examples" and "focus_curve"}

Lists in ``trace`` have one entry per frame; None where the backend knows no value.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from focuslab.bench.af_case import AFCase, build_scene
from focuslab.bench.record_io import json_ready, load_checkpoint, write_checkpoint
from focuslab.bench.suites import DEFAULT_CAMERA, get_suite, suite_cases, suite_names
from focuslab.errors import InvalidParameterError

#: Method shown on example frames when it ran (else the first non-reference method).
EXAMPLE_METHODS = ("hybrid", "continuous", "phase", "contrast-hillclimb", "contrast-sweep")

#: Reference rows: the perfect-focus oracle and the exact full sweep.
REFERENCE_METHODS = ("oracle", "contrast-sweep")


def supported_requirements(context) -> frozenset[str]:
    """What a backend's camera offers, in the vocabulary of ``AFPolicy.requires``."""
    have = set()
    if context.has_dual_pixel:
        have.add("dual_pixel")
    if context.has_depth:
        have.add("depth")
    if context.has_lens_model:
        have.add("lens_model")
    return frozenset(have)


#: What a replayed stack lacks when the policies that need a lens model are skipped on it
#: (:func:`focuslab.af.replay.stack_lens_model`).
REPLAY_LENS_MODEL_HINT = ("stack.json needs camera focal_length_mm, f_number and pixel_pitch_um, "
                          "and every frame's focus_distance_m, moving one way along the lens positions")

#: Reason recorded for a stills method on a video case.
STILLS_ONLY_REASON = "stills only"


def runs_video(policy) -> bool:
    """Whether a policy keeps a moving subject in focus, i.e. is scored on video suites.

    A policy says so with a class attribute ``video = True`` (``continuous``, ``oracle``).
    Stills methods (contrast sweep and hill climb, phase, depth, hybrid) focus once, report
    ``done`` and would then hold the lens while the subject moves: scored on a video clip
    they would fill the leaderboard with 0 % rows that describe the suite, not the method.
    The benchmark records them as skipped there (reason :data:`STILLS_ONLY_REASON`); a
    continuous-AF wrapper that re-triggers a stills method on a scene change would be a
    video method of its own, with ``video = True``.
    """
    return bool(getattr(policy, "video", False))


def default_methods() -> list[str]:
    """Every registered policy, the reference rows first."""
    from focuslab.af.registry import policy_names

    names = policy_names()
    return [m for m in REFERENCE_METHODS if m in names] + [m for m in names if m not in REFERENCE_METHODS]


def parse_method(spec: str) -> tuple[str, dict]:
    """A method spec ``NAME`` or ``NAME:key=value,key=value`` -> ``(NAME, options)``: the options
    go to the policy's constructor (``learned-dp:far_weights=none``, ``phase:gain=1.1``), each
    value read as a YAML scalar (``3`` an int, ``0.5`` a float, ``true`` a bool, ``null`` None,
    anything else a string). The whole spec names the method's rows in the results, so variants
    of one policy run side by side."""
    import yaml

    name, sep, rest = str(spec).partition(":")
    name = name.strip()
    options: dict = {}
    if sep:
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            if not eq or not key.strip():
                raise InvalidParameterError(f"method {spec!r}: options are key=value pairs separated by commas "
                                            "(e.g. learned-dp:far_weights=none)")
            try:
                options[key.strip()] = yaml.safe_load(value.strip())
            except yaml.YAMLError:
                options[key.strip()] = value.strip()
    return name, options


def check_methods(methods: Sequence[str]) -> list[str]:
    """Validate method specs (:func:`parse_method`; an unknown name is an ``UnknownNameError``
    listing the valid ones, a bad option an ``InvalidParameterError``); returns them in order."""
    from focuslab.af.registry import POLICIES, get_policy, policy_names

    policy_names()
    out = []
    for m in methods:
        name, options = parse_method(m)
        POLICIES.get(name)
        if options:
            get_policy(name, **options)  # the policy checks its options when built
        if m not in out:
            out.append(m)
    return out


def _make_backend(case: AFCase, scene):
    """The case's backend; ``scene`` is the built scene, or for a stack case the loaded ``ReplayStack``."""
    from focuslab.af.backends import ReplayBackend, SimulatorBackend
    from focuslab.camera import get_camera

    if case.stack is not None:
        return ReplayBackend(scene, roi=case.roi)
    return SimulatorBackend(get_camera(case.camera), scene, roi=case.roi, illuminance_lux=case.illuminance_lux,
                            seed=case.seed, initial_code=case.start_code)


def trace_of(run) -> dict:
    """The run's frame-by-frame trace as lists (None where the backend knows no truth).

    ``code`` is the code in force during each exposure, ``command`` the code sent after it
    (None: no move), ``true_code`` where the lens truly was (code units), ``best_code`` the
    code focusing the region's subject, ``error_dof`` the focus error (DoF units) and
    ``error_frames`` (replay) the distance in frames from the sharpest frame.
    """
    frames = list(run.frames)
    return {
        "t_s": [f.t_s for f in frames],
        "code": [f.lens_code for f in frames],
        "command": [f.command_code for f in frames],
        "reported_code": [f.reported_code for f in frames],
        "true_code": [f.lens_code_true for f in frames],
        "best_code": [f.best_code for f in frames],
        "error_dof": [f.focus_error_dof for f in frames],
        "error_frames": [f.focus_error_frames for f in frames],
        "done": [bool(f.done) for f in frames],
    }


def run_method(case: AFCase, method: str, scene) -> tuple[dict, object]:
    """One closed-loop run of ``method`` on ``case`` (scene already built): ``(record, AFRun or None)``."""
    from focuslab.af.loop import run_af
    from focuslab.af.registry import get_policy

    name, options = parse_method(method)
    policy = get_policy(name, **options)
    rec = {"suite": case.suite, "case_id": case.case_id, "method": method, "label": case.label,
           "start_code": case.start_code, "status": "ok", "reason": ""}
    if case.video and not runs_video(policy):
        rec.update(status="skipped", reason=STILLS_ONLY_REASON)
        return rec, None
    backend = _make_backend(case, scene)
    missing = sorted(set(policy.requires) - supported_requirements(backend.context) - {"truth"})
    if missing:
        reason = f"camera has no {', '.join(missing)}"
        if "lens_model" in missing and backend.context.extra.get("replay"):
            reason += f" ({REPLAY_LENS_MODEL_HINT})"
        rec.update(status="skipped", reason=reason)
        return rec, None
    t0 = time.perf_counter()
    if case.video:
        run = run_af(policy, backend, max_frames=case.max_frames, video=True, duration_s=case.duration_s)
    else:
        run = run_af(policy, backend, max_frames=case.max_frames)
    rec["wall_s"] = time.perf_counter() - t0
    rec["metrics"] = run.metrics.to_dict()
    rec["trace"] = trace_of(run)
    rec["done_frame"] = run.done_frame
    rec["best_code"] = rec["trace"]["best_code"][-1] if run.frames else None
    ctx = backend.context
    rec["code_range"] = [ctx.min_code, ctx.max_code]
    if hasattr(backend, "dof_per_code"):  # half-width of the in-focus band (1 DoF) in codes, per frame
        best = rec["trace"]["best_code"]
        rec["trace"]["band_codes"] = [1.0 / max(float(backend.dof_per_code(b)), 1e-9) for b in best]
    return rec, run


def run_case(case: AFCase, methods: Sequence[str], *, examples_dir: str | os.PathLike | None = None) -> list[dict]:
    """Run every method on one case; with ``examples_dir``, save before/after AF-region frames of one method."""
    if case.stack is not None:
        from focuslab.af.replay import ReplayStack

        scene = ReplayStack(case.stack)  # read once, shared by the methods
    else:
        scene = build_scene(case)
    pairs = [run_method(case, m, scene) for m in methods]
    if case.stack is not None and pairs:
        from focuslab.bench.example_frames import stack_focus_curve

        pairs[0][0]["focus_curve"] = stack_focus_curve(scene, case.roi)
    if examples_dir is not None:
        from focuslab.bench.example_frames import save_examples

        ok = [(r, run) for r, run in pairs if run is not None]
        pick = next((p for m in EXAMPLE_METHODS for p in ok if p[0]["method"] == m), ok[0] if ok else None)
        if pick is not None:
            pick[0]["examples"] = save_examples(case, pick[1], examples_dir)
        if case.stack is None and not case.video and pairs:
            from focuslab.bench.example_frames import focus_curve

            pairs[0][0]["focus_curve"] = focus_curve(case, scene)
    return json_ready([r for r, _ in pairs])


def _case_job(args) -> list[dict]:
    case_dict, methods, out_dir, with_examples = args
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    case = AFCase.from_dict(case_dict)
    ex = Path(out_dir) / "examples" if with_examples else None
    records = run_case(case, methods, examples_dir=ex)
    write_checkpoint(out_dir, case, methods, records)
    return records


def collect_cases(suites: Sequence[str] | None, *, camera: str, full: bool, seed: int,
                  stacks: Sequence[str | os.PathLike] = ()) -> dict[str, list[AFCase]]:
    """Cases by suite: the named built-in suites (default all, or none when only stacks are given)."""
    from focuslab.bench.stack_cases import stack_suite_cases

    if suites is None:
        suites = [] if stacks else suite_names()
    by_suite: dict[str, list[AFCase]] = {}
    for name in suites:
        get_suite(name)
        by_suite[name] = suite_cases(name, camera=camera, full=full, seed=seed)
    for d in stacks:
        name, cases = stack_suite_cases(d)
        by_suite[name] = cases
    return by_suite


def run_benchmark(
    out_dir: str | os.PathLike,
    *,
    suites: Sequence[str] | None = None,
    methods: Sequence[str] | None = None,
    stacks: Sequence[str | os.PathLike] = (),
    camera: str = DEFAULT_CAMERA,
    full: bool = False,
    seed: int = 0,
    workers: int = 1,
    engine: str = "local",
    address: str | None = None,
    resume: bool = False,
    report: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
    command: str | None = None,
) -> dict:
    """Run methods x suites x cases and write ``results.json``, ``results.csv`` and ``report.html``.

    Parameters
    ----------
    out_dir
        Output folder (created).
    suites
        Suite names (default: every built-in suite; none when only ``stacks`` are given).
    methods
        Method names (default: every registered policy; methods the camera cannot run are
        recorded as skipped).
    stacks
        Focal-stack folders to replay (one suite ``stack:<folder name>`` each).
    camera, full, seed
        Camera preset, suite size, suite seed (see :func:`focuslab.bench.suites.suite_cases`).
    workers
        Processes running cases in parallel (1: in this process), or CPUs of a local Ray.
    engine, address
        ``"local"`` (process pool) or ``"ray"`` (``address``: a running cluster whose workers
        share ``out_dir``; None starts a local Ray); see :func:`focuslab.engine.map_tasks`.
    resume
        Reuse checkpointed cases of an interrupted run with the same methods.
    report
        Write ``report.html``.
    progress
        ``progress(done, total, label)`` after each case.
    command
        The command line, recorded in the outputs.

    Returns
    -------
    dict
        The results as written to ``results.json``.

    Raises
    ------
    UnknownNameError
        Unknown suite, method or camera (the message lists the valid names).
    InputFileError
        A stack folder with no images, mixed frame sizes or missing lens positions.
    """
    from focuslab.bench.leaderboard import build_results, write_results
    from focuslab.files import ensure_dir

    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameterError(f"workers must be an integer >= 1, got {workers!r}")
    out = ensure_dir(out_dir)
    methods = check_methods(methods) if methods else default_methods()
    by_suite = collect_cases(suites, camera=camera, full=full, seed=seed, stacks=stacks)
    jobs, records_by_case = [], {}
    for cases in by_suite.values():
        for i, case in enumerate(cases):
            key = (case.suite, case.case_id)
            done = load_checkpoint(out, case, methods) if resume else None
            if done is not None:
                records_by_case[key] = done
            else:
                jobs.append((key, (case.to_dict(), list(methods), str(out), i == 0)))
    total = len(jobs) + len(records_by_case)
    finished = len(records_by_case)
    if progress:
        progress(finished, total, "resumed" if finished else "starting")
    from focuslab.engine import map_tasks

    if workers > 1 or engine != "local":
        jobs.sort(key=lambda kj: not kj[1][0]["video"])  # the longest cases (video) first: the pool ends together

    def case_done(n_done: int, _total: int, i: int, records: list[dict]) -> None:
        records_by_case[jobs[i][0]] = records
        if progress:
            progress(finished + n_done, total, "/".join(jobs[i][0]))

    map_tasks(_case_job, [job for _, job in jobs], engine=engine, workers=workers, address=address,
              progress=case_done)
    records = [r for cases in by_suite.values() for c in cases for r in records_by_case[(c.suite, c.case_id)]]
    results = build_results(by_suite, records, methods=methods, camera=camera, seed=seed, full=full, command=command)
    write_results(out, results, report=report)
    return results
