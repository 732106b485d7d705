"""Projection of the ROI onto the edge and 4x binning into the oversampled ESF (ISO 12233:2023, step 6).

Every pixel ``(x, y)`` of the oriented ROI is assigned the horizontal distance to the fitted
edge, ``d = x - P(y)``, and accumulated in bins of width ``1 / nbin`` pixel (Burns 2000,
sfrmat5 ``project2``). The record covers ``nbin * cols`` bins spanning ``cols`` pixels
centred like the ROI on the edge's mid-row position, so the edge sits where it sits in the
ROI. Along the edge normal the bin spacing is ``cos(theta) / nbin`` px.

Empty bins (too few rows for the edge angle) are filled by linear interpolation between the
nearest filled neighbours and counted, so the caller can warn.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from focuslab.metrics.sfr.edge_fit import EdgeFit


@dataclass(frozen=True)
class BinnedEsf:
    """Oversampled edge-spread function.

    Attributes
    ----------
    values
        Mean pixel value per bin, shape ``(nbin * cols,)``, empty bins interpolated.
    counts
        Pixels per bin (0 for the bins that were interpolated).
    empty_bins
        Number of empty bins.
    noise_rms
        RMS deviation of the pixels from their bin mean on the two plateaus (outer 15 % of
        the record on each side): an estimate of the image noise.
    """

    values: np.ndarray
    counts: np.ndarray
    empty_bins: int
    noise_rms: float


def bin_esf(oriented: np.ndarray, fit: EdgeFit, *, nbin: int) -> BinnedEsf:
    """Project ``oriented`` (``rows x cols``) onto the edge normal and bin at ``1/nbin`` px."""
    rows, cols = oriented.shape
    n_bins = nbin * cols
    edge_x = fit.x_at(np.arange(rows, dtype=np.float64))
    centre = float(fit.x_at(fit.y_mid))
    d = np.arange(cols, dtype=np.float64)[None, :] - edge_x[:, None] + centre
    index = np.floor(d * nbin).astype(np.int64)
    valid = (index >= 0) & (index < n_bins)
    idx = index[valid]
    vals = oriented[valid]
    counts = np.bincount(idx, minlength=n_bins).astype(np.float64)
    sums = np.bincount(idx, weights=vals, minlength=n_bins)
    filled = counts > 0
    values = np.empty(n_bins, dtype=np.float64)
    values[filled] = sums[filled] / counts[filled]
    empty = int(n_bins - np.count_nonzero(filled))
    if empty:
        where = np.flatnonzero(filled)
        values[~filled] = np.interp(np.flatnonzero(~filled), where, values[where])
    plateau = max(1, round(0.15 * n_bins))
    on_plateau = (idx < plateau) | (idx >= n_bins - plateau)
    resid = vals[on_plateau] - values[idx[on_plateau]]
    noise = float(np.sqrt(np.mean(resid**2))) if resid.size > 1 else 0.0
    return BinnedEsf(values=values, counts=counts, empty_bins=empty, noise_rms=noise)
