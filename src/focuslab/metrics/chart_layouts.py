"""Chart layouts: which detected quadrilaterals a chart's analysis keeps.

* ``"squares"``: every dark quadrilateral (MTF Mapper's slanted-square charts, a grid of
  slanted squares, or the single slanted square of the ISO 12233:2000 / sfrmat3 "Camera SFR
  & OECF" chart). Sides too near an image axis or 45 degrees are dropped later, per edge.
* ``"esfr"``: the slanted squares of an ISO 12233:2014/2017/2023 e-SFR chart. The e-SFR
  chart carries dark squares rotated about 5 degrees (the centre square and those in the
  field) among axis-aligned grey (OECF) and colour patches, wedges and registration marks;
  this layout keeps the quadrilaterals that are squares (longest side within 20% of the
  shortest, corners within 10 degrees of right angles) rotated 2..10 degrees from the image
  axes, and drops the rest (the grey patches, the frame, the marks) before measurement.

Each layout is a function ``(quads) -> (kept, {reason: count})`` registered by name.

References
----------
ISO 12233:2017/2023, "Photography - Electronic still picture imaging - Resolution and spatial
frequency responses", annex C (e-SFR test chart: slanted squares rotated about 5 degrees, 4:1
edge contrast).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from focuslab.metrics.chart_detect import Quadrilateral
from focuslab.registry import Registry

Layout = Callable[[list[Quadrilateral]], tuple[list[Quadrilateral], dict[str, int]]]
CHART_LAYOUTS: Registry[Layout] = Registry("chart layout")


def chart_layout_names() -> list[str]:
    """Registered chart layouts."""
    return CHART_LAYOUTS.names()


@CHART_LAYOUTS.register("squares")
def all_quadrilaterals(quads: list[Quadrilateral]) -> tuple[list[Quadrilateral], dict[str, int]]:
    """Keep every quadrilateral."""
    return list(quads), {}


def _interior_angles_deg(corners: np.ndarray) -> np.ndarray:
    prev = np.roll(corners, 1, axis=0) - corners
    nxt = np.roll(corners, -1, axis=0) - corners
    cos = np.sum(prev * nxt, axis=1) / (np.hypot(*prev.T) * np.hypot(*nxt.T))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def square_rotation_deg(quad: Quadrilateral) -> float:
    """Mean rotation of the sides from the nearest image axis, degrees (0..45)."""
    d = np.roll(quad.corners_xy, -1, axis=0) - quad.corners_xy
    ang = np.degrees(np.arctan2(d[:, 1], d[:, 0])) % 90.0
    ang = np.minimum(ang, 90.0 - ang)
    return float(np.mean(ang))


@CHART_LAYOUTS.register("esfr")
def esfr_squares(quads: list[Quadrilateral]) -> tuple[list[Quadrilateral], dict[str, int]]:
    """The e-SFR chart's slanted squares (module notes)."""
    kept, dropped = [], {"not a square": 0, "not rotated 2-10 deg": 0}
    for q in quads:
        sides = q.side_lengths_px()
        square = max(sides) <= 1.2 * min(sides) and bool(
            np.all(np.abs(_interior_angles_deg(q.corners_xy) - 90.0) <= 10.0)
        )
        if not square:
            dropped["not a square"] += 1
        elif not 2.0 <= square_rotation_deg(q) <= 10.0:
            dropped["not rotated 2-10 deg"] += 1
        else:
            kept.append(q)
    return kept, {k: v for k, v in dropped.items() if v}
