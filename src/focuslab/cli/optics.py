"""``focuslab dof``: thin-lens focus geometry of a lens (DoF, hyperfocal, blur of an object)."""

from __future__ import annotations

import math

import typer
from rich.console import Console
from rich.table import Table

from focuslab.optics import (
    LensSpec,
    coc_diameter_um,
    coc_max_um,
    depth_of_field_m,
    focus_error_dof,
    hyperfocal_distance_m,
    lens_displacement_um,
    sensor_distance_mm,
)


def dof_command(
    focal_length_mm: float = typer.Option(4.38, help="Focal length, mm."),
    f_number: float = typer.Option(1.73, help="f-number N."),
    pixel_pitch_um: float = typer.Option(1.4, help="Pixel pitch, um (c_max = 2 pitches)."),
    focus_distance_m: float = typer.Option(1.0, help="Distance the lens is focused at, m."),
    object_distance_m: float | None = typer.Option(
        None, help="Also report the blur of an object at this distance, m."
    ),
) -> None:
    """Depth of field, hyperfocal distance and lens travel of a thin lens (DESIGN.md physics)."""
    lens = LensSpec(focal_length_mm=focal_length_mm, f_number=f_number,
                    min_focus_distance_m=max(1.01 * focal_length_mm / 1000.0, 1e-3))
    cmax = coc_max_um(pixel_pitch_um)
    s = sensor_distance_mm(focal_length_mm, focus_distance_m)
    near, far = depth_of_field_m(lens, focus_distance_m, cmax)
    table = Table(title=f"thin lens f = {focal_length_mm:g} mm, N = {f_number:g}")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    table.add_row("aperture diameter", f"{lens.aperture_diameter_mm:.4g} mm")
    table.add_row("sensor distance s", f"{s:.6g} mm")
    travel_um = lens_displacement_um(focal_length_mm, focus_distance_m)
    table.add_row("lens displacement from infinity", f"{travel_um:.4g} um")
    table.add_row("permissible CoC c_max", f"{cmax:.4g} um (2 pixels)")
    table.add_row("hyperfocal distance", f"{hyperfocal_distance_m(lens, cmax):.4g} m")
    table.add_row("depth of field", f"{near:.4g} m .. {'inf' if math.isinf(far) else f'{far:.4g} m'}")
    if object_distance_m is not None:
        c = coc_diameter_um(lens, object_distance_m, s)
        blur = f"{c:+.4g} um = {c / pixel_pitch_um:+.4g} px"
        table.add_row(f"blur of object at {object_distance_m:g} m", blur)
        table.add_row("focus error", f"{focus_error_dof(c, cmax):.3g} DoF units")
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("dof")(dof_command)
