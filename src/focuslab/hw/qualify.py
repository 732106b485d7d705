"""Camera-module qualification from captures of a multi-edge chart.

* :func:`qualify_frame` - one frame: the ISO 12233 e-SFR of every slanted edge
  (:func:`focuslab.metrics.charts.analyze_chart`), MTF50 per field zone (centre, 0.3, 0.5,
  0.7, corners) for the sagittal and meridional edges, the four corners' MTF50 and their
  imbalance, and the interpolated MTF50 field maps.
* :func:`qualify_series` - a through-focus series (frames at known lens positions): every
  edge tracked over the frames, its best-focus lens position (peak of its SFR at a reference
  frequency, :func:`~focuslab.hw.qualify_fit.through_focus_peak`), the per-zone best focus
  (M and S), the best-focus surfaces (:func:`~focuslab.hw.qualify_fit.fit_focus_surface`):
  apparent tilt, field curvature, astigmatism, decenter, and the sensor tilt once the
  decenter's own image tilt (``decenter_tilt_deg_per_mm``, :mod:`focuslab.hw.module_model`
  eq. 3) is removed; plus the frame analysis at the frame nearest the mean best focus.

Frames are float arrays scaled so that full scale is 1.0 with the black level removed
(:func:`normalize_raw`). Zones by relative field height r (1 = frame corner): centre
r < 0.15, corner r >= 0.75, else the nearest of 0.3, 0.5 and 0.7.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from focuslab.bench.record_io import json_ready
from focuslab.errors import FocuslabError, InvalidParameterError, check_positive
from focuslab.hw.qualify_fit import FocusSurface, fit_focus_surface, through_focus_peak
from focuslab.metrics.charts import ChartResult, analyze_chart
from focuslab.metrics.sfr import measure_sfr
from focuslab.metrics.sfr.figures import value_at

ZONES = ("centre", "0.3", "0.5", "0.7", "corner")
DIRECTIONS = ("sagittal", "meridional")
#: Default reference frequency of the through-focus curves, cycles/pixel (Nyquist / 2).
DEFAULT_REFERENCE_CPP = 0.25
#: Edge-ROI flat field on each side of an edge, px (the chart squares are 40 px).
ROI_HALF_WIDTH_PX = 16.0


def zone_of(field_radius: float) -> str:
    """Zone label of a relative field height (module notes)."""
    if field_radius < 0.15:
        return "centre"
    if field_radius >= 0.75:
        return "corner"
    return min(("0.3", "0.5", "0.7"), key=lambda z: abs(float(z) - field_radius))


def normalize_raw(frame: np.ndarray, *, black_level_dn: float = 0.0, white_level_dn: float | None = None) -> np.ndarray:
    """Raw DN -> float64 with black removed and full scale (white - black) = 1.0."""
    arr = np.asarray(frame)
    if arr.ndim != 2:
        raise InvalidParameterError(f"a qualification frame must be a grey H x W image, got shape {arr.shape}")
    if white_level_dn is None:
        white_level_dn = float(np.iinfo(arr.dtype).max) if np.issubdtype(arr.dtype, np.integer) else 1.0
    span = check_positive("white_level_dn - black_level_dn", float(white_level_dn) - float(black_level_dn))
    return (arr.astype(np.float64) - float(black_level_dn)) / span


@dataclass(frozen=True)
class FrameQualification:
    """One frame's MTF50 field figures (cycles/pixel; NaN where no edge qualifies).

    Attributes
    ----------
    chart
        The full chart analysis (edges, SFR curves, field maps).
    zone_mtf50_cpp
        ``{zone: {"sagittal": v, "meridional": v, "all": v}}``.
    corner_mtf50_cpp
        Mean MTF50 of the corner edges in each quadrant, ``{"top-left": v, ...}``.
    corner_imbalance
        (max - min) / mean of the four corner MTF50s (NaN unless all four were measured).
    zone_sfr
        ``{zone: mean SFR at reference_cpp}`` over the zone's sagittal and meridional edges.
    reference_cpp
        The frequency of ``zone_sfr``, cycles/pixel.
    """

    chart: ChartResult
    zone_mtf50_cpp: dict[str, dict[str, float]]
    corner_mtf50_cpp: dict[str, float]
    corner_imbalance: float
    zone_sfr: dict[str, float]
    reference_cpp: float

    @property
    def centre_mtf50_cpp(self) -> float:
        return self.zone_mtf50_cpp["centre"]["all"]

    @property
    def corners_mtf50_cpp(self) -> float:
        return self.zone_mtf50_cpp["corner"]["all"]

    def to_dict(self) -> dict[str, Any]:
        return json_ready({
            "zone_mtf50_cpp": self.zone_mtf50_cpp, "corner_mtf50_cpp": self.corner_mtf50_cpp,
            "corner_imbalance": self.corner_imbalance, "n_edges": len(self.chart.edges),
            "reference_cpp": self.reference_cpp, "zone_sfr": self.zone_sfr,
            "chart": self.chart.to_dict(curves=False),
        })


def _nanmean(values) -> float:
    v = [x for x in values if np.isfinite(x)]
    return float(np.mean(v)) if v else math.nan


def _quadrant(edge, centre_xy) -> str:
    x, y = edge.position_xy
    return ("top" if y < centre_xy[1] else "bottom") + "-" + ("left" if x < centre_xy[0] else "right")


def analyze_frame(image: np.ndarray) -> ChartResult:
    """The chart analysis used by qualification (16-px edge ROIs, full scale 1.0)."""
    return analyze_chart(np.asarray(image, float), saturation_level=1.0, roi_half_width_px=ROI_HALF_WIDTH_PX)


def qualify_frame(image: np.ndarray, *, reference_cpp: float = DEFAULT_REFERENCE_CPP,
                  chart: ChartResult | None = None) -> FrameQualification:
    """MTF50 field figures of one normalised frame (module notes).

    Raises
    ------
    InvalidParameterError
        No usable slanted edge in the image (the chart analysis says what it found).
    """
    res = analyze_frame(image) if chart is None else chart
    ref = check_positive("reference_cpp", reference_cpp)
    zones: dict[str, dict[str, float]] = {}
    zone_sfr: dict[str, float] = {}
    for z in ZONES:
        edges = [e for e in res.edges if zone_of(e.field_radius) == z]
        zones[z] = {d: _nanmean([e.mtf50_cpp for e in edges if e.direction == d]) for d in DIRECTIONS}
        zones[z]["all"] = _nanmean([e.mtf50_cpp for e in edges])
        zone_sfr[z] = _nanmean([value_at(e.sfr.frequencies_cpp, e.sfr.sfr, ref) for e in edges])
    corners: dict[str, float] = {}
    for q in ("top-left", "top-right", "bottom-left", "bottom-right"):
        corners[q] = _nanmean([e.mtf50_cpp for e in res.edges
                               if zone_of(e.field_radius) == "corner" and _quadrant(e, res.centre_xy) == q])
    vals = np.array(list(corners.values()))
    imbalance = float((vals.max() - vals.min()) / vals.mean()) if np.all(np.isfinite(vals)) else math.nan
    return FrameQualification(res, zones, corners, imbalance, zone_sfr, ref)


@dataclass(frozen=True)
class EdgeTrack:
    """One edge followed through focus (``square`` indexes the detected squares)."""

    square: int
    position_xy: tuple[float, float]
    normal_xy: tuple[float, float]
    field_radius: float
    direction: str
    zone: str
    sfr_ref: np.ndarray
    mtf50_cpp: np.ndarray
    best_focus_um: float
    peak_sfr: float


@dataclass(frozen=True)
class SeriesQualification:
    """Result of :func:`qualify_series` (lens positions and focus figures in um)."""

    lens_positions_um: np.ndarray
    reference_cpp: float
    tracks: tuple[EdgeTrack, ...]
    zone_best_focus_um: dict[str, dict[str, float]]
    surface: FocusSurface
    pixel_pitch_um: float
    half_diagonal_mm: float
    decenter_tilt_deg_per_mm: float
    best_frame: int
    best_frame_result: FrameQualification
    warnings: tuple[str, ...] = field(default=())

    @property
    def apparent_tilt_deg(self) -> tuple[float, float]:
        return self.surface.apparent_tilt_deg

    @property
    def decenter_um(self) -> tuple[float, float]:
        return (1000.0 * self.surface.decenter_x_mm, 1000.0 * self.surface.decenter_y_mm)

    @property
    def sensor_tilt_deg(self) -> tuple[float, float]:
        """Apparent tilt + kappa * decenter (module_model eq. 3); the apparent tilt when the
        decenter is unknown."""
        tx, ty = self.apparent_tilt_deg
        dx, dy = (0.0 if math.isnan(v) else v for v in (self.surface.decenter_x_mm, self.surface.decenter_y_mm))
        return (tx + self.decenter_tilt_deg_per_mm * dx, ty + self.decenter_tilt_deg_per_mm * dy)

    @property
    def field_curvature_um(self) -> dict[str, float]:
        """Best-focus shift at the frame corner relative to the axis, um: k R^2 (M and S)."""
        r2 = self.half_diagonal_mm ** 2
        return {"meridional": self.surface.k_meridional_um_per_mm2 * r2,
                "sagittal": self.surface.k_sagittal_um_per_mm2 * r2}

    @property
    def astigmatism_um(self) -> float:
        """M - S best-focus separation at the frame corner, um."""
        fc = self.field_curvature_um
        return fc["meridional"] - fc["sagittal"]

    def figures(self) -> dict[str, float]:
        """The headline numbers, flat."""
        tx, ty = self.sensor_tilt_deg
        ax, ay = self.apparent_tilt_deg
        dx, dy = self.decenter_um
        fc = self.field_curvature_um
        return {
            "sensor_tilt_x_deg": tx, "sensor_tilt_y_deg": ty, "sensor_tilt_deg": math.hypot(tx, ty),
            "apparent_tilt_x_deg": ax, "apparent_tilt_y_deg": ay,
            "decenter_x_um": dx, "decenter_y_um": dy,
            "field_curvature_meridional_um": fc["meridional"], "field_curvature_sagittal_um": fc["sagittal"],
            "astigmatism_um": self.astigmatism_um, "surface_rms_residual_um": self.surface.rms_residual_um,
            "best_focus_um": float(np.nanmedian([t.best_focus_um for t in self.tracks])),
        }

    def to_dict(self) -> dict[str, Any]:
        return json_ready({
            "lens_positions_um": self.lens_positions_um, "reference_cpp": self.reference_cpp,
            "figures": self.figures(), "zone_best_focus_um": self.zone_best_focus_um,
            "pixel_pitch_um": self.pixel_pitch_um, "decenter_tilt_deg_per_mm": self.decenter_tilt_deg_per_mm,
            "best_frame": self.best_frame, "best_frame_result": self.best_frame_result.to_dict(),
            "edges": [{"position_xy": t.position_xy, "field_radius": t.field_radius, "direction": t.direction,
                       "zone": t.zone, "best_focus_um": t.best_focus_um, "peak_sfr": t.peak_sfr,
                       "sfr_ref": t.sfr_ref, "mtf50_cpp": t.mtf50_cpp} for t in self.tracks],
            "warnings": list(self.warnings),
        })


def sharpest_frame(frames) -> int:
    """Index of the frame with the largest mean squared gradient (Tenengrad focus measure)."""
    def tenengrad(f):
        gy, gx = np.gradient(np.asarray(f, float))
        return float(np.mean(gx * gx + gy * gy))
    return int(np.argmax([tenengrad(f) for f in frames]))


def measure_tracks(frames, chart: ChartResult, reference_cpp: float) -> list[dict]:
    """SFR at ``reference_cpp`` and MTF50 of each of ``chart``'s edges in every frame (same ROIs)."""
    tracks = []
    for e in chart.edges:
        if e.direction not in DIRECTIONS:
            continue
        x, y, rw, rh = e.roi
        sfr, mtf = np.full(len(frames), np.nan), np.full(len(frames), np.nan)
        for i, f in enumerate(frames):
            try:
                r = measure_sfr(np.asarray(f, float)[y:y + rh, x:x + rw])
            except FocuslabError:
                continue
            sfr[i] = value_at(r.frequencies_cpp, r.sfr, reference_cpp)
            mtf[i] = r.mtf50_cpp
        tracks.append({"edge": e, "sfr": sfr, "mtf": mtf})
    return tracks


