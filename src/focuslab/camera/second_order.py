"""Exact closed-form response of a damped second-order system (the VCM lens dynamics).

The lens of a voice-coil motor (VCM) is a mass on a spring with viscous (eddy-current and
air) damping, driven by the coil force. With the commanded equilibrium position r (µm), the
lens displacement x(t) obeys

    x'' + 2 ζ ω_n x' + ω_n² x = ω_n² r                                      (1)

with natural angular frequency ω_n = 2π f_n and damping ratio ζ. For a constant r the error
e = x − r has the closed-form solution [1] from any initial state
(e0, v0), used here to propagate the lens exactly from one command to the next:

* under-damped (ζ < 1), ω_d = ω_n √(1 − ζ²):
  e(t) = exp(−ζ ω_n t) [e0 cos ω_d t + (v0 + ζ ω_n e0) / ω_d · sin ω_d t];
* critically damped (ζ = 1): e(t) = [e0 + (v0 + ω_n e0) t] exp(−ω_n t);
* over-damped (ζ > 1), p_{1,2} = −ω_n (ζ ∓ √(ζ² − 1)):
  e(t) = c1 exp(p1 t) + c2 exp(p2 t), c1 = (v0 − p2 e0) / (p1 − p2), c2 = e0 − c1.

For a step from rest the fractional overshoot is M_p = exp(−π ζ / √(1 − ζ²)) at the peak
time t_p = π / ω_d, and the k-th extremum of the error, at t_k = k π / ω_d, has magnitude
|step| M_p^k [1]. The settling time into a band ±tol is found exactly
from these extrema: the last extremum outside the band is followed by one monotone
stretch in which the band is entered for good, solved with Brent's method.

References
----------
.. [1] K. Ogata, *Modern Control Engineering*, 5th ed., Prentice Hall (2010), sec. 5-3
       (second-order systems: step response, peak time, maximum overshoot, settling).
"""

from __future__ import annotations

import math

from scipy.optimize import brentq

_CRITICAL_TOL = 1e-9


def _omega(natural_frequency_hz: float) -> float:
    """Natural angular frequency ω_n = 2π f_n, rad/s."""
    return 2.0 * math.pi * float(natural_frequency_hz)


def propagate(
    e0: float, v0: float, t_s: float, *, natural_frequency_hz: float, damping_ratio: float
) -> tuple[float, float]:
    """Error and velocity ``(e, v)`` of eq. (1) after ``t_s`` seconds from ``(e0, v0)``.

    Parameters
    ----------
    e0
        Initial error x − r (any length unit, e.g. µm).
    v0
        Initial velocity (same unit per second).
    t_s
        Elapsed time, seconds (>= 0).
    natural_frequency_hz, damping_ratio
        f_n (Hz, > 0) and ζ (> 0).

    Returns
    -------
    (e, v)
        Error and velocity at ``t_s``.
    """
    w, z = _omega(natural_frequency_hz), float(damping_ratio)
    t = max(float(t_s), 0.0)
    if abs(z - 1.0) < _CRITICAL_TOL:
        ex = math.exp(-w * t)
        b = v0 + w * e0
        return (e0 + b * t) * ex, (v0 - w * b * t) * ex
    if z < 1.0:
        wd = w * math.sqrt(1.0 - z * z)
        ex = math.exp(-z * w * t)
        c, s = math.cos(wd * t), math.sin(wd * t)
        e = ex * (e0 * c + (v0 + z * w * e0) / wd * s)
        v = ex * (v0 * c - (w * w * e0 + z * w * v0) / wd * s)
        return e, v
    r = math.sqrt(z * z - 1.0)
    p1, p2 = -w * (z - r), -w * (z + r)
    c1 = (v0 - p2 * e0) / (p1 - p2)
    c2 = e0 - c1
    x1, x2 = math.exp(p1 * t), math.exp(p2 * t)
    return c1 * x1 + c2 * x2, c1 * p1 * x1 + c2 * p2 * x2


def overshoot_fraction(damping_ratio: float) -> float:
    """Peak overshoot of a step from rest as a fraction of the step, M_p = exp(−πζ/√(1−ζ²)).

    Zero for ζ >= 1 (no overshoot) [1].
    """
    z = float(damping_ratio)
    if z >= 1.0:
        return 0.0
    return math.exp(-math.pi * z / math.sqrt(1.0 - z * z))


def peak_time_s(natural_frequency_hz: float, damping_ratio: float) -> float:
    """Time of the first (largest) overshoot, t_p = π / ω_d, seconds; ``inf`` for ζ >= 1."""
    w, z = _omega(natural_frequency_hz), float(damping_ratio)
    if z >= 1.0:
        return math.inf
    return math.pi / (w * math.sqrt(1.0 - z * z))


def settling_time_s(
    step: float, tolerance: float, *, natural_frequency_hz: float, damping_ratio: float
) -> float:
    """Exact time after which a step from rest stays within ±``tolerance`` of its target.

    Parameters
    ----------
    step
        Step size |r − x0| (same unit as ``tolerance``).
    tolerance
        Half-width of the settling band (> 0).
    natural_frequency_hz, damping_ratio
        f_n (Hz) and ζ.

    Returns
    -------
    float
        Settling time, seconds (0 when the step is already within the band).

    Notes
    -----
    Under-damped: the error's extrema lie at t_k = kπ/ω_d with magnitude |step|·M_p^k. Let k*
    be the last k with |step|·M_p^k > tol; between t_k* and t_k*+1 the error is monotone and
    crosses the band edge once: that crossing is the settling time. Critically and
    over-damped responses from rest are monotone: the single crossing of e = tol.
    """
    a = abs(float(step))
    tol = float(tolerance)
    if a <= tol:
        return 0.0
    w, z = _omega(natural_frequency_hz), float(damping_ratio)

    def err(t: float) -> float:
        return abs(propagate(a, 0.0, t, natural_frequency_hz=natural_frequency_hz, damping_ratio=z)[0]) - tol

    if z < 1.0 and abs(z - 1.0) >= _CRITICAL_TOL:
        mp = overshoot_fraction(z)
        tp = peak_time_s(natural_frequency_hz, z)
        k = 0 if mp <= 0.0 else max(0, math.ceil(math.log(tol / a) / math.log(mp)) - 1)
        while a * mp ** (k + 1) > tol:  # guard against rounding in the logarithm
            k += 1
        while k > 0 and a * mp**k <= tol:
            k -= 1
        return brentq(err, k * tp, (k + 1) * tp, xtol=1e-12, rtol=1e-12)
    hi = 1.0 / w
    while err(hi) > 0.0:
        hi *= 2.0
    return brentq(err, 0.0, hi, xtol=1e-12, rtol=1e-12)
