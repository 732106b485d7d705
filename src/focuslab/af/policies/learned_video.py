"""``learned-video``: the recurrent ``temporal`` network drives video AF, without hunting.

Every frame the AF region's dual-pixel views and the lens code go through
:class:`focuslab.models.predict.TemporalTracker` (the network's recurrent state carries the
past frames and the policy's own lens moves), giving the signed defocus d (DoF) and its sigma.
The lens target is measured as ``z = x + d * codes_per_dof`` with x the lens position during
the exposure (the Hall reading, half a frame's travel back while the lens moved). Then:

* an alpha-beta tracker in codes (Kalata's steady-state gains [1] with the measurement's
  sigma, as in ``continuous``) smooths z and estimates its velocity; a measurement more than
  3 DoF + 3 sigma from the prediction twice in a row restarts the track (a new subject);
* the lens follows the tracked target on the speed-, acceleration- and jerk-limited
  trajectory of :class:`~focuslab.af.policies.video_tracking.LensFollower`: at rest it stays
  until the target is ``deadband_dof`` away (no hunting on a static scene), and it never
  reverses on an error below ``reverse_dof``.

Gain calibration. Each reading is first multiplied by the camera's gain g
(:mod:`focuslab.models.temporal_calibration`: the network's reading scale near focus, from a
chart sweep at rest, like a PDAF module's conversion coefficient). ``calibration="auto"`` (the
default) measures g on the simulated dual-pixel camera (a preset or a loaded camera file) the
first time a region of that size is read (~5 s on one core, cached per process) and applies it
only where it is below one: an over-reading network (phone_tele's ideal split, g = 0.64) closes
a loop gain above one and hunts, an under-reading one only arrives a frame later. Measured on
the full video-tracking suite, seeds 0-2: phone_tele 9 / 11 / 16 direction reversals -> 1 / 1 /
2, RMS 0.99 / 0.95 / 0.92 -> 1.01 / 1.04 / 0.90 DoF (the first readings after a pan are scaled
down too); phone_main_tof's g = 1.02 is left at one (1.06, applied, added 1 / 0 / 3 reversals
for -0.02 to +0.01 DoF of RMS). A camera the simulator does not know reads raw; ``"none"`` reads
raw; a number is used as the gain.

``done`` is never set. Needs dual pixel and the lens model.

References
----------
.. [1] P. R. Kalata, "The tracking index", IEEE Trans. Aerosp. Electron. Syst. 20(2),
       174-182 (1984), eqs. (11)-(12).
"""

from __future__ import annotations

import math

from focuslab.af.af_signals import codes_per_dof
from focuslab.af.policies.learned_weights import learned_model
from focuslab.af.policies.video_tracking import STILL_DOF_PER_FRAME, LensFollower, kalata_gains
from focuslab.af.registry import register_policy
from focuslab.af.types import AFContext, Command, Observation
from focuslab.errors import InvalidParameterError, check_positive

#: Gains measured for preset cameras, by (camera, weights, region side); None: refused.
_GAINS: dict[tuple[str, str, int], float | None] = {}


def preset_temporal_gain(context: AFContext, model, weights, roi_px: int) -> float | None:
    """The ``temporal`` gain of ``model`` on the context's built-in dual-pixel preset for
    ``roi_px`` regions (:func:`~focuslab.af.policies.learned_dp.preset_sweep`: cached, or None)."""
    from focuslab.af.policies.learned_dp import preset_sweep
    from focuslab.models.temporal_calibration import temporal_rest_gain

    return preset_sweep(_GAINS, context, weights, roi_px,
                        lambda cam, roi, _label: temporal_rest_gain(model, cam, roi_px=roi))


