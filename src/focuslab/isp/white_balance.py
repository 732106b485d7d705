"""White balance: per-channel gains, given or estimated with the grey-world assumption.

Gains are ``(g_R, g_G, g_B)`` multipliers normalised to ``g_G = 1``. They apply either to an
``H x W x 3`` RGB image or, with its CFA pattern, to an ``H x W`` Bayer mosaic before
demosaicing (the usual place in a camera pipeline).
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError, check_positive
from focuslab.sensor.cfa import cfa_channel_index


def _check_gains(gains) -> np.ndarray:
    g = np.asarray(gains, dtype=np.float64).ravel()
    if g.size != 3:
        raise InvalidParameterError(f"white-balance gains need 3 values (R, G, B), got {g.size}")
    for v in g:
        check_positive("white-balance gain", v)
    return g


def _check_image(image, cfa: str | None) -> np.ndarray:
    arr = np.asarray(image)
    if cfa is None:
        if arr.ndim != 3 or arr.shape[2] != 3:
            raise InvalidParameterError(
                f"expected an H x W x 3 RGB image (or an H x W mosaic with its cfa), got shape {arr.shape}"
            )
    elif arr.ndim != 2:
        raise InvalidParameterError(f"a mosaic with cfa={cfa!r} must be H x W, got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError("image contains NaN or inf; white balance needs finite values")
    return arr


def apply_white_balance(image: np.ndarray, gains, *, cfa: str | None = None) -> np.ndarray:
    """Multiply each colour channel by its gain.

    Parameters
    ----------
    image
        Linear ``H x W x 3`` RGB, or an ``H x W`` Bayer mosaic when ``cfa`` is given.
    gains
        ``(g_R, g_G, g_B)``, each > 0.
    cfa
        Bayer pattern string of a mosaic input; None for RGB.

    Returns
    -------
    numpy.ndarray
        Same shape; float32 for a float32 input, else float64. The input is not modified.

    Raises
    ------
    InvalidParameterError
        On a bad shape, non-finite values, bad gains or a bad CFA string.
    """
    g = _check_gains(gains)
    arr = _check_image(image, cfa)
    if cfa is None:
        return arr * g.astype(arr.dtype)
    return arr * g.astype(arr.dtype)[cfa_channel_index(cfa, arr.shape)]


def channel_means(
    image: np.ndarray, *, cfa: str | None = None, saturation: float | None = None
) -> np.ndarray:
    """Mean of the R, G and B values (pixels at or above ``saturation`` in any sample excluded).

    For a mosaic, the mean over the pixels of each colour; for RGB, over each channel.
    """
    arr = _check_image(image, cfa)
    if cfa is None:
        keep = np.ones(arr.shape[:2], bool) if saturation is None else np.all(arr < saturation, axis=2)
        if not np.any(keep):
            raise InvalidParameterError("every pixel is saturated; no channel means to estimate")
        return arr[keep].astype(np.float64).mean(axis=0)
    idx = cfa_channel_index(cfa, arr.shape)
    keep = np.ones(arr.shape, bool) if saturation is None else arr < saturation
    means = []
    for c in range(3):
        sel = keep & (idx == c)
        if not np.any(sel):
            raise InvalidParameterError("every pixel of a colour is saturated; no channel means to estimate")
        means.append(float(arr[sel].astype(np.float64).mean()))
    return np.asarray(means)


def grey_world_gains(
    image: np.ndarray, *, cfa: str | None = None, saturation: float | None = None
) -> tuple[float, float, float]:
    """White-balance gains under the grey-world assumption: the scene averages to grey.

    Parameters
    ----------
    image
        Linear ``H x W x 3`` RGB, or an ``H x W`` Bayer mosaic with ``cfa``.
    cfa
        Bayer pattern string of a mosaic input.
    saturation
        Exclude samples at or above this value (clipped highlights are not grey-world data).

    Returns
    -------
    tuple of float
        ``(mean_G / mean_R, 1, mean_G / mean_B)``.

    Raises
    ------
    InvalidParameterError
        When a channel mean is not positive (no light to balance) or the input is invalid.

    References
    ----------
    Buchsbaum, "A spatial processor model for object colour perception", J. Franklin Inst.
    310 (1980) 1-26.
    """
    m = channel_means(image, cfa=cfa, saturation=saturation)
    if np.any(m <= 0):
        raise InvalidParameterError(
            f"channel means {m.tolist()} are not all positive; grey world needs an exposed image"
        )
    return (float(m[1] / m[0]), 1.0, float(m[1] / m[2]))
