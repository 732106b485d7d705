"""``focuslab demo``: the main job on the built-in default (see focuslab.bench.demo)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from focuslab.bench.demo import run_demo


def demo_command(
    out: Path = typer.Option(Path("demo_out"), "--out", help="Output folder."),
    scene: str = typer.Option("dead_leaves", help="Built-in scene."),
    camera: str = typer.Option("phone_main", help="Camera preset or camera file (docs/cameras.md)."),
    positions: int = typer.Option(31, help="Lens positions in the sweep."),
    lux: float = typer.Option(500.0, help="Scene illuminance, lux."),
    seed: int = typer.Option(0, help="Seed of texture and noise."),
) -> None:
    """Render a focal sweep of the default scene, measure contrast and phase, write a report."""
    err = Console(stderr=True)
    with Progress(TextColumn("[bold]rendering sweep"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True) as bar:
        task = bar.add_task("frames", total=None)
        res = run_demo(out, scene_name=scene, camera_name=camera, positions=positions, illuminance_lux=lux,
                       seed=seed, progress=lambda d, t: bar.update(task, completed=d, total=t))
    table = Table(title=f"focuslab demo: {res.scene} with {res.camera}")
    table.add_column("measurement")
    table.add_column("value", justify="right")
    table.add_row("subject distance", f"{res.subject_distance_m:.3f} m")
    table.add_row("frames rendered", str(res.frames))
    table.add_row("true best code (factory calibration)", str(res.true_best_code))
    table.add_row("contrast peak code", f"{res.contrast_peak_code:.1f}")
    table.add_row("focus error at contrast peak", f"{res.contrast_focus_error_dof:.2f} DoF (in focus <= 1)")
    table.add_row("dual-pixel disparity / model", f"{res.disparity_slope:.3f}")
    table.add_row("dual-pixel zero crossing code", f"{res.disparity_zero_code:.1f}")
    Console().print(table)
    print(f"report: {res.report}")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("demo")(demo_command)
