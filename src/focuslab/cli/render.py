"""``focuslab render``: write a simulated focal stack folder."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from focuslab.data.stack_render import render_stack_folder


def render_command(
    out: Path = typer.Option(..., "--out", help="Output folder for frames + stack.json."),
    scene: str = typer.Option("dead_leaves", help="Built-in scene (see 'focuslab scenes')."),
    camera: str = typer.Option("phone_main",
                               help="Camera preset (see 'focuslab cameras') or camera file (docs/cameras.md)."),
    positions: int = typer.Option(15, help="Lens positions from infinity to the minimum focus distance."),
    dual_pixel: bool = typer.Option(False, "--dual-pixel", help="Also write left/right sub-images."),
    lux: float = typer.Option(500.0, help="Scene illuminance, lux."),
    exposure_s: float | None = typer.Option(None, help="Exposure time, s (default: auto-exposure)."),
    seed: int = typer.Option(0, help="Seed of texture and noise: same seed, same bytes."),
    subject_distance_m: float | None = typer.Option(None, help="Subject distance, m (scene default)."),
    focal_length_mm: float | None = typer.Option(None, help="Override the preset's focal length, mm."),
    f_number: float | None = typer.Option(None, help="Override the preset's f-number."),
    output: str = typer.Option("raw", help="'raw' (DN mosaics, black level in) or 'rgb' (processed sRGB)."),
    resume: bool = typer.Option(False, "--resume", help="Keep frames an interrupted run already wrote."),
) -> None:
    """Render a focal stack of a built-in scene (docs/focal_stack_format.md)."""
    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]rendering"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    ) as bar:
        task = bar.add_task("frames", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        manifest = render_stack_folder(
            out, scene_name=scene, camera_name=camera, positions=positions, dual_pixel=dual_pixel,
            illuminance_lux=lux, exposure_s=exposure_s, seed=seed, subject_distance_m=subject_distance_m,
            focal_length_mm=focal_length_mm, f_number=f_number, output=output, resume=resume,
            progress=progress,
        )
    print(f"wrote {manifest}")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("render")(render_command)
