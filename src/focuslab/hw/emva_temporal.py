"""EMVA 1288 R4.0 temporal evaluation: photon transfer, SNR, sensitivity, linearity, dark current.

Inputs are per-step means and temporal variances (:mod:`focuslab.hw.emva_accumulate`). The
linear camera model of EMVA 1288 Release 4.0 (2021), Sec. 2:

* ``mu_y - mu_y.dark = K eta mu_p`` and ``sigma_y^2 - sigma_y.dark^2 = K (mu_y - mu_y.dark)``
  (photon transfer; ``K`` = system gain, DN/e-; ``eta`` = quantum efficiency);
* ``sigma_y.dark^2 = K^2 sigma_d^2 + sigma_q^2`` with ``sigma_q^2 = 1/12 DN^2``;
* ``SNR(mu_p) = eta mu_p / sqrt(sigma_d^2 + sigma_q^2/K^2 + eta mu_p)`` (Sec. 2.4).

Evaluation (Sec. 6.6, 6.7, 7): saturation is the step of largest temporal variance; ``K`` is
the slope through the origin of ``sigma_y^2 - sigma_y.dark^2`` against ``mu_y - mu_y.dark``
over 0..70 % of the saturation signal, the responsivity ``R = K eta`` likewise against
``mu_p``; the linearity error uses the 5..95 % range and the fit that minimises the relative
deviation; the dark current is the slope of the dark mean (``/K``) and of the dark variance
(``/K^2``) against exposure time.

Not an EMVA figure: ``full_well_e``, the plateau of the mean signal (largest ``mu_y -
mu_y.dark`` over all steps, over ``K``), the clipping level (full well or ADC full scale) once
every pixel is clipped. The EMVA saturation capacity (at the variance maximum) lies below it by
about 2-3 standard deviations of the pixel signal spread (shot noise and PRNU), plus up to one
step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from focuslab.errors import InvalidParameterError

#: Quantization noise variance of an ideal ADC, DN^2 (R4.0 Sec. 2.3).
QUANTIZATION_VARIANCE_DN2 = 1.0 / 12.0
#: Floor of sigma_y.dark^2 (DN^2): below it quantization dominates; as the reference `emva1288`.
DARK_VARIANCE_FLOOR_DN2 = 0.24
SENSITIVITY_FIT_FRACTION = 0.70
LINEARITY_RANGE = (0.05, 0.95)


@dataclass(frozen=True, eq=False)
class TemporalCurves:
    """Per flat step (in signal order) of one channel; arrays of equal length."""

    exposure_s: np.ndarray
    photons: np.ndarray | None
    mean_dn: np.ndarray
    var_dn2: np.ndarray
    mean_dark_dn: np.ndarray
    var_dark_dn2: np.ndarray


def slope_through_origin(x: np.ndarray, y: np.ndarray) -> float:
    """Least-squares slope of ``y = m x`` (the fits of R4.0 Sec. 6.6)."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    den = float(np.dot(x, x))
    if den <= 0:
        raise InvalidParameterError("photon transfer fit range is empty or all at zero signal; add brighter steps")
    return float(np.dot(x, y)) / den


def saturation_index(var_dn2: np.ndarray) -> int:
    """Index of the step of largest temporal variance (the saturation point, R4.0 Sec. 6.6)."""
    return int(np.nanargmax(np.asarray(var_dn2)))


def _fit_range(signal: np.ndarray, top: float, lo: float, hi: float, last: int) -> np.ndarray:
    idx = np.nonzero((signal >= lo * top) & (signal <= hi * top))[0]
    return idx[idx <= last]


def dark_noise_dn(exposure_s: np.ndarray, var_dark_dn2: np.ndarray) -> float:
    """``sigma_y.dark`` (DN) at zero exposure: intercept of the dark variance against exposure time.

    With fewer than three distinct exposure times, the mean dark variance. Floored at
    ``sqrt(0.24)`` DN (quantization-limited cameras), as in the reference implementation.
    """
    t = np.asarray(exposure_s, np.float64)
    v = np.asarray(var_dark_dn2, np.float64)
    s2 = float(np.polyfit(t, v, 1)[1]) if len(np.unique(t)) > 2 else float(v.mean())
    return math.sqrt(max(s2, DARK_VARIANCE_FLOOR_DN2))


