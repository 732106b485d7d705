"""``continuous``: video AF that keeps a moving subject in focus without hunting.

Every frame the policy measures where the lens should be (the *target code*), tracks that
target with an alpha-beta filter, and moves the lens along a speed-, acceleration- and
jerk-limited trajectory towards the target predicted one frame ahead
(:class:`~focuslab.af.policies.video_tracking.LensFollower`). ``done`` is never set. Nothing is
mandatory; each observation's sensors are used:

* **phase** (dual pixel): the AF region's disparity D (x_right - x_left, stream pixels, > 0 for
  a subject nearer than focus, :meth:`ContinuousPolicy._disparity`) gives target = lens
  position during the exposure + g D. The gain g (codes per pixel) is the option
  ``phase_gain_codes_per_px`` or ``context.extra["phase_gain_codes_per_px"]``; else a prior
  from the lens model for an ideal half-pupil split (D = 4 c / (3 pi) [2], the largest
  disparity a blur can give) times the response factor of the camera's **factory phase
  calibration** (``factory_calibration``: the calibration the ``phase`` policy resolves,
  :func:`~focuslab.af.policies.phase.resolve_calibration`, divided by the ideal prior at its
  chart's code; 2.03 on the Pixel 4 response, whose kernels' centroids give 1.94), refined
  online from frames where the subject is still: D against the depth sensor's code offset,
  and -Delta D against the policy's own lens moves of >= 1 DoF (shrunk least squares on 1/g,
  the disparity being the noisy side). Without a calibration the ideal prior under-steps a
  real dual pixel (~2x on the Pixel 4 response) until refined. The calibration's in-focus
  disparity D_0 is not used: it is the plain estimator's reading on the chart, this policy's
  pre-filtered estimator reads another, and subtracting it put the stills ~0.1 DoF further
  from focus (``phone_tele`` seed 1: in focus 100 -> 85.7 %);
* **depth** (ToF zones + lens model): target = the code of the AF region's distance
  (:func:`~focuslab.af.policies.depth.roi_depth_estimate`), new readings only, taken as
  measurements of the target ``depth_latency_frames`` ago; a reading with no return over the
  region (nothing within range) says "far": the hyperfocal code, sigma 0.6 DoF;
* the tracker follows the **most precise source that reported within 3 frames** (smallest
  sigma; phase and depth are not mixed within one track, since they differ in latency and the
  phase carries its gain error; a hand-over restarts the track). On ``phone_main_tof`` the ToF
  (sigma ~ 0.03 DoF) wins over the preview stream's dual pixel (~ 0.5 DoF);
* with neither: **contrast**, a hill-climb on consecutive frames without wobble
  (:class:`~focuslab.af.policies.video_tracking.ContrastClimber`).

Tracker: alpha-beta with Kalata's steady-state gains [1] for Lambda = sigma_w T^2 / sigma_v
(sigma_w = ``target_accel_dof``, sigma_v the measurement's sigma, T in frames). With the lens
model it runs in object distance (m), where a subject walking at constant speed moves at
constant velocity (its focus code accelerates as 1/d); without, in codes. A measurement more
than 3 DoF + 3 sigma (in codes) from the prediction stops the extrapolation at once and
re-initialises the track if the next one agrees (a subject that stopped, a pan); a scene change
(the AF region's mean moves by ``scene_change_mean`` relative, or its normalised 4 x 4
thumbnail by ``scene_change_pattern``) re-initialises it at once. The prediction horizon is
capped at 2.5 frames, which bounds the overshoot when a subject stops.

References
----------
.. [1] P. R. Kalata, "The tracking index: a generalized parameter for alpha-beta and
       alpha-beta-gamma target trackers", IEEE Trans. Aerosp. Electron. Syst. 20(2),
       174-182 (1984), eqs. (11)-(12).
.. [2] N. Wadhwa et al., "Synthetic depth-of-field with a single-camera mobile phone",
       ACM TOG 37(4), 2018 (dual-pixel disparity proportional to defocus).
"""

from __future__ import annotations

import math

import numpy as np

from focuslab.af.green_plane import bin_mean, green_plane
from focuslab.af.policies.depth import codes_per_dof, dof_diopters, hyperfocal_m, roi_depth_estimate
from focuslab.af.policies.video_tracking import (
    STILL_DOF_PER_FRAME,
    ContrastClimber,
    LensFollower,
    focus_energy,
    kalata_gains,
)
from focuslab.af.registry import register_policy
from focuslab.af.types import AFContext, Command, Observation
from focuslab.errors import InvalidParameterError
from focuslab.metrics.dp_disparity import dp_disparity_map

