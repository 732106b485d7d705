"""The scene grid: validation of grid shapes and resampling of images onto a grid.

Every texture, chart and photograph of :mod:`focuslab.scene` is sampled on an ``H x W`` grid
(row index = +y down, column index = +x right; pixel ``(i, j)`` covers the square
``[j, j + 1] x [i, i + 1]`` in continuous grid coordinates, so its centre is
``(j + 0.5, i + 0.5)``).
"""

from __future__ import annotations

import numpy as np
from skimage.transform import resize

from focuslab.errors import InvalidParameterError

MAX_GRID_SIDE_PX = 16384
"""Largest grid side accepted (a 16k x 16k float32 RGB grid is already 3 GiB)."""


def check_shape(shape, *, name: str = "shape") -> tuple[int, int]:
    """Validate a grid shape ``(H, W)`` and return it as a tuple of two ints.

    Parameters
    ----------
    shape
        ``(H, W)`` in samples; both integers in ``[1, MAX_GRID_SIDE_PX]``.
    name
        Argument name used in the error message.

    Returns
    -------
    tuple of int
        ``(H, W)``.

    Raises
    ------
    InvalidParameterError
        When ``shape`` is not two positive integers within range.
    """
    try:
        h, w = shape
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be (height, width) in pixels, got {shape!r}") from None
    out = []
    for v in (h, w):
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            if isinstance(v, float | np.floating) and float(v).is_integer():
                v = int(v)
            else:
                raise InvalidParameterError(f"{name} must be two integers (height, width), got {shape!r}")
        if not 1 <= int(v) <= MAX_GRID_SIDE_PX:
            raise InvalidParameterError(
                f"{name} sides must lie in [1, {MAX_GRID_SIDE_PX}] pixels, got {shape!r}"
            )
        out.append(int(v))
    return out[0], out[1]


def crop_to_aspect(image: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Centre-crop ``image`` (``H x W`` or ``H x W x C``) to the aspect ratio of ``shape``.

    The crop keeps the largest centred window whose width/height ratio equals
    ``shape[1] / shape[0]`` (to the nearest whole pixel). Returns a view.
    """
    h, w = image.shape[:2]
    th, tw = shape
    if w * th > h * tw:  # source is wider than the target: crop columns
        cw = max(1, round(h * tw / th))
        x0 = (w - cw) // 2
        return image[:, x0 : x0 + cw]
    ch = max(1, round(w * th / tw))
    y0 = (h - ch) // 2
    return image[y0 : y0 + ch, :]


def resample_to_grid(image: np.ndarray, shape, *, order: int = 1) -> np.ndarray:
    """Centre-crop ``image`` to the aspect of ``shape`` and resample it to ``shape``.

    Parameters
    ----------
    image
        ``H x W`` or ``H x W x C`` array in *linear* units (resampling averages values, which
        is only physical for linear light or for metric depth over smooth regions).
    shape
        Target ``(H, W)``.
    order
        Spline order of the interpolation (1 = bilinear, 0 = nearest, for masks).

    Returns
    -------
    numpy.ndarray
        float32 array of shape ``shape`` (+ channels). Downsampling is anti-aliased by a
        Gaussian pre-filter (scikit-image ``resize(anti_aliasing=True)``); an identical
        shape returns an unchanged float32 copy.
    """
    th, tw = check_shape(shape)
    cropped = crop_to_aspect(np.asarray(image), (th, tw))
    if cropped.shape[:2] == (th, tw):
        return cropped.astype(np.float32, copy=True)
    out_shape = (th, tw, *cropped.shape[2:])
    shrinking = cropped.shape[0] > th or cropped.shape[1] > tw
    out = resize(
        cropped.astype(np.float64),
        out_shape,
        order=order,
        mode="reflect",
        anti_aliasing=bool(shrinking and order > 0),
        preserve_range=True,
    )
    return out.astype(np.float32)


def check_int(name: str, value, lo: int, hi: int) -> int:
    """Return ``int(value)``; raise :class:`InvalidParameterError` unless an integer in [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not lo <= value <= hi:
        raise InvalidParameterError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    return int(value)