class LearnedVideoAF:
    """Video AF from the ``temporal`` network (see the module notes).

    Parameters
    ----------
    weights
        Weights file of the ``temporal`` network (default: the shipped one).
    max_speed_dof, max_accel_dof, max_jerk_dof
        Lens trajectory limits, DoF per frame (per frame^2, ^3).
    deadband_dof, stop_band_dof, reverse_dof
        Start a move from rest beyond this error; rest within this of a still target; reverse
        only on an error of at least this (DoF).
    target_accel_dof
        Expected target acceleration (DoF per frame^2) of the tracker. The defaults (1.0 here,
        speed 4, acceleration 1.5, jerk 1.0) follow a change of subject (a pan) in 2-3 frames
        instead of 5-6: on the full video-tracking suite, seeds 0-2, mean RMS 0.94 / 0.89 / 0.88
        DoF -> 0.77 / 0.79 / 0.86 and no direction reversal, for ~50 % more jerk and a lens that
        follows the blended reading of a receding card's region more closely (docs/learned_af.md).
    min_sigma_dof
        Floor of the measurement sigma (DoF) the tracker assumes.
    calibration
        ``"auto"``, ``"none"`` or a gain > 0 (module notes, "Gain calibration").
    """

    name = "learned-video"
    video = True  # a video method: scored on the video suites (bench.af_runner.runs_video)
    requires: frozenset[str] = frozenset({"dual_pixel", "lens_model"})
    model_name = "temporal"

    def __init__(self, *, weights=None, max_speed_dof: float = 4.0, max_accel_dof: float = 1.5,
                 max_jerk_dof: float = 1.0, deadband_dof: float = 0.6, stop_band_dof: float = 0.2,
                 reverse_dof: float = 1.0, target_accel_dof: float = 1.0, min_sigma_dof: float = 0.2,
                 calibration="auto") -> None:
        self.weights = weights
        if isinstance(calibration, str) and calibration.lower() in ("none", "off", "raw"):
            calibration = None
        if not (calibration is None or calibration == "auto"):
            try:
                calibration = check_positive("calibration", float(calibration))
            except (TypeError, ValueError):
                raise InvalidParameterError(f"calibration must be 'auto', 'none' or a gain > 0, "
                                            f"got {calibration!r}") from None
        self.calibration = calibration
        self.gain: float | None = None
        self.max_speed_dof = check_positive("max_speed_dof", max_speed_dof)
        self.max_accel_dof = check_positive("max_accel_dof", max_accel_dof)
        self.max_jerk_dof = check_positive("max_jerk_dof", max_jerk_dof)
        self.deadband_dof = check_positive("deadband_dof", deadband_dof, allow_zero=True)
        self.stop_band_dof = check_positive("stop_band_dof", stop_band_dof, allow_zero=True)
        self.reverse_dof = check_positive("reverse_dof", reverse_dof, allow_zero=True)
        self.target_accel_dof = check_positive("target_accel_dof", target_accel_dof)
        self.min_sigma_dof = check_positive("min_sigma_dof", min_sigma_dof)
        self._ctx: AFContext | None = None
        self.model = None

    def reset(self, context: AFContext) -> None:
        """Start a new video run; load the network (once per process)."""
        from focuslab.models.predict import TemporalTracker

        if not isinstance(context, AFContext):
            raise InvalidParameterError(f"context must be an AFContext, got {type(context).__name__}")
        self.model = learned_model(self.name, self.model_name, self.weights)
        self._ctx = context
        self.gain = self.calibration if isinstance(self.calibration, float) else None
        self._measure_gain = self.calibration == "auto"
        self._tracker = TemporalTracker(self.model)
        self._lens: LensFollower | None = None
        self._x: float | None = None  # tracked target code
        self._v = 0.0  # its velocity, codes per frame
        self._outliers = 0
        self._last_pos: float | None = None
        self.predictions: list[tuple[int, float, float, float]] = []  # (frame, code, defocus, sigma)

    def _track(self, z: float, sigma: float, dof: float) -> None:
        if self._x is None:
            self._x, self._v = z, 0.0
            return
        xp = self._x + self._v
        r = z - xp
        if abs(r) > 3.0 * dof + 3.0 * sigma:
            self._outliers += 1
            if self._outliers >= 2:  # it agreed twice: a new subject, restart the track
                self._x, self._v, self._outliers = z, 0.0, 0
            else:
                self._x, self._v = xp, 0.0  # stop extrapolating at once
            return
        self._outliers = 0
        alpha, beta = kalata_gains(self.target_accel_dof * dof / max(sigma, 1e-6))
        self._x, self._v = xp + alpha * r, self._v + beta * r

    def step(self, observation: Observation) -> Command:
        """Predict, track, and move one frame along the limited trajectory (see the module notes)."""
        if self._ctx is None:
            raise InvalidParameterError("call reset(context) before step(); the policy has no AF context")
        obs, ctx = observation, self._ctx
        pos = float(obs.reported_code)
        if not math.isfinite(pos):
            pos = float(obs.lens_code)
        prev, self._last_pos = self._last_pos, pos
        if self._lens is None:
            self._lens = LensFollower(max_accel_dof=self.max_accel_dof, max_jerk_dof=self.max_jerk_dof,
                                      deadband_dof=self.deadband_dof, stop_band_dof=self.stop_band_dof,
                                      reverse_dof=self.reverse_dof)
            self._lens.reset(float(obs.lens_code))
        dof = codes_per_dof(ctx, pos)
        if obs.left is None or obs.right is None:
            return Command()
        share = min(obs.exposure_s / ctx.frame_interval_s, 1.0) if ctx.frame_interval_s > 0 else 0.0
        mid = pos - 0.5 * share * (pos - (pos if prev is None else prev))
        if self._measure_gain:
            self._measure_gain = False
            g = preset_temporal_gain(ctx, self.model, self.weights, min(obs.left.shape))
            self.gain = None if g is None or g >= 1.0 else g  # only an over-reading is scaled down
        d, s = self._tracker.step(obs.left, obs.right, mid, dof)
        if self.gain is not None:
            d, s = d * self.gain, s * self.gain
        self.predictions.append((int(obs.frame_index), mid, float(d), float(s)))
        if math.isfinite(d) and math.isfinite(s):
            self._track(mid + d * dof, max(s, self.min_sigma_dof) * dof, dof)
        if self._x is None:
            return Command()
        setpoint = float(min(max(self._x + self._v, ctx.min_code), ctx.max_code))
        v_t = self._v if abs(self._v) >= STILL_DOF_PER_FRAME * dof else 0.0
        code = self._lens.step(setpoint, v_t, dof, self.max_speed_dof * dof, False, ctx.min_code, ctx.max_code)
        return Command(int(min(max(code, ctx.min_code), ctx.max_code)))


@register_policy("learned-video")
def make_learned_video(**options) -> LearnedVideoAF:
    """Factory of :class:`LearnedVideoAF` (options are its keyword arguments)."""
    return LearnedVideoAF(**options)
