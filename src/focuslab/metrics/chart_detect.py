"""Find dark quadrilaterals in a chart image and fit their four sides to sub-pixel accuracy.

The detector follows the steps MTF Mapper (F. van den Bergh) describes for its slanted-square
charts, written from that description with numpy/scipy only:

1. a grey image (channel mean), lightly smoothed, is thresholded into dark and light with
   Otsu's threshold over the whole image (``threshold="otsu"``) or against the local mean in a
   square window (``threshold="local"``, for uneven lighting);
2. the dark pixels are grouped into 4-connected components (:func:`scipy.ndimage.label`);
3. a quadrilateral is fitted to each component's boundary: the boundary point farthest from
   the centroid is a corner, the point farthest from it the opposite corner, and the points
   farthest on either side of that diagonal the other two; the component is kept when its
   boundary lies within a tolerance of the four sides;
4. each side is refined on the grey levels: profiles across the side are sampled by bilinear
   interpolation, the edge position on each is where the (lightly smoothed) profile crosses
   half-way between its dark and light ends (the crossing nearest the steepest rise), and a
   line is fitted to those positions by total least squares; the corners are the
   intersections of adjacent refined lines. For a PSF symmetric about the edge the half-way
   crossing is unbiased.

Coordinates are image pixels with the origin at the *centre* of the top-left pixel, x to the
right (columns) and y down (rows).

References
----------
F. van den Bergh, "MTF Mapper user documentation", section "How MTF Mapper finds edges"
(adaptive thresholding, component boundaries, quadrilateral fitting), https://sourceforge.net/p/mtfmapper.
N. Otsu, "A threshold selection method from gray-level histograms", IEEE Trans. SMC 9(1):62-66,
1979, eq. (18) (maximise the between-class variance).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from focuslab.errors import InvalidParameterError

THRESHOLD_METHODS = ("otsu", "local")


@dataclass(frozen=True)
class Quadrilateral:
    """A dark quadrilateral found in the image.

    Attributes
    ----------
    corners_xy
        ``(4, 2)`` float64 corner positions (x, y) in px, in order around the shape (each side
        ``i`` runs from corner ``i`` to corner ``i + 1``).
    centroid_xy
        Centroid of the component's pixels (x, y), px.
    area_px
        Pixel count of the component (holes filled).
    label
        Its label in the component image.
    """

    corners_xy: np.ndarray
    centroid_xy: tuple[float, float]
    area_px: float
    label: int

    def side(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """End points (start, end) of side ``i`` (0..3)."""
        return self.corners_xy[i % 4], self.corners_xy[(i + 1) % 4]

    def side_lengths_px(self) -> np.ndarray:
        """Lengths of the four sides, px."""
        return np.hypot(*(np.roll(self.corners_xy, -1, axis=0) - self.corners_xy).T)


def grey_image(image: np.ndarray) -> np.ndarray:
    """Grey float64 ``H x W`` image for detection: the channel mean of ``H x W x C`` input."""
    arr = np.asarray(image, dtype=np.float64)
    return arr.mean(axis=2) if arr.ndim == 3 else arr


def otsu_threshold(values: np.ndarray, *, bins: int = 256) -> float:
    """Otsu's threshold of ``values``: the level maximising the between-class variance.

    Notes
    -----
    With class probabilities w0, w1 and means m0, m1 of a histogram split at level k, the
    between-class variance is w0 w1 (m0 - m1)^2 (Otsu 1979, eq. 18). Returns the upper edge of
    the best dark bin.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    lo, hi = float(v.min()), float(v.max())
    if hi <= lo:
        return lo
    hist, edges = np.histogram(v, bins=bins, range=(lo, hi))
    p = hist / hist.sum()
    centres = 0.5 * (edges[:-1] + edges[1:])
    w0 = np.cumsum(p)
    m = np.cumsum(p * centres)
    w1 = 1.0 - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (m[-1] * w0 - m) ** 2 / (w0 * w1)
    between[~np.isfinite(between)] = -1.0
    return float(edges[int(np.argmax(between)) + 1])