#: Ideal half-pupil disparity per blur diameter, 4 / (3 pi) (docs/dual_pixel.md).
IDEAL_DP_RATIO = 4.0 / (3.0 * math.pi)

#: A source counts as reporting when it measured within this many frames.
RECENT_FRAMES = 3

#: Longest extrapolation of the tracked target, frames (bounds the overshoot when a subject stops).
MAX_AHEAD_FRAMES = 2.5

#: A measurement more than this many frames after the track's last one restarts the track: a
#: velocity fitted across such a gap is mostly the earlier reading's error (a phase reading under
#: the uncalibrated gain, 21 frames before the next, drove the lens 2.9 DoF past focus).
STALE_FRAMES = 6.0

#: Sigma (DoF) of a depth reading with no return over the region, taken as "far": focused at the
#: hyperfocal distance H, everything from H/2 to infinity lies within +-1 DoF (uniform: 0.58).
NO_RETURN_SIGMA_DOF = 0.6

#: Nearness floor of the tracking space, diopters (50 m: beyond it every distance is "far").
MIN_DIOPTERS = 0.02

#: Sub-pixel NCC accuracy (green-plane px) of a confident patch; sigma = this / confidence.
PHASE_SIGMA_PX = 0.05

#: Binning factors of the dual-pixel search, fine to coarse (:meth:`ContinuousPolicy._disparity`).
PHASE_PYRAMID = (1, 2, 4)

#: Largest spread of patches that agree (std: this many matched-plane px or this share of their
#: mean disparity, the larger) and their least mean NCC peak (:meth:`ContinuousPolicy._disparity`).
PHASE_CONSISTENT_PX = 0.1
PHASE_CONSISTENT_REL = 0.15
PHASE_CONSISTENT_NCC = 0.9


