"""The in-focus code of a sampled focus curve: its Gaussian top, its flanks' midpoint, its
significant peaks and, for a noisy curve, a fit of the physical shape of the whole curve.

The peak helpers of the contrast sweep (:mod:`focuslab.af.policies.contrast_sweep`):
:func:`gaussian_peak`, :func:`half_level_centre`, :func:`curve_noise_sd`,
:func:`significant_peaks`, :func:`peak_segment`; the low-SNR fit :func:`fit_defocus_curve`, its
joint form over a coarse sweep and an averaged fine pass :func:`fit_defocus_curves`, and the fine
pass's codes :func:`fine_pass_codes`.

A contrast sweep over a low-contrast subject (a wall of 1-3 % contrast) gives a focus curve
whose samples fluctuate with the pixel noise by about as much as focus changes them: its
maximum is one noisy sample and can lie anywhere. The shape of the curve, however, is known
from the physics, and a fit over every sample averages the noise of all of them.

Model. The Tenengrad of a texture whose 2-D power spectrum falls as f^-beta, blurred by a
Gaussian of width sigma_c, is the gradient energy
int (2 pi f)^2 f^-beta exp(-4 pi^2 sigma_c^2 f^2) 2 pi f df ~ sigma_c^-(4 - beta): 1/sigma_c for
beta = 3 (dead leaves with r^-3 radii [3]), 1/sigma_c^2 for beta = 2 (natural images' 1/f
amplitude spectrum [1], ``focuslab.scene.textures.low_texture``). Blur is linear in the lens travel
(c = A s (1/u - 1/u_f), DESIGN.md), and the residual widths at focus (pixel, optics, the
pre-filter) add in quadrature, so with the 1/sigma form

    F(x) = b + a / sqrt(w^2 + (x - p)^2)                                     (1)

with b the noise's own contribution (constant over a sweep at one exposure), a the texture's,
w the in-focus width and p the in-focus code. :func:`fit_defocus_curve` fits (1) by least
squares from several starting points and returns p. The 1/sigma^2 (Lorentzian) form gives
the same errors where it was tried (12 rendered 1-3 % walls: mean 0.86 against 0.87 DoF; the
low-contrast fake of the tests: 0.79 against 0.77): near the peak, where the fit's
information is, the two shapes differ less than the noise.

References
----------
.. [1] D. J. Field, "Relations between the statistics of natural images and the response
       properties of cortical cells", JOSA A 4(12):2379-2394, 1987 (1/f amplitude spectra).
.. [2] M. Subbarao, J.-K. Tyan, "Selecting the optimal focus measure for autofocusing and
       depth-from-focus", IEEE TPAMI 20(8):864-870, 1998 (focus-measure noise).
.. [3] A. B. Lee, D. Mumford, J. Huang, "Occlusion models for natural images: a statistical
       study of a scale-invariant dead leaves model", IJCV 41(1/2):35-59, 2001.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from focuslab.errors import InvalidParameterError
from focuslab.metrics.focus import peak_position

#: A sweep is low-SNR when its sample noise (:func:`curve_noise_sd`) is at least this fraction of
#: its range: a textured subject's curve rises hundreds of noise sigmas (noise / range 0.002-0.01
#: on every textured case of the suites, a near card over a far background included), a 1-3 %
#: wall's 4-12 (0.08-0.25).
LOW_SNR_NOISE_FRACTION = 0.05


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


def curve_noise_sd(scores) -> float:
    """1-sigma sample noise of a focus curve from its own second differences (robust: median).

    For white noise of sigma on the samples, s[i-1] - 2 s[i] + s[i+1] has a standard deviation
    sqrt(6) sigma; the median absolute value over 0.6745 ignores the few large curvatures at a
    peak (conservative where the curve is smooth but curved everywhere).
    """
    s = np.asarray(scores, dtype=float)
    if s.size < 3:
        return 0.0
    d2 = s[:-2] - 2.0 * s[1:-1] + s[2:]
    return float(np.median(np.abs(d2))) / (0.6745 * math.sqrt(6.0))


def significant_peaks(scores, *, min_height: float = 0.4, prominence_sigma: float = 6.0) -> list[int]:
    """Indices of the significant local maxima of a sampled focus curve, ascending.

    A sample is a local maximum when no neighbour is higher (the ends count: a subject at
    infinity or at the macro end peaks there). It is significant when (a) its prominence —
    its height above the higher of the lowest points between it and the nearest higher sample
    on either side (or the curve's end) — is at least ``prominence_sigma`` times
    :func:`curve_noise_sd`, and (b) its rise above the curve's minimum is at least
    ``min_height`` times the global maximum's. The global maximum is significant when it
    passes (a); an empty list means no peak stands out of the noise.
    """
    s = np.asarray(scores, dtype=float)
    n = s.size
    if n == 0:
        return []
    lo, top = float(s.min()), float(s.max())
    floor = prominence_sigma * curve_noise_sd(s)
    out = []
    for i in range(n):
        if (i > 0 and s[i - 1] > s[i]) or (i < n - 1 and s[i + 1] > s[i]):
            continue
        bases = []
        for side in (range(i - 1, -1, -1), range(i + 1, n)):
            m = s[i]
            for j in side:
                if s[j] > s[i]:
                    break
                m = min(m, s[j])
            else:
                if len(side) == 0:
                    continue  # an end of the curve: no base on that side
            bases.append(m)
        prominence = s[i] - max(bases) if bases else 0.0
        if prominence >= floor and prominence > 0 and s[i] - lo >= min_height * (top - lo):
            out.append(i)
    return out


def peak_segment(scores, i: int) -> tuple[int, int]:
    """``[a, b)`` around index ``i``, bounded by the lowest samples between ``i`` and the nearest higher
    sample on either side (or the curve's ends): the valleys that part this peak from its neighbours."""
    s = np.asarray(scores, dtype=float)
    a = i
    for j in range(i - 1, -1, -1):
        if s[j] > s[i]:
            break
        if s[j] < s[a]:
            a = j
    b = i
    for j in range(i + 1, s.size):
        if s[j] > s[i]:
            break
        if s[j] < s[b]:
            b = j
    return a, b + 1


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


def fine_pass_codes(centre_code: float, *, codes_per_dof: float, halfwidth_dof: float, step_dof: float,
                    min_code: int, max_code: int) -> np.ndarray:
    """Ascending integer codes of a fine pass: ``centre_code`` +- ``halfwidth_dof`` every ``step_dof`` (DoF units).

    The window keeps its width at the ends of the code range (it slides inward); codes are
    unique. Raises :class:`~focuslab.errors.InvalidParameterError` for a non-positive or
    non-finite ``codes_per_dof``, ``halfwidth_dof`` or ``step_dof``, or an empty code range.
    """
    for name, v in (("codes_per_dof", codes_per_dof), ("halfwidth_dof", halfwidth_dof), ("step_dof", step_dof)):
        if not (math.isfinite(float(v)) and float(v) > 0):
            raise InvalidParameterError(f"{name} must be a finite number > 0, got {v!r}")
    lo, hi = int(min_code), int(max_code)
    if hi < lo:
        raise InvalidParameterError(f"empty code range [{min_code}, {max_code}]")
    half = float(halfwidth_dof) * float(codes_per_dof)
    k = math.ceil(float(halfwidth_dof) / float(step_dof))
    centre = float(np.clip(centre_code, lo + min(half, (hi - lo) / 2), hi - min(half, (hi - lo) / 2)))
    codes = centre + np.linspace(-half, half, 2 * k + 1)
    return np.unique(np.clip(np.round(codes), lo, hi).astype(np.int64))


def fit_defocus_curves(curves, *, codes_per_dof: float, starts: int = 7) -> float | None:
    """In-focus code shared by several sampled focus curves of one subject: a joint fit of eq. (1).

    Each curve ``(codes, scores)`` has its own noise floor b_k (frames averaged K at a time
    carry 1/K of the pixel noise's gradient energy) and the texture's a, w, p in common; each
    curve's residuals are weighted by its own sample noise (:func:`curve_noise_sd`), so a fine
    pass of averaged frames counts for what it is worth next to the one-frame coarse sweep.
    Bounds as :func:`fit_defocus_curve`; returns p clipped to the codes' span, None when no fit
    converged. Raises :class:`~focuslab.errors.InvalidParameterError` for a curve of fewer than
    5 samples, unequal lengths, non-finite values or a bad ``codes_per_dof``.
    """
    cpd = float(codes_per_dof)
    if not (math.isfinite(cpd) and cpd > 0):
        raise InvalidParameterError(f"codes_per_dof must be a finite number > 0, got {codes_per_dof!r}")
    xs, ys = [], []
    for codes, scores in curves:
        x, y = np.asarray(codes, dtype=float).ravel(), np.asarray(scores, dtype=float).ravel()
        if x.size != y.size or x.size < 5:
            raise InvalidParameterError(f"need >= 5 (code, score) pairs of equal length, got {x.size} and {y.size}")
        if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
            raise InvalidParameterError("codes and scores must be finite")
        xs.append(x)
        ys.append(y)
    scale = float(np.ptp(ys[0])) or 1.0
    yn = [(y - float(ys[0].min())) / scale for y in ys]
    inv_sd = [1.0 / max(curve_noise_sd(y), 1e-12) for y in yn]
    k = len(xs)
    allx = np.concatenate(xs)
    lo, hi = float(allx.min()), float(allx.max())

    def residuals(q):
        a, w, p = q[k:]
        return np.concatenate([(defocus_curve(x, q[j], a, w, p) - y) * inv_sd[j]
                               for j, (x, y) in enumerate(zip(xs, yn, strict=True))])

    lower = [-np.inf] * k + [0.0, 0.5 * cpd, lo - 3.0 * cpd]
    upper = [np.inf] * k + [np.inf, 20.0 * cpd, hi + 3.0 * cpd]
    best = None
    peaks = [float(x[int(np.argmax(y))]) for x, y in zip(xs, yn, strict=True)]
    for p0 in [*np.linspace(lo, hi, max(int(starts), 2)), *peaks]:
        for w0 in (1.0, 3.0):
            guess = [float(np.min(y)) for y in yn] + [w0 * cpd * 0.5, w0 * cpd, float(p0)]
            try:
                sol = optimize.least_squares(residuals, guess, bounds=(lower, upper), max_nfev=4000)
            except (RuntimeError, ValueError):
                continue
            r = float(np.sum(sol.fun**2))
            if best is None or r < best[0]:
                best = (r, sol.x)
    if best is None:
        return None
    return float(np.clip(best[1][-1], lo, hi))