def zone_points(tracks) -> list[tuple[float, float, str, float, tuple[float, float]]]:
    """Per square and direction: (x px, y px, direction, best focus um, normal), the mean of its edges.

    A square's two meridional (or sagittal) edges lie on opposite sides of it, so their mean
    position is the square's centre and their mean best focus is the best focus there: the
    linear (tilt) variation across the square cancels (section "per-zone best focus" of
    docs/hw_qualification.md).
    """
    groups: dict[tuple[int, str], list[EdgeTrack]] = {}
    for t in tracks:
        if np.isfinite(t.best_focus_um):
            groups.setdefault((t.square, t.direction), []).append(t)
    out = []
    for (_, d), ts in sorted(groups.items()):
        out.append((float(np.mean([t.position_xy[0] for t in ts])), float(np.mean([t.position_xy[1] for t in ts])),
                    d, float(np.mean([t.best_focus_um for t in ts])), ts[0].normal_xy))
    return out


def qualify_series(
    frames, lens_positions_um, *, pixel_pitch_um: float, reference_cpp: float = DEFAULT_REFERENCE_CPP,
    decenter_tilt_deg_per_mm: float = 0.0,
) -> SeriesQualification:
    """Through-focus qualification (module notes).

    Parameters
    ----------
    frames
        Normalised frames (:func:`normalize_raw`), all the same shape.
    lens_positions_um
        Lens position of each frame, um (any order; sorted here).
    pixel_pitch_um
        Pixel pitch of the frames, um (edge positions -> sensor mm for the tilt).
    reference_cpp
        Frequency of the through-focus SFR curves, cycles/pixel.
    decenter_tilt_deg_per_mm
        The lens design's image tilt per mm of decenter (module_model eq. 3), to separate the
        sensor tilt from the decenter's tilt; 0 reports the apparent tilt as the sensor tilt.

    Raises
    ------
    InvalidParameterError
        Fewer than 3 frames, a position count that differs from the frame count, repeated or
        non-finite positions, frames of different shapes, no edges, or too few edges peaking
        inside the series.
    """
    frames = list(frames)
    pos = np.asarray(lens_positions_um, dtype=float).ravel()
    if len(frames) < 3:
        raise InvalidParameterError(
            f"a through-focus series needs at least 3 frames, got {len(frames)}; capture more lens positions")
    if pos.size != len(frames):
        raise InvalidParameterError(f"{len(frames)} frames but {pos.size} lens positions; give one position per frame")
    if not np.all(np.isfinite(pos)) or len(np.unique(pos)) != pos.size:
        raise InvalidParameterError("lens positions must be finite and all different")
    shapes = {np.shape(f) for f in frames}
    if len(shapes) != 1:
        raise InvalidParameterError(f"the series' frames differ in size ({sorted(shapes)}); use one frame size")
    pitch = check_positive("pixel_pitch_um", pixel_pitch_um)
    ref_cpp = check_positive("reference_cpp", reference_cpp)
    order = np.argsort(pos)
    pos = pos[order]
    frames = [frames[i] for i in order]
    ref = sharpest_frame(frames)
    chart = analyze_frame(frames[ref])
    h, w = shapes.pop()[:2]
    half_diag_mm = 0.5 * math.hypot(w, h) * pitch / 1000.0
    tracks, warnings = [], []
    for t in measure_tracks(frames, chart, ref_cpp):
        e = t["edge"]
        peak, peak_v = through_focus_peak(pos, t["sfr"])
        tracks.append(EdgeTrack(e.square, e.position_xy, e.normal_xy, e.field_radius, e.direction,
                                zone_of(e.field_radius),
                                t["sfr"], t["mtf"], peak, peak_v))
    n_out = sum(math.isnan(t.best_focus_um) for t in tracks)
    if n_out:
        warnings.append(f"{n_out} of {len(tracks)} edge(s) peak outside the series' lens range")
    points = zone_points(tracks)
    xs = np.array([(p[0] - (w - 1) / 2.0) * pitch / 1000.0 for p in points])
    ys = np.array([(p[1] - (h - 1) / 2.0) * pitch / 1000.0 for p in points])
    best = np.array([p[3] for p in points])
    surface = fit_focus_surface(xs, ys, best, [p[2] == "meridional" for p in points], half_diagonal_mm=half_diag_mm,
                                normal_xy=[p[4] for p in points])
    if math.isnan(surface.decenter_x_mm):
        warnings.append("astigmatism too small to separate decenter from tilt: decenter unknown, tilt is apparent")
    zones = {z: {d: _nanmean([t.best_focus_um for t in tracks if t.zone == z and t.direction == d])
                 for d in DIRECTIONS} for z in ZONES}
    best_frame = int(np.argmin(np.abs(pos - np.nanmedian(best))))
    frame_q = qualify_frame(frames[best_frame], reference_cpp=ref_cpp, chart=chart if best_frame == ref else None)
    return SeriesQualification(pos, ref_cpp, tuple(tracks), zones, surface, pitch, half_diag_mm,
                               float(decenter_tilt_deg_per_mm), best_frame, frame_q, tuple(warnings))
