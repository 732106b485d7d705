"""AF figures of a candidate camera from a small closed-loop run of the AF benchmark.

The first ``n_cases`` cases of the ``stills-bright`` suite (:mod:`focuslab.bench.suites`:
dead leaves, a photograph, text... at 0.25-3 m, 500-1000 lux, the suite's start codes), built
for the candidate camera itself (its code range and preview stream), are run with one AF
method (default ``hybrid``: phase detection when the sensor has dual pixels, contrast
otherwise; a dual-pixel candidate's phase gain is calibrated first on a rendered focal sweep,
as at the module factory) in the closed loop of :func:`focuslab.af.loop.run_af` on the
simulator. Figures:

* ``af_in_focus_rate``: share of runs whose final focus error is <= 1 DoF (DESIGN.md);
* ``af_ms_to_focus_median``: median time to focus (end of the exposure of the first frame
  from which the run stays in focus) over the in-focus runs, ms; NaN when none focused;
* ``af_final_error_dof_median``: median final focus error, DoF units.

The renders use the camera's geometric defocus PSF (AF is defocus-dominated; the
wave-optical PSF of the MTF figures would make every frame far slower). Results are cached
as JSON under ``cache_dir``, keyed by a hash of the camera, method, cases and seed.
"""

from __future__ import annotations

import hashlib
import math
import zlib
from pathlib import Path

import numpy as np

from focuslab import __version__
from focuslab.errors import InvalidParameterError
from focuslab.files import write_json_atomic

#: Suite the AF figures come from, and its largest size (the full variant).
AF_SUITE = "stills-bright"
MAX_AF_CASES = 12

#: Figures :func:`af_figures` returns.
AF_FIGURE_NAMES = ("af_in_focus_rate", "af_ms_to_focus_median", "af_final_error_dof_median", "af_cases")

#: Methods that take a phase calibration; a dual-pixel candidate is calibrated first
#: (:func:`focuslab.af.phase_calibration.calibrate_phase_gain`, a rendered focal sweep), as a
#: module is at the factory.
PHASE_METHODS = ("phase", "hybrid")


def af_cases(camera, n_cases: int, *, seed: int = 0) -> list:
    """The first ``n_cases`` cases of :data:`AF_SUITE` for ``camera`` (the quick suite, or the full one beyond 6)."""
    from focuslab.bench.suites import get_suite

    if isinstance(n_cases, bool) or not isinstance(n_cases, int) or not 0 <= n_cases <= MAX_AF_CASES:
        raise InvalidParameterError(f"the number of AF cases must be an integer in 0..{MAX_AF_CASES}, got {n_cases!r}")
    rng = np.random.default_rng([zlib.crc32(AF_SUITE.encode()), int(seed)])
    cases = get_suite(AF_SUITE).build(camera, camera.name, full=n_cases > 6, rng=rng)
    return cases[:n_cases]


def _cache_key(camera, method: str, n_cases: int, seed: int) -> str:
    text = f"{__version__}|{camera!r}|{method}|{n_cases}|{seed}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def run_af_cases(camera, cases, method: str) -> list[dict]:
    """One closed-loop run of ``method`` per case on the simulator; the runs' metric dicts."""
    from focuslab.af.backends import SimulatorBackend
    from focuslab.af.loop import run_af
    from focuslab.af.registry import get_policy
    from focuslab.bench.af_case import build_scene

    options = {}
    if method in PHASE_METHODS and camera.has_dual_pixel:
        from focuslab.af.phase_calibration import calibrate_phase_gain

        options["calibration"] = calibrate_phase_gain(camera)  # the module's factory calibration
    out = []
    for case in cases:
        backend = SimulatorBackend(camera, build_scene(case), roi=case.roi, illuminance_lux=case.illuminance_lux,
                                   seed=case.seed, initial_code=case.start_code)
        run = run_af(get_policy(method, **options), backend, max_frames=case.max_frames)
        out.append({"case_id": case.case_id, "label": case.label, **run.metrics.to_dict()})
    return out


def summarize_runs(runs: list[dict]) -> dict:
    """In-focus rate, median time to focus (in-focus runs) and median final error of run metric dicts."""
    if not runs:
        return {"af_in_focus_rate": math.nan, "af_ms_to_focus_median": math.nan,
                "af_final_error_dof_median": math.nan, "af_cases": 0}
    focused = [r for r in runs if r["in_focus"]]
    ms = [r["ms_to_focus"] for r in focused if r.get("ms_to_focus") is not None]
    err = [r["final_error_dof"] for r in runs if r.get("final_error_dof") is not None]
    return {"af_in_focus_rate": len(focused) / len(runs),
            "af_ms_to_focus_median": float(np.median(ms)) if ms else math.nan,
            "af_final_error_dof_median": float(np.median(err)) if err else math.nan,
            "af_cases": len(runs)}


def af_figures(camera, n_cases: int, *, method: str = "hybrid", seed: int = 0,
               cache_dir: str | Path | None = None) -> tuple[dict, list[dict]]:
    """AF figures of ``camera`` (module notes) and the per-run metrics, from the cache when present.

    Raises
    ------
    UnknownNameError
        Unknown AF method (the message lists the registered ones).
    InvalidParameterError
        ``n_cases`` outside 0..12.
    """
    from focuslab.af.registry import POLICIES, policy_names

    policy_names()
    POLICIES.get(method)
    cases = af_cases(camera, n_cases, seed=seed)
    if not cases:
        return summarize_runs([]), []
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"{_cache_key(camera, method, n_cases, seed)}.json"
        if path.is_file():
            import json

            try:
                runs = json.loads(path.read_text(encoding="utf-8"))["runs"]
                return summarize_runs(runs), runs
            except (OSError, ValueError, KeyError, TypeError):
                pass  # a damaged cache entry is recomputed and rewritten
    runs = run_af_cases(camera, cases, method)
    if path is not None:
        write_json_atomic(path, {"camera": camera.name, "method": method, "seed": seed, "runs": runs})
    return summarize_runs(runs), runs
