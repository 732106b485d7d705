"""Bayer colour-filter-array geometry: which colour each pixel sees.

A pattern string names the colours of the 2x2 block whose top-left pixel is the array's
origin, in row order: ``"RGGB"`` means (row 0: R G; row 1: G B). A window of the array whose
origin is at an odd column or row sees a shifted pattern (:func:`cfa_at_offset`). Channel
indices are 0 = R, 1 = G, 2 = B, the channel order of RGB arrays everywhere in focuslab.
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError

BAYER_PATTERNS: tuple[str, ...] = ("RGGB", "BGGR", "GRBG", "GBRG")
_CHANNEL = {"R": 0, "G": 1, "B": 2}


def check_bayer(cfa: str) -> str:
    """Return ``cfa`` if it is a Bayer pattern string, else raise InvalidParameterError."""
    if cfa not in BAYER_PATTERNS:
        raise InvalidParameterError(f"unknown Bayer pattern {cfa!r}; use one of {', '.join(BAYER_PATTERNS)}")
    return cfa


def cfa_at_offset(cfa: str, x_px: int, y_px: int) -> str:
    """Pattern string seen by a window whose origin is pixel ``(x_px, y_px)`` of the array.

    ``"mono"`` stays ``"mono"``. Example: the window at (1, 0) of an RGGB array is GRBG.
    """
    if cfa == "mono":
        return cfa
    check_bayer(cfa)
    block = [[cfa[0], cfa[1]], [cfa[2], cfa[3]]]
    dx, dy = int(x_px) % 2, int(y_px) % 2
    return "".join(block[(r + dy) % 2][(c + dx) % 2] for r in (0, 1) for c in (0, 1))


def cfa_channel_index(cfa: str, shape_px: tuple[int, int]) -> np.ndarray:
    """Colour channel (0 R, 1 G, 2 B) of every pixel of an ``H x W`` Bayer mosaic.

    Parameters
    ----------
    cfa
        Bayer pattern string of the mosaic's origin.
    shape_px
        ``(H, W)``.

    Returns
    -------
    numpy.ndarray
        ``int8`` array of shape ``(H, W)``.
    """
    check_bayer(cfa)
    h, w = (int(v) for v in shape_px)
    block = np.array([[_CHANNEL[cfa[0]], _CHANNEL[cfa[1]]], [_CHANNEL[cfa[2]], _CHANNEL[cfa[3]]]], np.int8)
    reps = ((h + 1) // 2, (w + 1) // 2)
    return np.tile(block, reps)[:h, :w]


def cfa_masks(cfa: str, shape_px: tuple[int, int]) -> np.ndarray:
    """Boolean masks of the R, G and B pixels, shape ``(H, W, 3)`` (mono: all True)."""
    h, w = (int(v) for v in shape_px)
    if cfa == "mono":
        return np.ones((h, w, 3), dtype=bool)
    idx = cfa_channel_index(cfa, (h, w))
    return idx[..., None] == np.arange(3, dtype=np.int8)
