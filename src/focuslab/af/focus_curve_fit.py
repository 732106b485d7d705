"""The in-focus code of a noisy focus curve, by fitting the physical shape of the whole curve.

A contrast sweep over a low-contrast subject (a wall of 1-3 % contrast) gives a focus curve
whose samples fluctuate with the pixel noise by about as much as focus changes them: its
maximum is one noisy sample and can lie anywhere. The shape of the curve, however, is known
from the physics, and a fit over every sample averages the noise of all of them.

Model. A natural texture's amplitude spectrum falls as 1/f (power P(f) ~ f^-2, Field 1987;
``focuslab.scene.textures.low_texture`` is such a texture). The Tenengrad of its image under
a blur of width sigma_c is the gradient energy ~ int f^2 P(f) |MTF_c(f)|^2 df
~ int |MTF_c(f)|^2 df ~ 1 / sigma_c for a blur wider than the pixel: the curve's tails fall
as 1 / |defocus|. Blur is linear in the lens travel (c = A s (1/u - 1/u_f), DESIGN.md), and
the residual widths at focus (pixel, optics, the pre-filter) add in quadrature, so

    F(x) = b + a / sqrt(w^2 + (x - p)^2)                                     (1)

with b the noise's own contribution (constant over a sweep at one exposure), a the texture's,
w the in-focus width and p the in-focus code. :func:`fit_defocus_curve` fits (1) by least
squares from several starting points and returns p.

References
----------
.. [1] D. J. Field, "Relations between the statistics of natural images and the response
       properties of cortical cells", JOSA A 4(12):2379-2394, 1987 (1/f amplitude spectra).
.. [2] M. Subbarao, J.-K. Tyan, "Selecting the optimal focus measure for autofocusing and
       depth-from-focus", IEEE TPAMI 20(8):864-870, 1998 (focus-measure noise).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from focuslab.errors import InvalidParameterError


def defocus_curve(codes, b: float, a: float, w: float, p: float) -> np.ndarray:
    """Eq. (1): ``b + a / sqrt(w^2 + (x - p)^2)`` at ``codes`` (all in code units except b, a)."""
    x = np.asarray(codes, dtype=float)
    return b + a / np.sqrt(w * w + (x - p) ** 2)


def fit_defocus_curve(codes, scores, *, codes_per_dof: float, starts: int = 7) -> float | None:
    """In-focus code of a sampled focus curve by a least-squares fit of eq. (1).

    Parameters
    ----------
    codes, scores
        The sweep: lens codes (ascending or not) and focus values (same length, >= 5).
    codes_per_dof
        Codes per depth of focus near the sweep (> 0): bounds the width w to 0.5-20 DoF and
        the peak to 3 DoF beyond the sweep's ends.
    starts
        Starting peak positions spread over the sweep (plus the maximum sample); the fit
        with the least squared residual wins.

    Returns
    -------
    float or None
        p clipped to the sweep's span, or None when no fit converged.

    Raises
    ------
    InvalidParameterError
        Fewer than 5 samples, lengths that differ, non-finite values, or a bad
        ``codes_per_dof``.
    """
    x = np.asarray(codes, dtype=float).ravel()
    y = np.asarray(scores, dtype=float).ravel()
    if x.size != y.size or x.size < 5:
        raise InvalidParameterError(f"need >= 5 (code, score) pairs of equal length, got {x.size} and {y.size}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise InvalidParameterError("codes and scores must be finite")
    cpd = float(codes_per_dof)
    if not (math.isfinite(cpd) and cpd > 0):
        raise InvalidParameterError(f"codes_per_dof must be a finite number > 0, got {codes_per_dof!r}")
    lo, hi = float(x.min()), float(x.max())
    scale = float(np.ptp(y)) or 1.0
    yn = (y - float(y.min())) / scale  # a well-conditioned problem; p does not depend on it
    lower = [-np.inf, 0.0, 0.5 * cpd, lo - 3.0 * cpd]
    upper = [np.inf, np.inf, 20.0 * cpd, hi + 3.0 * cpd]
    best = None
    for p0 in [*np.linspace(lo, hi, max(int(starts), 2)), float(x[int(np.argmax(y))])]:
        for w0 in (1.0, 3.0):
            guess = [0.0, w0 * cpd, w0 * cpd, float(p0)]
            try:
                par, _ = optimize.curve_fit(defocus_curve, x, yn, p0=guess, bounds=(lower, upper), maxfev=4000)
            except (RuntimeError, ValueError):
                continue
            r = float(np.sum((defocus_curve(x, *par) - yn) ** 2))
            if best is None or r < best[0]:
                best = (r, par)
    if best is None:
        return None
    return float(np.clip(best[1][3], lo, hi))
