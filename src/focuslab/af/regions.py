"""AF region selection: the centre, a tapped ROI, and multi-zone with nearest-subject priority.

ROIs are ``(x, y, w, h)`` in frame pixels (x = column of the left edge, y = row of the top
edge). Regions are snapped to even coordinates and sizes so a Bayer mosaic cropped to them
keeps the sensor's CFA phase (and a 2 x 2 green plane covers it exactly).

Multi-zone rule (phone "face/nearest subject priority" without a face detector): the frame's
central ``span_fraction`` is cut into a ``rows x cols`` grid of zones; each zone gets a
nearness score from what the camera measures without knowing the truth,

* a depth sensor: the nearest valid distance among the depth zones whose centres fall in the
  AF zone (confident when ``sigma_m / distance_m <= max_relative_sigma``);
* or dual-pixel disparity ``x_right - x_left`` (px), larger = nearer (the sign convention of
  :func:`focuslab.metrics.dp_disparity.dp_disparity_map`: positive for an object nearer
  than the focus plane), used where its confidence reaches ``min_confidence``;

and the nearest confident zone wins (ties and no confident zone: the zone closest to the
frame centre).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from focuslab.af.types import DepthZones
from focuslab.errors import InvalidParameterError


def _shape(frame_shape: Sequence[int]) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in frame_shape[:2])
    except (TypeError, ValueError):
        raise InvalidParameterError(f"frame_shape must be (H, W) pixels, got {frame_shape!r}") from None
    if h < 4 or w < 4:
        raise InvalidParameterError(f"frame_shape {frame_shape!r} is too small for an AF region (>= 4 x 4 px)")
    return h, w


def _even_down(v: float) -> int:
    return math.floor(v / 2.0) * 2


def centre_roi(frame_shape: Sequence[int], fraction: float = 0.25) -> tuple[int, int, int, int]:
    """The centred AF region covering ``fraction`` of the frame's width and of its height.

    Parameters
    ----------
    frame_shape
        ``(H, W)`` of the frame, pixels.
    fraction
        Side of the region as a fraction of each frame side, in (0, 1] (0.25: a quarter of
        the width by a quarter of the height, the default phone "spot" AF window).

    Returns
    -------
    tuple
        ``(x, y, w, h)`` with even x, y, w, h (>= 2 px), centred to within one pixel.
    """
    h, w = _shape(frame_shape)
    f = float(fraction)
    if not (math.isfinite(f) and 0.0 < f <= 1.0):
        raise InvalidParameterError(f"fraction must be in (0, 1], got {fraction!r}")
    rw, rh = max(2, _even_down(w * f)), max(2, _even_down(h * f))
    return (_even_down((w - rw) / 2.0), _even_down((h - rh) / 2.0), rw, rh)


def check_roi(roi: Sequence[int], frame_shape: Sequence[int], *, min_size_px: int = 8) -> tuple[int, int, int, int]:
    """Validate a tapped (user-given) AF region and snap it to even pixels.

    Raises
    ------
    InvalidParameterError
        Not four integers, smaller than ``min_size_px`` on a side, or not inside the frame.
    """
    h, w = _shape(frame_shape)
    try:
        vals = [float(v) for v in roi]
    except (TypeError, ValueError):
        raise InvalidParameterError(f"roi must be (x, y, w, h) in pixels, got {roi!r}") from None
    if len(vals) != 4 or not all(math.isfinite(v) and v == round(v) for v in vals):
        raise InvalidParameterError(f"roi must be four integers (x, y, w, h) in pixels, got {roi!r}")
    x, y, rw, rh = (int(v) for v in vals)
    if rw < min_size_px or rh < min_size_px:
        raise InvalidParameterError(
            f"roi {roi!r} is smaller than {min_size_px} x {min_size_px} px; tap a larger region"
        )
    if x < 0 or y < 0 or x + rw > w or y + rh > h:
        raise InvalidParameterError(f"roi {roi!r} does not fit the {w} x {h} frame; keep it inside the frame")
    x2, y2 = _even_down(x), _even_down(y)
    return (x2, y2, _even_down(x + rw - x2), _even_down(y + rh - y2))


#: The AF regions of a replayed stack (``focuslab bench --stack``; written with their truth by
#: ``focuslab render``): name -> (x, y) of the region's centre in frame fractions.
STACK_REGIONS = {"centre": (0.5, 0.5), "top": (0.5, 0.2), "bottom": (0.5, 0.8)}


def stack_regions(shape: tuple[int, int]) -> dict[str, tuple[int, int, int, int]]:
    """The even-aligned AF regions ``(x, y, w, h)`` of :data:`STACK_REGIONS` on a frame of ``shape`` (1/8 per side)."""
    h, w = shape
    rw, rh = 2 * max(1, w // 16), 2 * max(1, h // 16)
    return {name: (2 * int((cx * w - rw / 2) / 2), 2 * int((cy * h - rh / 2) / 2), rw, rh)
            for name, (cx, cy) in STACK_REGIONS.items()}


def zone_grid(frame_shape: Sequence[int], grid: tuple[int, int] = (3, 3), *, span_fraction: float = 0.75) -> np.ndarray:
    """AF zones: a ``rows x cols`` grid over the central ``span_fraction`` of the frame.

    Returns
    -------
    numpy.ndarray
        ``rows x cols x 4`` int ROIs ``(x, y, w, h)``, even coordinates, row-major (row 0 at
        the top).
    """
    h, w = _shape(frame_shape)
    try:
        rows, cols = (int(v) for v in grid)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"grid must be (rows, cols), got {grid!r}") from None
    if rows < 1 or cols < 1:
        raise InvalidParameterError(f"grid must have at least one row and column, got {grid!r}")
    s = float(span_fraction)
    if not (math.isfinite(s) and 0.0 < s <= 1.0):
        raise InvalidParameterError(f"span_fraction must be in (0, 1], got {span_fraction!r}")
    zw, zh = _even_down(w * s / cols), _even_down(h * s / rows)
    if zw < 2 or zh < 2:
        raise InvalidParameterError(f"a {rows} x {cols} grid does not fit the {w} x {h} frame; use fewer zones")
    x0, y0 = _even_down((w - zw * cols) / 2.0), _even_down((h - zh * rows) / 2.0)
    out = np.zeros((rows, cols, 4), dtype=np.int64)
    for r in range(rows):
        for c in range(cols):
            out[r, c] = (x0 + c * zw, y0 + r * zh, zw, zh)
    return out


def _depth_per_zone(zones: np.ndarray, depth: DepthZones, max_relative_sigma: float) -> np.ndarray:
    """Nearest confident depth-sensor distance whose zone centre falls in each AF zone (NaN: none)."""
    rois = np.asarray(depth.rois_px, dtype=float).reshape(-1, 4)
    cx, cy = rois[:, 0] + rois[:, 2] / 2.0, rois[:, 1] + rois[:, 3] / 2.0
    dist = np.asarray(depth.distance_m, dtype=float).ravel()
    sig = np.asarray(depth.sigma_m, dtype=float).ravel()
    ok = np.asarray(depth.valid, dtype=bool).ravel() & np.isfinite(dist)
    with np.errstate(invalid="ignore", divide="ignore"):
        ok &= np.where(np.isfinite(sig), sig / dist, np.inf) <= max_relative_sigma
    flat = zones.reshape(-1, 4)
    out = np.full(flat.shape[0], np.nan)
    for k, (x, y, zw, zh) in enumerate(flat):
        inside = ok & (cx >= x) & (cx < x + zw) & (cy >= y) & (cy < y + zh)
        if inside.any():
            out[k] = float(dist[inside].min())
    return out.reshape(zones.shape[:2])


def multizone(
    frame_shape: Sequence[int],
    *,
    grid: tuple[int, int] = (3, 3),
    span_fraction: float = 0.75,
    depth: DepthZones | None = None,
    disparity_px: np.ndarray | None = None,
    confidence: np.ndarray | None = None,
    min_confidence: float = 0.5,
    max_relative_sigma: float = 0.25,
) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    """Choose the AF zone of the nearest subject (see the module notes).

    Parameters
    ----------
    frame_shape
        ``(H, W)`` of the frame, pixels.
    grid, span_fraction
        The zone grid (:func:`zone_grid`).
    depth
        Depth-sensor zones (rois in frame pixels); takes precedence over disparity.
    disparity_px, confidence
        ``rows x cols`` dual-pixel disparity per AF zone (``x_right - x_left``, px) and its
        confidence in [0, 1] (e.g. zone means of :func:`~focuslab.metrics.dp_disparity.dp_disparity_map`).
    min_confidence
        Disparity confidence a zone needs to count.
    max_relative_sigma
        Largest depth noise ``sigma_m / distance_m`` a depth zone may have to count.

    Returns
    -------
    roi, (row, col)
        The chosen zone's ROI and its grid index.
    """
    zones = zone_grid(frame_shape, grid, span_fraction=span_fraction)
    rows, cols = zones.shape[:2]
    # nearness: larger is nearer; NaN where the zone has no confident measurement
    nearness = np.full((rows, cols), np.nan)
    if depth is not None:
        nearness = -_depth_per_zone(zones, depth, float(max_relative_sigma))
    elif disparity_px is not None:
        disp = np.asarray(disparity_px, dtype=float)
        conf = np.ones_like(disp) if confidence is None else np.asarray(confidence, dtype=float)
        if disp.shape != (rows, cols) or conf.shape != (rows, cols):
            raise InvalidParameterError(
                f"disparity_px and confidence must be {rows} x {cols} (one value per zone), got {disp.shape}"
            )
        nearness = np.where(np.isfinite(disp) & (conf >= min_confidence), disp, np.nan)
    r_idx, c_idx = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    centre_dist = np.hypot(r_idx - (rows - 1) / 2.0, c_idx - (cols - 1) / 2.0)
    if np.all(np.isnan(nearness)):
        k = int(np.argmin(centre_dist))
    else:
        best = np.nanmax(nearness)
        tie = np.isclose(nearness, best, rtol=0.0, atol=1e-9) & ~np.isnan(nearness)
        k = int(np.argmin(np.where(tie, centre_dist, np.inf)))
    r, c = divmod(k, cols)
    return tuple(int(v) for v in zones[r, c]), (r, c)
