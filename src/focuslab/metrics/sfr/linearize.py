"""Linearisation of encoded images before e-SFR analysis (ISO 12233:2023 clause 6.3, OECF).

The slanted-edge SFR is defined on data linear in exposure. An encoded image (sRGB, a power
law, or a camera whose opto-electronic conversion function (OECF) was measured per ISO 14524)
is first mapped back to linear values. Encodings are named in :data:`ENCODINGS`; a measured
OECF is given as a table.
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.registry import Registry

#: Decoders from encoded values in [0, 1] to linear values, by name.
ENCODINGS: Registry = Registry("image encoding")


@ENCODINGS.register("linear")
def _decode_linear(values: np.ndarray) -> np.ndarray:
    return values


@ENCODINGS.register("srgb")
def _decode_srgb(values: np.ndarray) -> np.ndarray:
    """IEC 61966-2-1 sRGB decoding (piecewise: linear below 0.04045, else power 2.4)."""
    v = np.clip(values, 0.0, None)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def decode(values: np.ndarray, encoding: str = "linear", *, oecf: np.ndarray | None = None) -> np.ndarray:
    """Map encoded values (full scale 1.0) to values linear in exposure.

    Parameters
    ----------
    values
        Encoded image values, any shape, normalised so that full scale is 1.0.
    encoding
        ``"linear"`` (nothing done), ``"srgb"`` (IEC 61966-2-1) or ``"gamma:G"``: the file holds
        ``linear ** (1/G)``, decoded as ``values ** G`` (G > 0, e.g. ``"gamma:2.2"``).
    oecf
        A measured OECF as an ``(n, 2)`` table of (encoded value, linear value) pairs with the
        encoded values strictly increasing; the image is inverted through it by linear
        interpolation (values outside the table are clamped to its ends). Only with
        ``encoding="linear"``.

    Returns
    -------
    numpy.ndarray
        float64 linear values, same shape; the input is not modified.

    Raises
    ------
    InvalidParameterError
        Unknown encoding, bad gamma, malformed OECF table, or both an encoding and an OECF.

    References
    ----------
    ISO 12233:2023, clause 6.3 (linearisation with the OECF); ISO 14524:2009 (OECF);
    IEC 61966-2-1:1999 (sRGB transfer function).
    """
    v = np.asarray(values, dtype=np.float64)
    if oecf is not None:
        if encoding != "linear":
            raise InvalidParameterError(
                f"give either encoding={encoding!r} or an OECF table, not both; drop one of them"
            )
        table = np.asarray(oecf, dtype=np.float64)
        if table.ndim != 2 or table.shape[1] != 2 or table.shape[0] < 2:
            raise InvalidParameterError(
                f"oecf must be an (n, 2) table of (encoded, linear) pairs with n >= 2, got shape {table.shape}"
            )
        if not np.all(np.isfinite(table)) or np.any(np.diff(table[:, 0]) <= 0):
            raise InvalidParameterError("oecf encoded values must be finite and strictly increasing; sort the table")
        return np.interp(v, table[:, 0], table[:, 1])
    if isinstance(encoding, str) and encoding.lower().startswith("gamma:"):
        text = encoding.split(":", 1)[1]
        try:
            gamma = float(text)
        except ValueError:
            gamma = float("nan")
        if not np.isfinite(gamma) or gamma <= 0:
            raise InvalidParameterError(f"encoding {encoding!r}: the gamma must be a positive number, e.g. 'gamma:2.2'")
        return np.clip(v, 0.0, None) ** gamma
    name = encoding.lower() if isinstance(encoding, str) else encoding
    if name not in ENCODINGS:
        valid = ", ".join([*ENCODINGS.names(), "gamma:G"])
        raise InvalidParameterError(f"unknown encoding {encoding!r}; valid: {valid}")
    return ENCODINGS.get(name)(v)
