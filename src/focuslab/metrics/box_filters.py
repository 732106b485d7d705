"""Box sums and box-cascade smoothing on 2-D arrays (integral images), numpy/scipy only.

References
----------
.. [1] F. C. Crow, "Summed-area tables for texture mapping", SIGGRAPH 1984 (integral images).
.. [2] W. M. Wells, "Efficient synthesis of Gaussian filters by cascaded uniform filters",
       IEEE PAMI 8(2):234-239, 1986.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

#: Gaussian sigma from which smoothing uses three box passes instead of a Gaussian kernel.
BOX_SIGMA_PX = 8.0


def integral_image(a: np.ndarray) -> np.ndarray:
    """Zero-padded 2-D running sum: out[i, j] = sum of a[:i, :j], shape (H + 1, W + 1)."""
    out = np.zeros((a.shape[0] + 1, a.shape[1] + 1))
    np.cumsum(np.cumsum(a, axis=0), axis=1, out=out[1:, 1:])
    return out


def window_sums(integral: np.ndarray, y0: np.ndarray, x0: np.ndarray, p: int) -> np.ndarray:
    """Sums over p x p windows with top-left corners (y0, x0) from a zero-padded integral image."""
    yy, xx = np.meshgrid(y0, x0, indexing="ij")
    return integral[yy + p, xx + p] - integral[yy, xx + p] - integral[yy + p, xx] + integral[yy, xx]


def smooth_gaussian(image: np.ndarray, sigma_px: float) -> np.ndarray:
    """Gaussian smoothing; for sigma >= BOX_SIGMA_PX three box passes of the same variance.

    Notes
    -----
    Three passes of a box of odd width w have variance 3 (w^2 - 1) / 12 = sigma^2, so
    w = sqrt(4 sigma^2 + 1) rounded to an odd integer; by the central limit theorem the result
    is close to a Gaussian [2] at a cost independent of sigma.
    """
    if sigma_px < BOX_SIGMA_PX:
        return ndimage.gaussian_filter(image, sigma_px, mode="reflect")
    w = round(math.sqrt(4.0 * sigma_px * sigma_px + 1.0))
    w += 1 - w % 2
    out = image
    for _ in range(3):
        out = ndimage.uniform_filter(out, w, mode="reflect")
    return out
