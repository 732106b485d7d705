"""``learned-two-frame``: two frames at known lens codes -> the ``two-frame`` network -> jump.

For cameras without phase detection (Herrmann et al., "Learning to Autofocus", CVPR 2020,
the two-step task; depth from defocus, Pentland, PAMI 1987):

1. Frame 0 at code c0 is kept; the lens makes a probe step of ``probe_dof`` DoF toward the
   middle of the code range (the side with room to move).
2. The first settled frame at c1 and frame 0 go through
   :func:`focuslab.models.predict.two_frame_defocus` (the defocus at frame 1 and its sigma);
   :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF` jumps there.
3. Confirm: the last settled frame at another code and this settled frame form the next pair
   when they are at most ``max_pair_dof`` apart (the moves of the training pairs); after a
   longer jump the lens first probes again (on the same way as the jump), costing one frame.
   Then done, correct, or fall back to contrast as in the base.
   (The base's secant correction is off: each pair already measures the blur change across a
   known move, and the secant over a pair-based prediction overshot to the end stop.)
4. Peak finish (``finish="peak"``, the default): where the network would stop, the lens
   finishes on the focus curve instead, as depth-from-defocus AF does on cameras without
   phase detection (the network brings the lens near focus in one or two jumps, contrast
   places it): every settled frame's focus value (Tenengrad of the AF region,
   :func:`~focuslab.af.af_signals.observation_focus`) is kept; while the best sample within
   ``finish_span_dof`` of the stop has no sample on one side, the lens probes
   ``finish_step_dof`` beyond it on that side (both open: the side the network's last
   prediction pointed to), at most ``finish_probes`` times; then a Gaussian through the
   samples nearest the best (:func:`~focuslab.af.af_signals.fit_focus_peak`) gives the peak,
   and the lens moves there, done. A curve flat within ``finish_k_sigma`` of the focus
   value's pixel noise across the samples (a dark, texture-less region) cannot place the lens
   better than the network: the lens goes back to the network's stop. A run whose network
   stops only because its corrections ran out (its last reading beyond the stop: it hunted)
   hands over to the contrast hill-climb instead. The pair network's error near focus is
   ~1 DoF (held-out MAE 2.91 DoF over +-40): stopping on it left 6 of 14 stills-bright cases
   on ``no_pdaf`` (seed 0) out of focus, 4 at 1.0-1.9 DoF and 2 that hunted to ~7 DoF;
   full stills suites, seeds 0-2, in focus: no_pdaf bright 57 % -> 100 %, low light
   67 % -> 97 % (docs/learned_af.md). ``finish="none"`` stops on the network.

5. Nearest subject (``nearest_subject=True``, the default). Depth from defocus on a region
   that holds two depths is ill-posed: the pair network reads the blur change, which near focus
   is smallest for the surface in focus, so on a ``depth-edge`` region (a card over 5/8 of it,
   a far background) it reads the *other* surface and the lens flipped between the two (from
   the card, 0.4 DoF off: -4.6 DoF, the background; from the background: +3.6, the card), and
   the contrast hill-climb it then handed over to climbed the background's stronger texture:
   in focus on 1 of 18 runs (phone_main_tof, seeds 0-2). The pair is therefore also read as
   overlapping crops (:func:`~focuslab.models.predict.two_frame_defocus_map`, 3 x 3 of 64 px
   on a 128-px region). Their reduced chi-square (:func:`~focuslab.models.nearest_subject.reduced_chi2`)
   says whether the region holds one depth: on the stills suites (one surface) it is 0.18-0.27
   in the median, 0.9-1.6 at the 99th percentile; on depth-edge 1.4-2.6 in the median. The
   crops' own readings cannot pick the subject (a crop across the edge reads beyond both
   surfaces, +11 to +14 DoF for a card 3.6 DoF away), so the contrast curve does, as the
   reference sweep does: when a pair's crops read ``nearest_chi2_per_dof`` (1.5) or more with a
   median sigma within ``nearest_max_sigma_dof`` (5 DoF) and the pair's reading within 6 DoF of
   focus, the run goes on as a :class:`~focuslab.af.policies.contrast_sweep.ContrastSweepPolicy`
   with nearest-subject priority (the significant peak at the highest code over the whole region
   and its quadrants) over the codes from the crops' farthest reading less 2 DoF (at most
   ``SWEEP_FAR_DOF``, 12, toward infinity) to ``SWEEP_NEAR_DOF`` (12) DoF nearer than the lens,
   every 1.5 DoF, without the sweep's low-SNR fit and fine pass (within such a window the whole
   region's curve is flat enough to pass for noise, and its fit took the blend). Where the
   network gives up instead (the hand-over to the hill-climb), the same sweep (12 DoF either
   way) replaces the climb when some pair's crops read a chi-square of at least
   ``FALLBACK_CHI2`` (1.0) and the region is textured (``texture_snr`` >= 20). Both conditions
   were measured: the sweep in place of every hand-over cost the stills 4 frames on average (45 %
   of their runs swept) and the low-texture walls (0-6) lost to the coarse sweep what the climb
   finds (62.5 -> 50 % in focus). A sweep whose peak lies within half a step of a window end
   short of the code range has not bracketed its subject: the lens settles there and the
   contrast hill-climb goes on outward (without it a wide_main_6mm low-light photograph 23 DoF
   beyond the window ended 23.5 DoF off). Measured (full suites, seeds 0-2, against
   ``nearest_subject=false``; in focus / mean |error| / mean frames to focus): depth-edge
   phone_main_tof 5.6 -> 88.9 % / 5.23 -> 0.51 DoF / 9.0 -> 17.7 frames, no_pdaf 11.1 ->
   83.3 % / 4.72 -> 0.98 / 6.5 -> 18.3, phone_tele 5.6 -> 50.0 % / 7.94 -> 4.87,
   wide_main_6mm (seeds 0-1) 0 -> 66.7 % / 8.49 -> 4.55; stills-bright and stills-lowlight the
   same in-focus rates on all four cameras but no_pdaf low light (94.4 -> 97.2 %), 3 of 78 and
   10 of 78 runs moved on phone_main_tof and no_pdaf, mean frames 7.76 -> 8.24 and 8.14 -> 8.61
   (phone_main_tof bright, low light), 7.79 -> 8.52 and 8.65 -> 10.40 (no_pdaf), medians
   unchanged; low-texture the same runs in focus (its smooth photograph swept: 3-4 of 24 runs,
   all still in focus; docs/learned_af.md).

Needs the lens model only (no dual pixel): the image of the AF region suffices.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from focuslab.af.af_signals import codes_per_dof, fit_focus_peak, observation_focus
from focuslab.af.policies.learned_jump import HINT_ABOVE_DOF, LearnedJumpAF
from focuslab.af.registry import register_policy
from focuslab.af.types import Command, Observation
from focuslab.errors import InvalidParameterError, check_positive
from focuslab.models.nearest_subject import NEAR_WITHIN_DOF, nearest_subject_option, reduced_chi2

#: The nearest-subject sweep (module notes, step 5) reaches at most this far (DoF) toward
#: infinity from the lens (8 lost two phone_tele low-light photographs whose peak lay beyond) ...
SWEEP_FAR_DOF = 12.0
#: ... and this far toward near (the crops under-read a blurred subject's defocus, and a sweep
#: whose top cuts the near subject's peak leaves it without the prominence to count).
SWEEP_NEAR_DOF = 12.0
#: Margin (DoF) of the sweep beyond the crops' farthest reading.
SWEEP_MARGIN_DOF = 2.0
#: Where the network gives up, the sweep replaces the contrast hill-climb when a pair's crops
#: have read a reduced chi-square of at least this (a hint of two depths) ...
FALLBACK_CHI2 = 1.0
#: ... and the region's texture SNR (:func:`~focuslab.af.af_signals.texture_snr`) is at least
#: this (the low-texture suite's walls read 0-6 and keep the hill-climb; textured subjects 200-280).
SWEEP_MIN_TEXTURE_SNR = 20.0


class LearnedTwoFrameAF(LearnedJumpAF):
    """Two-frame learned AF.

    Parameters
    ----------
    probe_dof
        The probe step between the frames of a pair, DoF, clipped to [``min_pair_dof``,
        ``max_pair_dof``].
    min_pair_dof, max_pair_dof
        The lens moves between a pair's frames the network was trained on, DoF (the training
        set's ``two_frame.step_codes``, 15-80 codes on phone_main_tof's ~16 codes per DoF; the
        network reads the move in DoF); a pair further apart is not used: the policy probes
        again from the current frame. In DoF, not codes, so a camera whose codes are finer or
        coarser (the tele's ~22 codes per DoF) or a replayed stack whose lens positions are
        frame indices pairs the frames the network knows.
    finish
        ``"peak"`` (default): finish on the focus curve around where the network stops
        (module notes, step 4); ``"none"``: stop on the network.
    finish_step_dof, finish_span_dof, finish_probes, finish_k_sigma
        The finish's probe step (DoF), how far from the stop its samples count (DoF), its
        most probes, and the focus-value spread (in noise sigmas) below which the curve is
        flat.
    nearest_subject
        Read the pair's crops and, where they see two depths, hand over to the nearest-subject
        contrast sweep (module notes, step 5); ``False`` reads the region whole, as before.
    **options
        Those of :class:`~focuslab.af.policies.learned_jump.LearnedJumpAF`; here ``done_dof``
        defaults to 1 DoF and ``max_corrections`` to 2 (the pair network is less precise near
        focus than the dual-pixel one: a tighter stop made the lens hunt between probes).
    """

    name = "learned-two-frame"
    requires: frozenset[str] = frozenset({"lens_model"})
    model_name = "two-frame"

    def __init__(self, *, probe_dof: float = 4.0, min_pair_dof: float = 1.0, max_pair_dof: float = 5.0,
                 finish: str = "peak", finish_step_dof: float = 1.25, finish_span_dof: float = 4.0,
                 finish_probes: int = 3, finish_k_sigma: float = 3.0, nearest_subject: bool = True,
                 **options) -> None:
        options = {"done_dof": 1.0, "max_corrections": 2, **options}
        super().__init__(**options)
        self.nearest_subject = nearest_subject_option(nearest_subject)
        if finish not in ("peak", "none"):
            raise InvalidParameterError(f"finish must be 'peak' or 'none', got {finish!r}")
        self.finish = finish
        self.finish_step_dof = check_positive("finish_step_dof", finish_step_dof)
        self.finish_span_dof = check_positive("finish_span_dof", finish_span_dof)
        if isinstance(finish_probes, bool) or not isinstance(finish_probes, int | np.integer) or finish_probes < 0:
            raise InvalidParameterError(f"finish_probes must be an integer >= 0, got {finish_probes!r}")
        self.finish_probes = int(finish_probes)
        self.finish_k_sigma = check_positive("finish_k_sigma", finish_k_sigma)
        self.probe_dof = check_positive("probe_dof", probe_dof)
        self.min_pair_dof = check_positive("min_pair_dof", min_pair_dof)
        self.max_pair_dof = check_positive("max_pair_dof", max_pair_dof)
        if self.max_pair_dof < self.min_pair_dof:
            raise InvalidParameterError(
                f"max_pair_dof ({max_pair_dof}) must be >= min_pair_dof ({min_pair_dof})")

    use_secant = False
    #: The pair crops' reduced chi-square from which the region holds two depths, and the crops'
    #: largest median sigma (DoF) for the test (module notes, step 5).
    nearest_chi2_per_dof = 1.5
    nearest_max_sigma_dof = 5.0

    def on_reset(self) -> None:
        self._prev = None  # (image, code, dof) of the last settled frame
        self._ref = None  # the last settled frame at another code than the current one
        self._need_probe = False
        self._last_move = 0.0
        self._samples: list[tuple[float, float, float]] = []  # settled frames: (lens position, focus value, its noise)
        self._finishing: dict | None = None  # the peak finish's state once the network stopped
        self._sweep = None  # the nearest-subject contrast sweep, once the crops found two depths
        self._window: tuple[int, int] | None = None
        self._max_chi2 = 0.0  # the largest reduced chi-square of the pairs' crops so far
        self._edge: int | None = None  # the sweep's peak at a window end (+1 near, -1 far), once known

    def predict(self, observation: Observation, code: float, dof: float) -> tuple[float, float] | None:
        """Defocus and sigma (DoF) at this frame from the pair (last settled frame at another code, this frame)."""
        from focuslab.models.predict import two_frame_defocus

        self._sample(observation)
        if self._prev is not None and abs(self._prev[1] - code) >= 0.5:
            self._ref = self._prev  # the lens moved since: the previous settled frame is the reference
        self._prev = (observation.image, float(code), dof)
        if self._ref is not None and abs(self._ref[1] - code) > self.max_pair_dof * dof:
            self._ref = None  # a pair further apart than the training pairs: probe afresh from here
        if self._ref is None:
            self._need_probe = True
            return None  # no usable pair yet: step() probes
        img0, c0, dof0 = self._ref
        d, s = two_frame_defocus(self.model, img0, observation.image, c0, code, dof0)
        if self.nearest_subject:
            self._window = self._two_depths(img0, observation.image, c0, code, dof0, abs(d) <= NEAR_WITHIN_DOF)
        return d, s

    def _two_depths(self, img0, img1, c0: float, code: float, dof0: float, near: bool) -> tuple[int, int] | None:
        """The codes to sweep when the pair's crops read two depths (module notes, "Nearest
        subject"), else None."""
        from focuslab.models.predict import two_frame_defocus_map

        if min(np.shape(img1)) < 2 * int(self.model.crop_px):
            return None
        _, dc, sc = two_frame_defocus_map(self.model, img0, img1, c0, code, dof0)
        try:
            chi2 = reduced_chi2(dc, sc)
        except InvalidParameterError:  # a crop read no finite value
            return None
        self._max_chi2 = max(self._max_chi2, chi2)
        if not near or float(np.median(sc)) > self.nearest_max_sigma_dof or chi2 < self.nearest_chi2_per_dof:
            return None
        return self._sweep_window(code, max(float(np.min(dc)) - SWEEP_MARGIN_DOF, -SWEEP_FAR_DOF))

    def _sweep_window(self, code: float, far_dof: float) -> tuple[int, int]:
        """Codes from ``far_dof`` (<= 0) to ``SWEEP_NEAR_DOF`` depths of focus about ``code``."""
        dof = codes_per_dof(self._ctx, code)
        return (max(self._ctx.min_code, math.floor(code + far_dof * dof)),
                min(self._ctx.max_code, math.ceil(code + SWEEP_NEAR_DOF * dof)))

    def _sample(self, observation: Observation) -> None:
        """Keep the focus value of a settled frame at the lens position the actuator reports."""
        pos = float(observation.reported_code)
        if not np.isfinite(pos):
            pos = float(observation.lens_code)
        try:
            fv = observation_focus(observation)
        except InvalidParameterError:
            return  # no usable pixels (a dark region): nothing to finish on
        if np.isfinite(fv.value) and fv.value > 0.0:
            self._samples.append((pos, float(fv.value), float(fv.noise) if np.isfinite(fv.noise) else 0.0))

    def _finish_step(self, observation: Observation) -> Command:
        """One frame of the peak finish (module notes, step 4)."""
        self._frames += 1
        if self._frames >= self.max_frames + self.finish_probes + 2:
            self._done = True
            return Command(done=True)
        dof = codes_per_dof(self._ctx, int(observation.lens_code))
        if not self.settled(observation, dof):
            self._cmd_move = 0.0
            return Command()  # exposed while the lens moved: wait a frame
        self._sample(observation)
        return self._finish_decide(observation)

    def _finish_decide(self, observation: Observation) -> Command:
        """Probe beyond the best sample on a side with none, or go to the fitted peak and finish."""
        st = self._finishing
        anchor = st["anchor"]
        span = self.finish_span_dof * codes_per_dof(self._ctx, anchor)
        near = [t for t in self._samples if abs(t[0] - anchor) <= span]
        if not near:
            self._done = True
            return Command(done=True)
        xb = max(near, key=lambda t: t[1])[0]
        step = self.finish_step_dof * codes_per_dof(self._ctx, xb)
        tol, reach = 0.4 * step, 2.5 * step  # a bracketing sample is a neighbour, not a far probe
        below = any(xb - reach <= x < xb - tol for x, *_ in near) or xb <= self._ctx.min_code
        above = any(xb + tol < x <= xb + reach for x, *_ in near) or xb >= self._ctx.max_code
        xs, fs, noise = (np.array(v) for v in zip(*near, strict=True))
        flat = np.ptp(fs) < self.finish_k_sigma * float(np.max(noise))  # within the focus value's noise
        if flat and xs.size >= 3 and np.ptp(xs) >= 2.0 * step:
            self._done = True  # a curve flat within its noise across the span: contrast cannot place
            return self.send(observation, anchor, done=True)  # the lens better than the network did
        if not (below and above) and st["probes"] < self.finish_probes:
            side = st["side"] if not (below or above) else (1.0 if below else -1.0)
            st["probes"] += 1
            return self.send(observation, xb + side * step)
        self._done = True
        if flat:
            return self.send(observation, anchor, done=True)
        fit = fit_focus_peak(xs, fs, max_samples=5)
        return self.send(observation, fit.code, done=True)

    def step(self, observation: Observation) -> Command:
        """Probe when there is no usable pair, else predict from the pair; finish on the focus curve (module notes)."""
        if self._sweep is not None:
            cmd = self._sweep.step(observation)
            if self._edge is None and self._sweep.peak_code is not None:
                self._edge = self._sweep_edge()
            if cmd.done and self._edge:
                # the peak lies at a window end short of the code range, so the subject may lie
                # beyond: climb on from there, outward
                self._sweep = None
                return self._contrast(observation, self._edge * (HINT_ABOVE_DOF + 1.0))
            self._done = self._done or cmd.done
            return cmd
        if self._finishing is not None and not self._done:
            return self._finish_step(observation)
        self._need_probe = False
        cmd = super().step(observation)
        if self._window is not None and self._hc is None and self._blind is None:
            return self._start_sweep(observation)
        if cmd.done and self.finish == "peak" and self._hc is None and self._samples and self._finishing is None:
            # the network stops here: finish on the focus curve around this frame instead, or,
            # when it stops only because its corrections ran out (it hunted), climb the curve
            last = self.predictions[-1][2] if self.predictions else 0.0
            self._done = False
            if abs(last) > max(self.done_dof, self.near_dof) and self._frames < self.max_frames:
                return self.fall_back(observation)
            self._finishing = {"anchor": float(observation.lens_code), "probes": 0,
                               "side": 1.0 if last >= 0.0 else -1.0}
            return self._finish_decide(observation)
        if self._need_probe and cmd.target_code is None and not cmd.done and self._hc is None:
            ctx = self._ctx
            code = int(observation.lens_code)
            step = float(np.clip(self.probe_dof, self.min_pair_dof, self.max_pair_dof)) * self._prev[2]
            sign = 1.0 if code < 0.5 * (ctx.min_code + ctx.max_code) else -1.0
            if self._last_move:
                sign = self._last_move  # after a jump: on the same way (a short jump is the common miss)
            if not ctx.min_code <= code + sign * step <= ctx.max_code:
                sign = -sign
            return self.send(observation, code + sign * step)
        if cmd.target_code is not None:
            self._last_move = 1.0 if cmd.target_code > int(observation.lens_code) else -1.0
        return cmd

    def fall_back(self, observation: Observation) -> Command:
        """Where the network gives up: the nearest-subject sweep about the lens when the pairs'
        crops hinted at two depths on a textured region, else the contrast hill-climb (module
        notes, "Nearest subject")."""
        if self.nearest_subject and self._ctx.has_lens_model and self._max_chi2 >= FALLBACK_CHI2:
            snr = self.region_texture_snr(observation)
            if math.isfinite(snr) and snr >= SWEEP_MIN_TEXTURE_SNR:
                self._window = self._sweep_window(float(observation.lens_code), -SWEEP_FAR_DOF)
                return self._start_sweep(observation)
        return super().fall_back(observation)

    def _start_sweep(self, observation: Observation) -> Command:
        """Hand the run to a contrast sweep with nearest-subject priority over ``self._window``."""
        from focuslab.af.policies.contrast_sweep import ContrastSweepPolicy

        lo, hi = self._window
        self._sweep = ContrastSweepPolicy(priority="nearest", fine_frames=0, lowpass_sigma_px=0.0)
        self._sweep.reset(dataclasses.replace(self._ctx, min_code=int(lo), max_code=int(hi)))
        return self._sweep.step(observation)

    def _sweep_edge(self) -> int:
        """+1 / -1 when the sweep's peak lies within half a step of its window's near / far end
        and the code range goes on beyond it (the subject may lie outside), else 0."""
        sw = self._sweep
        codes = np.asarray(sw._codes, dtype=float)
        step = float(np.median(np.diff(codes))) if codes.size > 1 else 0.0
        if sw.peak_code <= codes[0] + 0.5 * step and sw._ctx.min_code > self._ctx.min_code:
            return -1
        if sw.peak_code >= codes[-1] - 0.5 * step and sw._ctx.max_code < self._ctx.max_code:
            return 1
        return 0

    @property
    def swept(self) -> bool:
        """Whether this run handed over to the nearest-subject sweep (also when a climb followed it)."""
        return self._sweep is not None or self._edge is not None


@register_policy("learned-two-frame")
def make_learned_two_frame(**options) -> LearnedTwoFrameAF:
    """Factory of :class:`LearnedTwoFrameAF` (options are its keyword arguments)."""
    return LearnedTwoFrameAF(**options)
