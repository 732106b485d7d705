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
    """Actuator codes per depth of focus with the lens focused at ``distance_m``.

    One DoF of blur c_max takes an image-side travel of c_max N s / f (blur c = A s dD and
    ds / dD = s^2, A = f / N), divided by the actuator's local travel per code.
    """
    code = cam.focus_code_for_distance(distance_m)
    act = cam.actuator
    um_per_code = float(act.displacement_um(min(code + 1, act.max_code)) - act.displacement_um(max(code - 1, 0))) / 2.0
    s_mm = cam.sensor_distance_mm(float(act.displacement_um(code)))
    travel_um = cam.coc_max_um * cam.lens.f_number * s_mm / cam.lens.focal_length_mm
    return travel_um / max(um_per_code, 1e-12)


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
