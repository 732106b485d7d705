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
   (3 by default: for 8 degrees of freedom a value above 3 has p < 0.003 for consistent
   readings, and overlapping crops, being correlated, give less; a network may set its own,
   "Calibrated gate") the plain pool is returned.
2. Otherwise the nearest subject. The readings are split in two groups where the split
   separates them most (Otsu's criterion by crop count: the largest k (n - k) (m_hi - m_lo)^2
   over the sorted readings, each crop one vote, as each covers the same area). When no crop
   reads within ``gap_floor_dof`` across the split (an empty band between the groups) the
   nearer group (positive defocus is a subject nearer than the focus plane) is pooled if it
   holds at least ``min_share`` of the crops (a quarter: 3 of 9), else the farther one; without
   such a band the readings are one surface read unevenly (a textured photograph's crops, a
   noisy wall's) and are pooled whole: measured with the split alone, `learned-fusion` lost a
   1-DoF brick photograph and a 1 %-wall run that way.
   Counting crops, not their inverse variances, is what the truth does (the nearest group
   covering >= 30 % of the region, :mod:`focuslab.af.region_depth`): a near subject blurred
   while the lens rests on the background has the wider sigmas, and the inverse-variance 0.75
   quantile of stop 21 (the crops within max(3 robust sigma, 1 DoF) of it) fell on the sharp
   background: a one_over_f card 4.2 DoF out, read +3.7 to +3.9 DoF by its column of 3 crops,
   pooled to +0.1 and ended the run at the infinity code. A count-weighted quantile with that
   robust-sigma tolerance was no answer (depth-edge 29.2 %): with the lens on the card the
   two-depth spread made the tolerance span both groups and the pool a blend again.

Blended crops. A crop across the subject's edge reads a blend of the two depths, weighted by
each surface's texture contrast, not its area (a card photograph over a dead-leaves background:
the column three quarters on the card read halfway). Such a column can fill the band between
the card's crops and the background's, and then no empty ``gap_floor_dof`` band splits two
groups. The nearest ``min_share`` of the crops (3 of 9) are still taken as the subject when
the band below them is at least ``NEAR_BAND_DOF`` (0.5) and ``NEAR_BAND_SPREAD`` (3) times their
own spread: crops that agree among themselves and stand apart from the rest, which a slanted
surface's even ramp of readings does not give.

Three depths. A region can read three levels: the background, a column across the card's edge
(a blend), and the card. The two-group split may then take the background apart and leave the
other two levels together, whose pool is again a blend (``wide_main_6mm``, the lens on a chelsea
card: -7.2 / -2.5 / +0.3 DoF, pooled -0.56, and the lens walked off the card). So the group taken
is split again, the same way, while its nearer part lies behind an empty ``gap_floor_dof`` band
and holds ``min_share`` of all the crops: the truth's rule (the nearest group covering 30 %)
applied level by level. Measured with ``learned-dp`` (stop 23, full suites, against the rules
above): depth-edge ``wide_main_6mm`` seeds 0-2 83.3 % -> 94.4 % in focus (1.69 -> 1.41 DoF),
phone_tele seeds 0-2 100 % both (0.35 -> 0.23 DoF), phone_main_tof seeds 0-7 97.9 % -> 95.8 %
(0.34 -> 0.38 DoF: one run lost to a column across the edge that reads about 0 DoF far out of
focus, and brick-photograph runs 0.3-0.5 DoF off instead of ~0.1, the network reading the brick
card's own crops ~0.4 DoF near); ``learned-fusion`` ``wide_main_6mm`` 72.2 % -> 83.3 %,
phone_main_tof 95.8 % both; every stills and low-texture run on the same traces.

Calibrated gate. The chi-square test trusts the network's sigmas. ``dp-defocus``'s overstate
the scatter of its crops on one surface about threefold (its sigma carries texture-dependent
error common to all the crops of a surface): on the stills-bright and stills-lowlight suites,
phone_main_tof, seeds 0-7, 506 readings by ``learned-dp`` gave a reduced chi-square of median
0.10-0.12, 99th percentile 0.44-0.73 and largest 1.04, while 5 of the 6 depth-edge runs (of 48)
it still missed never reached 3 (largest 1.5-2.8) and ended 1.0-2.25 DoF off on the blend (the
sixth is the blended-crops case above). ``learned-dp`` therefore
gates at 1.5 (``LearnedDPAF.nearest_chi2_per_dof``); ``fusion``'s sigmas are tighter (one
surface: median 0.35, 99th percentile 4.2-4.3) and ``learned-fusion`` keeps 3. Either way a
reading whose crops have a median sigma above ``MAX_SIGMA_DOF`` (3 DoF) is left alone: the
low-texture suite's walls read at 5-8 DoF sigmas, and at the 1.5 gate their noise split
lost two wall runs.

