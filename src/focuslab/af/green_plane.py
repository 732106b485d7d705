"""The plane contrast AF scores: the green plane of a Bayer mosaic, the image itself otherwise.

Phone AF statistics are computed on the green pixels of the raw preview (the densest and
most sensitive channel; no demosaic in the loop). For a Bayer mosaic each 2 x 2 cell gives
one value, the mean of its two greens, so the plane is ``h/2 x w/2`` (odd edges dropped);
``cfa=None`` or ``"mono"`` returns the image unchanged (as float32).
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError

#: Offsets (row, col) of the two green pixels in each Bayer 2 x 2 cell.
_GREENS = {
    "RGGB": ((0, 1), (1, 0)),
    "BGGR": ((0, 1), (1, 0)),
    "GRBG": ((0, 0), (1, 1)),
    "GBRG": ((0, 0), (1, 1)),
}


def green_plane(image: np.ndarray, cfa: str | None) -> np.ndarray:
    """Focus-scoring plane of an AF image, float32.

    Parameters
    ----------
    image
        ``h x w`` raw mosaic (when ``cfa`` is a Bayer pattern) or grey image; ``h x w x C``
        images are averaged over channels.
    cfa
        ``"RGGB"``, ``"BGGR"``, ``"GRBG"``, ``"GBRG"``, ``"mono"`` or None.

    Returns
    -------
    numpy.ndarray
        float32 ``h//2 x w//2`` green plane (Bayer) or ``h x w`` grey image.

    Raises
    ------
    InvalidParameterError
        An unknown CFA, a mosaic that is not 2-D or smaller than 2 x 2.
    """
    arr = np.asarray(image)
    if cfa is None or cfa == "mono":
        if arr.ndim == 3:
            arr = arr.mean(axis=2)
        return np.asarray(arr, dtype=np.float32)
    if cfa not in _GREENS:
        raise InvalidParameterError(f"unknown cfa {cfa!r}; use one of {', '.join(_GREENS)}, 'mono' or None")
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 2:
        raise InvalidParameterError(f"a {cfa} mosaic must be a 2-D array of at least 2 x 2, got shape {arr.shape}")
    h, w = (arr.shape[0] // 2) * 2, (arr.shape[1] // 2) * 2
    (r0, c0), (r1, c1) = _GREENS[cfa]
    g = arr[r0:h:2, c0:w:2].astype(np.float32) + arr[r1:h:2, c1:w:2].astype(np.float32)
    return g * np.float32(0.5)
