"""Find the ROI of the single straight edge in an image (``focuslab sfr`` without ``--roi``).

Strong-gradient pixels (Sobel magnitude above 30 % of its 99.9th percentile, on the grey or
BT.709 luminance image) are grouped into 8-connected components. Components holding more than
15 % of the largest one's pixels count as edges; exactly one is required, and it must be
straight (its pixel cloud's second principal axis at most 10 % of the first). The ROI is centred
on it, runs along the edge for its whole length (less 10 % at each end) and extends across it
by 64 px plus half the edge's lateral drift on each side, clipped to the image.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from focuslab.errors import InvalidParameterError

GRADIENT_FRACTION = 0.3
COMPONENT_FRACTION = 0.15
MAX_THICKNESS_RATIO = 0.1
ACROSS_MARGIN_PX = 64


def _grey(image: np.ndarray) -> np.ndarray:
    a = np.asarray(image)
    a = a.astype(np.float64)
    if a.ndim == 3 and a.shape[2] == 3:
        return 0.213 * a[..., 0] + 0.715 * a[..., 1] + 0.072 * a[..., 2]
    if a.ndim == 3 and a.shape[2] == 1:
        return a[..., 0]
    if a.ndim != 2:
        raise InvalidParameterError(f"image must be H x W or H x W x 3, got shape {a.shape}")
    return a


def find_single_edge_roi(image: np.ndarray) -> tuple[int, int, int, int]:
    """ROI ``(x, y, w, h)`` px around the one straight edge in ``image``.

    Parameters
    ----------
    image
        ``H x W`` or ``H x W x 3`` array (not modified).

    Returns
    -------
    tuple of int
        (x, y, w, h) for :func:`~focuslab.metrics.sfr.measure_sfr`.

    Raises
    ------
    InvalidParameterError
        NaN values, a flat image, no edge, several edges, or an edge that is not straight;
        the message asks for an explicit ROI.
    """
    g = _grey(image)
    if not np.all(np.isfinite(g)):
        raise InvalidParameterError("the image contains NaN or inf values; fix it before measuring")
    h_img, w_img = g.shape
    if min(h_img, w_img) < 16:
        raise InvalidParameterError(f"the image is {w_img}x{h_img} px; an edge needs at least 16 x 16 px")
    mag = np.hypot(ndimage.sobel(g, axis=1), ndimage.sobel(g, axis=0))
    mag[[0, -1], :] = 0.0
    mag[:, [0, -1]] = 0.0
    top = float(np.percentile(mag, 99.9))
    if top <= 1e-12 * max(1.0, float(np.abs(g).max())):
        raise InvalidParameterError("the image is flat (no edge); give an image with one slanted edge")
    labels, n = ndimage.label(mag > GRADIENT_FRACTION * top, structure=np.ones((3, 3)))
    if n == 0:
        raise InvalidParameterError("no edge found in the image; give --roi around a slanted edge")
    sizes = np.bincount(labels.ravel())[1:]
    big = np.flatnonzero(sizes >= COMPONENT_FRACTION * sizes.max()) + 1
    if big.size != 1:
        raise InvalidParameterError(f"found {big.size} edges in the image; give --roi X,Y,W,H around one of them")
    ys, xs = np.nonzero(labels == big[0])
    pts = np.stack([xs, ys], axis=1).astype(np.float64)
    centre = pts.mean(axis=0)
    evals, evecs = np.linalg.eigh(np.cov((pts - centre).T))
    major = evecs[:, 1]
    if evals[1] <= 0 or math.sqrt(max(evals[0], 0.0) / evals[1]) > MAX_THICKNESS_RATIO:
        raise InvalidParameterError("the strong edges do not form one straight edge; give --roi around one edge")
    along = (pts - centre) @ major
    length = float(along.max() - along.min())
    vertical = abs(major[1]) >= abs(major[0])
    tan = abs(major[0] / major[1]) if vertical else abs(major[1] / major[0])
    extent_along = (length * max(abs(major[1]), abs(major[0]))) * 0.8
    half_along = max(8.0, extent_along / 2.0)
    half_across = ACROSS_MARGIN_PX + 0.5 * extent_along * tan
    cx, cy = centre
    if vertical:
        x0, x1 = cx - half_across, cx + half_across
        y0, y1 = cy - half_along, cy + half_along
    else:
        x0, x1 = cx - half_along, cx + half_along
        y0, y1 = cy - half_across, cy + half_across
    x0, y0 = max(0, math.floor(x0)), max(0, math.floor(y0))
    x1, y1 = min(w_img, math.ceil(x1)), min(h_img, math.ceil(y1))
    return x0, y0, x1 - x0, y1 - y0
