"""sRGB transfer function (IEC 61966-2-1:1999) and its inverse.

Encoding (linear L in [0, 1] -> encoded V)::

    V = 12.92 L                       for L <= 0.0031308
    V = 1.055 L^(1/2.4) - 0.055       otherwise

Decoding: ``L = V / 12.92`` for ``V <= 0.04045``, else ``((V + 0.055) / 1.055)^2.4``.
Inputs are clipped to [0, 1] first (the display range the standard defines).
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError


def _as_float(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if np.any(np.isnan(arr)):
        raise InvalidParameterError(f"{name} contains NaN; pass finite values")
    return arr


def srgb_encode(linear: np.ndarray) -> np.ndarray:
    """Linear light in [0, 1] to sRGB-encoded values in [0, 1] (IEC 61966-2-1 Eq. 5).

    Any shape; float32 in -> float32 out (other floats keep their dtype, integers -> float64).
    +inf clips to 1 and -inf to 0; NaN raises InvalidParameterError.
    """
    x = np.clip(_as_float(linear, "linear"), 0.0, 1.0)
    dt = x.dtype
    lo = x * dt.type(12.92)
    hi = dt.type(1.055) * np.power(x, dt.type(1.0 / 2.4)) - dt.type(0.055)
    return np.where(x <= dt.type(0.0031308), lo, hi).astype(dt, copy=False)


def srgb_decode(encoded: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] to linear light (inverse of :func:`srgb_encode`)."""
    v = np.clip(_as_float(encoded, "encoded"), 0.0, 1.0)
    dt = v.dtype
    lo = v / dt.type(12.92)
    hi = np.power((v + dt.type(0.055)) / dt.type(1.055), dt.type(2.4))
    return np.where(v <= dt.type(0.04045), lo, hi).astype(dt, copy=False)
