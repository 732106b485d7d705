"""The multi-edge qualification chart: slanted dark squares over the field zones.

Layout (relative field h = distance from the image centre / half-diagonal, as camera-module
MTF specifications give their zones [1], [2]): one square at the centre; at h = 0.3 and 0.5
squares on the horizontal and vertical axes (where they fit the 4:3 frame) and on the frame
diagonals; at h = 0.7 on the horizontal axis and 20 degrees off it (clear of the corner
squares); four corner squares at h = 0.8 on the diagonals (the farthest a square and its edge
ROIs fit a 640 x 480 frame). Every square is turned so that its sides are radial and tangential to
within ``slant_deg`` (5 degrees, the e-SFR slant of ISO 12233 [1]): a radial side normal
measures the meridional MTF, a tangential one the sagittal MTF, so each square gives two
edges of each direction.

Squares are dark (``dark``) on a light ground (``light``), the 4:1 contrast of the e-SFR chart.

References
----------
.. [1] ISO 12233:2017, annex C (e-SFR chart: squares slanted about 5 degrees, 4:1 contrast).
.. [2] Imatest, "SFRplus / eSFR ISO chart" field-zone summaries (centre, 0.3, 0.5, 0.7 field,
       corners) used by camera-module MTF specifications.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from focuslab.errors import InvalidParameterError

#: Relative field heights of the ring zones and of the corners.
RING_FIELDS = (0.3, 0.5, 0.7)
CORNER_FIELD = 0.8


@dataclass(frozen=True)
class ChartSquare:
    """One dark square: centre (x, y) px, side px, rotation (degrees, +x towards +y), zone label."""

    centre_xy: tuple[float, float]
    side_px: float
    rotation_deg: float
    zone: str
    field: float


def _axis_slant_deg(rotation_deg: float) -> float:
    r = rotation_deg % 90.0
    return min(r, 90.0 - r)


def chart_squares(width_px: int, height_px: int, *, side_px: float = 40.0, slant_deg: float = 5.0,
                  margin_px: float = 18.0) -> tuple[ChartSquare, ...]:
    """The squares of the qualification chart for a ``width_px x height_px`` frame.

    A candidate square is kept when it and a ``margin_px`` band around it (its edge ROIs) lie
    inside the frame. Zone labels: ``centre``, ``0.3``, ``0.5``, ``0.7``, ``corner``.
    """
    if width_px < 64 or height_px < 64:
        raise InvalidParameterError(f"chart frame {width_px} x {height_px} is too small; use at least 64 x 64")
    cx, cy = (width_px - 1) / 2.0, (height_px - 1) / 2.0
    half_diag = 0.5 * math.hypot(width_px, height_px)
    diag_az = math.degrees(math.atan2(height_px, width_px))
    candidates = [(0.0, 0.0, "centre")]
    diagonals = (diag_az, 180.0 - diag_az, 180.0 + diag_az, 360.0 - diag_az)
    for h in RING_FIELDS[:-1]:
        for az in (0.0, 90.0, 180.0, 270.0, *diagonals):
            candidates.append((h, az, f"{h:g}"))
    for az in (0.0, 20.0, 160.0, 180.0, 200.0, 340.0):  # off the diagonals, clear of the corner squares
        candidates.append((RING_FIELDS[-1], az, f"{RING_FIELDS[-1]:g}"))
    for az in (diag_az, 180.0 - diag_az, 180.0 + diag_az, 360.0 - diag_az):
        candidates.append((CORNER_FIELD, az, "corner"))
    out = []
    for h, az, zone in candidates:
        x = cx + h * half_diag * math.cos(math.radians(az))
        y = cy + h * half_diag * math.sin(math.radians(az))
        rot = min(((az % 90.0) + slant_deg, (az % 90.0) - slant_deg), key=_axis_slant_deg)
        t = math.radians(rot)
        reach = 0.5 * side_px * (abs(math.cos(t)) + abs(math.sin(t))) + margin_px
        if x - reach < 0 or y - reach < 0 or x + reach > width_px - 1 or y + reach > height_px - 1:
            continue
        out.append(ChartSquare((x, y), float(side_px), rot, zone, h))
    return tuple(out)


def square_coverage(square: ChartSquare, x0: int, y0: int, shape: tuple[int, int], samples_per_px: int) -> np.ndarray:
    """Fraction of each sample of a ``shape`` grid covered by ``square``.

    The grid has ``samples_per_px`` samples per pixel, its sample (0, 0) covering the
    top-left 1/k of pixel (x0, y0). Coverage of a straight side is the linear ramp of the
    signed distance over one sample (exact box coverage for a side along an axis, within
    2 % of a sample's area otherwise); the square is the product of its four sides'
    coverages (exact away from the corners, which no edge ROI uses).
    """
    k = samples_per_px
    # sample centres in pixel coordinates (pixel centre = integer)
    ys = y0 - 0.5 + (np.arange(shape[0]) + 0.5) / k
    xs = x0 - 0.5 + (np.arange(shape[1]) + 0.5) / k
    dx = xs[None, :] - square.centre_xy[0]
    dy = ys[:, None] - square.centre_xy[1]
    cov = np.ones(shape)
    half = square.side_px / 2.0
    for ang in (square.rotation_deg, square.rotation_deg + 90.0):
        c, s = math.cos(math.radians(ang)), math.sin(math.radians(ang))
        d = np.abs(dx * c + dy * s)  # distance from the centre along this side normal, px
        cov *= np.clip((half - d) * k + 0.5, 0.0, 1.0)
    return cov
