"""``phase``: dual-pixel phase-detect AF: one jump by the calibrated gain, then a small confirm.

Each frame the AF region's dual-pixel disparity D = x_R - x_L is measured
(:func:`focuslab.af.af_signals.observation_disparity`); the calibrated gain turns it into the
lens move that focuses (eq. (1) of :mod:`focuslab.af.phase_calibration`)::

    move = g (D - D_0)   codes;   D > 0 (subject nearer than focus) -> a higher code.

1. Frame 0: jump to ``lens_code + move``; a long jump stops short (:func:`approach_move`),
   so that the confirm still sees a measurable disparity and finishes in the same direction.
2. Confirm: the next frame measures again (a frame exposed while the lens was still moving,
   :func:`~focuslab.af.af_signals.frame_settled`, or whose reported position is more than
   one DoF from the command, is skipped); done when |move| is below
   ``done_dof`` DoF, else a small correction, at most ``max_corrections`` times, then done.
   After a shortened jump a disparity inside the dead zone means focus lies 0 to z codes
   further on: the lens moves z / 2 on and the policy is done.
3. Confidence: a measurement whose pooled confidence is below ``min_confidence`` (no
   texture, too much noise) is not used: with ``fallback=True`` the policy hands over to a
   contrast hill-climb from the current frame, else it stops and reports the low confidence
   (``last_confidence``) for a hybrid to act on.
4. Frame averaging in the dark (``confirm_sigma_dof``, ``max_pool``; 7 Dec 2026): the
   disparities of the settled frames taken with the lens at one code are pooled by inverse
   variance (each frame's ``sigma_px``, the standard error of its patches; successive frames'
   pixel noise is independent; a move empties the pool), and a decision waits for another
   frame while the pooled 1-sigma exceeds ``confirm_sigma_dof`` DoF: "done", a correction
   smaller than 4 sigma, and a first jump smaller than 2 sigma (from far off a clear reading
   points the right way), for at most ``max_pool`` frames at one position; then it acts on the
   pooled estimate, or, when even that is blind (1-sigma above :data:`BLIND_SIGMA_DOF`: a 1-3 %
   wall), it falls back as on a low confidence. On a 3-lux photograph one frame's
   disparity has a 1-sigma of 0.5-1 DoF (``budget_dp_ideal``, 4 x 4-binned preview at 16x
   gain), as large as the 0.5-DoF stop: a single reading ended runs 1.0-1.4 DoF off, or a
   2-sigma reading sent a correction past focus. A frame's own 1-sigma (its patches' standard
   error, first reading at each position; ``phone_main_tof`` seed 0) has a median of 0.22 DoF
   in bright light and in low light alike, 10-90 % 0.07-0.90: the wide ones come far from
   focus, where the first jump is clear anyway, so on ``stills-bright`` one photograph per
   seed waits one more frame and no in-focus rate moves (docs/af.md).

Calibration (``calibration=``): a :class:`~focuslab.af.phase_calibration.PhaseCalibration`,
its dict, or the path of its JSON; else ``context.extra["phase_calibration"]``; else, when the
context names a built-in camera preset with the same lens and pitch, the preset is
calibrated at reset by :func:`~focuslab.af.phase_calibration.calibrate_phase_gain` (21 renders
of a 64-px region, about 1-5 s on one core, once per camera and process: the result is
cached); else the gain is measured online: after the first frame the lens makes a probe step
of ``probe_dof`` toward the side the disparity points to, and g = -(step) / (D_1 - D_0) (one
extra frame).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from focuslab.af.af_signals import (
    PhaseMeasurement,
    codes_per_dof,
    frame_settled,
    observation_disparity,
    pool_readings,
)
from focuslab.af.phase_calibration import PhaseCalibration, calibrate_phase_gain
from focuslab.af.policies.contrast_hillclimb import ContrastHillClimb
from focuslab.af.registry import register_policy
from focuslab.af.types import AFContext, Command, Observation
from focuslab.errors import InputFileError, InvalidParameterError, check_positive

#: Pooled 1-sigma (DoF) beyond which a full pool of frames is treated as no reading at all (a
#: 1-3 % wall's disparity at 800 lux: 20-40 DoF per frame): the policy falls back as on a low
#: confidence. Between ``confirm_sigma_dof`` and this it acts on the pooled estimate.
BLIND_SIGMA_DOF = 1.0

#: Calibrations made at reset, by camera preset name (one per process).
_LAZY_CALIBRATIONS: dict[str, PhaseCalibration] = {}


def load_calibration(calibration) -> PhaseCalibration | None:
    """A :class:`PhaseCalibration` from itself, its dict, or a JSON file path (None stays None).

    Raises
    ------
    InputFileError
        An unreadable or malformed file or dict.
    InvalidParameterError
        Any other type.
    """
    if calibration is None or isinstance(calibration, PhaseCalibration):
        return calibration
    if isinstance(calibration, dict):
        return PhaseCalibration.from_dict(calibration)
    if isinstance(calibration, str | os.PathLike):
        import json

        path = Path(calibration)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise InputFileError(f"cannot read the phase calibration {str(path)!r}: {exc}") from None
        if not isinstance(data, dict):
            raise InputFileError(f"{str(path)!r} is not a phase calibration (a JSON object)")
        return PhaseCalibration.from_dict(data)
    raise InvalidParameterError(
        f"calibration must be a PhaseCalibration, its dict, a JSON path or None, got {type(calibration).__name__}"
    )


def preset_dp_camera(context: AFContext):
    """The simulated dual-pixel camera named by ``context.name`` (a preset, or a camera file
    loaded in this process: :mod:`focuslab.camera.camera_file`), or None.

    None when no such camera has that name, when it has no dual pixel, or when its lens or
    preview pitch differ from the context's (a modified camera under a preset's name): a
    calibration made on the named camera would not be this camera's.
    """
    from focuslab.camera.camera_file import looks_like_camera_file
    from focuslab.camera.presets import get_camera
    from focuslab.errors import UnknownNameError

    name = context.name
    if not isinstance(name, str) or looks_like_camera_file(name):
        return None  # a replayed folder named like a file is not a camera file to load
    try:
        cam = get_camera(name)
    except UnknownNameError:
        return None
    same = (
        context.focal_length_mm is not None
        and math.isclose(cam.lens.focal_length_mm, float(context.focal_length_mm), rel_tol=1e-6)
        and context.f_number is not None
        and math.isclose(cam.lens.f_number, float(context.f_number), rel_tol=1e-6)
        and context.pixel_pitch_um is not None
        and math.isclose(cam.stream_sensor.pixel_pitch_um, float(context.pixel_pitch_um), rel_tol=1e-6)
    )
    return cam if same and cam.has_dual_pixel else None


def preset_calibration(context: AFContext) -> PhaseCalibration | None:
    """Calibration of the built-in camera preset named by ``context.name`` (cached), or None
    (:func:`preset_dp_camera`)."""
    cam = preset_dp_camera(context)
    if cam is None:
        return None
    name = context.name
    if name not in _LAZY_CALIBRATIONS:
        _LAZY_CALIBRATIONS[name] = calibrate_phase_gain(cam)
    return _LAZY_CALIBRATIONS[name]


def resolve_calibration(calibration, context: AFContext) -> PhaseCalibration | None:
    """The calibration a phase-using policy runs with (see the module notes), None: online."""
    cal = load_calibration(calibration)
    if cal is None:
        cal = load_calibration(context.extra.get("phase_calibration"))
    if cal is None:
        cal = preset_calibration(context)
    return cal


def approach_move(move: float, dof: float, fraction: float) -> float:
    """A long jump shortened to stop short of focus: by (1 - ``fraction``) of it, at least 2.5 DoF.

    At least 2.5 DoF short keeps the lens outside the dead zone (where the disparity reads
    ~0 and cannot tell the side), so the confirm measures a usable disparity; never more
    than half the jump.
    """
    short = min(max((1.0 - fraction) * abs(move), 2.5 * dof), 0.5 * abs(move))
    return math.copysign(abs(move) - short, move)


class PhaseAF:
    """Phase-detect AF (see the module notes).

    Parameters
    ----------
    calibration
        PhaseCalibration, its dict, a JSON path, or None (resolved at reset).
    min_confidence
        Pooled disparity confidence below which a measurement is not used, in [0, 1].
    done_dof
        Done when the predicted move is below this many DoF.
    max_corrections
        Corrections after the first jump (>= 0).
    max_frames
        Frames after which the policy stops (>= 2).
    fallback
        Hand over to contrast hill-climbing on low confidence (else stop and report it).
    probe_dof
        Probe step of the online gain measurement, DoF.
    lowpass_sigma_px
        Pre-filter of the dual-pixel views (0 = off; ~1 in low light).
    approach_dof, approach_fraction
        A first jump longer than ``approach_dof`` DoF goes ``approach_fraction`` of the way,
        so that the lens stops short of focus, where the disparity is still measurable
        (outside the dead zone), and the confirm finishes in the same direction: no reversal,
        and the actuator's play is taken up the same way.
    nearest_subject
        Pool only the nearest depth's patches (:func:`~focuslab.af.af_signals.nearest_cluster`).
    confirm_sigma_dof
        Largest pooled 1-sigma (DoF) at which a reading within ``done_dof`` ends the run;
        above it the lens stays and the next frame is pooled (``inf``: one frame decides).
    max_pool
        Most frames pooled at one lens position before the policy acts on what it has (>= 1).
    """

    name = "phase"
    requires: frozenset[str] = frozenset({"dual_pixel"})

    def __init__(
        self,
        *,
        calibration=None,
        min_confidence: float = 0.25,
        done_dof: float = 0.5,
        max_corrections: int = 2,
        max_frames: int = 12,
        fallback: bool = True,
        probe_dof: float = 4.0,
        lowpass_sigma_px: float = 0.0,
        approach_dof: float = 6.0,
        approach_fraction: float = 0.9,
        nearest_subject: bool = False,
        confirm_sigma_dof: float = 0.3,
        max_pool: int = 4,
    ) -> None:
        self.calibration = load_calibration(calibration)
        mc = float(min_confidence)
        if not 0.0 <= mc <= 1.0:
            raise InvalidParameterError(f"min_confidence must be in [0, 1], got {min_confidence!r}")
        self.min_confidence = mc
        self.done_dof = check_positive("done_dof", done_dof)
        for key, v, lo in (("max_corrections", max_corrections, 0), ("max_frames", max_frames, 2)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
                raise InvalidParameterError(f"{key} must be an integer >= {lo}, got {v!r}")
        self.max_corrections = int(max_corrections)
        self.max_frames = int(max_frames)
        self.fallback = bool(fallback)
        self.probe_dof = check_positive("probe_dof", probe_dof)
        self.lowpass_sigma_px = check_positive("lowpass_sigma_px", lowpass_sigma_px, allow_zero=True)
        self.approach_dof = check_positive("approach_dof", approach_dof)
        af = float(approach_fraction)
        if not 0.5 <= af <= 1.0:
            raise InvalidParameterError(f"approach_fraction must be in [0.5, 1], got {approach_fraction!r}")
        self.approach_fraction = af
        self.nearest_subject = bool(nearest_subject)
        try:
            csd = float(confirm_sigma_dof)
        except (TypeError, ValueError):
            csd = math.nan
        if not csd > 0.0:  # inf allowed: one frame decides
            raise InvalidParameterError(f"confirm_sigma_dof must be > 0 (inf: no pooling), got {confirm_sigma_dof!r}")
        self.confirm_sigma_dof = csd
        if isinstance(max_pool, bool) or not isinstance(max_pool, int | np.integer) or max_pool < 1:
            raise InvalidParameterError(f"max_pool must be an integer >= 1, got {max_pool!r}")
        self.max_pool = int(max_pool)
        self._ctx: AFContext | None = None

    def reset(self, context: AFContext) -> None:
        """Forget the previous run and resolve the calibration (may render, see the notes)."""
        self._ctx = context
        self._cal = resolve_calibration(self.calibration, context)
        self._gain = None if self._cal is None else float(self._cal.gain_codes_per_px)
        self._offset = 0.0 if self._cal is None else float(self._cal.offset_px)
        self._frames = 0
        self._jumps = 0
        self._probe: tuple[float, float] | None = None
        self._approach = 0
        self._cmd_t = -math.inf
        self._cmd_move = 0.0
        self._hc: ContrastHillClimb | None = None
        self._pool: list[tuple[float, float]] = []  # (disparity, sigma) of the frames at this code
        self._done = False
        self.last_measurement: PhaseMeasurement | None = None
        self.last_confidence = math.nan

    @property
    def gain_codes_per_px(self) -> float | None:
        """The gain in use (None until measured online)."""
        return self._gain

    @property
    def fell_back(self) -> bool:
        """Whether this run handed over to contrast hill-climbing."""
        return self._hc is not None

    def _clip(self, code: float) -> int:
        return int(np.clip(round(code), self._ctx.min_code, self._ctx.max_code))

    def step(self, observation: Observation) -> Command:
        """Measure the disparity and jump, confirm, or finish (see the module notes)."""
        if self._ctx is None:
            raise InvalidParameterError("call reset(context) before step(); the policy has no AF context")
        if self._hc is not None:
            return self._hc.step(observation)
        if self._done:
            return Command(done=True)
        self._frames += 1
        code = int(observation.lens_code)
        rep = float(observation.reported_code)
        dof = codes_per_dof(self._ctx, code)
        if self._frames >= self.max_frames:
            self._done = True
            return Command(done=True)
        moving = math.isfinite(rep) and abs(rep - code) > dof
        if self._frames > 1 and (moving or not frame_settled(self._ctx, observation, self._cmd_t, self._cmd_move)):
            self._cmd_move = 0.0
            return Command()  # the lens was still on its way during this exposure: wait a frame
        meas = observation_disparity(
            observation, lowpass_sigma_px=self.lowpass_sigma_px, nearest=self.nearest_subject
        )
        self.last_measurement = meas
        self.last_confidence = meas.confidence
        if not (meas.confidence >= self.min_confidence and math.isfinite(meas.disparity_px)):
            return self._blind(observation)
        if self._gain is None:
            return self._online_gain(observation, meas, dof)
        disparity, sigma = self._pooled(meas)
        if self._cal is not None and self._gain == self._cal.gain_codes_per_px:
            move = self._cal.move_codes(disparity, sigma_px=sigma)
        else:
            move = self._gain * (disparity - self._offset)
        sigma_dof = abs(self._gain) * sigma / dof if math.isfinite(sigma) else math.inf
        more = len(self._pool) < self.max_pool and self._frames < self.max_frames - 1
        ambiguous = self._cal is not None and self._cal.in_dead_zone(disparity, sigma_px=sigma)
        if self._approach and ambiguous:
            # stopped short of focus after a one-sided approach: focus is 0..z further on
            self._done = True
            return Command(target_code=self._clip(code + self._approach * 0.5 * self._cal.dead_zone_codes), done=True)
        if self._jumps > self.max_corrections:
            self._done = True
            return Command(done=True)
        if sigma_dof > self.confirm_sigma_dof:
            # too noisy to call focus; a move only when clearly beyond the noise (the first jump
            # from far off: 2 sigma; a correction: 4 sigma), else pool the next frame
            clear = abs(move) > self.done_dof * dof and abs(move) >= (4.0 if self._jumps else 2.0) * sigma_dof * dof
            if not clear:
                if more:
                    return Command()
                if sigma_dof > BLIND_SIGMA_DOF:
                    return self._blind(observation)
        if abs(move) <= self.done_dof * dof:
            self._done = True
            return Command(done=True)
        self._approach = 0
        if self._jumps == 0 and abs(move) > self.approach_dof * dof:
            move = approach_move(move, dof, self.approach_fraction)
            self._approach = 1 if move > 0 else -1
        self._jumps += 1
        return self._send(observation, code + move)

    def _blind(self, observation: Observation) -> Command:
        """The pooled disparity says nothing: as a low confidence, contrast or stop and report."""
        if self.fallback:
            self._hc = ContrastHillClimb(max_frames=max(4, self.max_frames + 18))
            return self._hc.start_from(self._ctx, observation)
        self._done = True
        return Command(done=True)

    def _pooled(self, meas: PhaseMeasurement) -> tuple[float, float]:
        """Inverse-variance mean of this code's settled readings (this one added) and its sigma."""
        s = meas.sigma_px if math.isfinite(meas.sigma_px) and meas.sigma_px > 0 else math.inf
        self._pool.append((float(meas.disparity_px), float(s)))
        finite = [(d, max(e, 1e-6)) for d, e in self._pool if math.isfinite(e)]
        if not finite:
            return float(meas.disparity_px), math.inf
        return pool_readings(finite, scatter_level=None)  # the sigmas are the patches' measured noise

    def _send(self, observation: Observation, target: float) -> Command:
        self._pool = []
        c = self._clip(target)
        self._cmd_t = float(observation.t_s) + float(observation.exposure_s)
        self._cmd_move = float(c - int(observation.lens_code))
        return Command(target_code=c)

    def _online_gain(self, observation: Observation, meas: PhaseMeasurement, dof: float) -> Command:
        ctx = self._ctx
        code = int(observation.lens_code)
        if self._probe is None:
            sign = 1.0 if meas.disparity_px >= 0 else -1.0
            if code + sign * self.probe_dof * dof > ctx.max_code or code + sign * self.probe_dof * dof < ctx.min_code:
                sign = -sign
            self._probe = (float(code), meas.disparity_px)
            return self._send(observation, code + sign * self.probe_dof * dof)
        c0, d0 = self._probe
        dd = meas.disparity_px - d0
        dc = code - c0
        noise = 3.0 * (meas.sigma_px if math.isfinite(meas.sigma_px) else abs(dd))
        if dc == 0 or dd == 0 or -dc / dd <= 0 or abs(dd) < noise:
            return self._blind(observation)
        self._gain = -dc / dd
        self._offset = 0.0
        move = self._gain * meas.disparity_px
        self._jumps += 1
        return self._send(observation, code + move)


@register_policy("phase")
def make_phase(**options) -> PhaseAF:
    """Factory of :class:`PhaseAF` (options are its keyword arguments)."""
    return PhaseAF(**options)
