"""``focuslab chart``: find and measure every slanted edge of a chart image, map MTF50."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from focuslab.files import atomic_path, ensure_dir
from focuslab.metrics.charts import ChartResult, analyze_chart

if TYPE_CHECKING:
    from focuslab.data.measure_input import MeasurementImage

_COLOURS = {"sagittal": "tab:blue", "meridional": "tab:red", "mixed": "tab:grey"}


def chart_report(
    image: Path,
    *,
    layout: str = "squares",
    channel: str = "luminance",
    encoding: str | None = None,
    raw_mode: str = "demosaic",
    threshold: str = "otsu",
    polarity: str = "dark",
) -> tuple[ChartResult, MeasurementImage, str]:
    """Load ``image`` and analyse it; returns (result, the loaded image, the encoding used).

    The encoding defaults to ``linear`` for camera raw files and ``srgb`` for other files.
    """
    from focuslab.data.measure_input import load_measurement_image  # OpenCV/rawpy only when a file is read

    img = load_measurement_image(image, raw_mode=raw_mode)
    enc = encoding or ("linear" if img.linear else "srgb")
    res = analyze_chart(img.data, layout=layout, channel=channel, encoding=enc, threshold=threshold,
                        polarity=polarity)
    return res, img, enc


def _fmt(v: float | None, spec: str = ".3f") -> str:
    return "-" if v is None or not math.isfinite(v) else format(v, spec)


def print_table(result: ChartResult, console: Console) -> None:
    """The edges, the summary and the warnings as text."""
    h = result.image_shape[0]
    table = Table(title=f"{len(result.edges)} slanted edges (MTF in cycles/pixel)", show_lines=False)
    for col in ("#", "sq.s", "x", "y", "r", "class", "run", "angle", "MTF50", "LW/PH", "MTF10"):
        table.add_column(col, justify="left" if col in ("class", "run") else "right", no_wrap=True)
    for i, e in enumerate(result.edges):
        table.add_row(
            str(i), f"{e.square}.{e.side}", f"{e.position_xy[0]:.0f}", f"{e.position_xy[1]:.0f}",
            f"{e.field_radius:.2f}", e.direction[:4], e.orientation[:4], f"{e.sfr.angle_deg:.1f}", _fmt(e.mtf50_cpp),
            _fmt(2.0 * e.mtf50_cpp * h, ".0f"), _fmt(float(e.sfr.mtf10_cpp)),
        )
    console.print(table)
    for i, e in enumerate(result.edges):
        for w in e.warnings:
            console.print(f"edge {i}: {w}")
    s = result.summary
    console.print(
        f"MTF50 cy/px: mean {_fmt(s.mtf50_mean_cpp)}, centre (r < 0.3) {_fmt(s.centre_mtf50_cpp)}, "
        f"corners (r > 0.6) {_fmt(s.corner_mtf50_cpp)}, sagittal {_fmt(s.sagittal_mtf50_cpp)} ({s.n_sagittal}), "
        f"meridional {_fmt(s.meridional_mtf50_cpp)} ({s.n_meridional}), mixed {s.n_mixed}"
    )
    for w in result.warnings:
        console.print(f"warning: {w}")


def _display(data: np.ndarray) -> np.ndarray:
    grey = data.mean(axis=2) if data.ndim == 3 else data
    lo, hi = np.percentile(grey, [0.5, 99.5])
    return np.clip((grey - lo) / max(hi - lo, 1e-12), 0.0, 1.0)


def write_plots(result: ChartResult, data: np.ndarray, plot_dir: Path) -> list[Path]:
    """Write ``field_map.png`` (MTF50 maps: all, sagittal, meridional) and ``edges.png`` (overlay)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon, Rectangle

    out = ensure_dir(plot_dir)
    h, w = result.image_shape
    fm = result.field_map
    values = [e.mtf50_cpp for e in result.edges if math.isfinite(e.mtf50_cpp)]
    vmin, vmax = (min(values), max(values)) if values else (0.0, 0.5)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6), constrained_layout=True)
    extent = (fm.x_px[0], fm.x_px[-1], fm.y_px[-1], fm.y_px[0])
    for ax, name in zip(axes, ("all", "sagittal", "meridional"), strict=True):
        im = ax.imshow(fm.mtf50_cpp[name], extent=extent, origin="upper", cmap="viridis", vmin=vmin, vmax=vmax,
                       interpolation="bilinear")
        edges = [e for e in result.edges if name == "all" or e.direction == name]
        if edges:
            ax.scatter([e.position_xy[0] for e in edges], [e.position_xy[1] for e in edges],
                       c=[e.mtf50_cpp for e in edges], cmap="viridis", vmin=vmin, vmax=vmax, edgecolors="white", s=36)
        ax.set_xlim(0, w - 1)
        ax.set_ylim(h - 1, 0)
        ax.set_aspect("equal")
        ax.set_title(f"MTF50, {name} ({len(edges)} edges)")
        ax.set_xlabel("x (px)")
        ax.set_ylabel("y (px)")
    fig.colorbar(im, ax=axes, label="MTF50 (cycles/pixel)", shrink=0.9)
    field_path = out / "field_map.png"
    with atomic_path(field_path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(9, 9 * h / max(w, 1)), constrained_layout=True)
    ax.imshow(_display(data), cmap="gray", vmin=0, vmax=1)
    for q in result.squares:
        ax.add_patch(Polygon(q.corners_xy, closed=True, fill=False, edgecolor="yellow", lw=0.8))
    for e in result.edges:
        x, y, rw, rh = e.roi
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), rw, rh, fill=False, edgecolor=_COLOURS[e.direction], lw=1.2))
        ax.text(e.position_xy[0], e.position_xy[1], _fmt(e.mtf50_cpp, ".3f"), color=_COLOURS[e.direction],
                fontsize=7, ha="center", va="center", bbox={"facecolor": "white", "alpha": 0.6, "pad": 1, "lw": 0})
    for s in result.skipped:
        ax.plot(*s.position_xy, marker="x", color="orange", ms=5)
    ax.set_title("edges: sagittal (blue), meridional (red), mixed (grey); skipped x; MTF50 in cy/px")
    ax.set_axis_off()
    overlay_path = out / "edges.png"
    with atomic_path(overlay_path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return [field_path, overlay_path]


def chart_command(
    image: Path = typer.Argument(..., help="Chart image (PNG/TIFF/JPEG 8/16-bit, or camera raw)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
    plot_dir: Path | None = typer.Option(None, "--plot-dir", help="Write field_map.png and edges.png here."),
    layout: str = typer.Option("squares", help="squares (any dark quadrilaterals) or esfr (ISO 12233 e-SFR chart)."),
    channel: str = typer.Option("luminance", help="luminance, R, G or B."),
    encoding: str | None = typer.Option(
        None, help="srgb, linear or gamma:G (default: linear for raw files, srgb otherwise)."
    ),
    raw_mode: str = typer.Option("demosaic", help="Raw files: demosaic, mosaic, cfa:R, cfa:G, cfa:G2 or cfa:B."),
    threshold: str = typer.Option("otsu", help="Segmentation: otsu (global) or local (uneven lighting)."),
    polarity: str = typer.Option("dark", help="dark (dark squares on light ground) or light."),
    curves: bool = typer.Option(True, "--curves/--no-curves", help="Include each edge's SFR curve in --json."),
    pixel_pitch_um: float | None = typer.Option(
        None, help="Sensor pixel pitch, um: also report MTF50 in lp/mm (a raw CFA plane counts 2 pitches)."
    ),
) -> None:
    """Find every slanted edge of a chart, measure its SFR, report MTF50 by field position."""
    res, img, enc = chart_report(image, layout=layout, channel=channel, encoding=encoding, raw_mode=raw_mode,
                                 threshold=threshold, polarity=polarity)
    pitch_um = None if pixel_pitch_um is None else pixel_pitch_um * img.sample_pitch_factor
    doc = res.to_dict(curves=curves, pixel_pitch_um=pitch_um)  # validates the pitch before any file is written
    written = write_plots(res, img.data, plot_dir) if plot_dir is not None else []
    if as_json:
        doc = {"source": str(image), "encoding": enc, "layout": layout, **doc}
        if written:
            doc["plots"] = [str(p) for p in written]
        print(json.dumps(doc, allow_nan=False))
        return
    console = Console()
    print_table(res, console)
    if "summary_lp_per_mm" in doc:
        mm = doc["summary_lp_per_mm"]
        console.print(
            f"MTF50 lp/mm (pitch {pitch_um:g} um): mean {_fmt(mm['mtf50_mean_lp_per_mm'], '.1f')}, "
            f"centre {_fmt(mm['centre_mtf50_lp_per_mm'], '.1f')}, corners {_fmt(mm['corner_mtf50_lp_per_mm'], '.1f')}"
        )
    for p in written:
        console.print(f"wrote {p}")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("chart")(chart_command)
