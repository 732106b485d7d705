"""Checks of an e-SFR measurement: errors for ROIs that hold no usable edge, warnings for weak ones.

Thresholds follow sfrmat3/5 where it has one (clipping 0.5 %, contrast 20 %, edge-fit RMS 3 px)
and ISO 12233:2023's advice otherwise (edge angle about 2-10 deg, 4:1 contrast).
"""

from __future__ import annotations

import math

import numpy as np

from focuslab.errors import InvalidParameterError

LOW_CONTRAST = 0.2  # Michelson; sfrmat warns below 20 %
CLIP_FRACTION = 0.005  # sfrmat ``clipping(a, 0, smax, 0.005)``
MIN_ANGLE_DEG = 1.0
MAX_ANGLE_DEG = 40.0
LOW_SNR_DB = 20.0
MAX_FIT_RMS_PX = 3.0  # sfrmat5 warns of an edge-fitting problem above rmse 3
WARN_FIT_RMS_PX = 1.0


def clipping_warnings(crop: np.ndarray, white: float | None) -> list[str]:
    """Warn when more than 0.5 % of the ROI sits at 0 or at the white level (None: unknown, no check)."""
    if white is None:
        return []
    clipped = float(np.mean((crop <= 0.0) | (crop >= white)))
    if clipped <= CLIP_FRACTION:
        return []
    return [f"clipping: {100 * clipped:.1f} % of the ROI is at 0 or full scale; the SFR is biased high, "
            "reduce the exposure or raise the dark level"]


def check_one_edge(a: np.ndarray) -> bool:
    """Raise unless the oriented ROI ``a`` goes from one level to another across its columns; return rising.

    No edge: the column profile's spread, or the difference of the two sides (outer eighths),
    is within the noise (sigma from a robust median of row-to-row differences). Two edges or a
    bar: the sides differ by less than half the profile's spread.
    """
    rows, cols = a.shape
    k = max(2, cols // 8)
    left, right = float(a[:, :k].mean()), float(a[:, -k:].mean())
    st = max(1, rows // 32)  # adjacent-row differences of every st-th row pair: enough for a robust sigma
    noise = 1.4826 * float(np.median(np.abs(a[1::st] - a[:-1:st]))) / math.sqrt(2.0)
    profile = np.convolve(a.mean(axis=0), np.ones(3) / 3.0, mode="valid")
    spread = float(np.ptp(profile))
    if spread <= 12.0 * noise / math.sqrt(3 * rows) or abs(right - left) <= 8.0 * noise / math.sqrt(k * rows):
        raise InvalidParameterError(
            "no edge found in the ROI (its two sides do not differ beyond the noise); choose an ROI across one edge"
        )
    if abs(right - left) < 0.5 * spread:
        raise InvalidParameterError(
            "two edges (or a bar) in the ROI: the profile across it does not go from one level to another; "
            "choose an ROI across one edge"
        )
    return right > left


def check_fit(rms_px: float, edge_x: np.ndarray, cols: int) -> None:
    """Raise when the row locations do not lie on one curve or the curve leaves the ROI through a side."""
    if not math.isfinite(rms_px) or rms_px > MAX_FIT_RMS_PX:
        raise InvalidParameterError(
            f"no single straight edge in the ROI (row edge locations scatter {rms_px:.1f} px about the fit); "
            "choose an ROI across one clean edge"
        )
    if edge_x.min() < 0.5 or edge_x.max() > cols - 1.5:
        raise InvalidParameterError(
            "the edge leaves the ROI through a side; choose an ROI the edge crosses from one end to the other"
        )


def check_profile(esf: np.ndarray, dark: float, light: float, rise_px: float, *, nbin: int, width_px: float) -> None:
    """Raise for a binned ESF that is not one step (a bar) or whose step is wider than half the ROI (a gradient)."""
    smooth = np.convolve(esf, np.ones(nbin) / nbin, mode="valid")
    if abs(light - dark) < 0.5 * float(np.ptp(smooth)):
        raise InvalidParameterError(
            "two edges (or a bar) in the ROI: the profile across the edge does not go from one level to another; "
            "choose an ROI across one edge"
        )
    if not math.isfinite(rise_px) or rise_px > 0.5 * width_px:
        raise InvalidParameterError(
            "no edge found: the transition is wider than half the ROI (a gradient, not an edge); "
            "choose an ROI across one edge"
        )


def geometry_warnings(angle_deg: float, rows: int, slope: float) -> list[str]:
    """Warnings on the edge angle and on too few rows to fill every bin (``rows |tan| < 1``)."""
    out = []
    cycles = rows * abs(slope)
    if cycles < 1.0:
        out.append(
            f"too few rows: {rows} rows at {abs(angle_deg):.2f} deg shift the edge by {cycles:.2f} px (< 1 px), so the "
            f"phases do not fill every bin; use at least {math.ceil(1 / max(abs(slope), 1e-9))} rows or a larger angle"
        )
    if abs(angle_deg) < MIN_ANGLE_DEG - 5e-3:
        out.append(
            f"edge angle {angle_deg:.2f} deg is below {MIN_ANGLE_DEG:g} deg: too few phases for 4x oversampling; "
            "tilt the edge by about 5 deg (ISO 12233 recommends 2-10 deg)"
        )
    elif abs(angle_deg) > MAX_ANGLE_DEG:
        out.append(
            f"edge angle {angle_deg:.2f} deg is near 45 deg: the orientation is ambiguous and the bins fill unevenly; "
            "ISO 12233 recommends 2-10 deg"
        )
    return out


def measurement_warnings(
    *, contrast: float, empty_bins: int, n_bins: int, margin_px: float, rise_px: float, snr_db: float,
    fit_rms_px: float, figures: dict[str, float], max_frequency_cpp: float,
) -> list[str]:
    """Warnings on contrast, empty bins, the edge's distance to the ROI border, noise, fit and undefined figures."""
    out = []
    if math.isfinite(contrast) and contrast < LOW_CONTRAST:
        out.append(
            f"low contrast: Michelson {contrast:.2f} (< {LOW_CONTRAST:g}); noise and flare bias the SFR, "
            "use an edge of about 4:1 (ISO 12233:2023)"
        )
    if empty_bins:
        out.append(
            f"empty bins: {empty_bins} of {n_bins} oversampled bins had no pixel and were interpolated; "
            "use more rows or change the edge angle"
        )
    if margin_px < max(4.0, 2.0 * rise_px):
        out.append(
            f"edge too close to the ROI border ({margin_px:.1f} px): the ESF plateau is short; "
            "centre the edge in the ROI"
        )
    if snr_db < LOW_SNR_DB:
        out.append(f"noisy edge: SNR {snr_db:.1f} dB (< {LOW_SNR_DB:g} dB); the SFR above MTF50 is unreliable")
    if fit_rms_px > WARN_FIT_RMS_PX:
        out.append(f"edge fit residual {fit_rms_px:.2f} px: the edge is not straight or the ROI is noisy")
    for name, label in (("mtf50_cpp", "50 %"), ("mtf10_cpp", "10 %")):
        if not math.isfinite(figures[name]):
            out.append(f"the SFR does not fall to {label} below {max_frequency_cpp:.2f} cy/px; {name} is undefined")
    return out
