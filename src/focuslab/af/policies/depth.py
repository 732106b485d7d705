"""``depth``: laser (ToF) AF: the depth sensor's distance of the AF region -> lens code, one jump.

The policy reads the multizone depth sensor once, reduces the zones over the AF region to
one distance (:func:`roi_depth_estimate`), turns it into a lens code through the factory
calibration (``AFContext.code_for_distance``), jumps there and reports ``done`` once the
actuator's reported position has settled on the target before the exposure of the frame began
(the reported position within tolerance, and either the previous frame's too or the settling
time of the step elapsed: the context's full-stroke settling time scaled by ln(step / tol)).
It needs a depth sensor and the lens model (``requires = {"depth", "lens_model"}``).

Zones -> one distance (:func:`roi_depth_estimate`):

1. each valid zone that overlaps the ROI gets the overlap area a_i (fraction of the ROI) and
   works in diopters D_i = 1 / d_i (focus is linear in 1/u: the lens displacement is
   d = f^2 / (u - f)) with sigma_Di = sigma_i / d_i^2;
2. zones sorted by nearness are cut into clusters wherever two neighbours differ by more than
   ``max(gap, 3 sqrt(sigma_Di^2 + sigma_Dj^2))`` diopters (``gap`` defaults to one depth of
   focus in object space, c_max N / f^2 diopters: two zones closer than that are focused
   together by any lens position between them);
3. the **nearest** cluster that holds at least ``min_cluster_fraction`` of the valid overlap
   wins (nearest-subject priority, as phone laser AF does when a near object and the
   background share the AF region; the fraction keeps one stray zone from winning); when no
   cluster reaches it the largest one wins;
4. its distance is the inverse-variance weighted mean of its zones in diopters, weights
   a_i / sigma_Di^2, and its uncertainty 1 / sqrt(sum 1 / sigma_Di^2).

Out of range: a zone returns nothing when its signal falls below the detection threshold
(beyond the range for its reflectance, or too small) or it sees nothing; with no valid zone
over the ROI the policy falls back (``fallback``): ``"hyperfocal"`` (default) focuses at the
hyperfocal distance H = f^2 / (N c_max) + f, which keeps everything from H / 2 to infinity
within one depth of focus and so covers whatever lies beyond the sensor's range;
``"infinity"`` goes to the infinity code; ``"none"`` reports no estimate (done, lens kept).
A distance nearer than the minimum focus distance (the distance of ``max_code``) goes to the
macro end ``max_code``.

References
----------
.. [1] STMicroelectronics, "VL53L5CX: time-of-flight 8x8 multizone ranging sensor",
       datasheet DS13754 (zones, ranging limits, no-target status).
.. [2] S. F. Ray, *Applied Photographic Optics*, 3rd ed., Focal Press (2002), ch. 7
       (hyperfocal distance H = f^2 / (N c) + f, depth of field in diopters).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from focuslab.af.af_signals import codes_per_dof as signals_codes_per_dof
from focuslab.af.registry import register_policy
from focuslab.af.types import AFContext, Command, DepthZones, Observation
from focuslab.errors import InvalidParameterError

#: Fallback choices when no depth zone over the AF region returns a distance.
FALLBACKS = ("hyperfocal", "infinity", "none")

#: Smallest range sigma used as a weight (m): keeps a zero sigma from taking all the weight.
MIN_SIGMA_M = 1e-4

#: One depth of focus in object space (diopters) assumed when the lens is not described.
DEFAULT_DOF_DIOPTERS = 0.25


@dataclass(frozen=True)
class DepthEstimate:
    """The AF region's distance from the depth sensor (see :func:`roi_depth_estimate`).

    Attributes
    ----------
    distance_m
        Distance of the chosen (nearest qualifying) cluster, metres.
    sigma_m
        Its 1-sigma uncertainty, metres.
    support
        Share of the valid overlap with the ROI held by the chosen cluster, in (0, 1].
    coverage
        Share of the ROI covered by valid zones, in (0, 1].
    n_zones
        Zones in the chosen cluster.
    n_clusters
        Clusters found among the valid zones over the ROI (> 1: the zones disagree).
    """

    distance_m: float
    sigma_m: float
    support: float
    coverage: float
    n_zones: int
    n_clusters: int


def _roi_tuple(roi) -> tuple[float, float, float, float]:
    try:
        x, y, w, h = (float(v) for v in roi)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"roi must be (x, y, w, h) pixels, got {roi!r}") from None
    if not all(math.isfinite(v) for v in (x, y, w, h)) or w <= 0 or h <= 0:
        raise InvalidParameterError(f"roi must be finite (x, y, w, h) with w, h > 0, got {roi!r}")
    return x, y, w, h


def roi_overlap_fraction(rois_px: np.ndarray, roi) -> np.ndarray:
    """Fraction of the ROI covered by each zone footprint.

    Parameters
    ----------
    rois_px
        ``... x 4`` zone footprints ``(x, y, w, h)``, pixels.
    roi
        The AF region ``(x, y, w, h)``, pixels.

    Returns
    -------
    numpy.ndarray
        ``...`` float64 overlap area / ROI area, in [0, 1].
    """
    x, y, w, h = _roi_tuple(roi)
    z = np.asarray(rois_px, dtype=float)
    if z.shape[-1] != 4:
        raise InvalidParameterError(f"rois_px must end in a length-4 (x, y, w, h) axis, got shape {z.shape}")
    ox = np.clip(np.minimum(z[..., 0] + z[..., 2], x + w) - np.maximum(z[..., 0], x), 0.0, None)
    oy = np.clip(np.minimum(z[..., 1] + z[..., 3], y + h) - np.maximum(z[..., 1], y), 0.0, None)
    return np.nan_to_num(ox * oy / (w * h), nan=0.0)


def roi_depth_estimate(
    zones: DepthZones, roi, *, cluster_gap_diopters: float = DEFAULT_DOF_DIOPTERS, min_cluster_fraction: float = 0.1
) -> DepthEstimate | None:
    """Distance of the AF region from multizone depth readings (nearest valid cluster).

    Parameters
    ----------
    zones
        The depth sensor's zones (distance, validity, sigma, footprints on the frame).
    roi
        The AF region ``(x, y, w, h)`` in frame pixels.
    cluster_gap_diopters
        Smallest nearness gap (diopters, 1/m) that separates two clusters (default: about
        one depth of focus of a phone main camera; pass the lens's own, see
        :func:`dof_diopters`).
    min_cluster_fraction
        Share of the valid overlap a cluster needs to win by nearness, in [0, 1].

    Returns
    -------
    DepthEstimate or None
        None when no valid zone overlaps the ROI (no return: out of range or nothing there).

    Raises
    ------
    InvalidParameterError
        A malformed ROI, zones of inconsistent shapes, or bad options.

    Notes
    -----
    Clusters and weights as in the module notes: D_i = 1/d_i, sigma_Di = sigma_i / d_i^2,
    D = sum(w_i D_i) / sum(w_i) with w_i = a_i / sigma_Di^2, sigma_D = (sum 1/sigma_Di^2)^-1/2,
    distance = 1/D, sigma = sigma_D / D^2.
    """
    if not isinstance(zones, DepthZones):
        raise InvalidParameterError(f"zones must be focuslab.af.types.DepthZones, got {type(zones).__name__}")
    gap = float(cluster_gap_diopters)
    frac = float(min_cluster_fraction)
    if not (math.isfinite(gap) and gap >= 0.0):
        raise InvalidParameterError(f"cluster_gap_diopters must be a finite number >= 0, got {cluster_gap_diopters!r}")
    if not (math.isfinite(frac) and 0.0 <= frac <= 1.0):
        raise InvalidParameterError(f"min_cluster_fraction must be in [0, 1], got {min_cluster_fraction!r}")
    dist = np.asarray(zones.distance_m, dtype=float)
    sigma = np.asarray(zones.sigma_m, dtype=float)
    valid = np.asarray(zones.valid, dtype=bool)
    if dist.shape != valid.shape or dist.shape != sigma.shape or np.shape(zones.rois_px) != (*dist.shape, 4):
        raise InvalidParameterError(
            f"depth zones disagree in shape: distance {dist.shape}, valid {valid.shape}, sigma {sigma.shape}, "
            f"rois {np.shape(zones.rois_px)}; build DepthZones from one reading"
        )
    overlap = roi_overlap_fraction(zones.rois_px, roi)
    use = valid & (overlap > 0) & np.isfinite(dist) & (dist > 0) & np.isfinite(sigma)
    if not use.any():
        return None
    d, a = dist[use], overlap[use]
    s = np.maximum(sigma[use], MIN_SIGMA_M)
    diop, s_diop = 1.0 / d, s / d**2
    order = np.argsort(-diop, kind="stable")  # nearest first
    diop, s_diop, a = diop[order], s_diop[order], a[order]
    limit = np.maximum(gap, 3.0 * np.hypot(s_diop[:-1], s_diop[1:]))
    labels = np.concatenate([[0], np.cumsum(np.abs(np.diff(diop)) > limit)])
    total = a.sum()
    shares = np.bincount(labels, weights=a) / total
    qualifying = np.flatnonzero(shares >= frac - 1e-12)
    pick = int(qualifying[0]) if qualifying.size else int(np.argmax(shares))
    m = labels == pick
    w = a[m] / s_diop[m] ** 2
    d_mean = float(np.sum(w * diop[m]) / np.sum(w))
    s_mean = float(1.0 / np.sqrt(np.sum(1.0 / s_diop[m] ** 2)))
    return DepthEstimate(
        distance_m=1.0 / d_mean,
        sigma_m=s_mean / d_mean**2,
        support=float(shares[pick]),
        coverage=float(min(total, 1.0)),
        n_zones=int(m.sum()),
        n_clusters=int(labels[-1]) + 1,
    )


def dof_diopters(context: AFContext) -> float:
    """One depth of focus in object space, c_max N / f^2 diopters (default 0.25 when unknown).

    A blur of c_max at the sensor corresponds to a nearness change of c_max / (f A) = c_max N /
    f^2 (thin lens, object far beyond f) [2]: the inverse hyperfocal distance.
    """
    f, n, c = context.focal_length_mm, context.f_number, context.coc_max_um
    if f is None or n is None or c is None:
        return DEFAULT_DOF_DIOPTERS
    return float(c * 1e-6 * n / (f * 1e-3) ** 2)


def hyperfocal_m(context: AFContext) -> float:
    """Hyperfocal distance H = f^2 / (N c_max) + f, metres (``inf`` when the lens is not described)."""
    f, n, c = context.focal_length_mm, context.f_number, context.coc_max_um
    if f is None or n is None or c is None:
        return math.inf
    return float((f * f / (n * c * 1e-3) + f) * 1e-3)


def codes_per_dof(context: AFContext, code: float, *, default: float | None = None) -> float:
    """Lens codes that move the focus by one depth of focus around ``code``.

    :func:`focuslab.af.af_signals.codes_per_dof` (the one implementation); without a lens
    model ``default`` wins when given.
    """
    if default is not None and not context.has_lens_model:
        return float(default)
    return signals_codes_per_dof(context, code)

class DepthPolicy:
    """Laser AF: one jump to the code of the AF region's depth-sensor distance, then done.

    Parameters
    ----------
    fallback
        What to do with no return over the AF region: ``"hyperfocal"``, ``"infinity"`` or
        ``"none"`` (see the module notes).
    min_cluster_fraction
        See :func:`roi_depth_estimate`.
    settle_tolerance_dof
        The lens counts as settled when its reported position is this close to the target,
        depth-of-focus units.
    max_wait_frames
        Frames to wait for a first depth reading before falling back.
    max_settle_frames
        Frames after the jump after which AF is done even if the reported position has not
        come within tolerance (a sticky or noisy actuator).
    """

    name = "depth"
    requires = frozenset({"depth", "lens_model"})

    def __init__(self, *, fallback: str = "hyperfocal", min_cluster_fraction: float = 0.1,
                 settle_tolerance_dof: float = 0.25, max_wait_frames: int = 3, max_settle_frames: int = 8) -> None:
        if fallback not in FALLBACKS:
            raise InvalidParameterError(f"fallback must be one of {', '.join(FALLBACKS)}, got {fallback!r}")
        tol = float(settle_tolerance_dof)
        if not (math.isfinite(tol) and tol > 0):
            raise InvalidParameterError(f"settle_tolerance_dof must be > 0, got {settle_tolerance_dof!r}")
        for key, v in (("max_wait_frames", max_wait_frames), ("max_settle_frames", max_settle_frames)):
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 1:
                raise InvalidParameterError(f"{key} must be an integer >= 1, got {v!r}")
        if not 0.0 <= float(min_cluster_fraction) <= 1.0:
            raise InvalidParameterError(f"min_cluster_fraction must be in [0, 1], got {min_cluster_fraction!r}")
        self.fallback = fallback
        self.min_cluster_fraction = float(min_cluster_fraction)
        self.settle_tolerance_dof = tol
        self.max_wait_frames = int(max_wait_frames)
        self.max_settle_frames = int(max_settle_frames)
        self._context: AFContext | None = None
        self.reset_state()

    def reset_state(self) -> None:
        """Forget the run (target, counters); :meth:`reset` also sets the camera context."""
        self._target: int | None = None
        self._waited = 0
        self._since_jump = 0
        self._jump: tuple[float, float] = (0.0, 0.0)  # when the jump was commanded (s) and its size (codes)
        self._arrived = False
        #: What the jump was based on: ``"depth"``, ``"macro"``, ``"fallback-<kind>"`` (None before).
        self.status: str | None = None
        #: The depth estimate used (None before the first reading or on fallback).
        self.estimate: DepthEstimate | None = None

    def reset(self, context: AFContext) -> None:
        """Start a new run on the camera ``context`` (needs its lens model)."""
        if not isinstance(context, AFContext):
            raise InvalidParameterError(f"context must be an AFContext, got {type(context).__name__}")
        if not context.has_lens_model:
            raise InvalidParameterError(
                f"the depth policy needs the lens model (code <-> distance) of {context.name or 'the camera'}; "
                "use a contrast policy on cameras without one"
            )
        self._context = context
        self.reset_state()

    def _clip(self, code: float) -> int:
        ctx = self._context
        return int(min(max(round(code), ctx.min_code), ctx.max_code))

    def target_for(self, estimate: DepthEstimate | None) -> tuple[int | None, str]:
        """Lens code (or None for no estimate) and status for a depth estimate (None: no return)."""
        ctx = self._context
        if estimate is None:
            if self.fallback == "none":
                return None, "fallback-none"
            dist = hyperfocal_m(ctx) if self.fallback == "hyperfocal" else math.inf
            return self._clip(ctx.code_for_distance(dist)), f"fallback-{self.fallback}"
        mfd = ctx.distance_for_code(ctx.max_code)
        if estimate.distance_m <= mfd:
            return int(ctx.max_code), "macro"
        return self._clip(ctx.code_for_distance(estimate.distance_m)), "depth"

    def step(self, observation: Observation) -> Command:
        """Read the depth once, jump, wait for the actuator to settle, then report done."""
        if self._context is None:
            raise InvalidParameterError("call reset(context) before step(); the policy has no camera context")
        obs = observation
        if self.status is None:
            if obs.depth is None and self._waited + 1 < self.max_wait_frames:
                self._waited += 1
                return Command(None, done=False)
            est = None
            if obs.depth is not None:
                est = roi_depth_estimate(obs.depth, obs.roi, cluster_gap_diopters=dof_diopters(self._context),
                                         min_cluster_fraction=self.min_cluster_fraction)
            self.estimate = est
            self._target, self.status = self.target_for(est)
            if self._target is None:
                return Command(None, done=True)
            self._jump = (obs.t_s + obs.exposure_s, abs(self._target - float(obs.reported_code)))
            return Command(self._target, done=False)
        if self._target is None:
            return Command(None, done=True)
        self._since_jump += 1
        tol = max(self.settle_tolerance_dof * codes_per_dof(self._context, self._target), 1.0)
        arrived = abs(float(obs.reported_code) - self._target) <= tol
        # the frame is sharp only if the lens had settled before its exposure began
        settled = arrived and (obs.t_s - self._jump[0] >= self.settle_time_s(self._jump[1], tol) or self._arrived)
        self._arrived = arrived
        done = settled or self._since_jump >= self.max_settle_frames
        return Command(self._target, done=done)

    def settle_time_s(self, step_codes: float, tol_codes: float) -> float:
        """Time for a step of ``step_codes`` to settle within ``tol_codes`` (inf when unknown).

        A damped actuator's error envelope decays as exp(-zeta w t), so the settling time grows
        as ln(step / tol); it is scaled from the context's stated settling time of a full-stroke
        step into a quarter depth of focus.
        """
        ctx = self._context
        if ctx.settle_time_s is None:
            return math.inf
        full = max(ctx.max_code - ctx.min_code, 2.0)
        quarter = max(0.25 * codes_per_dof(ctx, 0.5 * (ctx.min_code + ctx.max_code)), 1.0)
        ratio = math.log(max(step_codes, tol_codes) / tol_codes) / math.log(max(full / quarter, 1.0 + 1e-9))
        return float(ctx.settle_time_s * max(ratio, 0.0))


@register_policy("depth")
def make_depth_policy(**options) -> DepthPolicy:
    """Factory of the ``depth`` policy (options: see :class:`DepthPolicy`)."""
    return DepthPolicy(**options)
