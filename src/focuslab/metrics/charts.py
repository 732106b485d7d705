"""Whole-chart slanted-edge analysis: find every usable edge, measure its SFR, map MTF50.

:func:`find_chart_edges` finds the dark quadrilaterals of a chart image
(:mod:`focuslab.metrics.chart_detect`), keeps those of the chart layout
(:mod:`focuslab.metrics.chart_layouts`) and places a measurement ROI along each side away
from the corners (:mod:`focuslab.metrics.chart_roi`). :func:`analyze_chart` measures each ROI
with the ISO 12233 e-SFR (:func:`focuslab.metrics.sfr.measure_sfr`), classifies each edge as
sagittal or meridional from its field position (:mod:`focuslab.metrics.chart_field`: an edge
whose normal is radial measures the meridional / tangential MTF) and interpolates field maps
of MTF50.

Coordinates: pixels, origin at the centre of the top-left pixel, x right, y down; ROIs are
(x, y, w, h). Frequencies in cycles/pixel (cpp) along the edge normal; LW/PH = 2 * cpp * H.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from focuslab.errors import FocuslabError, InvalidParameterError, check_finite, check_positive
from focuslab.metrics.chart_detect import (
    Quadrilateral,
    dark_mask,
    find_quadrilaterals,
    grey_image,
    refine_quadrilateral,
)
from focuslab.metrics.chart_field import classify_direction, field_map, field_position, normal_to_radial_deg
from focuslab.metrics.chart_layouts import CHART_LAYOUTS
from focuslab.metrics.chart_result import ChartEdge, ChartResult, ChartSummary, SkippedEdge
from focuslab.metrics.chart_roi import EdgeRoi, edge_roi
from focuslab.metrics.sfr import measure_sfr

__all__ = [
    "ChartDetection", "ChartEdge", "ChartResult", "ChartSummary", "SkippedEdge", "analyze_chart", "find_chart_edges",
]

#: Relative image heights summarised as "centre" (r < CENTRE_MAX_R) and "corners" (r > CORNER_MIN_R).
CENTRE_MAX_R = 0.3
CORNER_MIN_R = 0.6
#: Largest fraction of clipped samples an edge's ROI may hold (sfrmat's ``clipping`` threshold).
CLIP_FRACTION = 0.005


@dataclass(frozen=True)
class ChartDetection:
    """What :func:`find_chart_edges` found.

    Attributes
    ----------
    squares
        The refined quadrilaterals of the layout, largest first (``square`` indexes them).
    edges
        ``(square, side, EdgeRoi)`` for each side to measure.
    skipped
        Sides not measured, with the reason.
    warnings
        One line per kind of thing ignored (objects that are not quadrilaterals, skipped sides).
    image_shape
        (H, W).
    """

    squares: tuple[Quadrilateral, ...]
    edges: tuple[tuple[int, int, EdgeRoi], ...]
    skipped: tuple[SkippedEdge, ...]
    warnings: tuple[str, ...]
    image_shape: tuple[int, int]


def _check_image(image: np.ndarray) -> np.ndarray:
    arr = np.asarray(image)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise InvalidParameterError(f"chart image must be H x W or H x W x C (C = 1, 3 or 4), got shape {arr.shape}")
    if min(arr.shape[:2]) < 32:
        raise InvalidParameterError(f"chart image is {arr.shape[1]} x {arr.shape[0]} px; it needs at least 32 x 32")
    if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise InvalidParameterError(f"chart image must hold real numbers, got dtype {arr.dtype}")
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError("chart image contains NaN or inf samples; replace them before measuring")
    if float(arr.max()) == float(arr.min()):
        raise InvalidParameterError("chart image is flat (every sample equal): there is no edge to measure")
    return arr


def _reason_counts(skipped: list[SkippedEdge]) -> list[str]:
    counts = Counter(s.reason.split(":", 1)[0] for s in skipped)
    return [f"{n} edge(s) skipped: {kind}" for kind, n in sorted(counts.items())]


def find_chart_edges(
    image: np.ndarray,
    *,
    layout: str = "squares",
    polarity: str = "dark",
    threshold: str = "otsu",
    window_px: int | None = None,
    min_side_px: float = 20.0,
    roi_half_width_px: float | None = None,
    min_edge_length_px: float = 20.0,
    min_angle_deg: float = 1.0,
    max_angle_deg: float = 44.0,
    border_px: int = 2,
) -> ChartDetection:
    """Find the measurable slanted edges of a chart image (no SFR yet).

    Parameters
    ----------
    image
        ``H x W`` or ``H x W x C`` chart image (any monotonic encoding: detection only).
    layout
        Chart layout (:data:`~focuslab.metrics.chart_layouts.CHART_LAYOUTS`): ``"squares"``
        or ``"esfr"``.
    polarity
        ``"dark"`` (dark shapes on a light ground) or ``"light"`` (light shapes on dark).
    threshold, window_px
        Dark/light segmentation: ``"otsu"`` or ``"local"`` (window side, px).
    min_side_px
        Smallest side a quadrilateral may have, px.
    roi_half_width_px
        Flat field kept on each side of an edge in its ROI, px (default 60% of the side, 10..50).
    min_edge_length_px
        Fewest rows/columns along the edge an ROI may have.
    min_angle_deg, max_angle_deg
        Accepted slant from the nearest image axis, degrees.
    border_px
        Margin kept from the image border, px.

    Raises
    ------
    InvalidParameterError
        Bad image (shape, NaN/inf, flat) or option.
    UnknownNameError
        Unknown ``layout``.
    """
    select = CHART_LAYOUTS.get(layout)
    if polarity not in ("dark", "light"):
        raise InvalidParameterError(f"polarity must be 'dark' or 'light', got {polarity!r}")
    if not 0.0 <= min_angle_deg < max_angle_deg <= 45.0:
        raise InvalidParameterError(
            f"need 0 <= min_angle_deg < max_angle_deg <= 45, got {min_angle_deg} and {max_angle_deg}"
        )
    arr = _check_image(image)
    grey = grey_image(arr[..., :3] if arr.ndim == 3 else arr)
    if polarity == "light":
        grey = -grey
    quads, labels, rejected = find_quadrilaterals(grey, dark_mask(grey, threshold=threshold, window_px=window_px),
                                                  min_side_px=min_side_px, border_px=border_px)
    warnings = [f"{n} dark object(s) ignored: {why}" for why, n in rejected.items() if why != "too small"]
    quads, dropped = select(quads)
    warnings += [f"{n} quadrilateral(s) left out by layout {layout!r}: {why}" for why, n in dropped.items()]
    refined = []
    for q in quads:
        r = refine_quadrilateral(grey, q)
        if r is None:
            warnings.append(f"a quadrilateral near ({q.centroid_xy[0]:.0f}, {q.centroid_xy[1]:.0f}) has unclear edges")
        else:
            refined.append(r)
    edges, skipped = [], []
    for qi, q in enumerate(refined):
        for side in range(4):
            roi, why = edge_roi(
                q, side, shape=grey.shape, labels=labels, half_width_px=roi_half_width_px,
                min_length_px=min_edge_length_px, border_px=border_px, min_angle_deg=min_angle_deg,
                max_angle_deg=max_angle_deg,
            )
            if roi is None:
                mid = 0.5 * (q.side(side)[0] + q.side(side)[1])
                skipped.append(SkippedEdge(qi, side, (float(mid[0]), float(mid[1])), why))
            else:
                edges.append((qi, side, roi))
    warnings += _reason_counts(skipped)
    return ChartDetection(tuple(refined), tuple(edges), tuple(skipped), tuple(warnings), grey.shape)


def _mean(values: list[float]) -> float | None:
    v = [x for x in values if np.isfinite(x)]
    return float(np.mean(v)) if v else None


def analyze_chart(
    image: np.ndarray,
    *,
    layout: str = "squares",
    channel: str = "luminance",
    encoding: str = "linear",
    oecf: Any = None,
    centre_xy: tuple[float, float] | None = None,
    grid_shape: tuple[int, int] = (30, 40),
    saturation_level: float | None = None,
    max_clipped_fraction: float = CLIP_FRACTION,
    sfr_options: dict[str, Any] | None = None,
    **detect_options: Any,
) -> ChartResult:
    """Find, measure and map every usable slanted edge of a chart image.

    Parameters
    ----------
    image
        ``H x W`` or ``H x W x C`` chart image, linear light unless ``encoding`` says otherwise.
    layout
        ``"squares"`` (any dark quadrilaterals) or ``"esfr"`` (ISO 12233 e-SFR chart squares).
    channel, encoding, oecf
        Passed to :func:`~focuslab.metrics.sfr.measure_sfr` for each edge.
    centre_xy
        Optical centre (x, y), px; default the image centre.
    grid_shape
        (ny, nx) nodes of the field maps.
    saturation_level
        Full scale of ``image``: samples at or above it (or at or below 0) are clipped.
        Default: the integer type's maximum; 1.0 for floats whose maximum is at most 1.0 (files
        loaded by :func:`focuslab.data.measure_input.load_measurement_image` are scaled so);
        no clipping test for floats above 1.0 (as :func:`~focuslab.metrics.sfr.measure_sfr`).
    max_clipped_fraction
        An edge whose ROI has more clipped samples than this fraction is skipped (clipping
        flattens the ESF and raises the SFR; sfrmat's ``clipping`` test uses 0.005).
    sfr_options
        Further keyword arguments of ``measure_sfr`` (``window``, ``poly_order``...).
    **detect_options
        Keyword arguments of :func:`find_chart_edges` (``polarity``, ``threshold``,
        ``min_side_px``, ``roi_half_width_px``, ``min_angle_deg``, ``max_angle_deg``...).

    Returns
    -------
    ChartResult

    Raises
    ------
    InvalidParameterError
        Bad image or option, or no usable edge in the image (the message says what was found).

    Notes
    -----
    Relative image height r = |p - c| / (half-diagonal); an edge with normal n at field angle
    phi is meridional when the angle between n and (cos phi, sin phi) is below 30 degrees,
    sagittal above 60 degrees, else mixed (:func:`~focuslab.metrics.chart_field.classify_direction`).
    """
    det = find_chart_edges(image, layout=layout, **detect_options)
    h, w = det.image_shape
    if centre_xy is None:
        centre = ((w - 1) / 2.0, (h - 1) / 2.0)
    else:
        centre = (check_finite("centre_xy[0]", centre_xy[0]), check_finite("centre_xy[1]", centre_xy[1]))
    skipped = list(det.skipped)
    edges: list[ChartEdge] = []
    arr = np.asarray(image)
    first_error: FocuslabError | None = None
    n_det = len(skipped)
    if saturation_level is None and np.issubdtype(arr.dtype, np.integer):
        saturation_level = float(np.iinfo(arr.dtype).max)
    elif saturation_level is None and float(arr.max()) <= 1.0:
        saturation_level = 1.0  # floats scaled to full scale 1.0 (as measure_sfr assumes)
    elif saturation_level is not None:
        saturation_level = check_positive("saturation_level", saturation_level)
    for qi, side, er in det.edges:
        mid = (0.5 * (er.start_xy[0] + er.end_xy[0]), 0.5 * (er.start_xy[1] + er.end_xy[1]))
        x, y, rw, rh = er.roi
        crop = arr[y : y + rh, x : x + rw] if arr.ndim == 2 else arr[y : y + rh, x : x + rw, :3]
        if crop.ndim == 3 and crop.shape[2] == 1:
            crop = crop[..., 0]
        clipped = 0.0 if saturation_level is None else float(np.mean((crop >= saturation_level) | (crop <= 0)))
        if clipped > max_clipped_fraction:
            why = f"clipped: {100 * clipped:.1f}% of the ROI is at 0 or full scale"
            skipped.append(SkippedEdge(qi, side, mid, why))
            continue
        try:
            # measured on the ROI's own pixels (measure_sfr converts all it is given), then put back
            # in image coordinates
            res = measure_sfr(crop, channel=channel, encoding=encoding, oecf=oecf, **(sfr_options or {}))
            cx, cy = res.edge_centroid_xy
            res = replace(res, roi=er.roi, edge_centroid_xy=(float(cx) + x, float(cy) + y))
        except FocuslabError as exc:
            first_error = first_error or exc
            skipped.append(SkippedEdge(qi, side, mid, f"sfr failed: {exc}"))
            continue
        r, phi = field_position(mid[0], mid[1], (h, w), centre)
        edges.append(ChartEdge(
            qi, side, er.roi, mid, r, phi, er.normal_xy, normal_to_radial_deg(er.normal_xy, phi),
            classify_direction(er.normal_xy, r, phi), er.orientation, er.slant_deg, res,
        ))
    refused = [x for x in skipped[n_det:] if x.reason.startswith("sfr failed")]
    if first_error is not None and len(refused) == len(det.edges):
        raise first_error  # measure_sfr refused every edge: an option, not the data, is wrong
    if not edges:
        found = f"{len(det.squares)} quadrilateral(s), {len(skipped)} side(s) skipped"
        kinds = sorted({s.reason.split(':', 1)[0] for s in skipped})
        raise InvalidParameterError(
            f"no usable slanted edge in the chart image ({found}{': ' + ', '.join(kinds) if kinds else ''}); "
            "use dark squares slanted 1-44 deg on a light ground, or try threshold='local'"
        )
    warnings = list(det.warnings)
    warnings += _reason_counts(skipped[n_det:])
    mtf = [e.mtf50_cpp for e in edges]
    n_bad = sum(not np.isfinite(m) for m in mtf)
    if n_bad:
        warnings.append(f"{n_bad} edge(s) have no MTF50 (the SFR never falls to 0.5)")
    summary = ChartSummary(
        n_edges=len(edges),
        n_sagittal=sum(e.direction == "sagittal" for e in edges),
        n_meridional=sum(e.direction == "meridional" for e in edges),
        n_mixed=sum(e.direction == "mixed" for e in edges),
        mtf50_mean_cpp=_mean(mtf),
        centre_mtf50_cpp=_mean([e.mtf50_cpp for e in edges if e.field_radius < CENTRE_MAX_R]),
        corner_mtf50_cpp=_mean([e.mtf50_cpp for e in edges if e.field_radius > CORNER_MIN_R]),
        sagittal_mtf50_cpp=_mean([e.mtf50_cpp for e in edges if e.direction == "sagittal"]),
        meridional_mtf50_cpp=_mean([e.mtf50_cpp for e in edges if e.direction == "meridional"]),
    )
    fmap = field_map(
        np.array([e.position_xy for e in edges]), np.array(mtf), [e.direction for e in edges], (h, w),
        grid_shape=grid_shape,
    )
    return ChartResult(tuple(edges), tuple(skipped), det.squares, summary, fmap, (h, w), centre, tuple(warnings))
