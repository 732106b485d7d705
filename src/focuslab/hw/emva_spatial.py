"""EMVA 1288 R4.0 spatial nonuniformity: DSNU, PRNU, their row/column/pixel parts and spectrograms.

From the averaged image ``<y>`` of ``L`` frames (``M`` rows x ``N`` columns) at one flat step
near 50 % saturation and of the dark frames at the same exposure (EMVA 1288 Release 4.0,
Sec. 4 and 8):

* spatial variance with the temporal noise left in the average removed:
  ``s_y^2 = var(<y>) - sigma_y.stack^2 / L`` (``var`` with ``MN - 1``);
* column and row variances: ``s_y.cav^2 = 1/N sum_n (mu_y[n] - mu_y)^2 - sigma_y.stack^2/(L M)``
  (``mu_y[n]`` = mean of column ``n``), ``s_y.rav^2`` likewise over rows, and their split into
  column, row and pixel parts (R4.0 Sec. 8.2, the same algebra as the reference `emva1288`);
* ``DSNU1288 = s_y.dark / K`` (e-), ``PRNU1288 = sqrt(s_y^2 - s_y.dark^2) / (mu_y - mu_y.dark)`` (%);
* horizontal and vertical spectrograms (Sec. 8.3): the power spectrum of every row (column) of
  ``<y> - mu_y``, ``|DFT|^2 / N``, averaged over rows (columns), given as its square root
  (a standard deviation per frequency), with the level of the remaining temporal noise.
  The DSNU spectrogram uses the dark image (in e-), the PRNU one ``<y> - <y_dark>`` (in %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from focuslab.hw.emva_accumulate import SpatialStats


@dataclass(frozen=True, eq=False)
class Nonuniformity:
    """Total, column, row and pixel spatial variances of one averaged image, DN^2."""

    mean_dn: float
    total_dn2: float
    column_dn2: float
    row_dn2: float
    pixel_dn2: float


def spatial_variances(s: SpatialStats) -> Nonuniformity:
    """Spatial variances of ``<y>`` with the temporal residue removed (R4.0 Sec. 8.2)."""
    img = s.mean_image_dn
    m, n = img.shape
    mu = float(img.mean())
    resid = s.var_stack_dn2 / s.n_frames
    total = float(img.var(ddof=1)) - resid
    cav = float(np.mean((img.mean(axis=0) - mu) ** 2)) - resid / m
    rav = float(np.mean((img.mean(axis=1) - mu) ** 2)) - resid / n
    den = m * n - m - n
    col = ((m * n - m) * cav - n * (total - rav)) / den
    row = ((m * n - n) * rav - m * (total - cav)) / den
    pix = m * n * (total - cav - rav) / den
    return Nonuniformity(mu, total, col, row, pix)


def spectrogram(img: np.ndarray, *, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Averaged power spectrum of the lines of ``img - mean`` along ``axis`` (R4.0 Sec. 8.3).

    ``axis=1`` (horizontal): the DFT of every row, ``|DFT|^2 / N``, averaged over rows.
    Returns ``(frequency_cycles_per_px, power_dn2)`` for frequencies 0..0.5; the power's mean
    over all frequencies of the full spectrum is the variance of ``img``.
    """
    a = np.asarray(img, np.float64)
    a = a - a.mean()
    n = a.shape[axis]
    p = np.abs(np.fft.rfft(a, axis=axis)) ** 2 / n
    p = p.mean(axis=1 - axis)
    return np.fft.rfftfreq(n), p


@dataclass(frozen=True, eq=False)
class SpatialResult:
    """DSNU/PRNU figures and spectrograms of one channel."""

    n_frames: int
    dark: Nonuniformity
    bright: Nonuniformity
    dsnu_e: float
    dsnu_column_e: float
    dsnu_row_e: float
    dsnu_pixel_e: float
    prnu_percent: float
    prnu_column_percent: float
    prnu_row_percent: float
    prnu_pixel_percent: float
    spectrograms: dict[str, tuple[np.ndarray, np.ndarray]]
    spectrogram_noise_floor: dict[str, float]


def _sqrt(v: float) -> float:
    return math.sqrt(v) if v >= 0 else float("nan")


def evaluate_spatial(bright: SpatialStats, dark: SpatialStats, gain_dn_per_e: float) -> SpatialResult:
    """DSNU (e-) and PRNU (%) with their parts and spectrograms (R4.0 Sec. 8)."""
    b, d = spatial_variances(bright), spatial_variances(dark)
    k = gain_dn_per_e
    sig = b.mean_dn - d.mean_dn
    prnu = {f: 100.0 * _sqrt(getattr(b, f) - getattr(d, f)) / sig for f in ("total_dn2", "column_dn2", "row_dn2",
                                                                           "pixel_dn2")}
    diff = bright.mean_image_dn - dark.mean_image_dn
    spec = {}
    for name, axis in (("horizontal", 1), ("vertical", 0)):
        f, p = spectrogram(dark.mean_image_dn, axis=axis)
        spec[f"dsnu_{name}_e"] = (f, np.sqrt(p) / k)
        f, p = spectrogram(diff, axis=axis)
        spec[f"prnu_{name}_percent"] = (f, 100.0 * np.sqrt(p) / sig)
    dark_floor = math.sqrt(dark.var_stack_dn2 / dark.n_frames)
    diff_floor = math.sqrt(bright.var_stack_dn2 / bright.n_frames + dark.var_stack_dn2 / dark.n_frames)
    return SpatialResult(
        n_frames=bright.n_frames, dark=d, bright=b,
        dsnu_e=_sqrt(d.total_dn2) / k, dsnu_column_e=_sqrt(d.column_dn2) / k, dsnu_row_e=_sqrt(d.row_dn2) / k,
        dsnu_pixel_e=_sqrt(d.pixel_dn2) / k,
        prnu_percent=prnu["total_dn2"], prnu_column_percent=prnu["column_dn2"], prnu_row_percent=prnu["row_dn2"],
        prnu_pixel_percent=prnu["pixel_dn2"], spectrograms=spec,
        spectrogram_noise_floor={"dsnu_e": dark_floor / k, "prnu_percent": 100.0 * diff_floor / sig},
    )
