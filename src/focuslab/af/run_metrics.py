"""Metrics of one AF run (DESIGN.md "Metrics per run"), computed from its frame records.

Let e_i be the focus error of frame i (depth-of-focus units, |c| / c_max; for a replayed
stack without optics, frames from the sharpest frame, ``error_unit="frames"``), k the last
frame judged (the done frame of a stills run, else the last frame), x_i the true lens
position (codes) and q_j the sequence of distinct commanded codes (starting with the code in
force at frame 0). Then

* ``final_error`` = e_k; ``in_focus`` = e_k <= 1 (1 DoF, or within one frame);
* ``frames_to_focus`` = m + 1 for the first frame m <= k with e_i <= 1 for all m <= i <= k
  (frames captured until focus, inclusive; None when e_k > 1); ``ms_to_focus`` = the end of
  that frame's exposure, 1000 (t_m + exposure_m);
* ``lens_travel_codes`` = sum |x_{i+1} - x_i| over frames 0..k;
* ``reversals`` = number of sign changes of q_{j+1} - q_j (hunting);
* ``overshoot_codes`` = max(0, max_i s (x_i - x_k)) over the frames of the *final approach*
  (from the frame whose command began the last monotone run of commanded codes), s = the
  direction of that run: how far the lens went beyond its final position in its last
  direction of travel (a sweep's excursion to the far end is travel, not overshoot);
  ``overshoot_dof`` the same times the DoF per code near x_k (when known);
* video (every frame counts): ``rms_error`` = sqrt(mean e_i^2), ``time_out_of_focus_s`` =
  frame interval x #{i : e_i > 1}, ``jerk_codes_per_s3`` = RMS of the third difference of
  x_i divided by dt^3 (dt = frame interval), codes/s^3;
* video, the RMS taken apart (when the backend gives the DoF per code, ``dof_per_code_at``):
  a **subject change** is a frame i >= 1 where the truth b_i (the code that focuses the
  region's subject) jumps by more than ``SUBJECT_CHANGE_DOF`` (2 DoF) from b_{i-1} (a pan off
  the subject, a receding subject dropping below the region's 30 % coverage: the truth moves
  between two frames, which no causal policy can follow in fewer than one frame);
  ``subject_changes`` counts them; ``reacquire_frames`` is the mean over them of r = j - i + 1,
  j the first frame >= i with e_j <= 1 before the next change (a change never re-acquired
  counts the frames to the clip's end or the next change, so the mean is then a lower
  bound); ``tracking_rms_error_dof`` = sqrt(mean e^2) over the frames outside every
  re-acquisition window [i, j): the error while the policy follows a subject, the part a
  better reading or tracker improves. Without a change it equals ``rms_error_dof``. It is
  the split a video-AF evaluation makes between the *response* to a scene change and the
  *tracking* of a subject; ``rms_error_dof`` stays the headline figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from focuslab.errors import InvalidParameterError

#: A jump of the truth by more than this (DoF) between two frames is a subject change.
SUBJECT_CHANGE_DOF = 2.0


@dataclass(frozen=True)
class RunMetrics:
    """Figures of one AF run (see the module notes for the definitions)."""

    final_error: float
    error_unit: str
    final_error_dof: float | None
    in_focus: bool
    frames_to_focus: int | None
    ms_to_focus: float | None
    lens_travel_codes: float
    reversals: int
    overshoot_codes: float
    overshoot_dof: float | None
    frames: int
    done: bool
    rms_error: float | None = None
    rms_error_dof: float | None = None
    time_out_of_focus_s: float | None = None
    jerk_codes_per_s3: float | None = None
    subject_changes: int | None = None
    reacquire_frames: float | None = None
    tracking_rms_error_dof: float | None = None

    def to_dict(self) -> dict:
        """Plain dict (JSON-ready: NaN/inf become None)."""
        out = asdict(self)
        for k, v in out.items():
            if isinstance(v, float) and not math.isfinite(v):
                out[k] = None
        return out


def count_reversals(codes: Sequence[float]) -> int:
    """Sign changes of the successive differences of ``codes`` (repeats ignored)."""
    q = np.asarray(codes, dtype=float)
    d = np.diff(q)
    s = np.sign(d[d != 0])
    return int(np.count_nonzero(s[1:] != s[:-1]))


def overshoot(positions: Sequence[float], direction: float | None = None) -> float:
    """Furthest excursion of ``positions`` beyond the last one in the direction of travel (>= 0).

    ``direction`` (its sign) is the direction of travel; default sign(last - first).
    """
    x = np.asarray(positions, dtype=float)
    d = (x[-1] - x[0]) if direction is None and x.size else direction
    if x.size < 2 or not d:
        return 0.0
    s = math.copysign(1.0, d)
    return float(max(0.0, np.max(s * (x - x[-1]))))


def final_approach(command_frames: Sequence[int], codes: Sequence[float]) -> tuple[int, float]:
    """Frame where the final monotone run of commands began, and its direction (sign).

    ``codes[0]`` is the initial code (no frame), ``codes[j]`` for j >= 1 was sent after frame
    ``command_frames[j - 1]``. Returns ``(0, 0.0)`` when the lens was never moved.
    """
    q = np.asarray(codes, dtype=float)
    d = np.diff(q)
    moves = np.flatnonzero(d != 0)
    if moves.size == 0:
        return 0, 0.0
    s = np.sign(d[moves])
    j = moves.size - 1
    while j > 0 and s[j - 1] == s[-1]:
        j -= 1
    return int(command_frames[moves[j]]), float(s[-1])


def frames_to_focus(errors: Sequence[float], threshold: float = 1.0) -> int | None:
    """m + 1 for the first frame m from which every error stays <= ``threshold``; None if the last is above."""
    e = np.asarray(errors, dtype=float)
    if e.size == 0 or not e[-1] <= threshold:
        return None
    bad = np.flatnonzero(~(e <= threshold))
    return int(bad[-1] + 2) if bad.size else 1


def subject_change_split(errors_dof: Sequence[float], best_codes: Sequence[float],
                         dof_per_code_at: Callable[[float], float]) -> tuple[int, float | None, float | None]:
    """``(subject_changes, reacquire_frames, tracking_rms_error_dof)`` of a video run (module notes).

    ``errors_dof`` are the frames' focus errors (DoF), ``best_codes`` the truth b_i (codes) and
    ``dof_per_code_at(code)`` the DoF per code of lens travel there (a jump's size is measured
    with the mean of its two ends' values).
    """
    e = np.asarray(errors_dof, dtype=float)
    b = np.asarray(best_codes, dtype=float)
    if e.shape != b.shape or e.ndim != 1:
        raise InvalidParameterError(f"need one truth code per error (got {e.size} errors, {b.size} codes)")
    k = np.array([float(dof_per_code_at(c)) for c in b])
    jumps = np.abs(np.diff(b)) * 0.5 * (k[1:] + k[:-1])  # DoF, at the mean of each jump's ends
    changes = (np.flatnonzero(jumps > SUBJECT_CHANGE_DOF) + 1).tolist()
    keep = np.ones(e.size, dtype=bool)
    waits = []
    for n, i in enumerate(changes):
        end = changes[n + 1] if n + 1 < len(changes) else e.size  # the window closes at the next change
        inside = np.flatnonzero(e[i:end] <= 1.0)
        j = i + int(inside[0]) if inside.size else end
        waits.append(j - i + 1 if inside.size else end - i)
        keep[i:j] = False
    tracking = float(np.sqrt(np.mean(e[keep] ** 2))) if np.any(keep) else None
    return len(changes), (float(np.mean(waits)) if waits else None), tracking


def compute_run_metrics(
    records: Sequence,
    *,
    frame_interval_s: float,
    initial_code: float,
    done_frame: int | None,
    video: bool = False,
    dof_per_code: float | None = None,
    dof_per_code_at: Callable[[float], float] | None = None,
) -> RunMetrics:
    """:class:`RunMetrics` of a run from its :class:`~focuslab.af.loop.FrameRecord` list.

    Parameters
    ----------
    records
        Frame records in order (fields ``t_s``, ``exposure_s``, ``command_code``,
        ``lens_code_true``, ``focus_error_dof``, ``focus_error_frames``).
    frame_interval_s
        Time between frames, seconds.
    initial_code
        The code in force before the first command.
    done_frame
        Index of the frame the policy declared done (stills), or None.
    video
        Also compute the video figures over all frames.
    dof_per_code
        Depths of focus per code near the final position (overshoot in DoF), or None.
    dof_per_code_at
        Depths of focus per code at a given code (the video run's subject changes), or None:
        then ``subject_changes``, ``reacquire_frames`` and ``tracking_rms_error_dof`` are None.
    """
    if not records:
        raise InvalidParameterError("an AF run has no frames; run at least one frame")
    dof = [r.focus_error_dof for r in records]
    unit = "dof" if all(v is not None for v in dof) else "frames"
    err = np.array(dof if unit == "dof" else [r.focus_error_frames for r in records], dtype=float)
    if np.any(np.isnan(err)):
        raise InvalidParameterError("frame records miss their focus error; the backend gives no truth")
    k = len(records) - 1 if (video or done_frame is None) else int(done_frame)
    judged = records[: k + 1]
    x = np.array([r.lens_code_true for r in judged], dtype=float)
    sent = [(r.index, float(r.command_code)) for r in judged if r.command_code is not None]
    cmds = [float(initial_code)] + [c for _, c in sent]
    ftf = frames_to_focus(err[: k + 1])
    ms = None if ftf is None else 1000.0 * (records[ftf - 1].t_s + records[ftf - 1].exposure_s)
    start, direction = final_approach([i for i, _ in sent], cmds)
    over = overshoot(x[start:], direction) if direction else 0.0
    out = {
        "final_error": float(err[k]),
        "error_unit": unit,
        "final_error_dof": float(err[k]) if unit == "dof" else None,
        "in_focus": bool(err[k] <= 1.0),
        "frames_to_focus": ftf,
        "ms_to_focus": ms,
        "lens_travel_codes": float(np.sum(np.abs(np.diff(x)))),
        "reversals": count_reversals(cmds),
        "overshoot_codes": over,
        "overshoot_dof": None if dof_per_code is None else over * float(dof_per_code),
        "frames": len(records),
        "done": done_frame is not None,
    }
    if video:
        dt = float(frame_interval_s)
        xa = np.array([r.lens_code_true for r in records], dtype=float)
        d3 = np.diff(xa, n=3)
        out["rms_error"] = float(np.sqrt(np.mean(err**2)))
        out["rms_error_dof"] = out["rms_error"] if unit == "dof" else None
        out["time_out_of_focus_s"] = float(np.count_nonzero(err > 1.0) * dt)
        out["jerk_codes_per_s3"] = float(np.sqrt(np.mean(d3**2)) / dt**3) if d3.size else 0.0
        if unit == "dof" and dof_per_code_at is not None:
            split = subject_change_split(err, [r.best_code for r in records], dof_per_code_at)
            out["subject_changes"], out["reacquire_frames"], out["tracking_rms_error_dof"] = split
    return RunMetrics(**out)
