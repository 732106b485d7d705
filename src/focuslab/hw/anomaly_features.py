"""A module's qualification results as a feature vector (for population anomaly detection).

From a unit's captures (:func:`focuslab.hw.population.capture_unit`): the through-focus chart
series is measured with the qualification code (:func:`focuslab.hw.qualify.measure_tracks`
on the edge ROIs found once on a reference module, as a test station with a fixed chart
does), and the flat-field pair and dark frame give the sensor figures:

* ``mtf50_*``: MTF50 (cy/px) per zone and direction in the frame nearest nominal focus (+10 um);
* ``corner_imbalance``: (max - min) / mean of the four corners' MTF50;
* ``best_focus_median_um`` and ``best_focus_spread_um``: median and std over the zones of the
  best focus minus the design's best focus there (a perfect module's: back focus, tilt);
  ``tilt_deg`` (|apparent tilt|), ``field_curvature_m_um``, ``field_curvature_s_um``,
  ``decenter_um`` (|decenter|), ``surface_rms_um``: the best-focus surface fit;
* ``dark_noise_dn``: temporal dark noise (std of the dark frame within +-20 DN of its median, defects excluded);
* ``flat_noise_rel``: temporal noise of the flat pair, std(a - b) / sqrt(2) / mean (robust);
* ``flat_min_ratio``: minimum of the smoothed flat over its median (dust shadows);
* ``flat_dip_fraction``: fraction of the smoothed flat below 98 % of its median;
* ``defect_pixels``: pixels of the flat or dark frame further than 8 robust sigmas from the
  median of their 3 x 3 neighbourhood (EMVA 1288 4.0, sec. 8.1 style outlier count).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy.ndimage import gaussian_filter, median_filter

from focuslab.errors import FocuslabError
from focuslab.hw.module_model import ModuleBuild, ModuleDesign
from focuslab.hw.module_render import capture_frame
from focuslab.hw.qualify import (
    DEFAULT_REFERENCE_CPP,
    ZONES,
    EdgeTrack,
    analyze_frame,
    measure_tracks,
    normalize_raw,
    zone_of,
    zone_points,
)
from focuslab.hw.qualify_fit import fit_focus_surface, through_focus_peak

FEATURES = (
    "mtf50_centre", "mtf50_0.3_s", "mtf50_0.3_m", "mtf50_0.5_s", "mtf50_0.5_m", "mtf50_0.7_s", "mtf50_0.7_m",
    "mtf50_corner_s", "mtf50_corner_m", "corner_imbalance", "best_focus_median_um", "best_focus_spread_um",
    "tilt_deg", "field_curvature_m_um", "field_curvature_s_um", "decenter_um", "surface_rms_um",
    "dark_noise_dn", "flat_noise_rel", "flat_min_ratio", "flat_dip_fraction", "defect_pixels",
)
#: Dark-frame values further than this from the median are defects, not noise, DN.
DARK_WINDOW_DN = 20.0
#: Lens positions of the population's through-focus series, relative to the nominal focus, um.
SERIES_OFFSETS_UM = (-40.0, -15.0, 10.0, 35.0, 60.0)


def series_positions_um(design: ModuleDesign) -> np.ndarray:
    """The 5 lens positions of a unit's series (25 um steps around the design's zone foci)."""
    return design.nominal_lens_um + np.asarray(SERIES_OFFSETS_UM)


def reference_chart(design: ModuleDesign, *, one_edge_per_direction: bool = False):
    """Edge ROIs of the station's chart, found on a perfect module at nominal focus.

    ``one_edge_per_direction`` keeps one sagittal and one meridional edge per square (46 of
    92 edges, 25 % less time) but loses the opposite-edge pairs whose mean is the square
    centre's best focus: the decenter estimate of a good unit then errs by ~130 um rms
    instead of ~11 um (measured on 14 units), so it is off by default.
    """
    raw = capture_frame(design, ModuleBuild(), design.nominal_lens_um, seed=0, psf_model="gaussian")
    chart = analyze_frame(normalize_raw(raw, black_level_dn=design.sensor.black_level_dn,
                                        white_level_dn=design.sensor.white_level_dn))
    if not one_edge_per_direction:
        return chart
    seen, kept = set(), []
    for e in chart.edges:
        if (e.square, e.direction) not in seen:
            seen.add((e.square, e.direction))
            kept.append(e)
    return dataclasses.replace(chart, edges=tuple(kept))


def _mad_sigma(a: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(a - np.median(a))))


def sensor_features(flat: tuple[np.ndarray, np.ndarray], dark: np.ndarray) -> dict[str, float]:
    """Noise, dust and defect figures of a flat pair and a dark frame (module notes)."""
    a, b = (np.asarray(f, float) for f in flat)
    d = np.asarray(dark, float)
    mean = float(np.median(0.5 * (a + b))) - float(np.median(d))
    smooth = gaussian_filter(0.5 * (a + b) - float(np.median(d)), 3.0)[8:-8, 8:-8]
    med = float(np.median(smooth))
    n_def = 0
    mask = np.zeros(a.shape, bool)
    for img in (a, d):
        resid = img - median_filter(img, size=3)
        sigma = max(_mad_sigma(resid), 1.0)
        mask |= np.abs(resid) > 8.0 * sigma
    n_def = int(mask.sum())
    return {
        "dark_noise_dn": float(np.std(d[~mask & (np.abs(d - np.median(d)) < DARK_WINDOW_DN)])),
        "flat_noise_rel": _mad_sigma(a - b) / math.sqrt(2.0) / max(mean, 1e-9),
        "flat_min_ratio": float(smooth.min() / med),
        "flat_dip_fraction": float(np.mean(smooth < 0.98 * med)),
        "defect_pixels": float(n_def),
    }


def chart_features(frames, positions_um, chart, *, design: ModuleDesign, nominal_index: int = 2,
                   reference_cpp: float = DEFAULT_REFERENCE_CPP) -> dict[str, float]:
    """MTF and best-focus figures of a unit's normalised chart series (module notes).

    ``nominal_index`` is the frame whose MTF50s are reported (the one nearest nominal focus).
    """
    tracks = measure_tracks(frames, chart, reference_cpp)
    out: dict[str, float] = {}
    for z in ZONES:
        for d in ("sagittal", "meridional"):
            if z == "centre" and d == "meridional":
                continue
            sel = [t["mtf"][nominal_index] for t in tracks if zone_of(t["edge"].field_radius) == z
                   and (z == "centre" or t["edge"].direction == d)]
            key = "mtf50_centre" if z == "centre" else f"mtf50_{z}_{d[0]}"
            out[key] = float(np.nanmean(sel)) if np.any(np.isfinite(sel)) else math.nan
    h, w = frames[0].shape
    corners = {}
    for t in tracks:
        e = t["edge"]
        if zone_of(e.field_radius) == "corner":
            q = (e.position_xy[0] < (w - 1) / 2, e.position_xy[1] < (h - 1) / 2)
            corners.setdefault(q, []).append(t["mtf"][nominal_index])
    vals = np.array([np.nanmean(v) for v in corners.values()]) if len(corners) == 4 else np.array([math.nan])
    out["corner_imbalance"] = float((vals.max() - vals.min()) / vals.mean()) if np.all(np.isfinite(vals)) else math.nan
    edge_tracks = []
    for t in tracks:
        e = t["edge"]
        peak, value = through_focus_peak(positions_um, t["sfr"])
        edge_tracks.append(EdgeTrack(e.square, e.position_xy, e.normal_xy, e.field_radius, e.direction,
                                     zone_of(e.field_radius), t["sfr"], t["mtf"], peak, value))
    pts = zone_points(edge_tracks)
    best = np.array([p[3] for p in pts])
    p = design.pixel_pitch_um / 1000.0
    # deviation of each zone's best focus from the design's (a perfect module's) best focus there
    expected = np.array([float(design.best_focus_lens_um(ModuleBuild(), (q[0] - (w - 1) / 2) * p,
                                                        (q[1] - (h - 1) / 2) * p, q[2])) for q in pts])
    dev = best - expected
    out["best_focus_median_um"] = float(np.median(dev)) if dev.size else math.nan
    out["best_focus_spread_um"] = float(np.std(dev)) if dev.size else math.nan
    try:
        s = fit_focus_surface([(q[0] - (w - 1) / 2) * p for q in pts], [(q[1] - (h - 1) / 2) * p for q in pts], best,
                              [q[2] == "meridional" for q in pts], half_diagonal_mm=design.half_diagonal_mm,
                              normal_xy=[q[4] for q in pts])
        r2 = design.half_diagonal_mm ** 2
        out.update({
            "tilt_deg": math.hypot(*s.apparent_tilt_deg), "field_curvature_m_um": s.k_meridional_um_per_mm2 * r2,
            "field_curvature_s_um": s.k_sagittal_um_per_mm2 * r2,
            "decenter_um": 1000.0 * math.hypot(s.decenter_x_mm, s.decenter_y_mm), "surface_rms_um": s.rms_residual_um,
        })
    except FocuslabError:  # too few zones peaked inside the series: the fit's figures are unknown
        out.update(dict.fromkeys(("tilt_deg", "field_curvature_m_um", "field_curvature_s_um", "decenter_um",
                                  "surface_rms_um"), math.nan))
    return out


def unit_features(captures: dict, *, design: ModuleDesign, chart, positions_um) -> np.ndarray:
    """The feature vector (order :data:`FEATURES`) of one unit's captures."""
    black, white = design.sensor.black_level_dn, design.sensor.white_level_dn
    frames = [normalize_raw(f, black_level_dn=black, white_level_dn=white) for f in captures["chart"]]
    feats = chart_features(frames, positions_um, chart, design=design)
    feats.update(sensor_features(captures["flat"], captures["dark"]))
    return np.array([feats[k] for k in FEATURES], dtype=float)
