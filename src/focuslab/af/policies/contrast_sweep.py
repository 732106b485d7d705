"""``contrast-sweep``: the full contrast sweep with an interpolated peak (the slow, exact reference).

Plan. The lens visits codes from the infinity end to the macro end of the code range:
every ``step_dof`` depths of focus when the lens model is known (step in codes =
``step_dof`` c_max N (s/f) / (dd/dcode), the lens travel that moves the blur of an in-focus
subject by c_max: c = A |Δs| / s with A = f / N), every frame's lens position on a replayed
stack (``context.extra["lens_positions"]``), otherwise ``steps`` equal steps.

Scoring. Each frame taken with the lens at a planned code (and settled: the first sample after
a long move waits the actuator's settling time) is scored with ``focus_measure`` (TENG by
default) on the green plane of the raw AF region (:func:`focuslab.af.green_plane.green_plane`).

Subject. With ``priority="nearest"`` (the default) each frame is also scored on the four
quadrants of the AF region; the significant local maxima of every curve (whole region and
quadrants) are found (:func:`significant_peaks`: prominence above ``prominence_sigma`` times
the curve's own noise, rise above the curve's minimum at least ``min_height`` of the
highest peak's) and the one at the highest code — the nearest focus distance, codes grow
toward macro — is the subject; a quadrant holding only a near card then wins over a far
background that fills more of the region. When every quadrant (or only the whole region)
sees that peak, the whole-region curve is refined as below (a single subject: the old
result); otherwise the mean curve of the quadrants whose own peak lies within one sample of
it, by Gaussian interpolation at its top, between that peak's valleys. ``priority="max"``
(and every replayed stack, whose codes need not grow toward near) takes the global maximum
of the whole-region curve, as before.

Low SNR. When the curve's own sample noise is at least ``LOW_SNR_NOISE_FRACTION`` (5 %) of
its range and no peak of the whole-region curve stands out of it (a wall of 1-3 % contrast,
whose in-focus texture adds a few per cent to a Tenengrad dominated by pixel noise), the
global maximum is one noisy sample anywhere in the sweep. Then, with a lens model, each
frame's second score — the same measure after a Gaussian pre-filter of ``lowpass_sigma_px``
(1 px), which removes most of the white pixel noise's gradient energy and keeps the 1/f
texture's low and middle frequencies, where defocus of a few DoF acts — is fitted over the
whole sweep with the physical curve shape F = b + a / sqrt(w^2 + (x - p)^2)
(:mod:`focuslab.af.focus_curve_fit`), and p is the peak. The noise test keeps smooth curves
out: a near card over a far background can leave the whole region without a significant
peak while a quadrant shows the card (noise / range 0.002), and that quadrant decides.

Fine pass. One frame per code does not carry enough information on a 1 % wall (a sweep of
28 frames missed by 1-2 DoF). So whenever the coarse curve is noise-dominated (the noise
test above) and the lens model is known, the sweep goes on: codes within
``fine_halfwidth_dof`` (4) depths of focus of the coarse peak, every ``fine_step_dof`` (0.75),
approached from below, ``fine_frames`` (12) frames at each, averaged as images (independent
noise draws, in the simulator as on a phone: 1/K of the pixel noise's gradient energy) and
given the low-pass score. The in-focus code is then a joint fit of eq. (1) to the coarse and
the fine curve (:func:`~focuslab.af.focus_curve_fit.fit_defocus_curves`: a noise floor each,
the texture's width and peak in common, each curve weighted by its own noise). This costs
frames (about 187 instead of 30 on the low-texture suite's walls): the reference is slow on
purpose, and the loop grants the policy's ``frame_budget`` beyond a case's frame limit
(:mod:`focuslab.af.loop`). A clean curve takes no fine pass and spends what it did before.

Peak. With a lens model, the midpoint of the two crossings of 70 % of the curve's rise
(:func:`half_level_centre`: the flanks of a defocus curve are mirror images when codes are
linear in defocus); otherwise, and when a flank leaves the sweep, Gaussian interpolation
through the best sample and its two neighbours, i.e. the vertex of the parabola through
(code, ln score) [1] — a focus curve near its peak is close to a Gaussian — falling back to
:func:`~focuslab.metrics.focus.peak_position` when a score is not positive. A replayed stack
has no lens model (its frames need not be evenly spaced in diopters, so its flanks need not
mirror each other): Gaussian top there. Then one move to the peak. Backlash: the sweep approaches every code from below,
so on a camera with a lens model the final move goes first ``backlash_dof`` depths of focus
below the peak and then up to it, reaching it from the same side as the samples (the play
offset then cancels). Done at the first frame with the lens at the peak code and settled.

References
----------
.. [1] M. Subbarao and J.-K. Tyan, "Selecting the optimal focus measure for autofocusing and
       depth-from-focus", IEEE TPAMI 20(8), 864-870 (1998) (Gaussian peak interpolation of
       focus curves).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from scipy import ndimage

from focuslab.af.focus_curve_fit import (
    LOW_SNR_NOISE_FRACTION,
    curve_noise_sd,
    fine_pass_codes,
    fit_defocus_curve,
    fit_defocus_curves,
    gaussian_peak,
    half_level_centre,
    peak_segment,
    significant_peaks,
)
from focuslab.af.green_plane import balanced_mosaic, bayer_planes, green_plane
from focuslab.af.registry import register_policy
from focuslab.af.types import AFContext, Command, Observation
from focuslab.errors import InvalidParameterError, check_positive
from focuslab.metrics.focus import focus_measure, focus_measure_names


def _quadrants(plane: np.ndarray) -> list[np.ndarray]:
    """The four quadrants of a plane, split at even rows and columns (a mosaic keeps its phase)."""
    h2, w2 = (plane.shape[0] // 4) * 2, (plane.shape[1] // 4) * 2
    return [plane[:h2, :w2], plane[:h2, w2:], plane[h2:, :w2], plane[h2:, w2:]]


def _planned_codes(ctx: AFContext, step_dof: float, steps: int) -> tuple[np.ndarray, float]:
    """Sweep codes (ascending) and the codes per depth of focus (NaN when unknown)."""
    lo, hi = int(ctx.min_code), int(ctx.max_code)
    positions = ctx.extra.get("lens_positions")
    if positions:
        return np.unique(np.round(np.asarray(positions, dtype=float)).astype(np.int64)), math.nan
    per_dof = math.nan
    if ctx.has_lens_model and ctx.coc_max_um and ctx.f_number and ctx.focal_length_mm:
        f = float(ctx.focal_length_mm)
        a, b = lo + (hi - lo) // 4, hi

        def image_distance_um(code: int) -> float:
            u_mm = 1e3 * float(ctx.distance_for_code(code))
            return 1e3 * f * u_mm / (u_mm - f)

        slope = (image_distance_um(b) - image_distance_um(a)) / max(b - a, 1)  # µm per code
        s_ratio = image_distance_um(hi) / (1e3 * f)
        dof_um = float(ctx.coc_max_um) * float(ctx.f_number) * s_ratio
        per_dof = dof_um / slope
        n = max(2, math.ceil((hi - lo) / (step_dof * per_dof)) + 1)
    else:
        n = max(2, int(steps))
    return np.unique(np.round(np.linspace(lo, hi, n)).astype(np.int64)), per_dof


class ContrastSweepPolicy:
    """Full sweep, Gaussian-interpolated peak, one (backlash-compensated) move (see the module notes).

    Parameters
    ----------
    step_dof
        Sweep step, depths of focus (with a lens model).
    steps
        Number of sweep positions without a lens model (replay uses every frame instead).
    measure
        Focus measure (:func:`focuslab.metrics.focus.focus_measure_names`).
    backlash_dof
        How far below the peak the final approach starts, depths of focus (0: direct move).
    plane
        ``"balanced"`` (full-resolution channel-balanced mosaic, the default) or ``"green"``
        (the green plane), see :mod:`focuslab.af.green_plane`.
    priority
        ``"nearest"`` (the default): the significant peak at the highest code over the whole
        region and its quadrants (the nearest subject); ``"max"``: the whole region's global
        maximum. A replayed stack (no lens model) always uses ``"max"``.
    min_height
        With ``"nearest"``: a peak's rise above the curve's minimum, as a fraction of the
        highest peak's, below which it is not a subject.
    prominence_sigma
        With ``"nearest"``: a peak's prominence, in units of the curve's sample noise
        (:func:`curve_noise_sd`), below which it is noise.
    lowpass_sigma_px
        Gaussian pre-filter (pixels of the scored plane) of the low-SNR score; 0 turns the
        low-SNR fit off (see the module notes).
    fine_halfwidth_dof, fine_step_dof, fine_frames
        The low-SNR fine pass: codes within ``fine_halfwidth_dof`` depths of focus of the coarse
        fit, every ``fine_step_dof``, ``fine_frames`` frames averaged at each (``fine_frames=0``
        turns the pass off; see the module notes).
    """

    name = "contrast-sweep"
    requires = frozenset()

    def __init__(
        self,
        *,
        step_dof: float = 1.5,
        steps: int = 24,
        measure: str = "TENG",
        backlash_dof: float = 1.0,
        plane: str = "balanced",
        priority: str = "nearest",
        min_height: float = 0.4,
        prominence_sigma: float = 6.0,
        lowpass_sigma_px: float = 1.0,
        fine_halfwidth_dof: float = 4.0,
        fine_step_dof: float = 0.75,
        fine_frames: int = 12,
    ):
        if priority not in ("nearest", "max"):
            raise InvalidParameterError(f"priority must be 'nearest' or 'max', got {priority!r}")
        self.priority = priority
        if not 0.0 <= float(min_height) <= 1.0:
            raise InvalidParameterError(f"min_height must be in [0, 1], got {min_height!r}")
        self.min_height = float(min_height)
        self.prominence_sigma = check_positive("prominence_sigma", prominence_sigma, allow_zero=True)
        self.lowpass_sigma_px = check_positive("lowpass_sigma_px", lowpass_sigma_px, allow_zero=True)
        if plane not in ("balanced", "green", "channels"):
            raise InvalidParameterError(f"plane must be 'balanced', 'green' or 'channels', got {plane!r}")
        self.plane = plane
        self.step_dof = check_positive("step_dof", step_dof)
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 3:
            raise InvalidParameterError(f"steps must be an integer >= 3, got {steps!r}")
        self.steps = steps
        if measure not in focus_measure_names():
            raise InvalidParameterError(
                f"unknown focus measure {measure!r}; use one of {', '.join(focus_measure_names())}"
            )
        self.measure = measure
        self.backlash_dof = check_positive("backlash_dof", backlash_dof, allow_zero=True)
        self.fine_halfwidth_dof = check_positive("fine_halfwidth_dof", fine_halfwidth_dof)
        self.fine_step_dof = check_positive("fine_step_dof", fine_step_dof)
        if isinstance(fine_frames, bool) or not isinstance(fine_frames, int) or fine_frames < 0:
            raise InvalidParameterError(f"fine_frames must be an integer >= 0, got {fine_frames!r}")
        self.fine_frames = fine_frames
        self._ctx: AFContext | None = None

    def reset(self, context: AFContext) -> None:
        """Plan the sweep for this camera."""
        self._ctx = context
        self._codes, per_dof = _planned_codes(context, self.step_dof, self.steps)
        self._per_dof = per_dof
        self._lp_scores: list[float] = []
        self._backlash = 0 if math.isnan(per_dof) else math.ceil(self.backlash_dof * per_dof)
        self._scores: list[float] = []
        self._tiles: list[list[float]] = []
        self._nearest = self.priority == "nearest" and context.has_lens_model
        self._linear = bool(context.has_lens_model)
        self._j = 0
        self._phase = "sweep"
        self._t_ready = -math.inf
        self._target: int | None = None
        self.peak_code: float | None = None
        self.coarse_peak_code: float | None = None
        self.low_snr = False
        n_fine = 0 if math.isnan(per_dof) else 2 * math.ceil(self.fine_halfwidth_dof / self.fine_step_dof) + 1
        # frames the run may need (the loop grants them, see focuslab.af.loop): the sweep, the fine
        # pass, a settling wait after each long move (at most four frames each) and the final approach
        self.frame_budget = int(self._codes.size + n_fine * self.fine_frames + 4 * 4 + 4)

    def _planes(self, obs: Observation) -> list[np.ndarray]:
        if self.plane == "balanced":
            return [balanced_mosaic(obs.image, obs.cfa)]
        if self.plane == "channels" and obs.cfa is not None:
            return list(bayer_planes(obs.image, obs.cfa, normalize=True))
        return [green_plane(obs.image, obs.cfa)]

    def score(self, obs: Observation) -> float:
        """Focus score of one observation's AF region (see ``plane``)."""
        return sum(focus_measure(p, self.measure) for p in self._planes(obs))

    def lowpass_score(self, obs: Observation) -> float:
        """Focus score of the AF region after a Gaussian pre-filter of ``lowpass_sigma_px``, times
        the region's mean level (the low-SNR score).

        The planes are divided by their mean, so the shot noise's share of the score goes as
        1 / mean: the image dims by ~8 % as the lens extends toward macro, and on a 1-2 % wall
        that rise at the macro end was as large as the in-focus texture's bump (the whole-sweep
        fit took it for the peak: 3 of 16 full low-texture runs 3-31 DoF off). Times the mean,
        the shot-noise floor is flat along the sweep and the texture's part only tilts with the
        level (docs/af.md "Low SNR")."""
        level = float(np.mean(obs.image))
        return level * sum(
            focus_measure(ndimage.gaussian_filter(p.astype(np.float64), self.lowpass_sigma_px), self.measure)
            for p in self._planes(obs)
        )

    def quadrant_scores(self, obs: Observation) -> list[float]:
        """Focus scores of the four quadrants of the AF region (same plane and measure as :meth:`score`)."""
        quads = [_quadrants(p) for p in self._planes(obs)]
        return [sum(focus_measure(q[k], self.measure) for q in quads) for k in range(4)]

    def choose_peak(self, codes, scores, tiles=None, *, lowpass_scores=None, codes_per_dof=None) -> float:
        """Peak code of a sweep: whole-region ``scores``, optional per-quadrant ``tiles`` (N x 4) and
        low-pass scores (the low-SNR fit, used when no peak of ``scores`` stands out of its noise;
        needs the codes per DoF: ``codes_per_dof`` or the run's lens model)."""
        if not hasattr(self, "_linear"):
            self._linear = True  # called outside a run: codes taken as linear in defocus
            self._per_dof = math.nan
        per_dof = self._per_dof if codes_per_dof is None else float(codes_per_dof)
        c, s = np.asarray(codes, dtype=float), np.asarray(scores, dtype=float)
        if tiles is None or len(tiles) == 0:
            curves = [s]
        else:
            curves = [s, *np.asarray(tiles, dtype=float).T]
        cand = []  # (index of the peak, curve number)
        for k, cu in enumerate(curves):
            cand += [(i, k) for i in significant_peaks(cu, min_height=self.min_height,
                                                       prominence_sigma=self.prominence_sigma)]
        whole = [i for i, k in cand if k == 0]  # quadrant curves are twice as noisy: the whole region decides
        noisy = curve_noise_sd(s) >= LOW_SNR_NOISE_FRACTION * float(np.ptp(s))
        self.low_snr = bool(noisy and lowpass_scores is not None and self._linear and not math.isnan(per_dof))
        if noisy and not whole and lowpass_scores is not None and self._linear and not math.isnan(per_dof):
            fit = fit_defocus_curve(c, lowpass_scores, codes_per_dof=per_dof)
            if fit is not None:
                return fit
        if self.priority == "max" or not cand:
            # the flanks' midpoint needs codes linear in defocus (a lens model); a replayed
            # stack's frames need not be evenly spaced in diopters: Gaussian top there
            centre = half_level_centre(c, s) if self._linear else None
            return gaussian_peak(c, s) if centre is None else centre
        i = max(p for p, _ in cand)
        near = sorted({k for p, k in cand if abs(p - i) <= 1 and k > 0})  # quadrants that see this subject
        if not near or len(near) == len(curves) - 1:
            near = [0]  # the whole region (every quadrant agrees, or only the whole curve shows the peak)
        mean = np.mean([curves[k] for k in near], axis=0)
        lo = max(i - 1, 0)
        j = lo + int(np.argmax(mean[lo : i + 2]))
        a, b = peak_segment(mean, j)
        cs, ms = c[a:b], mean[a:b]
        if near != [0]:  # a part of the region: the flanks may hold the other subject's blur, fit the top only
            return gaussian_peak(cs, ms)
        centre = half_level_centre(cs, ms) if cs.size >= 3 else None
        return gaussian_peak(cs, ms) if centre is None else centre

    def _move(self, obs: Observation, code: int) -> Command:
        ctx = self._ctx
        t_cmd = obs.t_s + obs.exposure_s
        step = np.median(np.diff(self._codes)) if self._codes.size > 1 else 1
        long_move = abs(code - obs.lens_code) > 1.5 * step
        settle = ctx.settle_time_s if ctx.settle_time_s is not None else ctx.frame_interval_s
        self._t_ready = t_cmd + (settle if long_move else 0.0)
        self._target = int(code)
        return Command(target_code=int(code))

    def _ready(self, obs: Observation) -> bool:
        return obs.lens_code == self._target and obs.t_s >= self._t_ready

    def step(self, observation: Observation) -> Command:
        """One frame of the sweep state machine."""
        if self._ctx is None:
            raise InvalidParameterError("call reset(context) before step()")
        obs = observation
        if self._phase == "sweep":
            if self._target is None:
                if obs.lens_code != self._codes[0]:
                    return self._move(obs, int(self._codes[0]))
                self._target = int(self._codes[0])
            if not self._ready(obs):
                return Command()
            self._scores.append(self.score(obs))
            if self.lowpass_sigma_px > 0 and not math.isnan(self._per_dof):
                self._lp_scores.append(self.lowpass_score(obs))
            if self._nearest:
                self._tiles.append(self.quadrant_scores(obs))
            self._j += 1
            if self._j < self._codes.size:
                return self._move(obs, int(self._codes[self._j]))
            self.peak_code = self.choose_peak(self._codes, self._scores, self._tiles if self._nearest else None,
                                              lowpass_scores=self._lp_scores or None)
            self.coarse_peak_code = self.peak_code
            if self.low_snr and self.fine_frames > 0:
                self._fine_codes = fine_pass_codes(self.peak_code, codes_per_dof=self._per_dof,
                                                   halfwidth_dof=self.fine_halfwidth_dof, step_dof=self.fine_step_dof,
                                                   min_code=self._ctx.min_code, max_code=self._ctx.max_code)
                self._fine_scores: list[float] = []
                self._fine_sum, self._fine_n = None, 0
                self._phase = "fine"
                return self._move(obs, int(self._fine_codes[0]))
            return self._go_to_peak(obs)
        if self._phase == "fine":
            if not self._ready(obs):
                return Command()
            img = np.asarray(obs.image, dtype=np.float64)
            self._fine_sum = img if self._fine_sum is None else self._fine_sum + img
            self._fine_n += 1
            if self._fine_n < self.fine_frames:
                return Command()  # the lens stays: the next frame is another independent exposure
            mean = replace(obs, image=self._fine_sum / self._fine_n)
            self._fine_scores.append(self.lowpass_score(mean))
            self._fine_sum, self._fine_n = None, 0
            k = len(self._fine_scores)
            if k < self._fine_codes.size:
                return self._move(obs, int(self._fine_codes[k]))
            fit = fit_defocus_curves([(self._codes, self._lp_scores), (self._fine_codes, self._fine_scores)],
                                     codes_per_dof=self._per_dof)
            if fit is not None:
                self.peak_code = fit
            return self._go_to_peak(obs)
        if self._phase == "approach":
            if not self._ready(obs):
                return Command()
            self._phase = "settle"
            return self._move(obs, self._final)
        return Command(done=self._ready(obs))

    def _go_to_peak(self, obs: Observation) -> Command:
        peak = int(np.clip(round(self.peak_code), self._ctx.min_code, self._ctx.max_code))
        self._final = peak
        if self._backlash and peak < obs.lens_code:
            self._phase = "approach"
            return self._move(obs, max(int(self._ctx.min_code), peak - self._backlash))
        self._phase = "settle"
        return self._move(obs, peak)


@register_policy("contrast-sweep")
def make_contrast_sweep(**options) -> ContrastSweepPolicy:
    """The ``contrast-sweep`` policy; options as :class:`ContrastSweepPolicy`."""
    return ContrastSweepPolicy(**options)
