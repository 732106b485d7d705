"""The closed AF loop: frame by frame, observe -> policy.step -> command, with the truth recorded.

For frame i the exposure starts at t_i = i * frame_interval_s::

    obs_i = backend.observe(i, t_i)          # rendered where the lens really is
    truth_i = backend.truth(t_i)             # the truth of that frame
    cmd_i = policy.step(obs_i)
    if cmd_i.target_code is not None:
        backend.command(cmd_i.target_code, t_i + obs_i.exposure_s)   # after the readout

so a move issued after frame i acts from the end of its exposure, and the lens dynamics
(settling, overshoot) shape the frames that follow. A stills run stops at the first frame
whose command says ``done`` (the *done frame*; if that command also moves the lens, the loop
sends it and captures one more frame, without calling the policy, and that frame is judged);
a video run (``video=True``) captures every frame up to ``max_frames`` or ``duration_s``.

Frame budget. A stills run captures at most ``max_frames`` frames, or the policy's own
``frame_budget`` (an int attribute, read after ``reset``) when that is larger: a reference
method that spends frames on purpose (``contrast-sweep``'s averaged fine pass on a low-SNR
subject, as a reference sweep on a real camera is slower and takes more frames) gets them;
the frames it spends are counted in its frames and milliseconds to focus like any others.

Privileged truth. A policy whose ``requires`` contains ``"truth"`` (the oracle reference row)
gets ``policy.set_truth(fn)`` before the run, ``fn(t_s) -> Truth`` for the frame starting at
t_s. No other policy sees the truth; the :class:`~focuslab.af.types.AFPolicy` protocol is
unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from focuslab.af.run_metrics import RunMetrics, compute_run_metrics
from focuslab.af.types import AFContext, AFPolicy, Command
from focuslab.errors import InvalidParameterError


@dataclass(frozen=True)
class FrameRecord:
    """One frame of an AF run.

    Attributes
    ----------
    index, t_s, exposure_s
        Frame index, exposure start (s) and exposure time (s).
    lens_code
        The code in force during the exposure (what the driver held).
    command_code
        The code sent after this frame (clipped to the code range), or None.
    reported_code
        The actuator's reported position (code units) the policy saw.
    lens_code_true
        Where the lens truly was (code units).
    best_code
        The code that focuses the AF region's subject (truth).
    focus_error_dof, focus_error_frames
        Focus error (DoF units; replay: frames from the sharpest frame), None when unknown.
    done
        The policy declared AF done at this frame.
    """

    index: int
    t_s: float
    exposure_s: float
    lens_code: int
    command_code: int | None
    reported_code: float
    lens_code_true: float
    best_code: float
    focus_error_dof: float | None
    focus_error_frames: float | None
    done: bool


@dataclass(frozen=True, eq=False)
class AFRun:
    """The result of :func:`run_af`.

    Attributes
    ----------
    policy
        The policy's name.
    context
        The backend's context.
    frames
        Per-frame records.
    done_frame
        Index of the frame judged as final in a stills run (None: never done / video).
    metrics
        :class:`~focuslab.af.run_metrics.RunMetrics`.
    video
        Whether it was a video run.
    first_image, final_image
        The AF region of the first and of the judged frame (for reports).
    """

    policy: str
    context: AFContext
    frames: tuple[FrameRecord, ...]
    done_frame: int | None
    metrics: RunMetrics
    video: bool
    first_image: np.ndarray | None = field(default=None, repr=False)
    final_image: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict:
        """JSON-ready summary: metrics and the per-frame trajectory."""
        return {
            "policy": self.policy,
            "camera": self.context.name,
            "video": self.video,
            "done_frame": self.done_frame,
            "metrics": self.metrics.to_dict(),
            "frames": [
                {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in vars(r).items()}
                for r in self.frames
            ],
        }


def _check_int(name: str, value, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
        raise InvalidParameterError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def run_af(
    policy: AFPolicy,
    backend,
    *,
    max_frames: int = 40,
    video: bool = False,
    duration_s: float | None = None,
) -> AFRun:
    """Run ``policy`` in a closed loop on ``backend`` (see the module notes).

    Parameters
    ----------
    policy
        An :class:`~focuslab.af.types.AFPolicy` (reset here with the backend's context).
    backend
        :class:`~focuslab.af.backends.SimulatorBackend`, :class:`~focuslab.af.replay.ReplayBackend`
        or anything with ``context``, ``observe``, ``command`` and ``truth``.
    max_frames
        Most frames to capture (>= 1); a stills run grants a policy's larger ``frame_budget``.
    video
        Capture every frame (ignore ``done``) and compute the video metrics.
    duration_s
        Video length, seconds (frames = ceil(duration / frame interval)); overrides
        ``max_frames``.

    Returns
    -------
    AFRun

    Raises
    ------
    InvalidParameterError
        Not a policy, bad frame counts or duration, a command that is not an integer code.
    """
    if not isinstance(policy, AFPolicy):
        raise InvalidParameterError(f"policy must implement AFPolicy (name, requires, reset, step), got {policy!r}")
    ctx = backend.context
    dt = float(ctx.frame_interval_s)
    n = _check_int("max_frames", max_frames, 1)
    if duration_s is not None:
        d = float(duration_s)
        if not (math.isfinite(d) and d > 0):
            raise InvalidParameterError(f"duration_s must be a positive number of seconds, got {duration_s!r}")
        n = max(1, math.ceil(d / dt - 1e-9))
    if "truth" in policy.requires:
        if not callable(getattr(policy, "set_truth", None)):
            raise InvalidParameterError(
                f"policy {policy.name!r} requires 'truth' but has no set_truth(fn) method; add one or drop the need"
            )
        policy.set_truth(backend.truth)
    policy.reset(ctx)
    budget = getattr(policy, "frame_budget", None)
    if not video and isinstance(budget, int | np.integer) and not isinstance(budget, bool):
        n = max(n, int(budget))
    records: list[FrameRecord] = []
    done_frame, first, last, initial = None, None, None, None
    pending_final = False
    for i in range(n):
        t = i * dt
        obs = backend.observe(i, t)
        tr = backend.truth(t)  # before any command: the truth of the frame just observed
        if initial is None:
            initial, first = obs.lens_code, obs.image
        last = obs.image
        if pending_final:
            cmd = Command(target_code=None, done=True)
        else:
            cmd = policy.step(obs)
            if not isinstance(cmd, Command):
                raise InvalidParameterError(f"policy {policy.name!r} returned {cmd!r}; step must return a Command")
        sent = None
        if cmd.target_code is not None:
            tc = cmd.target_code
            if isinstance(tc, bool) or not isinstance(tc, int | np.integer):
                raise InvalidParameterError(f"policy {policy.name!r} commanded {tc!r}; target_code must be an int")
            sent = int(backend.command(int(tc), t + obs.exposure_s))
        moved = sent is not None and sent != obs.lens_code
        is_done = bool(cmd.done) and not video and not (moved and not pending_final)
        records.append(
            FrameRecord(
                index=i,
                t_s=t,
                exposure_s=float(obs.exposure_s),
                lens_code=int(obs.lens_code),
                command_code=sent,
                reported_code=float(obs.reported_code),
                lens_code_true=float(tr.lens_code_true),
                best_code=float(tr.best_code),
                focus_error_dof=tr.focus_error_dof,
                focus_error_frames=tr.focus_error_frames,
                done=is_done,
            )
        )
        if video:
            continue
        if is_done:
            done_frame = i
            break
        if cmd.done and moved:
            pending_final = True
    k_final = done_frame if done_frame is not None else len(records) - 1
    per_code = None
    if hasattr(backend, "dof_per_code"):
        per_code = float(backend.dof_per_code(records[k_final].lens_code_true))
    metrics = compute_run_metrics(
        records,
        frame_interval_s=dt,
        initial_code=float(initial),
        done_frame=done_frame,
        video=video,
        dof_per_code=per_code,
        dof_per_code_at=getattr(backend, "dof_per_code", None) if video else None,
    )
    return AFRun(
        policy=str(policy.name),
        context=ctx,
        frames=tuple(records),
        done_frame=done_frame,
        metrics=metrics,
        video=bool(video),
        first_image=first,
        final_image=last,
    )