Measured (``learned-dp``, which keeps the nearest pooling for the rest of a still run once a
reading found two depths; full suites, phone_main_tof, seeds 0-7): with the two-group split
(stop 22) depth-edge 64.6 % -> 87.5 % in focus, mean |error| 1.67 -> 0.45 DoF against the
quantile rule, every stills-bright, stills-lowlight and low-texture run on the same lens trace
(stop 23, the 1.5 gate, the sigma bound and the blended-crops rule: depth-edge 87.5 % ->
95.8 %, 0.45 -> 0.41 DoF, every other run on the same trace; ``learned-fusion`` 93.8 % -> 95.8 %;
phone_tele 83.3 % -> 88.9 %; stop 22 on phone_tele, seeds 0-2:
depth-edge 55.6 % -> 83.3 %; ``learned-fusion``, phone_main_tof seeds
0-7: depth-edge 64.6 % -> 93.8 %, mean |error| 1.69 -> 0.48 DoF, stills the same in-focus runs,
low-texture 92.2 -> 90.6 %, one wall run lost); the quantile rule itself (stop 21) against
pooling every crop: depth-edge 4.2 % -> 62.5 % in focus, mean |error| 4.03 -> 1.48 DoF; the 208
stills-bright and stills-lowlight runs follow the same lens traces as before, and low-texture
keeps its 45.3 % in focus. Without the gate (nearest pooling always; seeds 0-2) stills-lowlight
lost a run (97.2 -> 94.4 %) and low-texture two (45.8 -> 37.5 %): on noisy crops the 0.75
quantile picks noise. On phone_tele the crops' sigmas are wider and the test seldom fires
(depth-edge 16.7 % -> 27.8 %, seeds 0-2).
"""

from __future__ import annotations

import math

import numpy as np

from focuslab.errors import InvalidParameterError

#: Reduced chi-square of the crops' readings above which the region holds more than one depth
#: (the default; a network whose sigmas overstate its crops' scatter takes its own, measured
#: threshold, as ``learned-dp`` does: module notes, "Calibrated gate").
CHI2_PER_DOF = 3.0
#: The nearer of two groups is the subject when it holds at least this share of the crops.
MIN_SHARE = 0.25
#: Two groups are two depths only with an empty band this wide (DoF) between their nearest readings.
GAP_FLOOR_DOF = 1.0
#: Without that band, the nearest ``MIN_SHARE`` of the crops are a subject of their own when the
#: band below them is at least this wide (DoF) ...
NEAR_BAND_DOF = 0.5
#: ... and at least this many times their own spread (module notes, "Blended crops").
NEAR_BAND_SPREAD = 3.0
#: Crops whose median sigma exceeds this (DoF) cannot locate a surface to the band's width:
#: the rule leaves such a reading alone (a faint wall's crops, read at 5-8 DoF sigmas).
MAX_SIGMA_DOF = 3.0


#: Within this defocus (DoF) of the region's reading a policy applies the rule; beyond it the
#: first jump uses the whole region, whose crops are all far out of focus (unless the run has
#: already found two depths: :meth:`NearestSubjectRun.region`).
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


def _banded_split(ds: np.ndarray, gap_floor_dof: float) -> int:
    """Where sorted readings ``ds`` split into the two groups Otsu's criterion (by count)
    separates most, when an empty band of ``gap_floor_dof`` lies there; else 0."""
    n = ds.size
    best_k, best_score = 0, -1.0
    for k in range(1, n):
        gap = float(ds[k:].mean() - ds[:k].mean())
        score = k * (n - k) * gap * gap
        if score > best_score:
            best_k, best_score = k, score
    return best_k if best_k > 0 and ds[best_k] - ds[best_k - 1] >= gap_floor_dof else 0


def _nearest(d: np.ndarray, min_share: float, gap_floor_dof: float) -> np.ndarray:
    """Mask of the nearest subject's crops: the two-group split of the readings, then the same
    split within the group taken while its nearer part, behind an empty band, holds
    ``min_share`` of all the crops (module notes, "Three depths")."""
    mask = _two_groups(d, min_share, gap_floor_dof)
    while np.count_nonzero(mask) >= 2:
        idx = np.flatnonzero(mask)
        order = np.argsort(d[idx], kind="stable")
        k = _banded_split(d[idx][order], gap_floor_dof)
        if k == 0 or idx.size - k < min_share * d.size:
            break
        mask = np.zeros(d.size, dtype=bool)
        mask[idx[order[k:]]] = True
    return mask


def _two_groups(d: np.ndarray, min_share: float, gap_floor_dof: float) -> np.ndarray:
    """The two-group split of the readings (module notes, items 2 and "Blended crops")."""
    n = d.size
    order = np.argsort(d, kind="stable")
    ds = d[order]
    best_k = _banded_split(ds, gap_floor_dof)
    if best_k == 0:
        # no empty band between the two groups: the nearest quarter may still stand apart, the
        # crops between them and the rest reading blends of the two depths ("Blended crops")
        m = math.ceil(min_share * n)
        near = np.zeros(n, dtype=bool)
        if m < n:
            top = ds[n - m:]
            if top[0] - ds[n - m - 1] >= max(NEAR_BAND_DOF, NEAR_BAND_SPREAD * float(top[-1] - top[0])):
                near[order[n - m:]] = True
                return near
        return ~near  # one surface, read unevenly: every crop
    near = np.zeros(n, dtype=bool)
    near[order[best_k:]] = True
    return near if np.count_nonzero(near) >= min_share * n else ~near


def _pool(d: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    mu = float(np.sum(w * d) / np.sum(w))
    spread = float(np.sum(w * (d - mu) ** 2) / np.sum(w))
    return mu, math.sqrt(1.0 / float(np.sum(w)) + spread)


def reduced_chi2(defocus_dof, sigma_dof) -> float:
    """``sum w (d - m)^2 / (n - 1)`` of readings d with sigmas s (w = 1 / s^2, m their weighted mean)."""
    return _chi2(*_readings(defocus_dof, sigma_dof))


def _readable(w: np.ndarray, max_sigma_dof: float) -> bool:
    """Whether the crops' median sigma is within ``max_sigma_dof`` (module notes, "Calibrated gate")."""
    return float(np.median(1.0 / np.sqrt(w))) <= max_sigma_dof


