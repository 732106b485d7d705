"""Linear filters on the last two axes of an ``N x H x W`` frame stack (never across frames).

Borders follow the MATLAB calls of Pertuz's ``fmeasure``: ``imfilter(..., 'replicate')`` is
``mode="nearest"`` here, ``stdfilt`` (symmetric padding) is ``mode="reflect"``.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def separable(stack: np.ndarray, kx: np.ndarray, ky: np.ndarray, *, mode: str = "nearest") -> np.ndarray:
    """Correlate every frame with ``ky`` along y (rows) and ``kx`` along x (columns)."""
    out = ndimage.correlate1d(stack, np.asarray(kx, dtype=float), axis=-1, mode=mode)
    return ndimage.correlate1d(out, np.asarray(ky, dtype=float), axis=-2, mode=mode)


def box_mean(stack: np.ndarray, size_px: int, *, mode: str = "nearest") -> np.ndarray:
    """Mean over a ``size_px x size_px`` window centred on every pixel of every frame."""
    return ndimage.uniform_filter(stack, size=(1, size_px, size_px), mode=mode)


def edge_padded(stack: np.ndarray, width_px: int = 1) -> np.ndarray:
    """Frames padded by replicating their border pixels ``width_px`` times."""
    w = int(width_px)
    return np.pad(stack, ((0, 0), (w, w), (w, w)), mode="edge")


def valid_correlate(stack: np.ndarray, kernel: np.ndarray, axis: int) -> np.ndarray:
    """Correlation sum_j k_j x_{s+j} along ``axis`` at the positions s where ``kernel`` lies fully inside."""
    k = np.asarray(kernel, dtype=float)
    n = stack.shape[axis] - k.size + 1
    full = ndimage.correlate1d(stack, k, axis=axis, mode="constant")
    idx = [slice(None)] * stack.ndim
    idx[axis] = slice(k.size // 2, k.size // 2 + n)
    return full[tuple(idx)]


def gaussian_derivative_kernels(window_px: int) -> tuple[np.ndarray, np.ndarray]:
    """1-D factors (derivative, smoothing) of ``fmeasure``'s Gaussian-derivative filter.

    The 2-D kernel is G_x(x, y) = -x/sigma^2 G(x, y) on a (2n+1)^2 grid with n = window_px // 2
    and sigma = n / 3 (``fmeasure`` 2016). It is separable into ``d(x) g(y)``. ``fmeasure``
    divides G_x by its sum, which is zero for this odd kernel; here the derivative factor is
    normalised so that a unit-slope ramp gives exactly 1 and the smoothing factor to sum 1.
    """
    n = int(window_px) // 2
    sigma = n / 3.0
    x = np.arange(-n, n + 1, dtype=float)
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    d = x * g
    return d / np.sum(x * d), g / g.sum()
