"""``focuslab scenes`` / ``cameras`` / ``sensors``: list the built-in presets."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table


def scenes_command() -> None:
    """List the built-in scenes and their options."""
    from focuslab.scene.library import describe_scene, scene_names

    table = Table(title="built-in scenes")
    for col in ("name", "summary", "options"):
        table.add_column(col)
    for name in scene_names():
        info = describe_scene(name)
        opts = ", ".join(f"{k}={v!r}" for k, v in info.get("options", {}).items())
        table.add_row(name, info.get("summary", ""), opts)
    Console().print(table)


def cameras_command(
    files: list[Path] = typer.Argument(None,
                                       help="Camera files to check and show beside the presets (docs/cameras.md)."),
) -> None:
    """List the camera presets, and camera files given as arguments (each checked as it is read)."""
    from focuslab.camera import camera_names, get_camera
    from focuslab.camera.camera_file import load_camera_file

    cams = [(name, get_camera(name)) for name in camera_names()]
    cams += [(str(f), load_camera_file(f)) for f in files or ()]
    table = Table(title="cameras" if files else "camera presets")
    for col in ("name", "lens", "sensor", "dual pixel", "depth sensor", "preview stream", "codes / DoF at 1 m"):
        table.add_column(col)
    for name, cam in cams:
        st = cam.stream_sensor
        table.add_row(
            name if name == cam.name else f"{cam.name} ({name})",
            f"{cam.lens.focal_length_mm:g} mm f/{cam.lens.f_number:g}, near {cam.lens.min_focus_distance_m:g} m",
            f"{cam.sensor.name} {cam.sensor.pixel_pitch_um:g} um {cam.sensor.width_px}x{cam.sensor.height_px}",
            "yes" if cam.has_dual_pixel else "no",
            "ToF" if cam.depth_sensor is not None else "-",
            f"{st.width_px}x{st.height_px} @ {st.pixel_pitch_um:g} um",
            f"{_codes_per_dof(cam, 1.0):.1f}",
        )
    Console(width=max(Console().width, 150)).print(table)


def _codes_per_dof(cam, distance_m: float) -> float:
    """Actuator codes per depth of focus with the lens focused at ``distance_m``: the figure the AF
    policies and the in-focus bands use (:func:`focuslab.af.af_signals.codes_per_dof`)."""
    from focuslab.af.af_signals import codes_per_dof
    from focuslab.af.backends import camera_context

    return codes_per_dof(camera_context(cam), float(cam.focus_code_for_distance(distance_m)))


def sensors_command() -> None:
    """List the sensor presets."""
    from focuslab.sensor import get_sensor, sensor_names

    table = Table(title="sensor presets")
    for col in ("name", "pitch", "size", "bits", "full well", "read noise", "CFA", "dual pixel"):
        table.add_column(col)
    for name in sensor_names():
        s = get_sensor(name)
        table.add_row(name, f"{s.pixel_pitch_um:g} um", f"{s.width_px}x{s.height_px}", str(s.adc_bits),
                      f"{s.full_well_e:g} e-", f"{s.read_noise_e:g} e-", s.cfa, "yes" if s.dual_pixel else "no")
    Console().print(table)


def register(app: typer.Typer) -> None:
    """Add the commands to the app."""
    app.command("scenes")(scenes_command)
    app.command("cameras")(cameras_command)
    app.command("sensors")(sensors_command)
