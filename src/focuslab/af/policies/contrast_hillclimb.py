"""``contrast-hillclimb``: contrast-detect AF as shipped on cameras without phase detection.

The lens climbs the focus curve F(code) of the AF region (:func:`focuslab.af.af_signals.
focus_value`, Tenengrad of the balanced raw mosaic) frame by frame:

1. **Direction.** Frame 0 scores the start; the lens makes a probe step of ``coarse_dof``
   toward the larger part of the code range (or, as a fallback, toward the side the caller's
   uncertain reading points to: :meth:`ContrastHillClimb.start_from`). If F dropped by more than the hysteresis
   threshold the climb turns round (to the other side of the start), else it goes on. It
   does not turn round toward an end stop less than half a step behind the start: there is
   nothing there to search that the start sample does not already show.
2. **Climb.** Coarse steps of ``coarse_dof`` depths of focus (converted to codes at the
   current position through the factory calibration) while F rises, lengthened far from
   focus: the curve's tail falls about as 1/|defocus|, so a relative rise dF/F over a step dx
   puts the peak ~dx F/dF away, and the step is ``distance_fraction`` of that, capped at
   ``max_step_dof`` (default: constant coarse steps). A drop of more than the
   threshold below the best value so far means the peak was passed; two steps in a row
   within the noise of the best (a plateau) or the end of the range end the climb too.
   A plateau needs the rise over the last two and three steps to stay within the threshold
   too: far from focus the curve rises by a few per cent per step, each step inside the noise
   but several together well above it (a 6 mm f/1.8 lens from the macro end at 6 lux:
   4.41 -> 5.22 over six steps with a threshold of 0.31), which is a slope to climb, not a
   top. Two confirmations keep the climb going where a plain hill climb stops short:

   * *Far tail.* Until F has once risen significantly, a drop or a plateau is taken as a
     peak only when F fell at least ``min_drop_fraction`` of the way from the best down to
     the noise floor (the pixel noise's own Tenengrad, 2 x 12 sigma^2 for the balanced
     mosaic's noise sigma, the lowest over the frames so far, kept below the lowest F): far
     from focus the texture's F changes by only dx / x per step (F ~ 1 / |defocus|), so a
     slow drift of a few per cent (exposure, magnification) is a tail, not a peak, and the
     search goes on to the end of the range (a real end-stop subject drops F by ~30 %
     within one coarse step). Measured against the floor, a low-contrast wall whose F is
     mostly noise still shows its small in-focus bump as a large share of its texture's F.
   * *Another subject ahead.* Every frame is also scored on the four quadrants of the AF
     region (split at even rows and columns). When the whole region's F falls but some
     quadrant's F still rose over the last step by more than its noise threshold and
     ``ahead_rise_fraction`` of its value, part of the region is still coming into focus:
     a second subject lies further along (a region over a near object and a farther
     surface, as in the replayed depth-mapper centre region, whose curve peaks at frames 10
     and 22). The climb goes on through the valley; the peak is then the region's global
     maximum, as the full sweep's.
3. **Refine.** The two midpoints around the best sample at half the last step (those not
   already sampled, nearest first), halving again around the new best until the spacing is
   at most ``coarse_dof`` / 2 (after a long step the bracket is wide). When the best sample
   is the outermost one sampled (and the end stop is more than half a step beyond it), the
   peak is not bracketed: the climb resumes outward from it (at most twice a run). This
   catches a probe whose drop stayed within the noise, so that the climb went the wrong way
   and turned at its first significant drop: the start, the best sample so far, then lies
   ahead of the refine bracket, and a refine that stayed between the samples settled on its
   edge (no_pdaf at ~6 lux: 6.7 DoF off).
4. **Peak.** A Gaussian through the samples nearest the maximum (:func:`~focuslab.af.
   af_signals.fit_focus_peak`, 3-5 samples) gives the peak; the lens moves there.
5. **Settle.** The next frame checks the actuator's reported position; it is done when the
   lens is within ``settle_dof`` of the peak, else one correction by the remaining offset
   (the actuator's play) and done.

Hysteresis threshold: T = max(``k_sigma`` sigma_F, ``min_rel_threshold`` F_best), where
sigma_F is the frame-to-frame noise of F: the standard deviation of F between frames taken
with the lens resting at the same place (each such pair gives |dF| / sqrt(2)), and until
there is such a pair the prediction from the frame's own pixel noise
(:class:`~focuslab.af.af_signals.FocusValue` ``noise``, conservative). After ``max_frames``
frames the lens goes to the best sample seen and the policy is done: it never waits forever.

Positions of the samples are the actuator's reported positions (Hall sensor), so play and
overshoot do not bias the fit; commands are codes.

References
----------
.. [1] N. Kehtarnavaz, H.-J. Oh, "Development and real-time implementation of a rule-based
       auto-focus algorithm", Real-Time Imaging 9(3):197-203, 2003 (coarse/mid/fine steps,
       direction search, peak interpolation).
.. [2] J. He, R. Zhou, Z. Hong, "Modified fast climbing search auto-focus algorithm with
       adaptive step size searching technique for digital camera", IEEE Trans. Consumer
       Electronics 49(2):257-262, 2003.
"""

