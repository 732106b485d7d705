"""The exit pupil on a grid: coordinates, aperture, wavefront (micrometres), defocus.

Pupil coordinates are normalised to the pupil radius (the unit disk) and *aligned with the
image axes*: pupil x points the way image +x (columns) points, pupil y the way image +y
(rows, downwards) points, both as seen from the sensor looking out through the lens. A grid
of n x n square cells of side d = 2 / n covers [-1, 1]^2; row index = pupil y.

Wavefront sign. The pupil field is A exp(+2 pi i W / lambda) and the PSF is its Fourier
transform with kernel exp(-2 pi i rho . u / (2 lambda N)) (:mod:`focuslab.optics.psf_wave`),
so a ray through pupil point rho lands at the image offset u = 2 N grad_rho W (W and u in
micrometres). Consequences, used and tested throughout:

* a positive y-tilt (W = a rho_y) moves the PSF towards +y (down the image);
* defocus W = W020 rho^2 maps rho to u = 4 N W020 rho: a blur circle of signed diameter
  c = 8 N W020, positive W020 for positive c (object nearer than the focus plane, the sign
  of :mod:`focuslab.optics.focus`), and the image of the left half-pupil lies at -x then,
  as the dual-pixel convention requires.

References
----------
.. [1] J. W. Goodman, *Introduction to Fourier Optics*, 3rd ed., sec. 6.4 (generalized pupil
       function, defocus W = W020 rho^2).
.. [2] J. C. Wyant and K. Creath, "Basic wavefront aberration theory for optical metrology",
       Applied Optics and Optical Engineering XI (1992), sec. 2 (W020, transverse ray
       aberration = -(R / r) dW/drho in their sign convention).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from focuslab.errors import InvalidParameterError, check_finite, check_positive
from focuslab.optics.dual_pixel import DualPixelResponse
from focuslab.optics.psf_geometric import disk_coverage
from focuslab.optics.zernike import zernike_xy


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise InvalidParameterError(f"pupil grid size must be an integer >= 2, got {n!r}")
    return int(n)


def pupil_cell_centres(n: int) -> np.ndarray:
    """Centres of the n cells along one pupil axis, pupil radii: (i + 1/2) 2/n - 1."""
    n = _check_n(n)
    return (np.arange(n) + 0.5) * (2.0 / n) - 1.0


def pupil_coordinates(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` pupil coordinates of an n x n grid, each ``(n, n)``, rows = y."""
    c = pupil_cell_centres(n)
    return np.meshgrid(c, c)


def circular_pupil(n: int) -> np.ndarray:
    """Anti-aliased clear circular pupil: the fraction of each cell inside the unit disk, ``(n, n)``."""
    n = _check_n(n)
    edges = np.linspace(-1.0, 1.0, n + 1)
    return disk_coverage(edges, edges, 1.0) / (2.0 / n) ** 2


def w020_from_coc_um(coc_um: float, f_number: float) -> float:
    """Defocus wavefront coefficient W020 (um at the pupil edge) of a signed blur diameter: c / (8 N)."""
    return check_finite("coc_um", coc_um) / (8.0 * check_positive("f_number", f_number))


def coc_um_from_w020(w020_um: float, f_number: float) -> float:
    """Signed geometric blur diameter (um) of defocus W020: c = 8 N W020 [1]."""
    return 8.0 * check_positive("f_number", f_number) * check_finite("w020_um", w020_um)


def check_zernike_terms(zernike_um: Mapping) -> tuple[tuple[int | str, float], ...]:
    """Validate a {Noll index or name: coefficient um} mapping; return it as sorted-by-key items."""
    items = []
    for key, value in dict(zernike_um).items():
        zernike_xy(key, 0.0, 0.0)  # raises for a bad index or name
        items.append((key, check_finite(f"zernike_um[{key!r}]", value)))
    return tuple(sorted(items, key=lambda kv: str(kv[0])))


def wavefront_um(x, y, *, zernike_um: Mapping | None = None, w020_um: float = 0.0) -> np.ndarray:
    """Wavefront error W (micrometres) at pupil points: sum_j a_j Z_j + W020 rho^2.

    Parameters
    ----------
    x, y
        Pupil coordinates (pupil radii), broadcastable arrays.
    zernike_um
        ``{Noll index or name: RMS coefficient in um}`` (Noll-normalised, see
        :mod:`focuslab.optics.zernike`).
    w020_um
        Defocus coefficient W020, um at the pupil edge (see :func:`w020_from_coc_um`).

    Returns
    -------
    numpy.ndarray
        W in micrometres, the broadcast shape of x and y.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = float(w020_um) * (x * x + y * y)
    for key, a in (zernike_um or {}).items():
        if a != 0.0:
            w = w + float(a) * zernike_xy(key, x, y)
    return w


def max_wavefront_slope_um(wavefront, *, n: int = 65) -> float:
    """Largest |grad_rho W| (um per pupil radius) of ``wavefront(x, y)`` over the unit disk.

    Estimated with central differences on an n x n grid (the polynomials are smooth), with a
    5 % margin; sizes the pupil grid and the kernel.
    """
    c = np.linspace(-1.0, 1.0, n)
    x, y = np.meshgrid(c, c)
    w = wavefront(x, y)
    gy, gx = np.gradient(w, c, c)
    inside = x * x + y * y <= 1.0
    return 1.05 * float(np.max(np.hypot(gx, gy)[inside]))


def dual_pixel_pupil_weights(
    n: int, response: DualPixelResponse, field_x: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Left/right intensity weights of each pupil column, ``(n,)`` each, summing to 1 per column.

    Each is the mean of the response's left (right) weight over the cell's x-range.
    """
    c = pupil_cell_centres(n)
    d = 2.0 / n
    w_left = response.left_weight(c - d / 2, c + d / 2, field_x)
    return w_left, 1.0 - w_left
