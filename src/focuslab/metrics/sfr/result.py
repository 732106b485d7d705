"""The result of an e-SFR measurement."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True, eq=False)
class SfrResult:
    """Slanted-edge SFR of one edge (ISO 12233:2023 e-SFR).

    Attributes
    ----------
    frequencies_cpp
        Frequencies, cycles per pixel along the edge normal, from 0 to about 1 cy/px
        (``(k / (N delta))``, ``delta = cos(theta) / nbin``), shape ``(F,)``.
    sfr
        SFR of ``channel`` at ``frequencies_cpp`` (1 at zero frequency), shape ``(F,)``.
    channel
        The channel measured for the scalar figures: ``"luminance"``, ``"R"``, ``"G"`` or ``"B"``.
    channels
        SFR of every channel on the same frequencies: ``{"luminance"}`` for a grey image,
        ``{"R", "G", "B", "luminance"}`` for RGB.
    mtf50_cpp, mtf50p_cpp, mtf10_cpp
        Frequencies (cy/px) where the SFR first falls to 50 %, to 50 % of its peak (peak taken at
        or below Nyquist), and to 10 %; NaN (with a warning) when it does not in range.
    sfr_nyquist
        SFR at 0.5 cy/px.
    rise_10_90_px
        10-90 % edge rise distance along the edge normal, px.
    angle_deg
        Edge angle from the pixel axis of ``orientation``, signed: for a vertical edge
        ``atan(dx/dy)`` (positive when the edge moves to +x going down the rows); for a
        horizontal edge ``atan(dy/dx)`` (positive when it moves down going right).
    orientation
        ``"vertical"`` (the edge crosses the ROI from top to bottom; the SFR is horizontal) or
        ``"horizontal"`` (left to right). It is the nearest axis except when the ROI's shape
        forces the other one (a 44 deg edge in a tall, narrow ROI reads as horizontal at 46 deg).
    contrast
        Michelson contrast of the linearised plateaus, ``(light - dark) / (light + dark)``.
    dark_level, light_level
        Mean linear values of the two plateaus of the ESF.
    snr_db
        ``20 log10((light - dark) / noise_rms)``, noise from the plateau pixels' scatter about the ESF.
    edge_centroid_xy
        Image coordinates (x, y) px of the edge at the middle of the ROI.
    roi
        The ROI measured, (x, y, w, h) px.
    esf, lsf
        Oversampled ESF (linear values, in ROI order) and the windowed LSF of ``channel``
        (centred on its peak by circular rotation, as transformed); sample spacing
        ``esf_spacing_px`` along the edge normal.
    esf_spacing_px
        ``cos(theta) / nbin``, px.
    edge_fit_rms_px
        RMS residual of the row edge locations about the fitted polynomial, px.
    poly_order, window
        Settings used.
    warnings
        One line per problem found (low contrast, clipping, angle, rows, empty bins, border, noise).
    """

    frequencies_cpp: np.ndarray
    sfr: np.ndarray
    channel: str
    channels: dict[str, np.ndarray]
    mtf50_cpp: float
    mtf50p_cpp: float
    mtf10_cpp: float
    sfr_nyquist: float
    rise_10_90_px: float
    angle_deg: float
    orientation: str
    contrast: float
    dark_level: float
    light_level: float
    snr_db: float
    edge_centroid_xy: tuple[float, float]
    roi: tuple[int, int, int, int]
    esf: np.ndarray
    lsf: np.ndarray
    esf_spacing_px: float
    edge_fit_rms_px: float
    poly_order: int
    window: str
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        """JSON-able summary: scalars (NaN -> None), curves as lists, warnings."""
        return {
            "mtf50_cpp": _num(self.mtf50_cpp),
            "mtf50p_cpp": _num(self.mtf50p_cpp),
            "mtf10_cpp": _num(self.mtf10_cpp),
            "sfr_nyquist": _num(self.sfr_nyquist),
            "rise_10_90_px": _num(self.rise_10_90_px),
            "angle_deg": _num(self.angle_deg),
            "orientation": self.orientation,
            "contrast": _num(self.contrast),
            "dark_level": _num(self.dark_level),
            "light_level": _num(self.light_level),
            "snr_db": _num(self.snr_db),
            "edge_centroid_xy": [float(v) for v in self.edge_centroid_xy],
            "roi": [int(v) for v in self.roi],
            "channel": self.channel,
            "poly_order": int(self.poly_order),
            "window": self.window,
            "edge_fit_rms_px": _num(self.edge_fit_rms_px),
            "frequencies_cpp": [float(v) for v in self.frequencies_cpp],
            "sfr": [_num(v) for v in self.sfr],
            "channels": {k: [_num(v) for v in c] for k, c in self.channels.items()},
            "warnings": list(self.warnings),
        }
