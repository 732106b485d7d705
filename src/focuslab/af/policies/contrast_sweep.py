"""``contrast-sweep``: the full contrast sweep with an interpolated peak (the slow, exact reference).

Plan. The lens visits codes from the infinity end to the macro end of the code range:
every ``step_dof`` depths of focus when the lens model is known (step in codes =
``step_dof`` c_max N (s/f) / (dd/dcode), the lens travel that moves the blur of an in-focus
subject by c_max: c = A |Δs| / s with A = f / N), every frame's lens position on a replayed
stack (``context.extra["lens_positions"]``), otherwise ``steps`` equal steps.

Scoring. Each frame taken with the lens at a planned code (and settled: the first sample after
a long move waits the actuator's settling time) is scored with ``focus_measure`` (TENG by
default) on the green plane of the raw AF region (:func:`focuslab.af.green_plane.green_plane`).

Peak. Gaussian interpolation through the best sample and its two neighbours, i.e. the vertex
of the parabola through (code, ln score) [1] — a focus curve near its peak is close to a
Gaussian — falling back to :func:`~focuslab.metrics.focus.peak_position` when a score is not
positive. Then one move to the peak. Backlash: the sweep approaches every code from below,
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

import numpy as np

from focuslab.af.green_plane import balanced_mosaic, bayer_planes, green_plane
from focuslab.af.registry import register_policy
from focuslab.af.types import AFContext, Command, Observation
from focuslab.errors import InvalidParameterError, check_positive
from focuslab.metrics.focus import focus_measure, focus_measure_names, peak_position


def gaussian_peak(codes, scores) -> float:
    """Peak of a sampled focus curve: vertex of the parabola through (code, ln score) at the maximum.

    At an end of the sweep the vertex through the three end samples, kept between the end
    sample and its neighbour; with a non-positive score among the three,
    :func:`~focuslab.metrics.focus.peak_position` (parabola on the scores).
    """
    c, s = np.asarray(codes, dtype=float), np.asarray(scores, dtype=float)
    if c.size < 3:
        return float(c[int(np.argmax(s))])
    i = int(np.clip(np.argmax(s), 1, c.size - 2))
    y = s[i - 1 : i + 2]
    if np.any(y <= 0):
        return peak_position(c, s)
    x0, x1, x2 = c[i - 1 : i + 2]
    y0, y1, y2 = np.log(y)
    denom = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denom
    b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / denom
    j = int(np.argmax(s))
    lo, hi = (x0, x1) if j == 0 else (x1, x2) if j == c.size - 1 else (x0, x2)
    if a >= 0:
        return float(c[j])
    return float(np.clip(-b / (2 * a), lo, hi))


def half_level_centre(codes, scores, level: float = 0.7) -> float | None:
    """Midpoint of the two crossings of ``min + level (max - min)`` around the curve's maximum.

    A defocus blur grows with |lens travel| on both sides of focus, so the curve's two flanks
    are mirror images and the midpoint of a level's crossings (linear interpolation between
    samples) is the in-focus code, even where a binned stream makes the top flat. None when a
    flank does not cross the level inside the sweep.
    """
    c, s = np.asarray(codes, dtype=float), np.asarray(scores, dtype=float)
    i = int(np.argmax(s))
    th = s.min() + level * (s.max() - s.min())
    below_left = np.flatnonzero(s[:i] < th)
    below_right = np.flatnonzero(s[i + 1 :] < th)
    if below_left.size == 0 or below_right.size == 0 or s.max() <= s.min():
        return None
    a = below_left[-1]
    b = i + 1 + below_right[0]
    left = c[a] + (th - s[a]) * (c[a + 1] - c[a]) / (s[a + 1] - s[a])
    right = c[b - 1] + (th - s[b - 1]) * (c[b] - c[b - 1]) / (s[b] - s[b - 1])
    return float(0.5 * (left + right))


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
    ):
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
        self._ctx: AFContext | None = None

    def reset(self, context: AFContext) -> None:
        """Plan the sweep for this camera."""
        self._ctx = context
        self._codes, per_dof = _planned_codes(context, self.step_dof, self.steps)
        self._backlash = 0 if math.isnan(per_dof) else math.ceil(self.backlash_dof * per_dof)
        self._scores: list[float] = []
        self._j = 0
        self._phase = "sweep"
        self._t_ready = -math.inf
        self._target: int | None = None
        self.peak_code: float | None = None

    def score(self, obs: Observation) -> float:
        """Focus score of one observation's AF region (see ``plane``)."""
        if self.plane == "balanced":
            return focus_measure(balanced_mosaic(obs.image, obs.cfa), self.measure)
        if self.plane == "channels" and obs.cfa is not None:
            return sum(focus_measure(p, self.measure) for p in bayer_planes(obs.image, obs.cfa, normalize=True))
        return focus_measure(green_plane(obs.image, obs.cfa), self.measure)

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
            self._j += 1
            if self._j < self._codes.size:
                return self._move(obs, int(self._codes[self._j]))
            centre = half_level_centre(self._codes, self._scores)
            self.peak_code = gaussian_peak(self._codes, self._scores) if centre is None else centre
            peak = int(np.clip(round(self.peak_code), self._ctx.min_code, self._ctx.max_code))
            self._final = peak
            if self._backlash and peak < obs.lens_code:
                self._phase = "approach"
                return self._move(obs, max(int(self._ctx.min_code), peak - self._backlash))
            self._phase = "settle"
            return self._move(obs, peak)
        if self._phase == "approach":
            if not self._ready(obs):
                return Command()
            self._phase = "settle"
            return self._move(obs, self._final)
        return Command(done=self._ready(obs))


@register_policy("contrast-sweep")
def make_contrast_sweep(**options) -> ContrastSweepPolicy:
    """The ``contrast-sweep`` policy; options as :class:`ContrastSweepPolicy`."""
    return ContrastSweepPolicy(**options)