def dark_mask(grey: np.ndarray, *, threshold: str = "otsu", window_px: int | None = None) -> np.ndarray:
    """Boolean mask of the dark pixels of ``grey`` (see the module notes).

    Parameters
    ----------
    grey
        ``H x W`` float image.
    threshold
        ``"otsu"`` (one global level) or ``"local"`` (darker than the mean of a square window
        of ``window_px`` px, default a sixth of the larger image side).
    """
    if threshold not in THRESHOLD_METHODS:
        raise InvalidParameterError(f"threshold must be one of {', '.join(THRESHOLD_METHODS)}, got {threshold!r}")
    smooth = ndimage.gaussian_filter(grey, 1.0, mode="nearest")
    if threshold == "otsu":
        return smooth < otsu_threshold(smooth)
    size = int(window_px) if window_px is not None else max(15, max(grey.shape) // 6)
    if size < 3:
        raise InvalidParameterError(f"window_px must be >= 3, got {window_px}")
    local = ndimage.uniform_filter(smooth, size=size, mode="nearest")
    spread = float(np.percentile(smooth, 99) - np.percentile(smooth, 1))
    return smooth < local - 0.05 * spread


def _boundary_points(filled: np.ndarray) -> np.ndarray:
    edge = filled & ~ndimage.binary_erosion(filled, border_value=0)
    ys, xs = np.nonzero(edge)
    return np.column_stack([xs, ys]).astype(np.float64)


def _point_segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    t = np.clip(((points - a) @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
    return np.hypot(*(points - (a + t[:, None] * ab)).T)


def fit_quadrilateral(points_xy: np.ndarray, centroid_xy: np.ndarray, *, tolerance_px: float) -> np.ndarray | None:
    """Four corners (x, y) of the quadrilateral through boundary ``points_xy``, or None.

    The corners are found by the farthest-point construction of the module notes and ordered
    by angle about the centroid. None when the shape is not convex with four clear corners, or
    when the 95th percentile of the boundary's distance to the sides exceeds ``tolerance_px``.
    """
    if len(points_xy) < 8:
        return None
    a = int(np.argmax(np.hypot(*(points_xy - centroid_xy).T)))
    b = int(np.argmax(np.hypot(*(points_xy - points_xy[a]).T)))
    d = points_xy[b] - points_xy[a]
    norm = float(np.hypot(*d))
    if norm < 4.0:
        return None
    signed = ((points_xy - points_xy[a]) @ np.array([-d[1], d[0]])) / norm
    e, f = int(np.argmax(signed)), int(np.argmin(signed))
    if signed[e] < 0.1 * norm or signed[f] > -0.1 * norm:
        return None  # a thin shape or a triangle: no four clear corners
    corners = points_xy[[a, e, b, f]]
    order = np.argsort(np.arctan2(corners[:, 1] - centroid_xy[1], corners[:, 0] - centroid_xy[0]))
    corners = corners[order]
    dist = np.min(
        np.stack([_point_segment_distance(points_xy, corners[i], corners[(i + 1) % 4]) for i in range(4)]), axis=0
    )
    if float(np.percentile(dist, 95)) > tolerance_px:
        return None
    return corners


def find_quadrilaterals(
    grey: np.ndarray, mask: np.ndarray, *, min_side_px: float = 20.0, border_px: int = 2
) -> tuple[list[Quadrilateral], np.ndarray, dict[str, int]]:
    """Dark quadrilaterals in ``mask`` (component fit only; :func:`refine_quadrilateral` next).

    Returns
    -------
    quads
        The quadrilaterals, largest first.
    labels
        ``H x W`` int32 component labels (0 = light; components too small to matter removed).
    rejected
        Counts of components dropped by reason (``"touches the image border"``, ``"not a
        quadrilateral"``, ``"too small"``).
    """
    labels, n = ndimage.label(mask)
    h, w = mask.shape
    min_area = max(4.0, 0.25 * min_side_px**2)
    quads: list[Quadrilateral] = []
    rejected = {"too small": 0, "touches the image border": 0, "not a quadrilateral": 0}
    areas = ndimage.sum_labels(np.ones_like(labels), labels, index=np.arange(1, n + 1)) if n else np.zeros(0)
    tiny = np.concatenate([[False], areas < 16])
    labels[tiny[labels]] = 0
    for idx, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is None:
            continue
        ys, xs = sl
        bw, bh = xs.stop - xs.start, ys.stop - ys.start
        if min(bw, bh) < 0.7 * min_side_px or areas[idx - 1] < min_area:
            rejected["too small"] += int(areas[idx - 1] >= min_area / 4)
            continue
        if ys.start < border_px or xs.start < border_px or ys.stop > h - border_px or xs.stop > w - border_px:
            rejected["touches the image border"] += 1
            continue
        filled = ndimage.binary_fill_holes(labels[sl] == idx)
        pts = _boundary_points(np.pad(filled, 1)) + np.array([xs.start - 1, ys.start - 1])
        fy, fx = np.nonzero(filled)
        centroid = np.array([fx.mean() + xs.start, fy.mean() + ys.start])
        corners = fit_quadrilateral(pts, centroid, tolerance_px=max(1.5, 0.03 * min(bw, bh)))
        if corners is None:
            rejected["not a quadrilateral"] += 1
            continue
        quad = Quadrilateral(corners, (float(centroid[0]), float(centroid[1])), float(filled.sum()), idx)
        if float(quad.side_lengths_px().min()) < min_side_px:
            rejected["too small"] += 1
            continue
        quads.append(quad)
    quads.sort(key=lambda q: -q.area_px)
    return quads, labels, {k: v for k, v in rejected.items() if v}


def _refine_side(grey: np.ndarray, p0: np.ndarray, p1: np.ndarray, outward: np.ndarray, half_width_px: float):
    """Sub-pixel line (point, unit direction) of the side p0-p1; None if too few samples."""
    length = float(np.hypot(*(p1 - p0)))
    direction = (p1 - p0) / length
    ts = np.arange(0.15 * length, 0.85 * length, 1.0)
    offsets = np.arange(-half_width_px, half_width_px + 1e-9, 0.5)
    base = p0 + ts[:, None] * direction
    pts = base[:, None, :] + offsets[None, :, None] * outward
    prof = ndimage.map_coordinates(grey, [pts[..., 1].ravel(), pts[..., 0].ravel()], order=1, mode="nearest")
    prof = prof.reshape(len(ts), len(offsets))
    prof = ndimage.gaussian_filter1d(prof, 1.0, axis=1, mode="nearest")
    k = max(2, len(offsets) // 5)
    mid = 0.5 * (prof[:, :k].mean(axis=1) + prof[:, -k:].mean(axis=1))  # half-way level per profile
    above = prof > mid[:, None]  # dark inside -> light outside
    cross = above[:, 1:] & ~above[:, :-1]
    peak = np.argmax(np.diff(prof, axis=1), axis=1)
    cols = np.arange(cross.shape[1])
    dist = np.where(cross, np.abs(cols[None, :] - peak[:, None]), np.inf)
    j = np.argmin(dist, axis=1)
    rows = np.arange(len(ts))
    good = np.isfinite(dist[rows, j]) & (prof[:, -k:].mean(axis=1) > prof[:, :k].mean(axis=1))
    if good.sum() < 5:
        return None
    rows, j = rows[good], j[good]
    p0v, p1v = prof[rows, j], prof[rows, j + 1]
    frac = (mid[rows] - p0v) / np.where(p1v != p0v, p1v - p0v, 1.0)
    shift = offsets[j] + np.clip(frac, 0.0, 1.0) * (offsets[1] - offsets[0])
    edge_pts = base[good] + shift[:, None] * outward
    for _ in range(2):  # total least squares, then drop > 3 robust sigmas and refit
        centre = edge_pts.mean(axis=0)
        _, _, vt = np.linalg.svd(edge_pts - centre, full_matrices=False)
        resid = (edge_pts - centre) @ vt[1]
        mad = 1.4826 * float(np.median(np.abs(resid - np.median(resid))))
        keep = np.abs(resid) <= max(3.0 * mad, 0.05)
        if keep.all() or keep.sum() < 5:
            break
        edge_pts = edge_pts[keep]
    return centre, vt[0]


def _intersect(p: np.ndarray, u: np.ndarray, q: np.ndarray, v: np.ndarray) -> np.ndarray | None:
    m = np.array([[u[0], -v[0]], [u[1], -v[1]]])
    if abs(np.linalg.det(m)) < 1e-6:
        return None
    s = np.linalg.solve(m, q - p)
    return p + s[0] * u


def refine_quadrilateral(grey: np.ndarray, quad: Quadrilateral, *, dark_inside: bool = True) -> Quadrilateral | None:
    """``quad`` with its sides moved onto the grey-level edges (module notes, step 4).

    ``dark_inside`` says the shape is darker than its surround (invert otherwise). None when
    a side cannot be refined or the refined corners move by more than a tenth of a side.
    """
    g = grey if dark_inside else -grey
    centroid = np.asarray(quad.centroid_xy)
    corners = quad.corners_xy
    for _ in range(2):  # the second pass centres the profiles on the first pass's lines
        lines = []
        for i in range(4):
            p0, p1 = corners[i], corners[(i + 1) % 4]
            d = (p1 - p0) / max(float(np.hypot(*(p1 - p0))), 1e-12)
            normal = np.array([-d[1], d[0]])
            if normal @ (0.5 * (p0 + p1) - centroid) < 0:
                normal = -normal
            hw = float(np.clip(0.2 * np.hypot(*(p1 - p0)), 4.0, 15.0))
            line = _refine_side(g, p0, p1, normal, hw)
            if line is None:
                return None
            lines.append(line)
        new = []
        for i in range(4):
            c = _intersect(*lines[i - 1], *lines[i])
            if c is None:
                return None
            new.append(c)
        corners = np.array(new)
    if float(np.max(np.hypot(*(corners - quad.corners_xy).T))) > 0.1 * float(quad.side_lengths_px().min()) + 2.0:
        return None
    return Quadrilateral(corners, quad.centroid_xy, quad.area_px, quad.label)