from __future__ import annotations

import math

import numpy as np

from focuslab.af.af_signals import (
    SOBEL_SQUARED_SUM,
    FocusValue,
    codes_per_dof,
    fit_focus_peak,
    focus_value,
    observation_focus,
)
from focuslab.af.registry import register_policy
from focuslab.af.types import AFContext, Command, Observation
from focuslab.errors import InvalidParameterError, check_positive


class ContrastHillClimb:
    """Contrast hill-climbing AF (see the module notes).

    Parameters
    ----------
    coarse_dof
        Climb step, depth-of-focus units (> 0).
    k_sigma
        Hysteresis threshold in noise standard deviations (> 0).
    min_rel_threshold
        Floor of the threshold as a fraction of the best focus value (>= 0).
    settle_dof
        The lens is settled when its reported position is this close to the target, DoF.
    max_frames
        Frames after which the policy goes to its best sample and is done (>= 4).
    method
        Focus-measure operator.
    max_step_dof
        Longest climb step, DoF; the default (= ``coarse_dof``) keeps the steps constant:
        longer steps reach a far peak in fewer frames (8 DoF: ~2 frames fewer from the far
        end on ``stills-bright``) but overshoot it and need more reversals to bracket it.
    distance_fraction
        Climb step as a fraction of the distance to the peak estimated from the last rise
        (at least ``coarse_dof``, at most ``max_step_dof``).
    min_drop_fraction
        Before F has once risen, the drop below the best value that confirms a peak, as a
        fraction of the way from the best down to the pixel noise's Tenengrad floor (in
        [0, 1); 0 turns the far-tail confirmation off).
    ahead_rise_fraction
        Relative rise of a quadrant over one step that means another subject lies ahead
        (> 0; ``math.inf`` turns the quadrant check off).
    """

    name = "contrast-hillclimb"
    requires: frozenset[str] = frozenset()

    def __init__(
        self,
        *,
        coarse_dof: float = 3.0,
        k_sigma: float = 3.0,
        min_rel_threshold: float = 0.01,
        settle_dof: float = 0.5,
        max_frames: int = 30,
        method: str = "TENG",
        max_step_dof: float = 3.0,
        distance_fraction: float = 0.4,
        min_drop_fraction: float = 0.2,
        ahead_rise_fraction: float = 0.1,
    ) -> None:
        self.coarse_dof = check_positive("coarse_dof", coarse_dof)
        self.k_sigma = check_positive("k_sigma", k_sigma)
        self.min_rel_threshold = check_positive("min_rel_threshold", min_rel_threshold, allow_zero=True)
        self.settle_dof = check_positive("settle_dof", settle_dof)
        if isinstance(max_frames, bool) or not isinstance(max_frames, int | np.integer) or max_frames < 4:
            raise InvalidParameterError(f"max_frames must be an integer >= 4, got {max_frames!r}")
        self.max_frames = int(max_frames)
        self.method = str(method)
        self.max_step_dof = check_positive("max_step_dof", max_step_dof)
        self.distance_fraction = check_positive("distance_fraction", distance_fraction)
        if not 0.0 <= float(min_drop_fraction) < 1.0:
            raise InvalidParameterError(f"min_drop_fraction must be in [0, 1), got {min_drop_fraction!r}")
        self.min_drop_fraction = float(min_drop_fraction)
        try:
            ahead = float(ahead_rise_fraction)
        except (TypeError, ValueError):
            ahead = math.nan
        if not ahead > 0.0:  # inf allowed: the quadrant check off
            raise InvalidParameterError(f"ahead_rise_fraction must be > 0 (inf: off), got {ahead_rise_fraction!r}")
        self.ahead_rise_fraction = ahead
        self._ctx: AFContext | None = None

    # ------------------------------------------------------------------ state
    def reset(self, context: AFContext) -> None:
        """Forget the previous run."""
        self._ctx = context
        self._codes: list[float] = []
        self._values: list[float] = []
        self._quads: list[tuple[np.ndarray, np.ndarray]] = []  # per frame: quadrant values, their noise
        self._rose = False
        self._noise_floor = math.inf
        self._prior_noise = math.nan
        self._pair_var: list[float] = []
        self._frames = 0
        self._phase = "start"
        self._dir = 1
        self._hint: int | None = None  # the probe's side, given by start_from
        self._step = 0.0
        self._rstep = 0.0
        self._flat = 0
        self._target: float | None = None
        self._last_cmd: int | None = None
        self._last_rep: float | None = None
        self._last_val: float | None = None
        self._refine: list[float] = []
        self._peak: float | None = None
        self._corrected = False
        self._resumed = 0
        self.last_fit = None

    def start_from(self, context: AFContext, observation: Observation, direction: int | None = None) -> Command:
        """Begin a climb at ``observation`` (used by the phase, hybrid and learned fallbacks).

        ``direction`` (+1: toward larger codes, -1: smaller), when given, is where the probe
        step goes instead of the larger part of the code range: the side an uncertain
        phase or network reading points to (a wrong side costs the probe: F drops and the climb
        turns round, as from the default side). An end stop less than a step away on that side
        falls back to the default."""
        if direction is not None and direction not in (-1, 1):
            raise InvalidParameterError(f"direction must be -1, 1 or None, got {direction!r}")
        self.reset(context)
        self._hint = direction
        return self.step(observation)

    @property
    def frames(self) -> int:
        """Frames seen in this run."""
        return self._frames

    def _clip(self, code: float) -> int:
        ctx = self._ctx
        return int(np.clip(round(code), ctx.min_code, ctx.max_code))

    def _dof(self, code: float) -> float:
        return codes_per_dof(self._ctx, code)

    def threshold(self) -> float:
        """The hysteresis threshold T on focus-value changes (see the module notes)."""
        if self._pair_var:
            sigma = math.sqrt(float(np.mean(self._pair_var)))
        else:
            sigma = self._prior_noise if math.isfinite(self._prior_noise) else 0.0
        best = max(self._values) if self._values else 0.0
        return max(self.k_sigma * sigma, self.min_rel_threshold * best)

    def _move(self, code: float) -> Command:
        c = self._clip(code)
        self._target = float(c)
        self._last_cmd = c
        return Command(target_code=c)

    def _finish(self, code: float | None = None) -> Command:
        self._phase = "done"
        if code is None:
            return Command(done=True)
        c = self._clip(code)
        return Command(target_code=c if c != self._last_cmd else None, done=True)

    def _sampled_near(self, code: float, tol: float) -> bool:
        return any(abs(c - code) < tol for c in self._codes)

    # ------------------------------------------------------------------ step
    def step(self, observation: Observation) -> Command:
        """Score the frame and decide the next move (see the module notes)."""
        if self._ctx is None:
            raise InvalidParameterError("call reset(context) before step(); the policy has no AF context")
        ctx = self._ctx
        try:
            fv = observation_focus(observation, method=self.method)
        except InvalidParameterError:
            if not np.all(np.isfinite(observation.image)):
                raise
            fv = FocusValue(0.0, math.nan, 0.0, math.nan)  # no light in the region: no contrast
        pos = float(observation.reported_code)
        if not math.isfinite(pos):
            pos = float(observation.lens_code)
        if self._last_cmd is None:
            self._last_cmd = int(observation.lens_code)
        dof = self._dof(pos)
        # frame-to-frame noise: two frames with the lens resting at the same place
        if (
            self._last_rep is not None
            and self._last_val is not None
            and int(observation.lens_code) == self._last_cmd
            and abs(pos - self._last_rep) < 0.25 * dof
        ):
            self._pair_var.append(0.5 * (fv.value - self._last_val) ** 2)
        self._last_rep, self._last_val = pos, fv.value
        self._codes.append(pos)
        self._values.append(fv.value)
        self._quads.append(self._quadrant_values(observation))
        if self.method == "TENG" and math.isfinite(fv.noise_sigma):
            self._noise_floor = min(self._noise_floor, 2.0 * SOBEL_SQUARED_SUM * fv.noise_sigma**2)
        if math.isfinite(fv.noise):
            self._prior_noise = fv.noise if not math.isfinite(self._prior_noise) else min(self._prior_noise, fv.noise)
        self._frames += 1

        if self._phase == "done":
            return Command(done=True)
        if self._phase == "settle":
            return self._settle(pos, dof)
        if self._frames >= self.max_frames:
            return self._go_to_peak(final=True)

        thr = self.threshold()
        if self._phase == "start":
            self._start_code = pos
            self._step = self.coarse_dof * dof
            up, down = ctx.max_code - pos, pos - ctx.min_code
            self._dir = 1 if up >= down else -1
            if self._hint is not None and (up if self._hint > 0 else down) >= self._step:
                self._dir = self._hint
            self._phase = "probe"
            return self._move(pos + self._dir * self._step)
        if self._phase == "probe":
            f0 = self._values[0]
            behind = self._start_code - ctx.min_code if self._dir > 0 else ctx.max_code - self._start_code
            if fv.value > f0 + thr:
                self._rose = True
            if fv.value < f0 - thr and behind >= 0.5 * self._step:
                self._dir = -self._dir
                self._phase = "climb"
                return self._climb_move(self._start_code)
            self._phase = "climb"
            return self._climb_move(pos)
        if self._phase == "climb":
            best = max(self._values)
            if fv.value >= best and len(self._values) > 1 and fv.value > max(self._values[:-1]) + thr:
                self._flat = 0
                self._rose = True
            elif self._subject_ahead(thr_k=self.k_sigma):
                self._flat = 0  # part of the region still sharpens: another subject further along
            elif not self._rose and best - min(self._values) < self.min_drop_fraction * (best - self._floor()):
                self._flat = 0  # a far tail: no peak yet, search on
            elif fv.value < best - thr:
                return self._start_refine()
            elif self._rising_trend(thr):
                self._flat = 0  # steps each within the noise, but together a climb: a slow tail
            else:
                self._flat += 1
                if self._flat >= 2:
                    return self._start_refine()
            return self._climb_move(pos)
        if self._phase == "refine":
            return self._refine_move(pos)
        return self._go_to_peak(final=True)

    def _rising_trend(self, thr: float) -> bool:
        """Whether F rose by more than ``thr`` over the last two or three climb steps (module notes)."""
        v, c = self._values, self._codes
        for k in (2, 3):
            if len(v) > k and (c[-1] - c[-1 - k]) * self._dir > 0 and v[-1] - v[-1 - k] > thr:
                return True
        return False

    def _floor(self) -> float:
        """The pixel noise's share of F (Tenengrad: 24 sigma^2, lowest over the frames), below the lowest F seen."""
        if not math.isfinite(self._noise_floor) or not self._values:
            return 0.0
        return min(self._noise_floor, 0.99 * min(self._values))

    def _quadrant_values(self, observation: Observation) -> tuple[np.ndarray, np.ndarray]:
        """Focus values and predicted noise of the four quadrants of the AF region (NaN when unusable)."""
        img = np.asarray(observation.image)
        h2, w2 = (img.shape[0] // 4) * 2, (img.shape[1] // 4) * 2
        vals, noise = np.full(4, np.nan), np.full(4, np.nan)
        if h2 < 4 or w2 < 4:
            return vals, noise
        for k, q in enumerate((img[:h2, :w2], img[:h2, w2:], img[h2:, :w2], img[h2:, w2:])):
            try:
                f = focus_value(q, cfa=observation.cfa, method=self.method)
            except InvalidParameterError:
                continue
            vals[k], noise[k] = f.value, f.noise
        return vals, noise

    def _subject_ahead(self, *, thr_k: float) -> bool:
        """Whether some quadrant's F rose significantly over the last climb step (see the module notes)."""
        if len(self._quads) < 2 or not math.isfinite(self.ahead_rise_fraction):
            return False
        pos = self._codes[-1]
        if self._at_end(pos):
            return False
        moved = (self._codes[-1] - self._codes[-2]) * self._dir
        if moved < 0.5 * self.coarse_dof * self._dof(pos):
            return False
        (v1, n1), (v0, n0) = self._quads[-1], self._quads[-2]
        noise = np.sqrt(np.where(np.isfinite(n1), n1, 0.0) ** 2 + np.where(np.isfinite(n0), n0, 0.0) ** 2)
        thr = np.maximum(thr_k * noise, self.ahead_rise_fraction * v0)
        with np.errstate(invalid="ignore"):
            return bool(np.any(v1 - v0 > thr))

    def _climb_move(self, pos: float) -> Command:
        dof = self._dof(pos)
        base = self.coarse_dof * dof
        v = self._values
        self._step = base
        if len(v) >= 2 and v[-2] > 0 and v[-1] > v[-2]:
            # far out of focus F falls about as 1 / |defocus|, so dF / F = dx / x: the last rise
            # says roughly how far the peak still is; step a fraction of that (capped)
            rise = (v[-1] - v[-2]) / v[-2]
            last = abs(self._codes[-1] - self._codes[-2])
            self._step = float(np.clip(self.distance_fraction * last / rise, base, self.max_step_dof * dof))
        nxt = pos + self._dir * self._step
        if self._at_end(pos):
            return self._start_refine()
        return self._move(nxt)

    def _at_end(self, pos: float) -> bool:
        """Whether the climb stands at the end stop it climbs toward: the reported position is
        there, or the lens was already commanded to it (with the actuator's play the reported
        position can rest a few codes short of the stop: a climb that tested the position alone
        kept commanding the stop, saw the same flat focus value and ran out its frames there,
        22 frames on a phone_tele low-light case)."""
        ctx = self._ctx
        if self._dir > 0:
            return pos >= ctx.max_code - 0.5 or (self._last_cmd is not None and self._last_cmd >= ctx.max_code)
        return pos <= ctx.min_code + 0.5 or (self._last_cmd is not None and self._last_cmd <= ctx.min_code)

    def _start_refine(self) -> Command:
        self._phase = "refine"
        xb = float(self._codes[int(np.argmax(self._values))])
        self._rstep = 0.5 * max(self._step, self.coarse_dof * self._dof(xb))
        self._refine_candidates()
        return self._refine_move(self._codes[-1])

    def _refine_candidates(self) -> None:
        xb = float(self._codes[int(np.argmax(self._values))])
        half = self._rstep
        ctx = self._ctx
        self._refine = [
            c for c in (xb - half, xb + half)
            if ctx.min_code <= c <= ctx.max_code and not self._sampled_near(c, 0.3 * half)
        ]

    def _refine_move(self, pos: float) -> Command:
        resume = self._outward_of_samples()
        if resume:  # the best sample is the outermost one: the peak lies beyond it, climb on
            self._resumed += 1
            self._phase, self._dir, self._flat, self._refine = "climb", resume, 0, []
            return self._climb_move(float(self._codes[int(np.argmax(self._values))]))
        while not self._refine:
            xb = float(self._codes[int(np.argmax(self._values))])
            if self._rstep <= 0.75 * self.coarse_dof * self._dof(xb):
                return self._go_to_peak(final=False)
            self._rstep *= 0.5  # halve around the best sample until the steps are ~1.5 DoF
            self._refine_candidates()
        self._refine.sort(key=lambda c: abs(c - pos))
        return self._move(self._refine.pop(0))

    def _outward_of_samples(self) -> int:
        """+1 / -1 when the best sample is the highest / lowest code sampled with the end stop
        that way still half a coarse step off (at most twice a run), else 0 (module notes)."""
        if self._resumed >= 2 or len(self._codes) < 3:
            return 0
        codes = np.asarray(self._codes)
        xb = float(codes[int(np.argmax(self._values))])
        dof = self._dof(xb)
        ctx = self._ctx
        room = 0.5 * self.coarse_dof * dof
        if xb <= codes.min() + 0.25 * dof and xb - ctx.min_code > room:
            return -1
        if xb >= codes.max() - 0.25 * dof and ctx.max_code - xb > room:
            return 1
        return 0

    def _go_to_peak(self, *, final: bool) -> Command:
        if max(self._values) <= 0.0:
            return self._finish()  # nothing to focus on (a dark region)
        fit = fit_focus_peak(self._codes, self._values, max_samples=5)
        self.last_fit = fit
        self._peak = fit.code
        if final:
            return self._finish(fit.code)
        self._phase = "settle"
        return self._move(fit.code)

    def _settle(self, pos: float, dof: float) -> Command:
        off = self._peak - pos
        if abs(off) <= self.settle_dof * dof or self._corrected:
            return self._finish()
        self._corrected = True
        return self._finish(self._last_cmd + off)


@register_policy("contrast-hillclimb")
def make_contrast_hillclimb(**options) -> ContrastHillClimb:
    """Factory of :class:`ContrastHillClimb` (options are its keyword arguments)."""
    return ContrastHillClimb(**options)
