"""Predict, jump, confirm: the stills logic shared by the learned AF policies.

A subclass says how to predict the signed focus error of a frame (:meth:`LearnedJumpAF.predict`:
the network's defocus d in depth-of-focus units, positive = subject nearer than the focus
plane, and its 1-sigma); this class turns predictions into lens moves:

1. **Predict and jump.** The target code is the code whose focus distance is the subject's,
   ``D_t = D + d c_max / (A s)`` (diopters; :func:`defocus_target_code`), so a long jump is
   right even where the actuator's code-to-diopter map is not linear.
2. **Confirm.** The next frame exposed after the lens settled (frames exposed while it moved
   are skipped, :func:`~focuslab.af.af_signals.frame_settled`) is predicted again: done when
   ``|d| <= done_dof``, or ``|d| <= near_dof`` with ``s <= near_sigma_dof``; else a correction
   (at most ``max_corrections``), then done. Where ``free_unsure_moves`` is set
   (``learned-dp``), a move on a reading sure only of its side (item 3) is an approach, not a
   correction, and does not count: from a far start a saturating reading takes several such
   moves, and counting them stopped runs with a sure reading 2-4 DoF off still unused
   (``wide_main_6mm`` depth-edge, 862 -> 501 -> 80 -> 164 -> 242: done at a -2.0 DoF reading,
   sigma 0.73, 3.2 DoF out). ``max_frames`` still bounds the run.
   A confident first prediction of ``|d| <= done_dof`` ends the run at once.
3. **Uncertain.** Predictions made with the lens standing at the same code are pooled by
   inverse variance, ``d = sum(d_i / s_i^2) / sum(1 / s_i^2)``, ``s = sum(1 / s_i^2)^-1/2``
   (the pixel noise of successive frames is independent; a move empties the pool), unless the
   readings agree far more closely than their sigmas say (a chi-square test: the sigma is then
   the scene's, not the noise's, and is kept; :func:`~focuslab.af.af_signals.pool_readings`). A pooled
   sigma above ``uncertain_dof`` is uncertain. When the side is still sure (``|d| > sure_side
   s``) the lens moves anyway (toward focus the blur is smaller and the network surer); else
   the run's first prediction is acted on (the best guess), later ones wait a frame to pool
   another prediction; once ``max_uncertain``
   uncertain predictions came in a row the policy hands over to a short contrast hill-climb
   (:class:`~focuslab.af.policies.contrast_hillclimb.ContrastHillClimb`) from the current frame,
   its probe step toward the side of the last pooled reading when that reading lies beyond
   ``HINT_ABOVE_DOF`` (1 DoF, the in-focus band): an uncertain reading's sign is still mostly
   right, and the climb's default side (the larger part of the code range) sent it the wrong
   way on low-texture walls (measured at stop 21, phone_main_tof seeds 0-7: the same runs in
   focus, five low-texture misses ending 1.2-20 DoF off instead of 14-37; phone_tele
   learned-two-frame low light 83.3 -> 88.9 %, seeds 0-2).
4. **Blind** (``blind_snr`` > 0; ``learned-dp``: 20). Before that hand-over the frame's
   :func:`~focuslab.af.af_signals.texture_snr` is checked: below ``blind_snr`` the region's
   texture is too faint for a contrast climb (a 1-3 % wall: 0-6; textured subjects that fell
   back: 200-280), and when the readings pooled at this code also scatter as noise does (the
   pool's chi-square test passes, so more frames narrow them) the policy searches with the
   network alone (:meth:`LearnedJumpAF.blind_step`): ``BLIND_POOL`` frames pooled at each lens
   position, a line r = a - g u fitted through the positions' readings with a prior on the
   network's gain g on such a scene (:meth:`LearnedJumpAF.blind_fit`), the lens moved to its
   zero, done once the zero lies within ``BLIND_DONE_DOF`` after three positions. A frame on
   the way whose texture rises above ``blind_snr`` hands over to the contrast climb after all.
   Measured at stop 22, full low-texture suite, phone_main_tof seeds 0-7: 50.0 -> 57.8 % in
   focus, mean |error| 5.68 -> 3.64 DoF; the stills suites' runs unchanged (docs/learned_af.md).

The network is loaded at the first :meth:`reset` (:func:`~focuslab.af.policies.learned_weights.learned_model`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from focuslab.af.af_signals import (
    codes_per_dof,
    frame_settled,
    observation_focus,
    pool_readings,
    scatter_as_noise,
    texture_snr,
)
from focuslab.af.policies.contrast_hillclimb import ContrastHillClimb
from focuslab.af.types import AFContext, Command, Observation
from focuslab.errors import InvalidParameterError, check_positive


def defocus_target_code(context: AFContext, code: float, defocus_dof: float) -> float:
    """The code that focuses a subject seen at ``defocus_dof`` DoF from the focus at ``code``.

    Notes
    -----
    Blur c = A s (1/u - 1/u_f) (DESIGN.md "Physics"), so a defocus of d DoF (c = d c_max) is
    dD = d c_max / (A s) diopters (um / (mm mm) = 1/m); with D the focus at ``code`` from the
    factory calibration and s = f / (1 - f D), the target is ``code_for_distance(1 / (D + dD))``
    (the infinity code when D + dD <= 0, the near end when nearer than it). Without a lens model:
    ``code + d codes_per_dof`` (the local linear map).
    """
    d = float(defocus_dof)
    c0 = float(code)
    ctx = context
    known = ctx.has_lens_model and ctx.focal_length_mm and ctx.f_number and ctx.coc_max_um
    if not known:
        return c0 + d * codes_per_dof(ctx, c0)
    k = int(np.clip(round(c0), ctx.min_code, ctx.max_code))
    dist = float(ctx.distance_for_code(k))
    dpt = 0.0 if math.isinf(dist) or dist <= 0 else 1.0 / dist
    f_mm = float(ctx.focal_length_mm)
    s_mm = f_mm / max(1.0 - f_mm * dpt / 1000.0, 1e-6)
    a_mm = f_mm / float(ctx.f_number)
    target = dpt + d * float(ctx.coc_max_um) / (a_mm * s_mm)
    near = float(ctx.distance_for_code(ctx.max_code))
    if target <= 0.0:
        return float(ctx.code_for_distance(math.inf)) + (c0 - k)
    if near > 0 and math.isfinite(near) and target >= 1.0 / near:
        return float(ctx.max_code)
    return float(ctx.code_for_distance(1.0 / target)) + (c0 - k)


def move_dof(context: AFContext, code_from: float, code_to: float) -> float:
    """How much a lens move from ``code_from`` to ``code_to`` lowers a subject's defocus, DoF.

    Notes
    -----
    d = (1/u - D) A s / c_max (DESIGN.md "Physics") with D the focus (diopters) of the code, so
    moving the focus from D_0 to D_1 lowers d by (D_1 - D_0) A s / c_max (s at the new code);
    without a lens model ``(code_to - code_from) / codes_per_dof``.
    """
    ctx = context
    known = ctx.has_lens_model and ctx.focal_length_mm and ctx.f_number and ctx.coc_max_um
    if not known:
        return (float(code_to) - float(code_from)) / codes_per_dof(ctx, 0.5 * (code_from + code_to))

    def dpt(c: float) -> float:
        dist = float(ctx.distance_for_code(int(np.clip(round(c), ctx.min_code, ctx.max_code))))
        return 0.0 if math.isinf(dist) or dist <= 0 else 1.0 / dist

    d1 = dpt(code_to)
    f_mm = float(ctx.focal_length_mm)
    s_mm = f_mm / max(1.0 - f_mm * d1 / 1000.0, 1e-6)
    return (d1 - dpt(code_from)) * (f_mm / float(ctx.f_number)) * s_mm / float(ctx.coc_max_um)


#: An uncertain pooled reading beyond this |defocus| (DoF) points the contrast fallback's probe.
HINT_ABOVE_DOF = 1.0

#: Blind search (module notes, "Blind"): frames pooled per lens position.
BLIND_POOL = 3
#: Prior on the network's gain g on a scene the contrast search cannot see (mean, sd): the
#: calibrated ``dp-defocus`` reads the low-texture suite's walls at g = 0.34 within 6 DoF of
#: focus (least squares through zero over 66 six-frame means, phone_main_tof seeds 0-1, stop 22).
BLIND_GAIN_PRIOR = (0.6, 0.3)
#: The fitted gain is kept within these bounds.
BLIND_GAIN_RANGE = (0.15, 1.5)
#: Scatter (DoF) of a lens position's pooled reading about the fitted line: the walls' six-frame
#: means scatter by 0.96 DoF about it (the network's own sigma says ~4 per frame there).
BLIND_POINT_SD = 1.0
#: Done once the fitted focus lies this close (DoF) to the lens, with at least three positions read.
BLIND_DONE_DOF = 0.5
#: A move shorter than this (DoF) while fewer than three positions were read is made this long,
#: toward the fitted focus: the line's slope needs positions apart.
BLIND_MIN_STEP_DOF = 1.5
#: Lens positions read in the blind search at most (then it goes to the fitted focus).
BLIND_MAX_POSITIONS = 8

class LearnedJumpAF(ABC):
    """Stills AF from a network's defocus prediction (see the module notes).

    Parameters
    ----------
    weights
        Weights file of the network (default: the shipped one).
    done_dof
        Done when the predicted |defocus| is at most this many DoF (default: the class's
        ``stop_dof[0]``).
    uncertain_dof
        A prediction with sigma above this (DoF) is uncertain.
    max_uncertain
        Uncertain predictions in a row before handing over to contrast hill-climbing (>= 1).
    sure_side
        An uncertain prediction with ``|d| > sure_side * sigma`` still moves the lens (> 0).
    near_dof, near_sigma_dof
        Also done when ``|d| <= near_dof`` (default: the class's ``stop_dof[1]``) with sigma
        ``<= near_sigma_dof``: a correction smaller than a network's near-focus bias moves the
        lens out of focus more often than into it (the first dp-defocus, trained on DP views
        that were blind within 1 DoF, had a bias of ~0.5 DoF; ``learned-dp`` and
        ``learned-fusion`` now stop at 0.25 / 0.3 DoF, :mod:`.learned_dp`).
    max_corrections
        Corrections after the first jump (>= 0).
    max_frames
        Frames after which the policy stops (>= 2).
    """

    name = "learned"
    requires: frozenset[str] = frozenset({"lens_model"})
    model_name = ""
    #: Correct the network's gain across lens moves (:meth:`_secant`).
    use_secant = True
    #: Default ``(done_dof, near_dof)``: how small a predicted defocus the network is trusted with.
    stop_dof: tuple[float, float] = (0.5, 0.75)
    #: Default ``blind_snr`` (0: no blind search; module notes, "Blind").
    blind_snr_default: float = 0.0
    #: Moves on readings sure only of their side do not count against ``max_corrections``
    #: (module notes, item 2). Off here: ``learned-two-frame``'s unsure moves are its search,
    #: and freeing them cost it 4 of its 24 low-texture runs (phone_main_tof, seeds 0-2);
    #: freed in ``learned-fusion`` none of its traces moved (docs/learned_af.md).
    free_unsure_moves: bool = False

    def __init__(self, *, weights=None, done_dof: float | None = None, uncertain_dof: float = 2.0,
                 max_uncertain: int = 3, max_corrections: int = 3, max_frames: int = 12, sure_side: float = 2.0,
                 near_dof: float | None = None, near_sigma_dof: float = 1.0, blind_snr: float | None = None) -> None:
        self.weights = weights
        self.blind_snr = check_positive("blind_snr", self.blind_snr_default if blind_snr is None else blind_snr,
                                        allow_zero=True)
        done_dof = self.stop_dof[0] if done_dof is None else done_dof
        near_dof = self.stop_dof[1] if near_dof is None else near_dof
        self.done_dof = check_positive("done_dof", done_dof)
        self.uncertain_dof = check_positive("uncertain_dof", uncertain_dof)
        self.sure_side = check_positive("sure_side", sure_side)
        self.near_dof = check_positive("near_dof", near_dof)
        self.near_sigma_dof = check_positive("near_sigma_dof", near_sigma_dof)
        for key, v, lo in (("max_uncertain", max_uncertain, 1), ("max_corrections", max_corrections, 0),
                           ("max_frames", max_frames, 2)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < lo:
                raise InvalidParameterError(f"{key} must be an integer >= {lo}, got {v!r}")
        self.max_uncertain, self.max_corrections, self.max_frames = int(max_uncertain), int(max_corrections), int(
            max_frames)
        self._ctx: AFContext | None = None
        self.model = None

    # ------------------------------------------------------------------ subclass interface
    @abstractmethod
    def predict(self, observation: Observation, code: float, dof: float) -> tuple[float, float] | None:
        """``(defocus_dof, sigma_dof)`` of this frame at lens ``code`` (``dof`` codes per DoF), or None."""

    def on_reset(self) -> None:  # noqa: B027 - an optional hook; subclasses without state keep it
        """Subclass state to forget at reset."""

    # ------------------------------------------------------------------ AFPolicy
    def reset(self, context: AFContext) -> None:
        """Forget the previous run; load the network (once per process)."""
        from focuslab.af.policies.learned_weights import learned_model

        if not isinstance(context, AFContext):
            raise InvalidParameterError(f"context must be an AFContext, got {type(context).__name__}")
        self.model = learned_model(self.name, self.model_name, self.weights)
        self._ctx = context
        self._frames = 0
        self._jumps = 0
        self._corrections = 0
        self._uncertain = 0
        self._cmd_t = -math.inf
        self._cmd_move = 0.0
        self._hc: ContrastHillClimb | None = None
        self._blind: list[tuple[float, float, float]] | None = None  # blind search: (code, d, s) per position
        self._done = False
        self._pool: list[tuple[float, float]] = []  # (defocus, sigma) at the current code
        self._last: tuple[float, float] | None = None  # (code, pooled defocus) of the last prediction
        self._before: tuple[float, float] | None = None  # the same at the code before the last move
        self.gain = 1.0
        self.predictions: list[tuple[int, float, float, float]] = []  # (frame, code, defocus, sigma)
        self.on_reset()

    @property
    def fell_back(self) -> bool:
        """Whether this run handed over to contrast hill-climbing."""
        return self._hc is not None

    @property
    def searched_blind(self) -> bool:
        """Whether this run went on with the blind search instead (module notes, "Blind")."""
        return self._blind is not None

    def _clip(self, code: float) -> int:
        return int(np.clip(round(code), self._ctx.min_code, self._ctx.max_code))

    def send(self, observation: Observation, target: float, *, done: bool = False) -> Command:
        """Command ``target`` (clipped), remembering when and how far, for the settling rule."""
        c = self._clip(target)
        if c != int(observation.lens_code):
            self._pool = []
        self._cmd_t = float(observation.t_s) + float(observation.exposure_s)
        self._cmd_move = float(c - int(observation.lens_code))
        return Command(target_code=c, done=done)

    def settled(self, observation: Observation, dof: float) -> bool:
        """Whether the lens stood still at its command during this frame's exposure."""
        rep = float(observation.reported_code)
        moving = math.isfinite(rep) and abs(rep - int(observation.lens_code)) > dof
        return not moving and frame_settled(self._ctx, observation, self._cmd_t, self._cmd_move)

    def fall_back(self, observation: Observation) -> Command:
        """Hand over to a contrast hill-climb from this frame, its probe toward the side of the
        last pooled reading when that reading lies beyond ``HINT_ABOVE_DOF`` (module notes); or,
        where the region's texture is too faint for contrast (``blind_snr``), search on with
        the network alone (:meth:`blind_step`)."""
        # blind only where the readings scatter as noise does (another frame narrows them), not
        # on a scene the network cannot read at all, which contrast may still find (module notes)
        if (self.blind_snr > 0 and len(self._pool) >= 2 and self._ctx.has_lens_model
                and self._contrast_blind(observation) and scatter_as_noise(self._pool)):
            self._blind = []
            return self._blind_point(observation)
        last = self._last
        same_code = last is not None and abs(last[0] - int(observation.lens_code)) < 0.5
        return self._contrast(observation, last[1] if same_code else None)

    @staticmethod
    def region_texture_snr(observation: Observation) -> float:
        """The AF region's :func:`~focuslab.af.af_signals.texture_snr` (NaN without usable pixels)."""
        try:
            return float(texture_snr(observation_focus(observation)))
        except InvalidParameterError:
            return math.nan

    def _contrast_blind(self, observation: Observation) -> bool:
        """Whether the region's texture is too faint for a contrast search (``blind_snr``)."""
        snr = self.region_texture_snr(observation)
        return math.isfinite(snr) and snr < self.blind_snr

    @property
    def fallback_frames(self) -> int:
        """Frames the contrast fall-back (or the blind search) may take in all."""
        return max(4, self.max_frames + 18)

    def _contrast(self, observation: Observation, reading_dof: float | None) -> Command:
        """Start the contrast hill-climb from this frame, its probe toward the side of
        ``reading_dof`` (the defocus last read here) when that lies beyond ``HINT_ABOVE_DOF``."""
        self._hc = ContrastHillClimb(max_frames=self.fallback_frames)
        hint = None
        if reading_dof is not None and math.isfinite(reading_dof) and abs(reading_dof) > HINT_ABOVE_DOF:
            hint = 1 if reading_dof > 0 else -1
        return self._hc.start_from(self._ctx, observation, direction=hint)

    def step(self, observation: Observation) -> Command:
        """Predict and jump, confirm, or finish (see the module notes)."""
        if self._ctx is None:
            raise InvalidParameterError("call reset(context) before step(); the policy has no AF context")
        if self._hc is not None:
            return self._hc.step(observation)
        if self._done:
            return Command(done=True)
        if self._blind is not None:
            return self.blind_step(observation)
        self._frames += 1
        code = int(observation.lens_code)
        dof = codes_per_dof(self._ctx, code)
        if self._frames >= self.max_frames:
            self._done = True
            return Command(done=True)
        if self._frames > 1 and not self.settled(observation, dof):
            self._cmd_move = 0.0
            return Command()  # exposed while the lens moved: wait a frame
        pred = self.predict(observation, code, dof)
        if pred is None:
            return Command()  # the subclass moved or waits (e.g. a two-frame probe)
        return self.act(observation, code, *pred)

    def act(self, observation: Observation, code: float, defocus_dof: float, sigma_dof: float) -> Command:
        """Turn one prediction at lens ``code`` into a command (jump, correct, wait, finish, fall back)."""
        d, s = float(defocus_dof), float(sigma_dof)
        self.predictions.append((int(observation.frame_index), float(code), d, s))
        if not (math.isfinite(d) and math.isfinite(s)):
            return self.fall_back(observation)
        self._pool.append((d, max(s, 1e-3)))
        d, s = pool_readings(self._pool)  # with the scatter test (module notes)
        d = self._secant(code, d)
        if s > self.uncertain_dof and abs(d) > self.sure_side * s:
            self._uncertain = 0  # the side is sure: move toward focus, where the network is surer
        elif s > self.uncertain_dof:
            self._uncertain += 1
            if self._uncertain >= self.max_uncertain:
                return self.fall_back(observation)
            if self._jumps > 0 or len(self.predictions) > 1:
                return Command()  # pool another prediction at this code
        else:
            self._uncertain = 0
            if abs(d) <= self.done_dof or (abs(d) <= self.near_dof and s <= self.near_sigma_dof):
                self._done = True
                return Command(done=True)
        if self._corrections > self.max_corrections:
            self._done = True
            return Command(done=True)
        self._jumps += 1
        self._corrections += s <= self.uncertain_dof or not self.free_unsure_moves
        return self.send(observation, defocus_target_code(self._ctx, code, d))

    # ------------------------------------------------------------------ blind search
    def blind_step(self, observation: Observation) -> Command:
        """One frame of the blind search (module notes, "Blind"): pool ``BLIND_POOL`` settled
        readings at each lens position, then fit and move."""
        self._frames += 1
        code = int(observation.lens_code)
        dof = codes_per_dof(self._ctx, code)
        if self._frames >= self.fallback_frames:
            return self._blind_finish(observation)
        if not self.settled(observation, dof):
            self._cmd_move = 0.0
            return Command()
        if not self._contrast_blind(observation):  # a texture came out of the blur: contrast sees it
            return self._contrast(observation, self.blind_fit(code)[0])  # probe toward the line's zero
        pred = self.predict(observation, code, dof)
        if pred is None:
            return Command()
        d, s = float(pred[0]), float(pred[1])
        self.predictions.append((int(observation.frame_index), float(code), d, s))
        if not (math.isfinite(d) and math.isfinite(s)):
            return Command()
        self._pool.append((d, max(s, 1e-3)))
        if len(self._pool) < BLIND_POOL:
            return Command()
        return self._blind_point(observation)

    def blind_fit(self, code: float) -> tuple[float, float]:
        """``(defocus_dof, gain)``: where the blind search's line puts focus, seen from ``code``.

        Each position i read r_i (pooled); u_i = :func:`move_dof` from ``code`` to it. The
        readings are modelled as r_i = a - g u_i (a network reading g times the true defocus,
        plus a bias), fitted by least squares with every point's scatter ``BLIND_POINT_SD``
        and a Gaussian prior ``BLIND_GAIN_PRIOR`` on g (the network's sigma on such a scene
        is mostly its own doubt, not the frames' scatter, so it does not weight the points);
        g is kept within ``BLIND_GAIN_RANGE`` and the focus is a / g.
        """
        pts = self._blind or []
        u = np.array([move_dof(self._ctx, code, c) for c, _, _ in pts], dtype=float)
        r = np.array([d for _, d, _ in pts], dtype=float)
        g0, sg = BLIND_GAIN_PRIOR
        w = 1.0 / BLIND_POINT_SD**2
        x = np.column_stack([np.ones_like(u), -u])
        lhs = w * (x.T @ x) + np.diag([0.0, 1.0 / sg**2])
        rhs = w * (x.T @ r) + np.array([0.0, g0 / sg**2])
        _, g = np.linalg.solve(lhs, rhs)
        g = float(np.clip(g, *BLIND_GAIN_RANGE))
        a = float(np.mean(r + g * u))
        return a / g, g

    def _blind_point(self, observation: Observation) -> Command:
        """Close the current position's pool into a point of the line, fit, and move or finish."""
        code = float(observation.lens_code)
        d, s = pool_readings(self._pool)
        self._blind.append((code, d, s))
        self._pool = []
        target_d, _ = self.blind_fit(code)
        n = len(self._blind)
        if n >= BLIND_MAX_POSITIONS:
            return self._blind_finish(observation)
        if n >= 3 and abs(target_d) <= BLIND_DONE_DOF:
            self._done = True
            return Command(done=True)
        if n < 3 and abs(target_d) < BLIND_MIN_STEP_DOF:
            target_d = math.copysign(BLIND_MIN_STEP_DOF, target_d if target_d != 0 else d)
            dest = defocus_target_code(self._ctx, code, target_d)
            if self._clip(dest) == int(code):  # an end stop that way: probe the other side
                target_d = -target_d
        return self.send(observation, defocus_target_code(self._ctx, code, target_d))

    def _blind_finish(self, observation: Observation) -> Command:
        """Go to the line's zero and finish (the positions or the frames are spent)."""
        self._done = True
        if not self._blind:
            return Command(done=True)
        code = float(observation.lens_code)
        target_d, _ = self.blind_fit(code)
        return self.send(observation, defocus_target_code(self._ctx, code, target_d), done=True)

    def _secant(self, code: float, d: float) -> float:
        """The pooled prediction ``d`` at ``code`` divided by the network's gain measured since the last move.

        A network whose predictions scale the true defocus by g (a shrinkage toward zero that
        grows with the blur) shows it across a lens move of known size m DoF (:func:`move_dof`):
        ``d_before - d_after = g m``. With ``|m| >= 2`` DoF and g within [0.3, 2] the prediction
        is corrected to ``d / sqrt(g)``: half of the secant (regula falsi) correction in log
        scale, because the measured g mixes the response far from focus (where the crops
        saturate and g is lowest) with the response near it, and the full ``d / g`` overshoots
        (measured on stills-bright: a full secant overshot 2 of 6 cases by 5-6 DoF). Else ``d``.
        """
        prev, self._last = self._last, (float(code), d)
        self.gain = 1.0
        if not self.use_secant:
            return d
        if prev is None or abs(prev[0] - code) < 0.5:
            if prev is not None and abs(prev[0] - code) < 0.5 and self._before is not None:
                prev = self._before
            else:
                return d
        else:
            self._before = prev
        m = move_dof(self._ctx, prev[0], code)
        if abs(m) < 2.0:
            return d
        g = (prev[1] - d) / m
        if not 0.3 <= g <= 2.0:
            return d
        self.gain = g
        return d / math.sqrt(g)
