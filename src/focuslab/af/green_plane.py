"""The planes contrast AF scores: the green plane or the channel-balanced mosaic of a Bayer raw.

Phone AF statistics are computed on the green pixels of the raw preview (the densest and
most sensitive channel; no demosaic in the loop). For a Bayer mosaic each 2 x 2 cell gives
one value, the mean of its two greens, so the plane is ``h/2 x w/2`` (odd edges dropped);
``cfa=None`` or ``"mono"`` returns a float32 copy of the image.

On a binned preview stream the green plane's pitch (2 stream pixels) is coarser than the
depth-of-focus unit (c_max = 2 *native* pitches = half a stream pixel at 4 x 4 binning), so
contrast AF there scores the *balanced mosaic* instead: the full-resolution raw region with
each Bayer site divided by its own mean over the region (a per-region white balance, so a
neutral texture becomes a full-resolution luminance-like image without a demosaic).
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
        return np.array(arr, dtype=np.float32)  # a copy: callers may write to it
    if cfa not in _GREENS:
        raise InvalidParameterError(f"unknown cfa {cfa!r}; use one of {', '.join(_GREENS)}, 'mono' or None")
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 2:
        raise InvalidParameterError(f"a {cfa} mosaic must be a 2-D array of at least 2 x 2, got shape {arr.shape}")
    h, w = (arr.shape[0] // 2) * 2, (arr.shape[1] // 2) * 2
    (r0, c0), (r1, c1) = _GREENS[cfa]
    g = arr[r0:h:2, c0:w:2].astype(np.float32) + arr[r1:h:2, c1:w:2].astype(np.float32)
    return g * np.float32(0.5)


def balanced_mosaic(image: np.ndarray, cfa: str | None) -> np.ndarray:
    """The AF region at full resolution with each Bayer site divided by its own mean, float32.

    The one balanced-mosaic implementation of the AF package (contrast sweep, hill climb,
    phase and hybrid policies all score it; :func:`focuslab.af.af_signals.balanced_mosaic`
    adds the input checks of the closed loop and calls this).

    ``out = image / mean_k`` on the pixels of site k, k one of the four positions of the 2 x 2
    Bayer cell (R, Gr, Gb, B): dividing the two greens separately also removes the Gr/Gb
    imbalance of the sensor (cross-talk differs between the green sites of a red and of a blue
    row), a fixed checkerboard that would otherwise add a focus-independent term to any
    gradient focus measure. A mosaic is cropped to even sides (so every site has its cell);
    sites whose mean is not positive are left at 0. ``cfa=None``/``"mono"``: the image (channels
    averaged) divided by its mean.

    Raises
    ------
    InvalidParameterError
        An unknown CFA or a mosaic that is not 2-D.
    """
    arr = np.asarray(image, dtype=np.float32)
    if cfa is None or cfa == "mono":
        if arr.ndim == 3:
            arr = arr.mean(axis=2, dtype=np.float32)
        m = float(arr.mean()) if arr.size else 0.0
        return arr / np.float32(m) if m > 0 else np.zeros_like(arr)
    if cfa not in _GREENS:
        raise InvalidParameterError(f"unknown cfa {cfa!r}; use one of {', '.join(_GREENS)}, 'mono' or None")
    if arr.ndim != 2:
        raise InvalidParameterError(f"a {cfa} mosaic must be a 2-D array, got shape {arr.shape}")
    h, w = (arr.shape[0] // 2) * 2, (arr.shape[1] // 2) * 2
    arr = arr[:h, :w]
    out = np.zeros_like(arr)
    for r in (0, 1):
        for c in (0, 1):
            site = arr[r::2, c::2]
            m = float(site.mean()) if site.size else 0.0
            if m > 0:
                out[r::2, c::2] = site / np.float32(m)
    return out


def bayer_planes(image: np.ndarray, cfa: str, *, normalize: bool = False) -> list[np.ndarray]:
    """The four ``h/2 x w/2`` sub-planes of a Bayer mosaic in reading order (top-left, top-right,
    bottom-left, bottom-right of each 2 x 2 cell), float32; ``normalize`` divides each by its mean.

    Raises
    ------
    InvalidParameterError
        An unknown CFA or a mosaic that is not 2-D or smaller than 2 x 2.
    """
    arr = np.asarray(image)
    if cfa not in _GREENS:
        raise InvalidParameterError(f"unknown Bayer cfa {cfa!r}; use one of {', '.join(_GREENS)}")
    if arr.ndim != 2 or arr.shape[0] < 2 or arr.shape[1] < 2:
        raise InvalidParameterError(f"a {cfa} mosaic must be a 2-D array of at least 2 x 2, got shape {arr.shape}")
    h, w = (arr.shape[0] // 2) * 2, (arr.shape[1] // 2) * 2
    out = []
    for r, c in ((0, 0), (0, 1), (1, 0), (1, 1)):
        p = arr[r:h:2, c:w:2].astype(np.float32)
        if normalize:
            m = float(p.mean())
            p = p / np.float32(m) if m > 0 else np.zeros_like(p)
        out.append(p)
    return out


def bin_mean(a: np.ndarray, k: int) -> np.ndarray:
    """``k x k`` mean binning of a 2-D plane, float64 (edges that do not fill a bin dropped).

    Shared by the coarse levels of the dual-pixel search in
    :mod:`focuslab.af.policies.continuous` and the binning of the real Pixel 4 pairs in
    :mod:`focuslab.models.dp_real_check`.
    """
    a = np.asarray(a, dtype=float)
    h, w = a.shape[0] // k * k, a.shape[1] // k * k
    return a[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3))
