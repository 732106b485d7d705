"""Black-level subtraction and normalisation of raw digital numbers to linear [0, 1]."""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError, check_finite
from focuslab.sensor.raw import RawFrame


def subtract_black_level(
    data: np.ndarray,
    *,
    black_level_dn: float,
    white_level_dn: float,
    clip: bool = False,
) -> np.ndarray:
    """Linear signal ``(data - black) / (white - black)`` as float32.

    Parameters
    ----------
    data
        Raw digital numbers, any shape, integer or float.
    black_level_dn, white_level_dn
        Zero-signal and saturation levels, DN (black < white).
    clip
        Clip the result to [0, 1]. Off by default: read noise puts dark pixels slightly below
        zero, and keeping them keeps a dark region's mean unbiased.

    Returns
    -------
    numpy.ndarray
        float32, same shape as ``data``; 0 = black level, 1 = white level.

    Raises
    ------
    InvalidParameterError
        When black >= white or a level is not finite.
    """
    black = check_finite("black_level_dn", black_level_dn)
    white = check_finite("white_level_dn", white_level_dn)
    if black >= white:
        raise InvalidParameterError(f"black_level_dn {black} must be below white_level_dn {white}")
    out = (np.asarray(data).astype(np.float32) - np.float32(black)) * np.float32(1.0 / (white - black))
    if clip:
        np.clip(out, 0.0, 1.0, out=out)
    return out


def raw_to_linear(raw: RawFrame, *, clip: bool = False) -> np.ndarray:
    """:func:`subtract_black_level` applied to a :class:`RawFrame`'s mosaic (float32 ``H x W``)."""
    if not isinstance(raw, RawFrame):
        raise InvalidParameterError(f"raw must be a RawFrame, got {type(raw).__name__}")
    return subtract_black_level(
        raw.data, black_level_dn=raw.black_level_dn, white_level_dn=raw.white_level_dn, clip=clip
    )
