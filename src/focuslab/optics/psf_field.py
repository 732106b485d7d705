"""Field-dependent aberrations: Seidel-style wavefront terms that grow with image height.

The wavefront at relative field h (:mod:`focuslab.optics.psf_model`: 1 = frame corner) in
the direction h_hat = field_xy / |field_xy|, with pupil coordinates rho (unit disk, aligned
with the image axes), is the classical fourth-order (Seidel) expansion

    W = W040 rho^4 + W131 h rho^2 (rho . h_hat) + W222 h^2 (rho . h_hat)^2 + W220 h^2 rho^2

(Hopkins' wave-aberration coefficients; distortion W311 does not blur and is left to the
geometry). The meridional (tangential) direction of the field point is h_hat, the sagittal
direction is perpendicular to it:

* W220, field curvature: extra defocus growing as h^2 (a curved best-focus surface); in
  blur terms it adds 8 N W220 h^2 to the blur diameter c.
* W222, astigmatism: defocus along h_hat only, growing as h^2; the tangential and sagittal
  foci separate, and PSFs stretch radially or tangentially depending on the sign of c.
* W131, coma: grows as h; with the sign convention of :mod:`focuslab.optics.pupil` a
  positive W131 throws the comatic flare outwards, radially: the centroid moves by
  2 N W131 h along +h_hat (:func:`coma_centroid_shift_um`).
* W040, spherical aberration: the same everywhere.

References
----------
.. [1] H. H. Hopkins, *Wave Theory of Aberrations*, Oxford (1950), ch. 4.
.. [2] J. C. Wyant and K. Creath, "Basic wavefront aberration theory for optical metrology",
       Applied Optics and Optical Engineering XI (1992), sec. 3.2, eqs. 27-33 (Seidel terms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from focuslab.errors import InvalidParameterError, check_finite


def check_field_xy(field_xy) -> tuple[float, float]:
    """Validate a relative field position ``(x, y)``; return it as floats."""
    try:
        fx, fy = field_xy
    except (TypeError, ValueError):
        raise InvalidParameterError(f"field_xy must be a pair (x, y), got {field_xy!r}") from None
    return check_finite("field_xy[0]", fx), check_finite("field_xy[1]", fy)


@dataclass(frozen=True)
class SeidelAberrations:
    """Seidel wavefront coefficients at full field (h = 1, the frame corner), micrometres.

    Parameters
    ----------
    w040_um
        Spherical aberration, um at the pupil edge.
    w131_um
        Coma at full field, um.
    w222_um
        Astigmatism at full field, um.
    w220_um
        Field curvature at full field, um (8 N W220 of extra blur diameter at the corner).
    """

    w040_um: float = 0.0
    w131_um: float = 0.0
    w222_um: float = 0.0
    w220_um: float = 0.0

    def __post_init__(self) -> None:
        for name in ("w040_um", "w131_um", "w222_um", "w220_um"):
            check_finite(name, getattr(self, name))

    def wavefront_um(self, x, y, field_xy=(0.0, 0.0)) -> np.ndarray:
        """Wavefront W (um) at pupil points ``(x, y)`` for the field point ``field_xy``."""
        fx, fy = check_field_xy(field_xy)
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        r2 = x * x + y * y
        w = self.w040_um * r2 * r2
        h = math.hypot(fx, fy)
        if h > 0.0:
            along = (x * fx + y * fy) / h  # rho . h_hat
            w = w + self.w131_um * h * r2 * along + self.w222_um * h * h * along**2
            w = w + self.w220_um * h * h * r2
        return w


def coma_centroid_shift_um(w131_um: float, field_height: float, f_number: float) -> float:
    """Geometric centroid shift (um, along +h_hat) of the coma term W131 h rho^2 (rho . h_hat).

    Notes
    -----
    Rays land at u = 2 N grad W (:mod:`focuslab.optics.pupil`). Averaged over the unit disk,
    d/dx[(x^2 + y^2) x] = 3 x^2 + y^2 has mean 1 (<x^2> = <y^2> = 1/4), so the centroid moves
    by 2 N W131 h, outwards for W131 > 0.
    """
    return 2.0 * float(f_number) * float(w131_um) * float(field_height)
