"""Nearest-subject pooling of a region's per-crop defocus readings (phone AF's subject priority).

Why. ``dp-defocus`` reads an AF region as tiles of its crop size pooled by inverse variance
(:func:`focuslab.models.predict.pool`). Where the region holds a near subject over a farther
background (the ``depth-edge`` suite: a card over 5/8 of the region), the pool is a blend of
the two depths and the lens settles between them, in focus on neither: ``learned-dp`` was in
focus in 1 of 18 depth-edge runs (full suite, seeds 0-2). Phone AF gives the nearest subject
priority, and so does the benchmark's truth (:mod:`focuslab.af.region_depth`: the nearest
group covering >= 30 % of the region).

How (:func:`nearest_subject_defocus`). The region is read as overlapping crops (every half
crop: 3 x 3 crops of 64 px on a 128-px region) giving readings d_i with sigmas s_i.

1. Are they one depth? With weights w_i = 1 / s_i^2 and the pooled mean m, the reduced
   chi-square ``sum w_i (d_i - m)^2 / (n - 1)`` is ~1 for readings of one surface (more noise
   only widens the s_i) and large when the crops see different depths. Below ``chi2_per_dof``
   (3: for 8 degrees of freedom a value above 3 has p < 0.003 for consistent readings, and
   overlapping crops, being correlated, give less) the plain pool is returned.
2. Otherwise the nearest subject: a positive defocus is a subject nearer than the focus plane,
   so with q the weighted ``quantile`` (0.75) of the d_i and r = 1.4826 x their weighted median
   absolute deviation, the crops within ``max(3 r, tol_floor_dof)`` of q are pooled; with a
   near subject over at least a quarter of the crops, separated from the background by more
   than the tolerance, they are the subject's (the rule of
   :func:`focuslab.af.af_signals.nearest_cluster` for disparities, here in DoF).

Measured (``learned-dp``, which keeps the nearest pooling for the rest of a still run once a
reading found two depths; full suites, phone_main_tof, seeds 0-7): depth-edge 4.2 % -> 62.5 %
in focus, mean |error| 4.03 -> 1.48 DoF; the 208 stills-bright and stills-lowlight runs follow
the same lens traces as before, and low-texture keeps its 45.3 % in focus. Without the gate
(nearest pooling always; seeds 0-2) stills-lowlight lost a run (97.2 -> 94.4 %) and low-texture
two (45.8 -> 37.5 %): on noisy crops the 0.75 quantile picks noise. On phone_tele the crops'
sigmas are wider and the test seldom fires (depth-edge 16.7 % -> 27.8 %, seeds 0-2).
"""

from __future__ import annotations

import math

import numpy as np

from focuslab.errors import InvalidParameterError

#: Reduced chi-square of the crops' readings above which the region holds more than one depth.
CHI2_PER_DOF = 3.0


def _wquantile(v: np.ndarray, w: np.ndarray, q: float) -> float:
    order = np.argsort(v, kind="stable")
    cw = np.cumsum(w[order])
    return float(v[order][min(int(np.searchsorted(cw, q * cw[-1])), v.size - 1)])


#: Within this defocus (DoF) of the region's reading a policy applies the rule; beyond it the
#: first jump uses the whole region, whose crops are all far out of focus.
NEAR_WITHIN_DOF = 6.0


def _readings(defocus_dof, sigma_dof) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(defocus_dof, dtype=float).reshape(-1)
    s = np.asarray(sigma_dof, dtype=float).reshape(-1)
    if d.shape != s.shape or d.size == 0:
        raise InvalidParameterError(f"need one sigma per reading (got {d.size} readings, {s.size} sigmas)")
    if not (np.all(np.isfinite(d)) and np.all(np.isfinite(s)) and np.all(s > 0)):
        raise InvalidParameterError("readings must be finite with sigmas > 0")
    return d, 1.0 / s**2


def _chi2(d: np.ndarray, w: np.ndarray) -> float:
    if d.size < 2:
        return 0.0
    m = float(np.sum(w * d) / np.sum(w))
    return float(np.sum(w * (d - m) ** 2) / (d.size - 1))


