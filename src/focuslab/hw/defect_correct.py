"""Defect-pixel correction: replace each defective pixel from its valid same-colour neighbours.

For every defective pixel the 8 nearest same-plane neighbours are looked at (2 sensor pixels
away on a Bayer mosaic, adjacent on a mono sensor), defective ones left out. Where an edge
crosses the neighbourhood (the four opposite-neighbour pairs -- horizontal, vertical and the
two diagonals -- differ by more than ``edge_k`` noise sigmas) the pixel is the mean of the
pair along the edge (the pair with the smallest difference); elsewhere it is the median of the
valid neighbours. Pixels with no valid neighbour (inside a large cluster) are filled in later
passes from the pixels corrected before them.

This is the defect-pixel correction stage at the head of a camera ISP (its place in the
pipeline: Ramanath et al., "Color image processing pipeline", IEEE Signal Processing
Magazine 22(1), 2005); the choice of the pair along the smallest gradient is the
edge-directed interpolation of Hamilton & Adams (US patent 5,629,734, 1997).
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.hw.defect_planes import check_cfa, check_mosaic, plane_slices, robust_sigma

_SHIFTS = ((0, -1), (0, 1), (-1, 0), (1, 0), (-1, -1), (1, 1), (-1, 1), (1, -1))  # opposite pairs 2i, 2i+1
_MAX_PASSES = 16


def _plane_noise(plane: np.ndarray, valid: np.ndarray) -> float:
    """Noise sigma of a plane: robust sigma of the horizontal same-plane differences / sqrt(2)."""
    d = plane[:, 1:] - plane[:, :-1]
    ok = valid[:, 1:] & valid[:, :-1]
    return robust_sigma(d[ok]) / np.sqrt(2.0) if np.any(ok) else 0.0


def _correct_plane(plane: np.ndarray, bad: np.ndarray, *, edge_k: float) -> np.ndarray:
    out = plane.copy()
    valid = ~bad
    sigma = _plane_noise(plane, valid)
    todo_y, todo_x = np.nonzero(bad)
    for _ in range(_MAX_PASSES):
        if todo_y.size == 0:
            break
        vp = np.pad(out, 1, mode="reflect")
        mp = np.pad(valid, 1, mode="reflect")
        vals = np.stack([vp[todo_y + 1 + dy, todo_x + 1 + dx] for dy, dx in _SHIFTS])
        ok = np.stack([mp[todo_y + 1 + dy, todo_x + 1 + dx] for dy, dx in _SHIFTS])
        can = ok.any(axis=0)
        if not np.any(can):
            break
        v = np.where(ok, vals, np.nan)[:, can]
        fill = np.nanmedian(v, axis=0)
        pair_ok = ok[0::2, can] & ok[1::2, can]
        grad = np.where(pair_ok, np.abs(v[0::2] - v[1::2]), np.inf)
        mean = 0.5 * (v[0::2] + v[1::2])
        n_pairs = pair_ok.sum(axis=0)
        gmin_idx = np.argmin(grad, axis=0)
        cols = np.arange(grad.shape[1])
        gmin = grad[gmin_idx, cols]
        gmax = np.max(np.where(pair_ok, grad, -np.inf), axis=0)
        edge = (n_pairs >= 2) & (gmax - gmin > edge_k * np.sqrt(2.0) * sigma)
        fill = np.where(edge, mean[gmin_idx, cols], fill)
        ys, xs = todo_y[can], todo_x[can]
        out[ys, xs] = fill
        valid[ys, xs] = True
        todo_y, todo_x = todo_y[~can], todo_x[~can]
    if todo_y.size:  # a plane with no valid pixel at all
        out[todo_y, todo_x] = np.median(plane[~bad]) if np.any(~bad) else 0.0
    return out


def correct_defects(mosaic: np.ndarray, defect_mask: np.ndarray, *, cfa: str, edge_k: float = 3.0) -> np.ndarray:
    """The mosaic with every pixel of ``defect_mask`` replaced from its same-colour neighbours.

    Parameters
    ----------
    mosaic
        Raw mosaic ``H x W`` (any real dtype; DN).
    defect_mask
        Boolean ``H x W``, True on defective pixels (e.g. ``DefectResult.mask``).
    cfa
        Pattern of the mosaic (``"RGGB"``... or ``"mono"``).
    edge_k
        An edge is present when the opposite-neighbour pairs differ by more than ``edge_k``
        times the noise of such a difference (estimated from the plane); > 0.

    Returns
    -------
    numpy.ndarray
        A new array of the mosaic's dtype and shape (integers are rounded and clipped to
        the dtype's range); pixels outside the mask are unchanged.

    Raises
    ------
    InvalidParameterError
        On a mask of another shape, a non-2-D mosaic or a bad ``cfa``.
    """
    check_cfa(cfa)
    src = np.asarray(mosaic)
    arr = check_mosaic("mosaic", src, min_size_px=2)
    mask = np.asarray(defect_mask, dtype=bool)
    if mask.shape != arr.shape:
        raise InvalidParameterError(f"defect mask of shape {mask.shape} does not match the mosaic's {arr.shape}")
    if not edge_k > 0:
        raise InvalidParameterError(f"edge_k must be > 0, got {edge_k!r}")
    out = arr.copy()
    for _name, sl in plane_slices(cfa):
        if np.any(mask[sl]):
            out[sl] = _correct_plane(arr[sl], mask[sl], edge_k=float(edge_k))
    if np.issubdtype(src.dtype, np.integer):
        info = np.iinfo(src.dtype)
        return np.clip(np.rint(out), info.min, info.max).astype(src.dtype)
    return out.astype(src.dtype if np.issubdtype(src.dtype, np.floating) else np.float64)
