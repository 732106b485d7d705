"""HTML report of a module qualification (self-contained, :mod:`focuslab.html_report`).

Sections: the verdict table; the MTF50 field maps (sagittal and meridional heat maps with
the measured edges); for a series, the through-focus SFR curves per zone, the best-focus
surface (measured zone points, the fitted M/S surfaces and the tilt plane along x and y, and
a map of the fitted mean surface) and the headline figures.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from focuslab.html_report import Section, write_report
from focuslab.hw.qualify import ZONES, FrameQualification, SeriesQualification, zone_points
from focuslab.hw.qualify_spec import Verdict, overall

_ZONE_COLOURS = dict(zip(ZONES, ("black", "tab:blue", "tab:green", "tab:orange", "tab:red"), strict=True))


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _fmt(v) -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.4g}"


def verdict_section(verdicts: list[Verdict]) -> Section:
    sec = Section(f"Verdict: {overall(verdicts)}")
    if not verdicts:
        return sec.text("No spec given (--spec): figures only.")
    rows = [(v.criterion, v.description, _fmt(v.measured), f"{v.kind} {v.limit:g} {v.unit}".strip(),
             {True: "pass", False: "FAIL", None: "not measured"}[v.passed]) for v in verdicts]
    return sec.table(["criterion", "what", "measured", "limit", "result"], rows)


def field_map_section(frame: FrameQualification, title: str) -> Section:
    plt = _plt()
    res = frame.chart
    h, w = res.image_shape
    fm = res.field_map
    vals = [e.mtf50_cpp for e in res.edges if math.isfinite(e.mtf50_cpp)]
    vmin, vmax = (min(vals), max(vals)) if vals else (0.0, 0.5)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), constrained_layout=True)
    extent = (fm.x_px[0], fm.x_px[-1], fm.y_px[-1], fm.y_px[0])
    for ax, name in zip(axes, ("sagittal", "meridional"), strict=True):
        im = ax.imshow(fm.mtf50_cpp[name], extent=extent, origin="upper", cmap="viridis", vmin=vmin, vmax=vmax)
        edges = [e for e in res.edges if e.direction == name]
        ax.scatter([e.position_xy[0] for e in edges], [e.position_xy[1] for e in edges],
                   c=[e.mtf50_cpp for e in edges], cmap="viridis", vmin=vmin, vmax=vmax, edgecolors="white", s=30)
        ax.set_xlim(0, w - 1)
        ax.set_ylim(h - 1, 0)
        ax.set_aspect("equal")
        ax.set_title(f"MTF50, {name} ({len(edges)} edges)")
    fig.colorbar(im, ax=axes, label="MTF50 (cycles/pixel)", shrink=0.9)
    sec = Section(title).figure(fig, "MTF50 field maps (linear interpolation between edges)")
    rows = [(z, _fmt(frame.zone_mtf50_cpp[z]["sagittal"]), _fmt(frame.zone_mtf50_cpp[z]["meridional"]),
             _fmt(frame.zone_sfr[z])) for z in ZONES]
    sec.table(["zone", "MTF50 S (cy/px)", "MTF50 M (cy/px)", f"SFR at {frame.reference_cpp:g} cy/px"], rows)
    corners = ", ".join(f"{k} {_fmt(v)}" for k, v in frame.corner_mtf50_cpp.items())
    return sec.text(f"Corner MTF50 (cy/px): {corners}; imbalance (max - min) / mean = {_fmt(frame.corner_imbalance)}.")


def through_focus_section(q: SeriesQualification) -> Section:
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True, sharey=True)
    for ax, d in zip(axes, ("sagittal", "meridional"), strict=True):
        for z in ZONES:
            ts = [t for t in q.tracks if t.zone == z and t.direction == d]
            if ts:
                ax.plot(q.lens_positions_um, np.nanmean([t.sfr_ref for t in ts], axis=0), "-o", ms=3,
                        color=_ZONE_COLOURS[z], label=f"{z} ({len(ts)})")
        ax.set_title(f"{d}: mean SFR at {q.reference_cpp:g} cy/px per zone")
        ax.set_xlabel("lens position (um)")
        ax.legend(fontsize=8)
    axes[0].set_ylabel("SFR")
    sec = Section("Through-focus curves").figure(fig, "Through-focus SFR per field zone")
    rows = [(z, _fmt(q.zone_best_focus_um[z]["sagittal"]), _fmt(q.zone_best_focus_um[z]["meridional"])) for z in ZONES]
    return sec.table(["zone", "best focus S (um)", "best focus M (um)"], rows)


def surface_section(q: SeriesQualification) -> Section:
    plt = _plt()
    h, w = q.best_frame_result.chart.image_shape
    pts = zone_points(q.tracks)
    p = q.pixel_pitch_um / 1000.0
    x = np.array([(a[0] - (w - 1) / 2.0) * p for a in pts])
    y = np.array([(a[1] - (h - 1) / 2.0) * p for a in pts])
    z = np.array([a[3] for a in pts])
    m = np.array([a[2] == "meridional" for a in pts])
    s = q.surface
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), constrained_layout=True)
    for ax, coord, name in ((axes[0], x, "x"), (axes[1], y, "y")):
        for sel, d, mk in ((m, "meridional", "o"), (~m, "sagittal", "s")):
            ax.scatter(coord[sel], z[sel] - s.predict_um(x[sel], y[sel], d) + (
                s.z0_um + s.slope_x_um_per_mm * x[sel] + s.slope_y_um_per_mm * y[sel]), marker=mk, s=20,
                label=f"{d} (curvature removed)")
        line = np.linspace(coord.min(), coord.max(), 20)
        slope = s.slope_x_um_per_mm if name == "x" else s.slope_y_um_per_mm
        ax.plot(line, s.z0_um + slope * line, "k-", label="tilt plane")
        ax.set_xlabel(f"{name} (mm)")
        ax.set_ylabel("best-focus lens position (um)")
        ax.legend(fontsize=8)
    gx, gy = np.meshgrid(np.linspace(x.min(), x.max(), 60), np.linspace(y.min(), y.max(), 45))
    mean_surface = 0.5 * (s.predict_um(gx, gy, "meridional") + s.predict_um(gx, gy, "sagittal"))
    im = axes[2].imshow(mean_surface, origin="upper", extent=(gx.min(), gx.max(), gy.max(), gy.min()), cmap="coolwarm")
    axes[2].set_title("fitted best focus, mean of M and S (um)")
    axes[2].set_xlabel("x (mm)")
    axes[2].set_ylabel("y (mm)")
    fig.colorbar(im, ax=axes[2])
    sec = Section("Best-focus surface").figure(
        fig, "Zone best focus with the field curvature removed, and the tilt plane")
    rows = [(k, _fmt(v)) for k, v in q.figures().items()]
    sec.table(["figure", "value"], rows)
    for wmsg in q.warnings:
        sec.text(f"warning: {wmsg}")
    return sec


def write_qualify_report(path: str | os.PathLike, *, frame: FrameQualification, verdicts: list[Verdict],
                         series: SeriesQualification | None = None, source: str = "",
                         command: str | None = None) -> Path:
    """Write the qualification report to ``path``."""
    sections = [verdict_section(verdicts)]
    title = "MTF50 field map" if series is None else (
        f"MTF50 field map at lens {series.lens_positions_um[series.best_frame]:.1f} um (frame nearest best focus)")
    sections.append(field_map_section(frame, title))
    if series is not None:
        sections += [through_focus_section(series), surface_section(series)]
    return write_report(path, f"Module qualification {source}".strip(), sections, command=command)