def dark_current(exposure_s: np.ndarray, mean_dark_dn: np.ndarray, var_dark_dn2: np.ndarray,
                 gain_dn_per_e: float) -> tuple[float, float]:
    """Dark current (e-/s) from the dark mean and from the dark variance (R4.0 Sec. 7.1).

    ``mu_y.dark = mu_y.dark(0) + K mu_I t`` and ``sigma_y.dark^2 = sigma_y.dark^2(0) + K^2 mu_I t``;
    NaN when fewer than three distinct exposure times were measured; the variance estimate is
    NaN when its slope is negative (as in the reference implementation).
    """
    t = np.asarray(exposure_s, np.float64)
    if len(np.unique(t)) < 3:
        return float("nan"), float("nan")
    from_mean = float(np.polyfit(t, np.asarray(mean_dark_dn, np.float64), 1)[0]) / gain_dn_per_e
    slope_var = float(np.polyfit(t, np.asarray(var_dark_dn2, np.float64), 1)[0])
    from_var = slope_var / gain_dn_per_e**2 if slope_var >= 0 else float("nan")
    return from_mean, from_var


def linearity_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Line ``y = a x + b`` minimising the squared *relative* deviation (R4.0 Sec. 6.7).

    Equivalent to a weighted least-squares fit with weights ``1/y``.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    xy, xy2, x2y2 = np.sum(x / y), np.sum(x / y**2), np.sum((x / y) ** 2)
    iy, iy2 = np.sum(1.0 / y), np.sum(1.0 / y**2)
    b = (xy * xy2 - x2y2 * iy) / (xy2**2 - x2y2 * iy2)
    a = (xy - b * xy2) / x2y2
    return float(a), float(b)


@dataclass(frozen=True, eq=False)
class TemporalResult:
    """The temporal EMVA 1288 figures of one channel (units in the names)."""

    curves: TemporalCurves
    saturation_index: int
    saturation_reached: bool
    gain_fit_indices: np.ndarray
    system_gain_dn_per_e: float
    responsivity_dn_per_photon: float | None
    quantum_efficiency: float | None
    temporal_dark_noise_dn: float
    temporal_dark_noise_e: float
    saturation_capacity_e: float
    full_well_e: float
    saturation_irradiance_photons: float | None
    snr_max: float
    sensitivity_threshold_e: float
    sensitivity_threshold_photons: float | None
    dynamic_range: float
    linearity_x: str
    linearity_fit_indices: np.ndarray
    linearity_slope: float
    linearity_offset_dn: float
    linearity_error_min_percent: float
    linearity_error_max_percent: float
    dark_current_mean_e_per_s: float
    dark_current_var_e_per_s: float

    @property
    def snr_max_db(self) -> float:
        return 20.0 * math.log10(self.snr_max)

    @property
    def snr_max_bits(self) -> float:
        return math.log2(self.snr_max)

    @property
    def dynamic_range_db(self) -> float:
        return 20.0 * math.log10(self.dynamic_range)

    @property
    def dynamic_range_bits(self) -> float:
        return math.log2(self.dynamic_range)

    def signal_e(self) -> np.ndarray:
        """``(mu_y - mu_y.dark) / K`` per step, electrons."""
        c = self.curves
        return (c.mean_dn - c.mean_dark_dn) / self.system_gain_dn_per_e

    def snr_measured(self) -> np.ndarray:
        """Measured SNR per step: ``(mu_y - mu_y.dark) / sigma_y``."""
        c = self.curves
        return (c.mean_dn - c.mean_dark_dn) / np.sqrt(np.maximum(c.var_dn2, 1e-12))

    def snr_theory(self, signal_e: np.ndarray) -> np.ndarray:
        """Model SNR at ``signal_e = eta mu_p`` electrons (R4.0 Sec. 2.4)."""
        s = np.asarray(signal_e, np.float64)
        return s / np.sqrt((self.temporal_dark_noise_dn / self.system_gain_dn_per_e) ** 2 + s)


