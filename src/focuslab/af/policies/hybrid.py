"""``hybrid``: phase, depth and contrast combined by confidence, as on current phones.

Frame 0 forms every absolute estimate of the in-focus code the camera offers, each with its
uncertainty in codes:

* **phase** (dual-pixel sensor and a calibration, :mod:`focuslab.af.policies.phase`):
  code + move(D), with sigma = g * (standard error of D) + ``phase_rel_error`` * |move| (the
  gain's error at large defocus) + z / 2 (the dead zone); used when the pooled confidence is
  at least ``min_phase_confidence``;
* **depth** (depth sensor and a lens model): the nearest valid zone overlapping the AF region
  (nearest-subject priority) -> ``AFContext.code_for_distance``, with sigma the zone's range
  noise mapped to codes (half the code span of distance +- sigma) plus one code.

It jumps by the estimate with the smallest uncertainty (a long phase jump stops short, as in
``phase``: :func:`~focuslab.af.policies.phase.approach_move`), then confirms:

* with phase when it is confident: done when the predicted move is below ``done_dof`` DoF,
  else one correction, sent with ``done`` (the loop judges the frame after it); a reading
  noisier than ``max_confirm_sigma_dof`` that still asks for a move of more than 3 sigma and
  3 DoF (the jump fell short) moves once more and confirms again; after a
  shortened phase jump a disparity inside the dead zone moves the lens half the dead zone on;
* without a precise phase reading (depth only, or phase too noisy in low light: its standard
  error above ``max_confirm_sigma_dof``): when the estimate's sigma is above ``done_dof`` DoF,
  a monotone contrast scan of 5 frames ``scan_dof`` apart centred on the estimate (the lens
  goes to the scan's start instead), or, when the confirm frame's phase is too noisy, 4 more
  frames on in the direction of the jump; a Gaussian peak fit, one move back and done.

With neither estimate (low light: phase confidence too low; low texture; a camera with
neither sensor) it runs a contrast hill-climb from the current frame. It never hunts: at most
one correction after the jump (so at most one reversal outside the hill-climb fallback) and
``max_frames`` at most.
"""

from __future__ import annotations

import math

import numpy as np

from focuslab.af.af_signals import (
    codes_per_dof,
    fit_focus_peak,
    frame_settled,
    observation_disparity,
    observation_focus,
)
from focuslab.af.policies.contrast_hillclimb import ContrastHillClimb
from focuslab.af.policies.phase import approach_move, load_calibration, resolve_calibration
from focuslab.af.registry import register_policy
from focuslab.af.types import AFContext, Command, Observation
from focuslab.errors import InvalidParameterError, check_positive


def region_depth_estimate(observation: Observation, context: AFContext) -> tuple[float, float] | None:
    """In-focus code and its 1-sigma (codes) from the depth zones over the AF region, or None.

    The nearest valid zone whose footprint overlaps the AF region by at least a tenth of the
    region's area (nearest-subject priority); None without depth data, lens model, or a
    valid zone there.
    """
    z = observation.depth
    if z is None or context.code_for_distance is None:
        return None
    x, y, w, h = (float(v) for v in observation.roi)
    r = np.asarray(z.rois_px, dtype=float).reshape(-1, 4)
    ox = np.clip(np.minimum(x + w, r[:, 0] + r[:, 2]) - np.maximum(x, r[:, 0]), 0.0, None)
    oy = np.clip(np.minimum(y + h, r[:, 1] + r[:, 3]) - np.maximum(y, r[:, 1]), 0.0, None)
    over = ox * oy >= 0.1 * w * h
    dist = np.asarray(z.distance_m, dtype=float).ravel()
    sig = np.asarray(z.sigma_m, dtype=float).ravel()
    ok = over & np.asarray(z.valid, dtype=bool).ravel() & np.isfinite(dist) & (dist > 0)
    if not ok.any():
        return None
    i = int(np.flatnonzero(ok)[np.argmin(dist[ok])])
    d, s = float(dist[i]), float(sig[i]) if math.isfinite(sig[i]) else 0.0
    code = float(context.code_for_distance(d))
    near = float(context.code_for_distance(max(d - s, 1e-3)))
    far = float(context.code_for_distance(d + s))
    return code, 0.5 * abs(near - far) + 1.0


