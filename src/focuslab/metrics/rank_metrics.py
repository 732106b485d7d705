"""Scale-free agreement between a measured map and a reference: Spearman's rho and AIWE.

A dual-pixel disparity map or a defocus map is only known up to an unknown affine map of the
true defocus (the lens, the f-number and the focus distance set the slope and the offset), so
it is scored with errors that are invariant to ``a * d + b``: the affine-invariant weighted
errors AIWE(1) and AIWE(2) of Garg et al. (ICCV 2019), and 1 - |rho_s| with Spearman's rank
correlation rho_s, as used by Xin et al. (ICCV 2021) on the Pixel 4 data.

References
----------
.. [1] R. Garg, N. Wadhwa, S. Ansari, J. T. Barron, "Learning single camera depth estimation
       using dual-pixels", ICCV 2019, sec. 5 (AIWE(1), AIWE(2), 1 - |rho_s|).
.. [2] S. Xin, N. Wadhwa, T. Xue, J. T. Barron, P. P. Srinivasan, J. Chen, I. Gkioulekas,
       R. Garg, "Defocus map estimation and deblurring from a single dual-pixel image",
       ICCV 2021, sec. 6 (the same three errors on defocus maps).
.. [3] C. Spearman, "The proof and measurement of association between two things",
       Am. J. Psychol. 15(1), 1904.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import optimize, stats

from focuslab.errors import InvalidParameterError

#: Fewest valid samples a score is computed from.
MIN_SAMPLES = 3


def _pairs(measured, reference, weights):
    x = np.asarray(measured, dtype=float).ravel()
    y = np.asarray(reference, dtype=float).ravel()
    if x.shape != y.shape:
        raise InvalidParameterError(
            f"measured and reference maps must have the same number of values, got {x.size} and {y.size}"
        )
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    if w.shape != x.shape:
        raise InvalidParameterError(f"weights must have {x.size} values like the maps, got {w.size}")
    if np.any(w < 0):
        raise InvalidParameterError("weights must be >= 0; pass a confidence in [0, 1]")
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(w) & (w > 0)
    if np.count_nonzero(ok) < MIN_SAMPLES:
        raise InvalidParameterError(
            f"only {np.count_nonzero(ok)} finite samples with weight > 0; need at least {MIN_SAMPLES}"
        )
    return x[ok], y[ok], w[ok]


def spearman_rho(measured, reference, *, weights=None) -> float:
    """Spearman's rank correlation between two maps (ties get their average rank) [3].

    Parameters
    ----------
    measured, reference
        Arrays of the same size (any shape); NaN/inf samples and samples with weight 0 are
        left out.
    weights
        Optional per-sample weights >= 0; only their support (> 0) is used, rho is unweighted.

    Returns
    -------
    float
        rho_s in [-1, 1]; NaN when either map is constant over the valid samples.

    Raises
    ------
    InvalidParameterError
        Different sizes, negative weights, or fewer than ``MIN_SAMPLES`` valid samples.

    Notes
    -----
    rho_s is Pearson's correlation of the ranks, r = cov(rank x, rank y) / (s_rx s_ry).
    """
    x, y, _ = _pairs(measured, reference, weights)
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(stats.spearmanr(x, y).statistic)


def _weighted_median(v: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(v, kind="stable")
    cw = np.cumsum(w[order])
    return float(v[order][np.searchsorted(cw, 0.5 * cw[-1])])


def affine_fit(measured, reference, *, p: int = 2, weights=None) -> tuple[float, float]:
    """Slope a and offset b minimising sum w |reference - (a measured + b)|^p, p in {1, 2}.

    p = 2 is weighted least squares (closed form). p = 1 is solved exactly: for a fixed a the
    best b is the weighted median of y - a x, and the resulting cost is convex in a, so a is
    found by Brent's method started from the least-squares slope.
    """
    if p not in (1, 2):
        raise InvalidParameterError(f"p must be 1 or 2, got {p!r}")
    x, y, w = _pairs(measured, reference, weights)
    sw = w.sum()
    mx, my = (w * x).sum() / sw, (w * y).sum() / sw
    sxx = (w * (x - mx) ** 2).sum()
    a2 = (w * (x - mx) * (y - my)).sum() / sxx if sxx > 0 else 0.0
    if p == 2:
        return float(a2), float(my - a2 * mx)
    if sxx == 0:
        return 0.0, _weighted_median(y, w)

    def cost(a: float) -> float:
        r = y - a * x
        return float((w * np.abs(r - _weighted_median(r, w))).sum())

    scale = abs(a2) + np.sqrt((w * (y - my) ** 2).sum() / sxx) + 1e-12
    res = optimize.minimize_scalar(cost, bracket=(a2 - scale, a2 + scale), options={"xtol": 1e-10})
    a1 = float(res.x)
    return a1, _weighted_median(y - a1 * x, w)


def aiwe(measured, reference, *, p: int = 2, weights=None) -> float:
    """Affine-invariant weighted error AIWE(p) of Garg et al. [1], p in {1, 2}.

    Notes
    -----
    AIWE(p) = min_{a, b} ( sum_i w_i |y_i - (a x_i + b)|^p / sum_i w_i )^(1/p)
    ([1], sec. 5), x the measured map, y the reference, in the reference's units.
    """
    a, b = affine_fit(measured, reference, p=p, weights=weights)
    x, y, w = _pairs(measured, reference, weights)
    r = np.abs(y - (a * x + b))
    return float(((w * r**p).sum() / w.sum()) ** (1.0 / p))


@dataclass(frozen=True)
class RankScores:
    """Scores of a measured map against a reference map (see :func:`rank_scores`)."""

    spearman_rho: float
    aiwe1: float
    aiwe2: float
    one_minus_abs_rho: float
    n_samples: int

    def to_dict(self) -> dict:
        """Plain dict for JSON."""
        return asdict(self)


def rank_scores(measured, reference, *, weights=None) -> RankScores:
    """rho_s, AIWE(1), AIWE(2) and 1 - |rho_s| of ``measured`` against ``reference`` [1, 2]."""
    _, _, w = _pairs(measured, reference, weights)
    rho = spearman_rho(measured, reference, weights=weights)
    return RankScores(
        spearman_rho=rho,
        aiwe1=aiwe(measured, reference, p=1, weights=weights),
        aiwe2=aiwe(measured, reference, p=2, weights=weights),
        one_minus_abs_rho=1.0 - abs(rho),
        n_samples=int(w.size),
    )
