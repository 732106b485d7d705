"""Result types of the whole-chart analysis (:mod:`focuslab.metrics.charts`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from focuslab.errors import check_positive
from focuslab.metrics.chart_detect import Quadrilateral
from focuslab.metrics.chart_field import FieldMap


@dataclass(frozen=True)
class SkippedEdge:
    """A side of a detected quadrilateral that was not measured, and why."""

    square: int
    side: int
    position_xy: tuple[float, float]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"square": self.square, "side": self.side, "position_xy": list(self.position_xy), "reason": self.reason}


@dataclass(frozen=True)
class ChartEdge:
    """One measured edge.

    Attributes
    ----------
    square, side
        Which quadrilateral and which of its sides (0..3).
    roi
        (x, y, w, h) px measured.
    position_xy
        Middle of the measured part of the edge (x, y), px.
    field_radius, field_angle_deg
        Relative image height (1 = frame corner) and field angle of ``position_xy``.
    normal_xy
        Unit normal from the dark shape to the light ground (x, y).
    normal_to_radial_deg
        Angle between the normal and the radial direction, 0..90 degrees.
    direction
        ``"meridional"`` (normal radial), ``"sagittal"`` (normal tangential) or ``"mixed"``.
    orientation
        ``"vertical"`` or ``"horizontal"`` (the edge's run).
    slant_deg
        Slant from the nearest image axis found by detection, degrees.
    sfr
        The :class:`~focuslab.metrics.sfr.SfrResult` of the ROI (curve, MTF50, MTF50P, ...).
    """

    square: int
    side: int
    roi: tuple[int, int, int, int]
    position_xy: tuple[float, float]
    field_radius: float
    field_angle_deg: float
    normal_xy: tuple[float, float]
    normal_to_radial_deg: float
    direction: str
    orientation: str
    slant_deg: float
    sfr: Any

    @property
    def mtf50_cpp(self) -> float:
        """MTF50 of the edge, cycles/pixel along its normal (NaN when undefined)."""
        return float(self.sfr.mtf50_cpp)

    @property
    def warnings(self) -> tuple[str, ...]:
        """The e-SFR's warnings for this edge."""
        return tuple(self.sfr.warnings)

    def to_dict(self, *, curve: bool = True) -> dict[str, Any]:
        """JSON-ready dict; ``curve=False`` leaves out the SFR curve."""
        sfr = self.sfr.to_dict()
        if not curve:
            sfr = {k: v for k, v in sfr.items() if k not in ("frequencies_cpp", "sfr")}
        return {
            "square": self.square, "side": self.side, "roi": list(self.roi),
            "position_xy": list(self.position_xy), "field_radius": self.field_radius,
            "field_angle_deg": self.field_angle_deg, "normal_xy": list(self.normal_xy),
            "normal_to_radial_deg": self.normal_to_radial_deg, "direction": self.direction,
            "orientation": self.orientation, "slant_deg": self.slant_deg, "mtf50_cpp": _num(self.mtf50_cpp),
            "sfr": sfr,
        }


@dataclass(frozen=True)
class ChartSummary:
    """Mean MTF50 (cycles/pixel) by region and direction; None where no edge qualifies."""

    n_edges: int
    n_sagittal: int
    n_meridional: int
    n_mixed: int
    mtf50_mean_cpp: float | None
    centre_mtf50_cpp: float | None
    corner_mtf50_cpp: float | None
    sagittal_mtf50_cpp: float | None
    meridional_mtf50_cpp: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ChartResult:
    """Result of :func:`analyze_chart`.

    Attributes
    ----------
    edges
        Measured edges, by square then side.
    skipped
        Sides not measured, with the reason.
    squares
        The quadrilaterals (``ChartEdge.square`` indexes them).
    summary
        Centre (r < 0.3) and corner (r > 0.6) means, sagittal and meridional means.
    field_map
        Interpolated MTF50 maps (all, sagittal, meridional).
    image_shape, centre_xy
        (H, W) and the optical centre (x, y) used for the field positions.
    warnings
        Everything ignored or doubtful, one line each (per-edge SFR warnings stay on the edge).
    """

    edges: tuple[ChartEdge, ...]
    skipped: tuple[SkippedEdge, ...]
    squares: tuple[Quadrilateral, ...]
    summary: ChartSummary
    field_map: FieldMap
    image_shape: tuple[int, int]
    centre_xy: tuple[float, float]
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self, *, curves: bool = True, pixel_pitch_um: float | None = None) -> dict[str, Any]:
        """JSON-ready dict (NaN -> None).

        ``curves=False`` leaves out the SFR curves. The summary is also given in LW/PH
        (2 * cy/px * H) and, with ``pixel_pitch_um`` (the sampling pitch of the measured image),
        in lp/mm on the sensor (cy/px / pitch_mm).
        """
        h = self.image_shape[0]
        cpp = {k: v for k, v in self.summary.to_dict().items() if k.endswith("_cpp")}
        out = {
            "image_shape": list(self.image_shape),
            "centre_xy": list(self.centre_xy),
            "summary": self.summary.to_dict(),
            "summary_lw_ph": {k[:-4] + "_lw_ph": (None if v is None else 2.0 * v * h) for k, v in cpp.items()},
        }
        if pixel_pitch_um is not None:
            pitch_mm = check_positive("pixel_pitch_um", pixel_pitch_um) / 1000.0
            out["pixel_pitch_um"] = float(pixel_pitch_um)
            out["summary_lp_per_mm"] = {k[:-4] + "_lp_per_mm": (None if v is None else v / pitch_mm)
                                        for k, v in cpp.items()}
        out.update({
            "edges": [e.to_dict(curve=curves) for e in self.edges],
            "skipped": [s.to_dict() for s in self.skipped],
            "squares": [{"corners_xy": q.corners_xy.tolist(), "area_px": q.area_px} for q in self.squares],
            "field_map": self.field_map.to_dict(),
            "warnings": list(self.warnings),
        })
        return _clean(out)


def _clean(obj: Any) -> Any:
    """``obj`` with numpy scalars/arrays as Python values and NaN/inf as None (strict JSON)."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def _num(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None
