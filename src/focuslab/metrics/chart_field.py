"""Field geometry of chart edges: field position, sagittal / meridional class, MTF50 field maps.

Conventions
-----------
* The optical centre defaults to the image centre ((W - 1) / 2, (H - 1) / 2) in pixel
  coordinates (origin at the centre of the top-left pixel, x right, y down).
* The relative image height r of a point is its distance from the optical centre divided by
  the half-diagonal of the image (r = 1 at the frame corners), as in ``field_xy`` of
  :mod:`focuslab.optics`.
* The field angle is atan2(y - cy, x - cx) in degrees, 0 = right, 90 = down (image axes).
* An edge's *normal* is the direction across it, along which its SFR is measured. When the
  normal is radial (the edge runs tangentially, along a circle about the centre) the edge
  measures the **meridional** (tangential) MTF; when the normal is tangential (the edge lies
  along a radius) it measures the **sagittal** MTF. Edges whose normal is within
  ``45 +- ambiguity_deg`` degrees of the radial direction, and edges closer to the centre than
  ``min_radius`` (where the radial direction is undefined), are ``"mixed"`` and enter neither
  mean. This is the classification MTF Mapper and lens-MTF charts use: meridional detail
  varies along the radius, sagittal detail across it.

References
----------
W. J. Smith, "Modern Optical Engineering", 4th ed., section 3.3 (sagittal and meridional
(tangential) planes; tangential and sagittal MTF of off-axis image points).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import griddata

from focuslab.errors import InvalidParameterError

DIRECTIONS = ("sagittal", "meridional", "mixed")


def field_position(
    x_px: float, y_px: float, shape: tuple[int, int], centre_xy: tuple[float, float] | None = None
) -> tuple[float, float]:
    """(relative image height r, field angle in degrees) of image point (x, y); see the notes."""
    h, w = shape
    cx, cy = ((w - 1) / 2.0, (h - 1) / 2.0) if centre_xy is None else centre_xy
    half_diag = 0.5 * math.hypot(w - 1, h - 1)
    dx, dy = x_px - cx, y_px - cy
    return math.hypot(dx, dy) / half_diag, math.degrees(math.atan2(dy, dx))


def normal_to_radial_deg(normal_xy: tuple[float, float], field_angle_deg: float) -> float:
    """Angle between the edge normal and the radial direction, folded to 0..90 degrees."""
    a = math.degrees(math.atan2(normal_xy[1], normal_xy[0])) - field_angle_deg
    a = abs((a + 90.0) % 180.0 - 90.0)
    return a


def classify_direction(
    normal_xy: tuple[float, float],
    field_radius: float,
    field_angle_deg: float,
    *,
    ambiguity_deg: float = 15.0,
    min_radius: float = 0.05,
) -> str:
    """``"meridional"``, ``"sagittal"`` or ``"mixed"`` for an edge (module conventions).

    Parameters
    ----------
    normal_xy
        Unit normal of the edge (x, y); its sign does not matter.
    field_radius
        Relative image height of the edge (0 centre, 1 corner).
    field_angle_deg
        Field angle of the edge, degrees.
    ambiguity_deg
        Half-width of the band around 45 degrees classed ``"mixed"``, degrees (0..45).
    min_radius
        Below this relative height the radial direction is undefined: ``"mixed"``.
    """
    if not 0.0 <= ambiguity_deg < 45.0:
        raise InvalidParameterError(f"ambiguity_deg must be in [0, 45), got {ambiguity_deg}")
    if field_radius < min_radius:
        return "mixed"
    a = normal_to_radial_deg(normal_xy, field_angle_deg)
    if a < 45.0 - ambiguity_deg:
        return "meridional"
    if a > 45.0 + ambiguity_deg:
        return "sagittal"
    return "mixed"


@dataclass(frozen=True)
class FieldMap:
    """MTF50 interpolated over the image.

    Attributes
    ----------
    x_px, y_px
        Grid node coordinates, px (1-D, lengths nx and ny).
    mtf50_cpp
        ``{"all", "sagittal", "meridional"}`` -> ``(ny, nx)`` float64 MTF50 in cycles/pixel,
        linear interpolation between edges (Delaunay), NaN outside their convex hull or when a
        class has fewer than 3 edges not on one line.
    """

    x_px: np.ndarray
    y_px: np.ndarray
    mtf50_cpp: dict[str, np.ndarray]

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN -> None)."""

        def clean(a: np.ndarray) -> list:
            return [[None if not np.isfinite(v) else float(v) for v in row] for row in a]

        return {
            "x_px": [float(v) for v in self.x_px],
            "y_px": [float(v) for v in self.y_px],
            "mtf50_cpp": {k: clean(v) for k, v in self.mtf50_cpp.items()},
        }


def _interpolate(points: np.ndarray, values: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    nan = np.full(gx.shape, np.nan)
    if len(points) < 3:
        return nan
    centred = points - points.mean(axis=0)
    if np.linalg.matrix_rank(centred, tol=1e-6 * max(1.0, float(np.abs(centred).max()))) < 2:
        return nan  # collinear: no triangulation
    return griddata(points, values, (gx, gy), method="linear")


def field_map(
    positions_xy: np.ndarray,
    mtf50_cpp: np.ndarray,
    directions: list[str],
    shape: tuple[int, int],
    *,
    grid_shape: tuple[int, int] = (30, 40),
) -> FieldMap:
    """Interpolated MTF50 maps (all edges, sagittal, meridional) on a ``grid_shape`` grid.

    Parameters
    ----------
    positions_xy
        ``(N, 2)`` edge positions (x, y), px.
    mtf50_cpp
        ``(N,)`` MTF50 per edge, cycles/pixel (NaN entries are left out).
    directions
        Class of each edge (:func:`classify_direction`).
    shape
        Image (H, W).
    grid_shape
        (ny, nx) nodes, spread evenly from the first to the last pixel centre.
    """
    ny, nx = (int(v) for v in grid_shape)
    if ny < 2 or nx < 2:
        raise InvalidParameterError(f"grid_shape must be at least (2, 2), got {grid_shape}")
    h, w = shape
    xs, ys = np.linspace(0.0, w - 1.0, nx), np.linspace(0.0, h - 1.0, ny)
    gx, gy = np.meshgrid(xs, ys)
    pos = np.asarray(positions_xy, dtype=np.float64).reshape(-1, 2)
    val = np.asarray(mtf50_cpp, dtype=np.float64).reshape(-1)
    cls = np.asarray(directions, dtype=object).reshape(-1)
    ok = np.isfinite(val)
    maps = {"all": _interpolate(pos[ok], val[ok], gx, gy)}
    for name in ("sagittal", "meridional"):
        sel = ok & (cls == name)
        maps[name] = _interpolate(pos[sel], val[sel], gx, gy)
    return FieldMap(xs, ys, maps)