def nearest_subject_defocus(defocus_dof, sigma_dof, *, chi2_per_dof: float = CHI2_PER_DOF,
                            min_share: float = MIN_SHARE, gap_floor_dof: float = GAP_FLOOR_DOF,
                            max_sigma_dof: float = MAX_SIGMA_DOF) -> tuple[float, float, np.ndarray]:
    """``(defocus, sigma, used)`` of a region from its crops' readings (module notes).

    ``used`` marks the crops pooled: all of them when the readings are consistent with one
    depth (or too uncertain to tell, median sigma above ``max_sigma_dof``), else the nearest
    subject's. The sigma is ``sqrt(1 / sum w + weighted spread)`` of the pooled crops, as
    :func:`focuslab.models.predict.pool`.
    """
    d, w = _readings(defocus_dof, sigma_dof)
    two = _readable(w, max_sigma_dof) and _chi2(d, w) >= chi2_per_dof
    used = _nearest(d, min_share, gap_floor_dof) if two else np.ones(d.size, dtype=bool)
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

    def __init__(self, chi2_per_dof: float = CHI2_PER_DOF, max_sigma_dof: float = MAX_SIGMA_DOF) -> None:
        if not (math.isfinite(chi2_per_dof) and chi2_per_dof > 0 and max_sigma_dof > 0):
            raise InvalidParameterError(f"chi2_per_dof and max_sigma_dof must be positive, got {chi2_per_dof!r}, "
                                        f"{max_sigma_dof!r}")
        self.chi2_per_dof = float(chi2_per_dof)
        self.max_sigma_dof = float(max_sigma_dof)
        self.two_depths = False

    def read(self, defocus_dof, sigma_dof) -> tuple[float, float] | None:
        """The nearest subject's ``(defocus, sigma)``, or None while the region is one depth so far
        (or a crop's reading is not finite, or the crops' median sigma is above ``max_sigma_dof``:
        keep the caller's whole-region reading)."""
        try:
            d, w = _readings(defocus_dof, sigma_dof)
        except InvalidParameterError:
            return None
        if d.size < 2 or not _readable(w, self.max_sigma_dof):
            return None
        self.two_depths = self.two_depths or _chi2(d, w) >= self.chi2_per_dof
        if not self.two_depths:
            return None
        used = _nearest(d, MIN_SHARE, GAP_FLOOR_DOF)
        return _pool(d[used], w[used])

    def region(self, defocus_dof: float, sigma_dof: float, read_crops) -> tuple[float, float]:
        """The region's ``(defocus, sigma)``: the whole region's reading as given, or within
        ``NEAR_WITHIN_DOF`` of focus its nearest subject's from ``read_crops()`` (the crops'
        ``(defocus, sigma)`` arrays, or None when the region holds fewer than two a side).

        Once the run has found two depths the crops are read at any distance from focus: the
        whole region's reading is then a blend of depths known to differ, and with the lens on
        a near card the far, strongly blurred background can pull it beyond ``NEAR_WITHIN_DOF``
        (a brick card at 0.41 m over a background at 5.9 m on ``wide_main_6mm``: the region read
        -7.2 DoF, sigma 5.5, with the lens 1 DoF from the card; the policy waited, handed over to
        contrast, and contrast climbed to the background, 16.7 DoF off). Measured, seeds 0-2:
        depth-edge phone_tele 88.9 % -> 100 %, wide_main_6mm 72.2 % -> 77.8 %; phone_main_tof
        (seeds 0-7) and every stills and low-texture run on the same traces."""
        if abs(defocus_dof) <= NEAR_WITHIN_DOF or self.two_depths:
            crops = read_crops()
            near = None if crops is None else self.read(*crops)
            if near is not None:
                return near
        return defocus_dof, sigma_dof