class HybridAF:
    """Hybrid AF (see the module notes).

    Parameters
    ----------
    calibration
        Phase calibration (as for ``phase``); None: resolved at reset, phase unused when none.
    min_phase_confidence
        Pooled disparity confidence needed to use phase, [0, 1].
    phase_rel_error
        Relative error of a phase move, added to its uncertainty.
    done_dof
        Done when the predicted remaining move is below this many DoF.
    scan_dof
        Spacing of the contrast confirm scan, DoF.
    max_confirm_sigma_dof
        Phase confirms only when its standard error (gain x disparity standard error) is at
        most this many DoF; noisier (low light) it only aims the jump and contrast confirms.
    approach_dof, approach_fraction
        As in ``phase``: long jumps stop short and finish in the same direction.
    max_frames
        Frames after which it stops (>= 4).
    nearest_subject
        Phase pools only the nearest depth's patches (see ``phase``).
    """

    name = "hybrid"
    requires: frozenset[str] = frozenset()

    def __init__(
        self,
        *,
        calibration=None,
        min_phase_confidence: float = 0.25,
        phase_rel_error: float = 0.1,
        done_dof: float = 0.5,
        scan_dof: float = 1.5,
        max_confirm_sigma_dof: float = 0.3,
        approach_dof: float = 6.0,
        approach_fraction: float = 0.9,
        max_frames: int = 30,
        nearest_subject: bool = False,
    ) -> None:
        self.calibration = load_calibration(calibration)
        mc = float(min_phase_confidence)
        if not 0.0 <= mc <= 1.0:
            raise InvalidParameterError(f"min_phase_confidence must be in [0, 1], got {min_phase_confidence!r}")
        self.min_phase_confidence = mc
        self.phase_rel_error = check_positive("phase_rel_error", phase_rel_error, allow_zero=True)
        self.done_dof = check_positive("done_dof", done_dof)
        self.scan_dof = check_positive("scan_dof", scan_dof)
        self.max_confirm_sigma_dof = check_positive("max_confirm_sigma_dof", max_confirm_sigma_dof)
        self.approach_dof = check_positive("approach_dof", approach_dof)
        af = float(approach_fraction)
        if not 0.5 <= af <= 1.0:
            raise InvalidParameterError(f"approach_fraction must be in [0.5, 1], got {approach_fraction!r}")
        self.approach_fraction = af
        if isinstance(max_frames, bool) or not isinstance(max_frames, int | np.integer) or max_frames < 4:
            raise InvalidParameterError(f"max_frames must be an integer >= 4, got {max_frames!r}")
        self.max_frames = int(max_frames)
        self.nearest_subject = bool(nearest_subject)
        self._ctx: AFContext | None = None

    def reset(self, context: AFContext) -> None:
        """Forget the previous run; resolve the phase calibration when the camera has dual pixels."""
        self._ctx = context
        self._cal = resolve_calibration(self.calibration, context) if context.has_dual_pixel else None
        self._state = "start"
        self._frames = 0
        self._hc: ContrastHillClimb | None = None
        self._scan: list[float] = []
        self._approach = 0
        self._cmd_t = -math.inf
        self._cmd_move = 0.0
        self._last_dir = 0
        self._est_sigma_dof = math.inf
        self._corrections = 0
        self._scan_codes: list[float] = []
        self._scan_values: list[float] = []
        self.source: str | None = None

    def _clip(self, code: float) -> int:
        return int(np.clip(round(code), self._ctx.min_code, self._ctx.max_code))

    def _send(self, observation: Observation, target: float, *, done: bool = False) -> Command:
        c = self._clip(target)
        self._cmd_t = float(observation.t_s) + float(observation.exposure_s)
        self._cmd_move = float(c - int(observation.lens_code))
        if self._cmd_move:
            self._last_dir = 1 if self._cmd_move > 0 else -1
        return Command(target_code=c, done=done)

    def _phase_sigma_dof(self, meas, dof: float) -> float:
        se = meas.sigma_px if math.isfinite(meas.sigma_px) else math.inf
        return self._cal.gain_codes_per_px * se / dof

    def _phase(self, observation: Observation):
        if self._cal is None or observation.left is None or observation.right is None:
            return None
        try:
            meas = observation_disparity(observation, nearest=self.nearest_subject)
        except InvalidParameterError:
            return None  # a region too small for the disparity search: no phase
        if not (meas.confidence >= self.min_phase_confidence and math.isfinite(meas.disparity_px)):
            return None
        return meas

    def _fallback(self, observation: Observation) -> Command:
        self.source = self.source or "contrast"
        self._state = "contrast"
        self._hc = ContrastHillClimb(max_frames=max(4, self.max_frames - self._frames + 1))
        return self._hc.start_from(self._ctx, observation)

    def step(self, observation: Observation) -> Command:
        """Estimate, jump, confirm (see the module notes)."""
        if self._ctx is None:
            raise InvalidParameterError("call reset(context) before step(); the policy has no AF context")
        if self._state == "contrast":
            return self._hc.step(observation)
        if self._state == "done":
            return Command(done=True)
        self._frames += 1
        if self._frames >= self.max_frames:
            self._state = "done"
            return Command(done=True)
        code = int(observation.lens_code)
        dof = codes_per_dof(self._ctx, code)
        if self._state == "start":
            return self._start(observation, code, dof)
        rep = float(observation.reported_code)
        moving = math.isfinite(rep) and abs(rep - code) > dof
        if moving or not frame_settled(self._ctx, observation, self._cmd_t, self._cmd_move):
            self._cmd_move = 0.0
            return Command()  # exposed while the lens still travelled: wait a frame
        if self._state == "confirm":
            meas = self._phase(observation)
            if meas is None:
                if self._est_sigma_dof <= self.done_dof:
                    self._state = "done"
                    return Command(done=True)  # the jump was precise (depth) and the lens has settled
                return self._continue_scan(observation, code)
            move = self._cal.move_codes(meas.disparity_px, sigma_px=meas.sigma_px)
            sigma_dof = self._phase_sigma_dof(meas, dof)
            if sigma_dof > self.max_confirm_sigma_dof:
                if abs(move) > max(3.0 * sigma_dof, 3.0) * dof and self._corrections < 1:
                    # still far off for its noise (a short jump): one more phase move, confirm again
                    self._corrections += 1
                    return self._send(observation, code + move)
                if self._est_sigma_dof <= self.done_dof:
                    self._state = "done"
                    return Command(done=True)
                return self._continue_scan(observation, code)
            self._state = "done"
            if self._approach and self._cal.in_dead_zone(meas.disparity_px, sigma_px=meas.sigma_px):
                # stopped short after a one-sided approach: focus is 0..z further on
                nudge = self._approach * 0.5 * self._cal.dead_zone_codes
                return Command(target_code=self._clip(code + nudge), done=True)
            if abs(move) <= self.done_dof * dof:
                return Command(done=True)
            return self._send(observation, code + move, done=True)
        if self._state == "scan":
            return self._scan_step(observation)
        self._state = "done"
        return Command(done=True)

    def _start(self, observation: Observation, code: int, dof: float) -> Command:
        cands = []
        meas = self._phase(observation)
        if meas is not None:
            move = self._cal.move_codes(meas.disparity_px, sigma_px=meas.sigma_px)
            sigma = self._phase_sigma_dof(meas, dof) * dof + self.phase_rel_error * abs(move)
            sigma += 0.5 * self._cal.dead_zone_codes
            cands.append((sigma, "phase", code + move, move))
        dep = region_depth_estimate(observation, self._ctx)
        if dep is not None:
            cands.append((dep[1], "depth", dep[0], dep[0] - code))
        if not cands:
            return self._fallback(observation)
        sigma, source, target, move = min(cands, key=lambda c: c[0])
        self.source = source
        if abs(move) <= self.done_dof * dof and sigma <= self.done_dof * dof:
            self._state = "done"
            return Command(done=True)
        if meas is None and sigma > self.done_dof * codes_per_dof(self._ctx, target):
            return self._start_scan(observation, code, target)  # no phase to confirm with
        if source == "phase" and abs(move) > self.approach_dof * dof:
            move = approach_move(move, dof, self.approach_fraction)
            self._approach = 1 if move > 0 else -1
        self._est_sigma_dof = sigma / codes_per_dof(self._ctx, target)
        self._state = "confirm"
        return self._send(observation, code + move)

    def _start_scan(self, observation: Observation, code: int, target: float) -> Command:
        """A monotone 5-frame contrast scan centred on ``target``, starting on the lens's side."""
        step = self.scan_dof * codes_per_dof(self._ctx, target)
        self._scan = [target + k * step for k in (-2, -1, 0, 1, 2)]
        if code > target:
            self._scan.reverse()  # scan away from where the lens is: one direction, no reversal
        self._state = "scan"
        return self._send(observation, self._scan.pop(0))

    def _continue_scan(self, observation: Observation, code: int) -> Command:
        """Contrast confirm from here on, in the direction of the last move (4 more frames)."""
        step = self.scan_dof * codes_per_dof(self._ctx, code)
        direction = self._last_dir or 1
        self._scan = [code + k * direction * step for k in (1, 2, 3, 4)]
        self._state = "scan"
        return self._scan_step(observation)

    def _scan_step(self, observation: Observation) -> Command:
        pos = float(observation.reported_code)
        if not math.isfinite(pos):
            pos = float(observation.lens_code)
        self._scan_codes.append(pos)
        self._scan_values.append(observation_focus(observation).value)
        if self._scan:
            return self._send(observation, self._scan.pop(0))
        fit = fit_focus_peak(self._scan_codes, self._scan_values, max_samples=5)
        self._state = "done"
        return self._send(observation, fit.code, done=True)


@register_policy("hybrid")
def make_hybrid(**options) -> HybridAF:
    """Factory of :class:`HybridAF` (options are its keyword arguments)."""
    return HybridAF(**options)
