"""Zernike polynomials on the unit disk, Noll's indexing and normalisation.

Z_j(rho, theta) for Noll index j = 1, 2, ... with radial order n and azimuthal frequency m:

    Z_j = sqrt(n + 1) R_n^0(rho)                        m = 0
    Z_j = sqrt(2 (n + 1)) R_n^m(rho) cos(m theta)        m != 0, j even
    Z_j = sqrt(2 (n + 1)) R_n^m(rho) sin(m theta)        m != 0, j odd

    R_n^m(rho) = sum_{s=0}^{(n-m)/2} (-1)^s (n - s)! / (s! ((n+m)/2 - s)! ((n-m)/2 - s)!) rho^(n-2s)

(Noll 1976, eqs. 2-4). They are orthonormal over the unit disk with the area-average inner
product (1/pi) integral Z_i Z_j rho drho dtheta = delta_ij, so a coefficient is the RMS
wavefront error of its term. Angles are measured from pupil +x towards pupil +y; the pupil
axes are aligned with the image axes (x right, y down the image), see
:mod:`focuslab.optics.pupil`.

References
----------
.. [1] R. J. Noll, "Zernike polynomials and atmospheric turbulence", J. Opt. Soc. Am. 66,
       207-211 (1976), eqs. 2-4 and Table I.
"""

from __future__ import annotations

import math

import numpy as np

from focuslab.errors import InvalidParameterError, UnknownNameError

#: Names of the low-order terms and their Noll indices (Noll 1976, Table I).
ZERNIKE_NAMES: dict[str, int] = {
    "piston": 1,
    "tilt_x": 2,
    "tilt_y": 3,
    "defocus": 4,
    "astigmatism_45": 5,
    "astigmatism_0": 6,
    "coma_y": 7,
    "coma_x": 8,
    "trefoil_y": 9,
    "trefoil_x": 10,
    "spherical": 11,
}


def noll_to_nm(j: int) -> tuple[int, int]:
    """Radial order n and signed azimuthal frequency m of Noll index j (m < 0 means sin)."""
    if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or j < 1:
        raise InvalidParameterError(f"Noll index must be an integer >= 1, got {j!r}")
    j = int(j)
    n = 0
    while (n + 1) * (n + 2) // 2 < j:
        n += 1
    first = n * (n + 1) // 2 + 1
    ms = [0] if n % 2 == 0 else []  # |m| in the order Noll numbers them: ascending, pairs
    ms += [m for m in range(2 - n % 2, n + 1, 2) for _ in (0, 1)]
    m = ms[j - first]
    return n, (m if (m == 0 or j % 2 == 0) else -m)


def noll_index(name: str) -> int:
    """Noll index of a named term (see :data:`ZERNIKE_NAMES`)."""
    try:
        return ZERNIKE_NAMES[name]
    except KeyError:
        valid = ", ".join(ZERNIKE_NAMES)
        msg = f"unknown Zernike term {name!r}; use a Noll index or one of: {valid}"
        raise UnknownNameError(msg) from None


def zernike_radial(n: int, m: int, rho) -> np.ndarray:
    """Radial polynomial R_n^|m|(rho) (Noll 1976 eq. 2); n - |m| must be even and >= 0."""
    m = abs(int(m))
    n = int(n)
    if n < 0 or m > n or (n - m) % 2:
        raise InvalidParameterError(f"(n, m) = ({n}, {m}) is not a Zernike order; need n - |m| even >= 0")
    rho = np.asarray(rho, dtype=float)
    out = np.zeros_like(rho)
    for s in range((n - m) // 2 + 1):
        coef = (-1) ** s * math.factorial(n - s)
        coef /= math.factorial(s) * math.factorial((n + m) // 2 - s) * math.factorial((n - m) // 2 - s)
        out = out + coef * rho ** (n - 2 * s)
    return out


def zernike(j: int | str, rho, theta) -> np.ndarray:
    """Noll-normalised Zernike polynomial Z_j(rho, theta), by Noll index or name.

    Parameters
    ----------
    j
        Noll index (>= 1) or a name from :data:`ZERNIKE_NAMES`.
    rho, theta
        Pupil radius (unit disk) and angle (radians from +x towards +y), broadcastable.

    Returns
    -------
    numpy.ndarray
        Values of Z_j; orthonormal (unit RMS) over the unit disk [1].
    """
    idx = noll_index(j) if isinstance(j, str) else j
    n, m = noll_to_nm(idx)
    rho = np.asarray(rho, dtype=float)
    theta = np.asarray(theta, dtype=float)
    radial = zernike_radial(n, m, rho)
    if m == 0:
        return math.sqrt(n + 1) * radial
    trig = np.cos(m * theta) if m > 0 else np.sin(-m * theta)
    return math.sqrt(2 * (n + 1)) * radial * trig


def zernike_xy(j: int | str, x, y) -> np.ndarray:
    """Z_j at Cartesian pupil coordinates (x right, y down), unit pupil radius."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    return zernike(j, np.hypot(x, y), np.arctan2(y, x))


def defocus(rho, theta) -> np.ndarray:
    """Z4 = sqrt(3) (2 rho^2 - 1)."""
    return zernike(4, rho, theta)


def astigmatism_0(rho, theta) -> np.ndarray:
    """Z6 = sqrt(6) rho^2 cos 2 theta (astigmatism with axes along x and y)."""
    return zernike(6, rho, theta)


def astigmatism_45(rho, theta) -> np.ndarray:
    """Z5 = sqrt(6) rho^2 sin 2 theta (astigmatism with axes at +-45 degrees)."""
    return zernike(5, rho, theta)


def coma_x(rho, theta) -> np.ndarray:
    """Z8 = sqrt(8) (3 rho^3 - 2 rho) cos theta."""
    return zernike(8, rho, theta)


def coma_y(rho, theta) -> np.ndarray:
    """Z7 = sqrt(8) (3 rho^3 - 2 rho) sin theta."""
    return zernike(7, rho, theta)


def spherical(rho, theta) -> np.ndarray:
    """Z11 = sqrt(5) (6 rho^4 - 6 rho^2 + 1) (primary spherical aberration)."""
    return zernike(11, rho, theta)
