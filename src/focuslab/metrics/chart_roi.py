"""The measurement ROI along one side of a detected quadrilateral.

The ROI is the axis-aligned box (x, y, w, h) around the middle part of the side, away from
the corners, widened across the edge so that every row (a near-vertical edge) or column (a
near-horizontal edge) crosses the edge with at least ``half_width_px`` pixels of flat field
on either side: for a near-vertical edge from (x0, y0) to (x1, y1) the box spans rows
y0..y1 and columns min(x0, x1) - hw .. max(x0, x1) + hw. The box is accepted only when none
of the shape's other three sides and no other dark object enters it; otherwise a shorter
middle part and a narrower box are tried.

Edges whose slant from the nearest image axis is below ``min_angle_deg`` (too few phases for
the 4x oversampled ESF) or above ``max_angle_deg`` (near 45 degrees, where rows and columns
are equivalent and the e-SFR's binning degrades) are refused, as in ISO 12233:2023, 6.3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from focuslab.metrics.chart_detect import Quadrilateral

#: Fractions of the side length kept (centred), tried in turn.
_SPANS = (0.7, 0.55, 0.4)


@dataclass(frozen=True)
class EdgeRoi:
    """Where one side is measured.

    Attributes
    ----------
    roi
        (x, y, w, h) px.
    start_xy, end_xy
        End points (x, y) of the part of the side inside the ROI, px.
    normal_xy
        Unit normal (x, y) pointing from the dark shape to the light surround.
    orientation
        ``"vertical"`` (edge runs along the columns: measured along rows) or ``"horizontal"``.
    slant_deg
        Angle between the edge and the nearest image axis, degrees (0..45).
    """

    roi: tuple[int, int, int, int]
    start_xy: tuple[float, float]
    end_xy: tuple[float, float]
    normal_xy: tuple[float, float]
    orientation: str
    slant_deg: float


def side_geometry(p0: np.ndarray, p1: np.ndarray) -> tuple[str, float]:
    """(orientation, slant_deg) of the segment p0 -> p1 (see :class:`EdgeRoi`)."""
    dx, dy = abs(float(p1[0] - p0[0])), abs(float(p1[1] - p0[1]))
    from_vertical = math.degrees(math.atan2(dx, dy))
    if from_vertical <= 45.0:
        return "vertical", from_vertical
    return "horizontal", 90.0 - from_vertical


def _segment_hits_box(a: np.ndarray, b: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    """Whether segment a-b meets the closed box (xmin, ymin, xmax, ymax) (Liang-Barsky clipping)."""
    xmin, ymin, xmax, ymax = box
    t0, t1 = 0.0, 1.0
    d = b - a
    for p, q in ((-d[0], a[0] - xmin), (d[0], xmax - a[0]), (-d[1], a[1] - ymin), (d[1], ymax - a[1])):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def edge_roi(
    quad: Quadrilateral,
    side: int,
    *,
    shape: tuple[int, int],
    labels: np.ndarray,
    half_width_px: float | None = None,
    min_length_px: float = 20.0,
    border_px: int = 2,
    min_angle_deg: float = 1.0,
    max_angle_deg: float = 44.0,
) -> tuple[EdgeRoi | None, str | None]:
    """The ROI of side ``side`` of ``quad``, or (None, reason it is unusable).

    A reason reads ``"<kind>: <detail>"``; the kinds are ``near-axis``, ``near-45``, ``too
    short``, ``near the border``, ``corner in ROI``, ``other object in ROI``.

    Parameters
    ----------
    quad
        A refined quadrilateral (:func:`~focuslab.metrics.chart_detect.refine_quadrilateral`).
    side
        Side index 0..3 (from corner ``side`` to corner ``side + 1``).
    shape
        Image (H, W).
    labels
        Component labels of the image (other dark objects must stay out of the ROI).
    half_width_px
        Flat field kept on each side of the edge, px; default 60% of the side, within 10..50
        (a narrow ROI tapers the line spread under the e-SFR window and raises MTF50).
    min_length_px
        Fewest rows (vertical edge) or columns (horizontal edge) the ROI may have.
    border_px
        Distance the ROI keeps from the image border, px.
    min_angle_deg, max_angle_deg
        Accepted slant from the nearest axis, degrees.
    """
    p0, p1 = quad.side(side)
    length = float(np.hypot(*(p1 - p0)))
    orientation, slant = side_geometry(p0, p1)
    if slant < min_angle_deg:
        return None, f"near-axis: slant {slant:.2f} deg is below {min_angle_deg:g} deg"
    if slant > max_angle_deg:
        return None, f"near-45: slant {slant:.2f} deg is above {max_angle_deg:g} deg"
    direction = (p1 - p0) / length
    normal = np.array([-direction[1], direction[0]])
    if normal @ (0.5 * (p0 + p1) - np.asarray(quad.centroid_xy)) < 0:
        normal = -normal
    hw0 = float(np.clip(0.6 * length, 10.0, 50.0)) if half_width_px is None else float(half_width_px)
    h, w = shape
    others = [quad.side(i) for i in range(4) if i != side]
    reason = "no ROI: none fits"
    for span in _SPANS:
        trim = 0.5 * (1.0 - span) * length
        s0, s1 = p0 + trim * direction, p1 - trim * direction
        for hw in (hw0, 0.7 * hw0, 0.5 * hw0):
            if hw < 5.0:
                continue
            if orientation == "vertical":
                y0, y1 = math.floor(min(s0[1], s1[1])), math.ceil(max(s0[1], s1[1]))
                x0, x1 = math.floor(min(s0[0], s1[0]) - hw), math.ceil(max(s0[0], s1[0]) + hw)
                along = y1 - y0
            else:
                x0, x1 = math.floor(min(s0[0], s1[0])), math.ceil(max(s0[0], s1[0]))
                y0, y1 = math.floor(min(s0[1], s1[1]) - hw), math.ceil(max(s0[1], s1[1]) + hw)
                along = x1 - x0
            if along < min_length_px:
                reason = f"too short: {along} px along the edge, need {min_length_px:g}"
                continue
            if x0 < border_px or y0 < border_px or x1 > w - border_px or y1 > h - border_px:
                reason = "near the border: the ROI would leave the image"
                continue
            box = (x0 - 0.5, y0 - 0.5, x1 - 0.5, y1 - 0.5)
            if any(_segment_hits_box(a, b, box) for a, b in others):
                reason = "corner in ROI: no ROI clear of the shape's corners"
                continue
            present = np.unique(labels[y0:y1, x0:x1])
            if np.any((present != 0) & (present != quad.label)):
                reason = "other object in ROI: another dark object lies inside it"
                continue
            return (
                EdgeRoi(
                    (x0, y0, x1 - x0, y1 - y0), (float(s0[0]), float(s0[1])), (float(s1[0]), float(s1[1])),
                    (float(normal[0]), float(normal[1])), orientation, slant,
                ),
                None,
            )
    return None, reason
