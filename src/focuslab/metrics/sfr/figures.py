"""Summary figures of an SFR curve and an ESF: MTF50, MTF50P, MTF10, SFR at Nyquist, 10-90 % rise.

Crossing frequencies are found at the first fall of the curve through the level, refined by
a cubic through the four samples around the crossing (a straight line between the two
bracketing samples when fewer exist); this keeps the interpolation error far below the
frequency step ``1 / (N delta)`` (about 0.008 cy/px for a 128-pixel ROI).
"""

from __future__ import annotations

import numpy as np


def crossing_frequency(freq: np.ndarray, curve: np.ndarray, level: float, *, start: int = 0) -> float:
    """First frequency at or after index ``start`` where ``curve`` falls through ``level``; NaN if never."""
    below = np.flatnonzero(curve[start:] < level)
    if below.size == 0:
        return float("nan")
    j = start + int(below[0])
    if j == 0:
        return float(freq[0])
    i = j - 1  # curve[i] >= level > curve[j]
    lo, hi = max(i - 1, 0), min(j + 2, curve.size)
    f_lin = freq[i] + (curve[i] - level) * (freq[j] - freq[i]) / (curve[i] - curve[j])
    if hi - lo < 4:
        return float(f_lin)
    x = freq[lo:hi] - freq[i]
    coef = np.linalg.solve(np.vander(x, 4), curve[lo:hi] - level)  # the cubic through the 4 samples
    span = freq[j] - freq[i]
    t = f_lin - freq[i]
    for _ in range(8):  # Newton from the linear estimate
        slope = (3.0 * coef[0] * t + 2.0 * coef[1]) * t + coef[2]
        if slope == 0:
            return float(f_lin)
        t -= (((coef[0] * t + coef[1]) * t + coef[2]) * t + coef[3]) / slope
    if not -1e-9 <= t <= span * (1 + 1e-9):
        return float(f_lin)
    return float(freq[i] + t)


def value_at(freq: np.ndarray, curve: np.ndarray, f: float) -> float:
    """Curve value at frequency ``f`` (linear interpolation); NaN beyond the curve."""
    if f > freq[-1] or f < freq[0]:
        return float("nan")
    return float(np.interp(f, freq, curve))


def mtf_figures(freq: np.ndarray, sfr: np.ndarray) -> dict[str, float]:
    """MTF50, MTF50P (50 % of the peak at or below Nyquist), MTF10 and SFR at Nyquist (0.5 cy/px)."""
    nyq = freq <= 0.5 + 1e-12
    peak_idx = int(np.argmax(np.where(nyq, sfr, -np.inf)))
    peak = float(sfr[peak_idx])
    return {
        "mtf50_cpp": crossing_frequency(freq, sfr, 0.5),
        "mtf50p_cpp": crossing_frequency(freq, sfr, 0.5 * peak, start=peak_idx),
        "mtf10_cpp": crossing_frequency(freq, sfr, 0.1),
        "sfr_nyquist": value_at(freq, sfr, 0.5),
        "sfr_peak": peak,
    }


def plateau_levels(esf: np.ndarray, *, rising: bool) -> tuple[float, float]:
    """(dark, light) levels: means of the outer 15 % of the ESF on each side."""
    m = max(1, round(0.15 * esf.size))
    left, right = float(np.mean(esf[:m])), float(np.mean(esf[-m:]))
    return (left, right) if rising else (right, left)


def rise_10_90(esf: np.ndarray, *, rising: bool, centre: float, spacing_px: float) -> float:
    """Distance (px along the normal) between the 10 % and 90 % points of the ESF around ``centre``.

    The ESF is normalised between its plateau levels; the 10 % point is the last crossing
    before ``centre`` and the 90 % point the first crossing after it (linear interpolation).
    """
    dark, light = plateau_levels(esf, rising=rising)
    if light == dark:
        return float("nan")
    e = (esf - dark) / (light - dark)
    if not rising:
        e = e[::-1]
        centre = esf.size - 1 - centre
    c = int(np.clip(round(centre), 1, e.size - 2))
    lo_idx = np.flatnonzero(e[: c + 1] < 0.1)
    hi_idx = np.flatnonzero(e[c:] > 0.9)
    if lo_idx.size == 0 or hi_idx.size == 0:
        return float("nan")
    i = int(lo_idx[-1])
    x10 = i + (0.1 - e[i]) / (e[i + 1] - e[i])
    j = c + int(hi_idx[0])
    x90 = j - 1 + (0.9 - e[j - 1]) / (e[j] - e[j - 1]) if j > 0 else float(j)
    return float((x90 - x10) * spacing_px)