def _nearest(d: np.ndarray, w: np.ndarray, quantile: float, tol_floor_dof: float) -> np.ndarray:
    """Mask of the crops within max(3 robust sigma, ``tol_floor_dof``) of the weighted ``quantile``."""
    med = _wquantile(d, w, 0.5)
    mad = _wquantile(np.abs(d - med), w, 0.5)
    keep = np.abs(d - _wquantile(d, w, quantile)) <= max(3.0 * 1.4826 * mad, tol_floor_dof)
    return keep if keep.any() else np.ones(d.size, dtype=bool)


def _pool(d: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    mu = float(np.sum(w * d) / np.sum(w))
    spread = float(np.sum(w * (d - mu) ** 2) / np.sum(w))
    return mu, math.sqrt(1.0 / float(np.sum(w)) + spread)


def reduced_chi2(defocus_dof, sigma_dof) -> float:
    """``sum w (d - m)^2 / (n - 1)`` of readings d with sigmas s (w = 1 / s^2, m their weighted mean)."""
    return _chi2(*_readings(defocus_dof, sigma_dof))


def nearest_subject_defocus(defocus_dof, sigma_dof, *, chi2_per_dof: float = CHI2_PER_DOF, quantile: float = 0.75,
                            tol_floor_dof: float = 1.0) -> tuple[float, float, np.ndarray]:
    """``(defocus, sigma, used)`` of a region from its crops' readings (module notes).

    ``used`` marks the crops pooled: all of them when the readings are consistent with one
    depth, else the nearest subject's. The sigma is ``sqrt(1 / sum w + weighted spread)`` of
    the pooled crops, as :func:`focuslab.models.predict.pool`.
    """
    d, w = _readings(defocus_dof, sigma_dof)
    used = _nearest(d, w, quantile, tol_floor_dof) if _chi2(d, w) >= chi2_per_dof else np.ones(d.size, dtype=bool)
    return (*_pool(d[used], w[used]), used)


def nearest_subject_option(value) -> bool:
    """A policy's ``nearest_subject`` option, checked: true or false."""
    if not isinstance(value, bool | np.bool_):
        raise InvalidParameterError(f"nearest_subject must be true or false, got {value!r}")
    return bool(value)


class NearestSubjectRun:
    """The rule over one still AF run: once any reading found the crops disagreeing
    (reduced chi-square >= ``chi2_per_dof``), every later reading pools the nearest subject's crops.

    Why the memory: a crop's sigma grows with its blur, so with the lens on the near subject
    the blurred background's crops can pass the test, and without memory the lens flipped
    between the subject and the blend (phone_tele depth-edge, seeds 0-2: 16.7 % in focus without,
    27.8 % with; phone_main_tof, seeds 0-7: 60.4 % and 62.5 %).
    """

    def __init__(self, chi2_per_dof: float = CHI2_PER_DOF) -> None:
        self.chi2_per_dof = float(chi2_per_dof)
        self.two_depths = False

    def read(self, defocus_dof, sigma_dof) -> tuple[float, float] | None:
        """The nearest subject's ``(defocus, sigma)``, or None while the region is one depth so far
        (or a crop's reading is not finite: keep the caller's whole-region reading)."""
        try:
            d, w = _readings(defocus_dof, sigma_dof)
        except InvalidParameterError:
            return None
        if d.size < 2:
            return None
        self.two_depths = self.two_depths or _chi2(d, w) >= self.chi2_per_dof
        if not self.two_depths:
            return None
        used = _nearest(d, w, 0.75, 1.0)
        return _pool(d[used], w[used])

    def region(self, defocus_dof: float, sigma_dof: float, read_crops) -> tuple[float, float]:
        """The region's ``(defocus, sigma)``: the whole region's reading as given, or within
        ``NEAR_WITHIN_DOF`` of focus its nearest subject's from ``read_crops()`` (the crops'
        ``(defocus, sigma)`` arrays, or None when the region holds fewer than two a side)."""
        if abs(defocus_dof) <= NEAR_WITHIN_DOF:
            crops = read_crops()
            near = None if crops is None else self.read(*crops)
            if near is not None:
                return near
        return defocus_dof, sigma_dof