def evaluate_temporal(curves: TemporalCurves, dark_exposure_s: np.ndarray, dark_mean_dn: np.ndarray,
                      dark_var_dn2: np.ndarray) -> TemporalResult:
    """All temporal figures of one channel from its flat-step curves and its dark steps."""
    c = curves
    sig = c.mean_dn - c.mean_dark_dn
    dvar = c.var_dn2 - c.var_dark_dn2
    isat = saturation_index(c.var_dn2)
    top = float(sig[isat])
    if top <= 0:
        raise InvalidParameterError("the flat frames are no brighter than the darks; check the illumination and kinds")
    fit = _fit_range(sig, top, -np.inf, SENSITIVITY_FIT_FRACTION, isat)
    if len(fit) < 2:
        raise InvalidParameterError(
            "too few unsaturated flat steps below 70 % of saturation to fit the photon transfer; "
            "the flats are saturated: lower the irradiance or exposure"
        )
    k = slope_through_origin(sig[fit], dvar[fit])
    if not k > 0:
        raise InvalidParameterError("the photon transfer slope K is not positive; the flats carry no shot noise")
    resp = qe = ph_sat = None
    if c.photons is not None:
        resp = slope_through_origin(c.photons[fit], sig[fit])
        qe = resp / k
        ph_sat = float(c.photons[isat])
        sat_e = qe * ph_sat
    else:
        sat_e = top / k
    s_dark = dark_noise_dn(dark_exposure_s, dark_var_dn2)
    sd_e = math.sqrt(max(s_dark**2 - QUANTIZATION_VARIANCE_DN2, 0.0)) / k
    # SNR = 1 solved exactly (R4.0 Sec. 2.5): mu_e.min = 1/2 + sqrt(1/4 + sigma_y.dark^2 / K^2)
    e_min = 0.5 + math.sqrt(0.25 + (s_dark / k) ** 2)
    if c.photons is not None:
        lin_x, x = "photons", c.photons
    else:
        lin_x, x = "exposure_s", c.exposure_s
    lin = _fit_range(sig, top, *LINEARITY_RANGE, isat)
    if len(lin) >= 2 and len(np.unique(x[lin])) >= 2:
        a, b = linearity_fit(x[lin], sig[lin])
        dev = 100.0 * (sig[lin] - (a * x[lin] + b)) / (a * x[lin] + b)
        le_min, le_max = float(dev.min()), float(dev.max())
    else:
        a = b = le_min = le_max = float("nan")
    idc_mean, idc_var = dark_current(dark_exposure_s, dark_mean_dn, dark_var_dn2, k)
    return TemporalResult(
        curves=c, saturation_index=isat, saturation_reached=isat < len(sig) - 1, gain_fit_indices=fit,
        system_gain_dn_per_e=k, responsivity_dn_per_photon=resp, quantum_efficiency=qe,
        temporal_dark_noise_dn=s_dark, temporal_dark_noise_e=sd_e, saturation_capacity_e=sat_e,
        full_well_e=float(sig.max()) / k, saturation_irradiance_photons=ph_sat, snr_max=math.sqrt(sat_e),
        sensitivity_threshold_e=e_min,
        sensitivity_threshold_photons=None if qe is None else e_min / qe, dynamic_range=sat_e / e_min,
        linearity_x=lin_x, linearity_fit_indices=lin, linearity_slope=a, linearity_offset_dn=b,
        linearity_error_min_percent=le_min, linearity_error_max_percent=le_max,
        dark_current_mean_e_per_s=idc_mean, dark_current_var_e_per_s=idc_var,
    )
