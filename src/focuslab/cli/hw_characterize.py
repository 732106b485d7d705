"""``focuslab hw characterize`` (EMVA 1288 R4.0 evaluation of a series folder) and
``focuslab hw simulate-series`` (write a simulated series with known truth)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table


def characterize_command(
    series_dir: Path = typer.Argument(..., help="Series folder: series.json + dark/flat frames (16-bit PNG/TIFF, "
                                                ".npy or camera raw)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
    report: Path | None = typer.Option(None, "--report", help="Write an HTML report with the standard's plots."),
    channel: list[str] | None = typer.Option(
        None, "--channel", help="Channel to evaluate (repeatable): mono, or R, Gr, Gb, B of a Bayer series."
    ),
    curves: bool = typer.Option(False, "--curves/--no-curves", help="Include the per-step curves in --json."),
) -> None:
    """EMVA 1288 (Release 4.0) characterization: gain, dark noise, SNR, saturation, DR, linearity, DSNU, PRNU."""
    from focuslab.files import ensure_dir
    from focuslab.hw.emva import characterize_series

    if report is not None:
        ensure_dir(report.parent)  # fail before the work, not after
    result = characterize_series(series_dir, channels=channel)
    written = None
    if report is not None:
        from focuslab.hw.emva_report import write_emva_report

        written = write_emva_report(result, report, source=str(series_dir),
                                    command="focuslab " + " ".join(sys.argv[1:]))
    if as_json:
        doc = {"source": str(series_dir), **result.to_dict(curves=curves)}
        if written:
            doc["report"] = str(written)
        print(json.dumps(doc, allow_nan=False))
        return
    from focuslab.hw.emva_report import summary_rows

    console = Console()
    names = list(result.channels)
    table = Table(title=f"EMVA 1288 R4.0: {series_dir} ({result.n_frames} frames, "
                        f"{result.shape_px[1]}x{result.shape_px[0]}, {result.cfa})")
    table.add_column("figure", justify="left")
    for n in names:
        table.add_column(n, justify="right")
    for row in summary_rows(result):
        table.add_row(str(row[0]), *(v if isinstance(v, str) else f"{v:.4g}" for v in row[1:]))
    console.print(table)
    for note in result.notes:
        console.print(f"note: {note}")
    if written:
        console.print(f"wrote {written}")


def simulate_series_command(
    out: Path = typer.Argument(..., help="Folder to write (series.json + 16-bit PNG frames)."),
    sensor: str = typer.Option(..., "--sensor", help="Sensor preset name (see `focuslab info`)."),
    width_px: int = typer.Option(128, help="Width of the simulated window, pixels."),
    height_px: int = typer.Option(128, help="Height of the simulated window, pixels."),
    steps: int = typer.Option(50, help="Exposure steps from dark to past saturation (>= 6; 50 recommended)."),
    frames_per_step: int = typer.Option(2, help="Frames per step (>= 2)."),
    spatial_frames: int = typer.Option(16, help="Frames of the DSNU/PRNU step near 50 % saturation (>= 2)."),
    max_exposure_s: float = typer.Option(0.1, help="Longest exposure, seconds."),
    overdrive: float = typer.Option(1.25, help="Signal of the last step over the saturation capacity (> 1)."),
    dark_current_e_per_s: float | None = typer.Option(None, help="Override the preset's dark current, e-/s."),
    seed: int = typer.Option(0, help="Noise seed (same seed, same frames)."),
) -> None:
    """Write a simulated EMVA 1288 series of a sensor preset (its true figures go into series.json)."""
    from dataclasses import replace

    from focuslab.errors import check_positive
    from focuslab.hw.emva_simulate import SeriesDesign, write_simulated_series
    from focuslab.sensor.presets import get_sensor

    spec = get_sensor(sensor)
    if dark_current_e_per_s is not None:
        spec = replace(spec, dark_current_e_per_s=check_positive("dark_current_e_per_s", dark_current_e_per_s,
                                                                 allow_zero=True))
    design = SeriesDesign(width_px=width_px, height_px=height_px, n_steps=steps, frames_per_step=frames_per_step,
                          spatial_frames=spatial_frames, max_exposure_s=max_exposure_s, overdrive=overdrive)
    root = write_simulated_series(spec, out, design=design, seed=seed)
    n = len(json.loads((root / "series.json").read_text())["frames"])
    sat = spec.saturation_e
    Console().print(f"wrote {n} frames of {spec.name} ({width_px}x{height_px}, {spec.cfa}) to {root}; truth: "
                    f"K {spec.conversion_gain_dn_per_e:.4g} DN/e-, read noise {spec.read_noise_e:g} e-, "
                    f"saturation {sat:.0f} e- ({20 * math.log10(math.sqrt(sat)):.1f} dB SNR max)")


def register(hw_app: typer.Typer) -> None:
    """Add ``characterize`` and ``simulate-series`` to the ``hw`` group."""
    hw_app.command("characterize")(characterize_command)
    hw_app.command("simulate-series")(simulate_series_command)