def _thumbnail(plane: np.ndarray, n: int = 4) -> tuple[float, np.ndarray]:
    h, w = (plane.shape[0] // n) * n, (plane.shape[1] // n) * n
    blocks = np.asarray(plane[:h, :w], dtype=np.float64).reshape(n, h // n, n, w // n).mean(axis=(1, 3))
    m = float(blocks.mean())
    return m, blocks / m if m > 0 else blocks


class ContinuousPolicy:
    """Video AF: track the focus target every frame with bounded speed and jerk, never hunt.

    Parameters
    ----------
    max_speed_dof, max_accel_dof, max_jerk_dof
        Lens speed (per frame), acceleration (per frame^2) and jerk (per frame^3) limits of the
        commanded trajectory, depth-of-focus units.
    deadband_dof, stop_band_dof, reverse_dof
        Hysteresis: start moving beyond ``deadband_dof``, rest within ``stop_band_dof``,
        reverse only for errors beyond ``reverse_dof`` (DoF units).
    target_accel_dof
        The target's acceleration noise sigma_w of the tracker, DoF per frame^2.
    lead_frames
        Prediction horizon of the target (the frame a command takes to act), frames.
    depth_latency_frames
        Mean age of a depth reading at the frame that receives it, frames (a 15 Hz ToF with
        20 ms latency: 20 ms + half its 67 ms period = 1.6 frames at 30 fps); a depth target
        counts as a measurement of the target at that earlier time.
    phase_gain_codes_per_px
        Codes per stream pixel of disparity; None: the lens-model prior (times the factory
        calibration's response factor) refined online.
    phase_min_confidence
        Least mean patch confidence of a phase measurement.
    use_phase, use_depth
        Whether to use the dual-pixel views and the depth zones when present.
    factory_calibration
        Scale the phase-gain prior by the camera's phase calibration (module notes; a
        preset's or a loaded camera file's is rendered once per process, ~1-5 s).
    scene_change_mean, scene_change_pattern
        Scene-change thresholds on the AF region's mean (relative) and thumbnail.
    contrast_scan_dof, contrast_drop, refocus_drop
        Contrast hill-climb: scan speed (DoF per frame), relative drop below the best that
        counts as past the peak, relative drop from the locked focus that starts a new climb.

    Raises
    ------
    InvalidParameterError
        An option that is not a finite positive number (or >= 0 where stated), or
        ``stop_band_dof >= deadband_dof``.
    """

    name = "continuous"
    video = True  # a video method: scored on the video suites (bench.af_runner.runs_video)
    requires = frozenset()

    def __init__(self, *, max_speed_dof: float = 2.0, max_accel_dof: float = 0.5, max_jerk_dof: float = 0.25,
                 deadband_dof: float = 0.5,
                 stop_band_dof: float = 0.2, reverse_dof: float = 1.0, target_accel_dof: float = 0.1,
                 lead_frames: float = 1.0, depth_latency_frames: float = 1.5,
                 phase_gain_codes_per_px: float | None = None,
                 phase_min_confidence: float = 0.15, use_phase: bool = True, use_depth: bool = True,
                 factory_calibration: bool = True,
                 scene_change_mean: float = 0.3, scene_change_pattern: float = 0.3, contrast_scan_dof: float = 1.0,
                 contrast_drop: float = 0.06, refocus_drop: float = 0.25) -> None:
        opts = {"max_speed_dof": max_speed_dof, "max_accel_dof": max_accel_dof, "max_jerk_dof": max_jerk_dof,
                "deadband_dof": deadband_dof,
                "stop_band_dof": stop_band_dof, "reverse_dof": reverse_dof, "target_accel_dof": target_accel_dof,
                "scene_change_mean": scene_change_mean, "scene_change_pattern": scene_change_pattern,
                "contrast_scan_dof": contrast_scan_dof, "contrast_drop": contrast_drop, "refocus_drop": refocus_drop}
        for key, v in opts.items():
            if isinstance(v, bool) or not isinstance(v, int | float) or not (math.isfinite(v) and v > 0):
                raise InvalidParameterError(f"{key} must be a finite number > 0, got {v!r}")
            setattr(self, key, float(v))
        if self.stop_band_dof >= self.deadband_dof:
            raise InvalidParameterError(f"stop_band_dof ({stop_band_dof}) must be below deadband_dof ({deadband_dof})")
        for key, v in (("lead_frames", lead_frames), ("phase_min_confidence", phase_min_confidence),
                       ("depth_latency_frames", depth_latency_frames)):
            if isinstance(v, bool) or not isinstance(v, int | float) or not (math.isfinite(v) and v >= 0):
                raise InvalidParameterError(f"{key} must be a finite number >= 0, got {v!r}")
        if phase_gain_codes_per_px is not None and not (
            isinstance(phase_gain_codes_per_px, int | float) and math.isfinite(phase_gain_codes_per_px)
            and phase_gain_codes_per_px > 0
        ):
            raise InvalidParameterError(f"phase_gain_codes_per_px must be > 0 or None, got {phase_gain_codes_per_px!r}")
        self.lead_frames, self.phase_min_confidence = float(lead_frames), float(phase_min_confidence)
        self.depth_latency_frames = float(depth_latency_frames)
        self.phase_gain_codes_per_px = phase_gain_codes_per_px
        self.use_phase, self.use_depth = bool(use_phase), bool(use_depth)
        self.factory_calibration = bool(factory_calibration)
        self._ctx: AFContext | None = None

    # ------------------------------------------------------------------ run state
    def reset(self, context: AFContext) -> None:
        """Start a new video run on the camera ``context``."""
        if not isinstance(context, AFContext):
            raise InvalidParameterError(f"context must be an AFContext, got {type(context).__name__}")
        self._ctx = context
        self._lens: LensFollower | None = None  # made at the first frame, where the lens is
        self._climber = ContrastClimber(scan_dof=self.contrast_scan_dof, drop=self.contrast_drop,
                                        refocus_drop=self.refocus_drop)
        self._x = self._v = None  # tracker: target in the tracking space, and its velocity per frame
        self._vc = 0.0  # the tracked velocity in codes per frame
        self._codes = self._diopters = None
        if context.has_lens_model:  # track in object distance (see the class notes)
            codes = np.arange(context.min_code, context.max_code + 1, dtype=float)
            dist = np.array([context.distance_for_code(int(c)) for c in codes], dtype=float)
            diop = np.where(np.isfinite(dist) & (dist > 0), 1.0 / np.where(dist > 0, dist, 1.0), 0.0)
            diop = np.maximum.accumulate(np.maximum(diop, MIN_DIOPTERS)) + codes * 1e-9  # strictly increasing
            self._codes, self._diopters = codes, diop
        self._last_update, self._outliers = -1.0, 0  # frame time the tracked estimate refers to
        self._stats, self._last_depth, self._prev_phase, self._last_pos = None, None, None, None
        self._sxy = self._syy = 0.0  # online phase-gain least squares
        #: The phase gain in use, codes per stream pixel (after online refinement; None before).
        self.phase_gain: float | None = None
        #: The source the target is tracked from: "phase", "depth" or "contrast" (None before).
        self.source: str | None = None
        self._recent: dict[str, tuple[int, float]] = {}
        #: Measured gain / ideal-split prior from the camera's phase calibration (1 without one).
        self.response_factor = 1.0
        if (self.factory_calibration and self.use_phase and context.has_dual_pixel
                and self.phase_gain_codes_per_px is None and "phase_gain_codes_per_px" not in context.extra):
            from focuslab.af.policies.phase import resolve_calibration

            cal = resolve_calibration(None, context)
            if cal is not None and math.isfinite(cal.best_code):
                ideal = self._ideal_gain(codes_per_dof(context, cal.best_code))
                if ideal is not None and ideal > 0:
                    self.response_factor = float(cal.gain_codes_per_px) / ideal

    def _ideal_gain(self, dof: float) -> float | None:
        """Codes per stream px of an ideal half-pupil split where one DoF is ``dof`` codes."""
        ctx = self._ctx
        if ctx.pixel_pitch_um is None or ctx.coc_max_um is None:
            return None
        return dof * ctx.pixel_pitch_um / (IDEAL_DP_RATIO * ctx.coc_max_um)

    def _gain_prior(self, code: float, dof: float) -> float | None:
        ctx = self._ctx
        if self.phase_gain_codes_per_px is not None:
            return float(self.phase_gain_codes_per_px)
        if "phase_gain_codes_per_px" in ctx.extra:
            return float(ctx.extra["phase_gain_codes_per_px"])
        ideal = self._ideal_gain(dof)
        return None if ideal is None else ideal * self.response_factor

    # ------------------------------------------------------------------ measurements
    def _scene_changed(self, plane: np.ndarray) -> bool:
        m, thumb = _thumbnail(plane)
        prev, self._stats = self._stats, (m, thumb)
        if prev is None or prev[0] <= 0:
            return False
        return abs(m / prev[0] - 1.0) > self.scene_change_mean or float(np.mean(np.abs(thumb - prev[1]))) > (
            self.scene_change_pattern)

    def _disparity(self, obs: Observation) -> tuple[float, float] | None:
        """Disparity of the AF region (stream px) and its sigma, or None when it is not measured.

        Coarse to fine, as a phone's PDAF widens its search: the views are matched at full
        resolution, then, while no level reports, binned ``k x k`` for k in
        :data:`PHASE_PYRAMID` (a +-8 px search reaches k times farther, and the broad NCC peak
        of a far-defocused pair sharpens by k^2). A level reports

        * when its mean patch confidence reaches ``phase_min_confidence``: the
          confidence-weighted disparity, sigma ``PHASE_SIGMA_PX`` / confidence;
        * when its matching patches **agree**, however low their confidences: at least 3
          patches (half a patch apart) off the search boundary with an NCC peak >=
          :data:`PHASE_CONSISTENT_NCC` (a texture-less part of the region does not match, and is
          left out), disparities within a spread (std) of :data:`PHASE_CONSISTENT_PX` or
          :data:`PHASE_CONSISTENT_REL` of their mean: their mean, sigma that spread (at least
          ``PHASE_SIGMA_PX``). The confidence's curvature term scores a smooth texture's broad
          peak low however little noise there is (a photograph 3 DoF out of focus: peaks
          0.9997, confidences 0.003-0.02, disparities 0.61-0.75 px); a noisy or texture-less
          region does not agree (low peaks, scattered shifts).

        Sigmas are k times the level's. A silent level hands over to the next only when at least
        half of its patches peak at the search limit or its median NCC peak reaches
        :data:`PHASE_CONSISTENT_NCC` (the views match, but the peak is out of range or broad:
        far defocus); a level silent from noise or a texture-less region (low peaks) stays
        silent. A binned level's few patches can still read noise with confidence in the dark
        (``phone_main``'s low-light stills: 8.3, 1.2 and 1.3 px from one frame), at sigmas of
        0.7-1.3 px that the tracker weighs accordingly. Without the coarse levels a region far
        out of focus (beyond +-8 px of the matched plane: 30 DoF on ``mono_dp_bin2``, a 2 x
        2-binned mono preview of ``phone_main``) never reports and, with a dual-pixel sensor
        present, the policy held the lens (5 of 6 stills-bright runs there).
        """
        left, right = green_plane(obs.left, obs.cfa), green_plane(obs.right, obs.cfa)
        if left.shape != right.shape or not (np.all(np.isfinite(left)) and np.all(np.isfinite(right))):
            return None
        scale = 1.0 if obs.cfa in (None, "mono") else 2.0  # green-plane px -> stream px
        reach = 0  # the search range reached so far, matched-plane px
        for k in PHASE_PYRAMID:
            lv, rv = (left, right) if k == 1 else (bin_mean(left, k), bin_mean(right, k))
            h, w = lv.shape
            # the fine level keeps a third of the width for the search; a coarse one is there to
            # reach farther, so it searches +-8 and matches what is left (at least 8 px)
            m = int(min(8, (w - 12) // 3)) if k == 1 else int(min(8, (w - 10) // 2))
            if m < 1 or h < 8 or m * k <= reach:
                return None
            reach = m * k
            p = int(min(h, w - 2 * (m + 1), 64 if k == 1 else 32))
            dmap = dp_disparity_map(lv, rv, patch_px=p, stride_px=max(4, p // 2), max_shift_px=m,
                                    lowpass_sigma_px=1.0 if k == 1 else 0.0)
            finite = np.isfinite(dmap.disparity_px)
            conf = np.where(finite, dmap.confidence, 0.0)
            if conf.sum() > 0 and float(conf.mean()) >= self.phase_min_confidence:
                disp = float(np.sum(conf * np.nan_to_num(dmap.disparity_px)) / conf.sum()) * scale * k
                return disp, PHASE_SIGMA_PX * scale * k / float(conf.mean())
            peak = dmap.peak_ncc[finite].astype(float)
            d = dmap.disparity_px[finite].astype(float)
            d = d[(peak >= PHASE_CONSISTENT_NCC) & (np.abs(d) < m - 0.5)]  # matching patches, off the boundary
            if d.size >= 3 and float(np.std(d)) <= max(PHASE_CONSISTENT_PX,
                                                       PHASE_CONSISTENT_REL * abs(float(d.mean()))):
                return float(d.mean()) * scale * k, max(float(np.std(d)), PHASE_SIGMA_PX) * scale * k
            shifts = dmap.disparity_px[finite]
            at_limit = bool(shifts.size) and float(np.mean(np.abs(shifts) >= m - 0.5)) >= 0.5
            if not (at_limit or (peak.size and float(np.median(peak)) >= PHASE_CONSISTENT_NCC)):
                return None  # the disparity is within reach: silence here is noise or no texture
        return None

    def _phase_gain(self, obs: Observation, dof: float, disp: float, depth_code: float | None,
                    changed: bool) -> tuple[float, float] | None:
        """Phase gain g (codes per stream px) and its relative uncertainty: the option, else the
        prior refined online.

        The disparity is the noisy variable, so the inverse gain h = 1/g is fitted (D = h y with
        y the precisely known code offset): shrunk least squares h = (lam h0 + sum D y) /
        (lam + sum y^2), lam = (2 DoF)^2, relative uncertainty 0.5 sqrt(lam / (lam + sum y^2)).
        """
        gain0 = self._gain_prior(obs.reported_code, dof)
        if gain0 is None or self.phase_gain_codes_per_px is not None:
            return None if gain0 is None else (gain0, 0.0)
        pos = float(obs.reported_code)
        prev, self._prev_phase = self._prev_phase, (pos, disp)
        pairs = []
        still = abs(self._vc) < 0.5 * dof  # a moving subject would add its own disparity change
        if prev is not None and not changed and still and abs(pos - prev[0]) >= dof:
            pairs.append((prev[1] - disp, pos - prev[0]))  # the lens moved: -Delta D = h Delta code
        if depth_code is not None and still:
            pairs.append((disp, depth_code - pos))  # the depth sensor ranges the subject: D = h offset
        for x, y in pairs:
            self._syy, self._sxy = self._syy + y * y, self._sxy + x * y
        lam = (2.0 * dof) ** 2
        h = (lam / gain0 + self._sxy) / (lam + self._syy)
        gain = float(np.clip(1.0 / h, 0.7 * gain0, 4.0 * gain0)) if h > 0 else 4.0 * gain0
        return gain, 0.5 * math.sqrt(lam / (lam + self._syy))

    def _depth(self, obs: Observation) -> tuple[float, float] | None:
        ctx, z = self._ctx, obs.depth
        key = np.nan_to_num(np.asarray(z.distance_m, dtype=float), nan=-1.0)
        if self._last_depth is not None and np.any(key >= 0) and np.array_equal(key, self._last_depth):
            return None  # the same reading as before (the ToF runs slower than the camera)
        self._last_depth = key
        est = roi_depth_estimate(z, obs.roi, cluster_gap_diopters=dof_diopters(ctx))
        if est is None:  # no return over the region: nothing within range, so far: the hyperfocal code
            code = float(min(max(ctx.code_for_distance(hyperfocal_m(ctx)), ctx.min_code), ctx.max_code))
            return code, NO_RETURN_SIGMA_DOF * codes_per_dof(ctx, code)
        code = float(min(max(ctx.code_for_distance(max(est.distance_m, 1e-3)), ctx.min_code), ctx.max_code))
        d0 = 1.0 / est.distance_m
        h = 0.25 * dof_diopters(ctx)
        c_near = ctx.code_for_distance(1.0 / (d0 + h))
        c_far = ctx.code_for_distance(1.0 / (d0 - h)) if d0 > h else ctx.code_for_distance(math.inf)
        per_diopter = abs(c_near - c_far) / (2.0 * h)
        sigma_diopter = est.sigma_m / est.distance_m**2
        return code, max(per_diopter * sigma_diopter, 0.5)

    # ------------------------------------------------------------------ target tracker
    def _space(self, code: float) -> float:
        """Code -> tracking space: object distance (m) with the lens model, else the code itself."""
        if self._codes is None:
            return float(code)
        return float(1.0 / np.interp(code, self._codes, self._diopters))

    def _code(self, value: float) -> float:
        """Tracking space -> code (inverse of :meth:`_space`)."""
        if self._codes is None:
            return float(value)
        diop = 1.0 / value if value > 0 else self._diopters[-1]
        return float(np.interp(diop, self._diopters, self._codes))

    def _track(self, z: float, sigma: float, dof: float, t_meas: float, changed: bool) -> None:
        """Alpha-beta update with a measurement ``z`` +- ``sigma`` (codes) of the target at frame time ``t_meas``."""
        zs = self._space(z)
        # a new track, a scene change, or a track not measured for longer than STALE_FRAMES (its
        # velocity is unknown): start afresh at the measurement
        if self._x is None or changed or t_meas - self._last_update > STALE_FRAMES:
            self._x, self._v, self._outliers, self._last_update, self._vc = zs, 0.0, 0, t_meas, 0.0
            return
        dt = t_meas - self._last_update
        xp = self._x + self._v * dt
        r = zs - xp
        if abs(z - self._code(xp)) > 3.0 * dof + 3.0 * sigma:  # the gate, in codes
            # the motion model broke (the subject stopped, turned, or something crossed the region):
            # stop extrapolating at once, and re-initialise if the next measurement agrees
            self._outliers += 1
            if self._outliers >= 2:
                self._x, self._v, self._outliers = zs, 0.0, 0
            else:
                self._x, self._v = self._x + self._v * max(dt, 0.0), 0.0
            self._last_update = max(t_meas, self._last_update)
        elif dt < 0.25:  # an older (or simultaneous) measurement than the estimate: correct the position only
            self._outliers = 0
            alpha, _ = kalata_gains(self.target_accel_dof * dof / max(sigma, 1e-6))
            self._x += alpha * r
        else:
            self._outliers = 0
            alpha, beta = kalata_gains(self.target_accel_dof * dof * dt * dt / max(sigma, 1e-6))
            self._x, self._v = xp + alpha * r, self._v + beta * r / dt
            self._last_update = t_meas
        self._vc = (self._code(self._x + 0.5 * self._v) - self._code(self._x - 0.5 * self._v))

    def step(self, observation: Observation) -> Command:
        """Estimate the target, update the tracker, move one frame along the limited trajectory."""
        if self._ctx is None:
            raise InvalidParameterError("call reset(context) before step(); the policy has no camera context")
        obs, ctx = observation, self._ctx
        pos = float(obs.reported_code)
        if not math.isfinite(pos):
            pos = float(obs.lens_code)
        if self._lens is None:
            self._lens = LensFollower(max_accel_dof=self.max_accel_dof, max_jerk_dof=self.max_jerk_dof,
                                      deadband_dof=self.deadband_dof, stop_band_dof=self.stop_band_dof,
                                      reverse_dof=self.reverse_dof)
            self._lens.reset(float(obs.lens_code))
        lens, lo, hi = self._lens, ctx.min_code, ctx.max_code
        dof = codes_per_dof(ctx, pos)
        plane = green_plane(obs.image, obs.cfa)
        prev_pos, self._last_pos = self._last_pos, pos
        changed = self._scene_changed(plane)
        meas = []
        if self.use_depth and obs.depth is not None and ctx.has_lens_model:
            dp = self._depth(obs)
            if dp is not None:
                meas.append(("depth", dp[0], dp[1], self.depth_latency_frames))  # the reading is older
        if self.use_phase and obs.left is not None and obs.right is not None:
            ph = self._disparity(obs)
            if ph is None:
                self._prev_phase = None
            else:
                depth_code = meas[0][1] if meas else None
                g = self._phase_gain(obs, dof, ph[0], depth_code, changed)
                if g is not None:
                    self.phase_gain, step = g[0], g[0] * ph[0]
                    # the disparity is of the lens during the exposure; reported_code is read at its end
                    share = min(obs.exposure_s / ctx.frame_interval_s, 1.0) if ctx.frame_interval_s > 0 else 0.0
                    mid = pos - 0.5 * share * (pos - (pos if prev_pos is None else prev_pos))
                    meas.append(("phase", mid + step, math.hypot(g[0] * ph[1], g[1] * step), 0.5 * share))
        sensors = (self.use_phase and obs.left is not None) or (
            self.use_depth and obs.depth is not None and ctx.has_lens_model)
        for name, _, sigma, _ in meas:  # recent precision of each source: (frame, sigma)
            self._recent[name] = (obs.frame_index, sigma)
        active = {k: v[1] for k, v in self._recent.items() if obs.frame_index - v[0] <= RECENT_FRAMES}
        lead = min(active, key=active.get) if active else None
        use = [m for m in meas if m[0] == lead]
        if not active and self._x is not None and self._v != 0.0:
            # no source for RECENT_FRAMES frames: the target's motion is no longer observed, so the
            # extrapolation ends where the prediction cap puts it and the lens stops feeding a velocity
            self._x += self._v * min(max(obs.frame_index - self._last_update, 0.0), MAX_AHEAD_FRAMES)
            self._v, self._vc = 0.0, 0.0
        if use:
            name, z, sigma, lag = use[0]
            if name != self.source and self.source in active:
                changed = True  # a hand-over between sources: start the track afresh
            self._track(z, sigma, dof, obs.frame_index - lag, changed)
            self.source = name
        if sensors:
            if self._x is None:
                return Command(round(lens.p), done=False)
            ahead = min(max(obs.frame_index - self._last_update, 0) + self.lead_frames, MAX_AHEAD_FRAMES)
            setpoint = float(min(max(self._code(self._x + self._v * ahead), ctx.min_code), ctx.max_code))
            v_t = self._vc if abs(self._vc) >= STILL_DOF_PER_FRAME * dof else 0.0
            code = lens.step(setpoint, v_t, dof, self.max_speed_dof * dof, False, lo, hi)
        else:
            self.source = "contrast"
            climber = self._climber
            target = climber.step(focus_energy(plane), pos, lens.p, lens.at_rest, dof, changed, lo, hi)
            searching = climber.state == "search"
            speed = (self.contrast_scan_dof if searching else self.max_speed_dof) * dof
            code = lens.step(target, 0.0, dof, speed, searching or climber.state == "settle", lo, hi)
        return Command(int(min(max(code, ctx.min_code), ctx.max_code)), done=False)


@register_policy("continuous")
def make_continuous_policy(**options) -> ContinuousPolicy:
    """Factory of the ``continuous`` (video) policy (options: see :class:`ContinuousPolicy`)."""
    return ContinuousPolicy(**options)
