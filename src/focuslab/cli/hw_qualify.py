"""``focuslab hw qualify`` and ``focuslab hw simulate-module``: camera-module qualification.

``qualify`` measures one chart frame (MTF50 field map) or a through-focus series folder
(best focus per zone, field curvature, astigmatism, sensor tilt, lens decenter) and checks
a spec; ``simulate-module`` writes such a series (or one frame) from a simulated module with
given assembly errors (docs/hw_qualification.md).
"""

from __future__ import annotations

import json
import math
import shlex
import sys
from pathlib import Path

import numpy as np
import typer
from rich.console import Console

from focuslab.errors import InvalidParameterError

app_help = "Module qualification from a chart frame or a through-focus series (MTF50 map, tilt, decenter)."


def _load_frame(image: Path, black_level_dn: float, white_level_dn: float | None) -> np.ndarray:
    from focuslab.data.image_files import read_image
    from focuslab.hw.qualify import normalize_raw

    img = read_image(image)
    if img.ndim == 3:
        img = img.mean(axis=2).astype(img.dtype)
    return normalize_raw(img, black_level_dn=black_level_dn, white_level_dn=white_level_dn)


def _fmt(v) -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.4g}"


def qualify_command(
    image: Path | None = typer.Argument(None, help="One chart frame (grey PNG/TIFF)."),
    series: Path | None = typer.Option(None, "--series", help="Through-focus series folder (series.json)."),
    spec: Path | None = typer.Option(None, "--spec", help="Pass/fail spec YAML (format focuslab.qualify_spec/1)."),
    out: Path | None = typer.Option(None, "--out", help="Write qualification.json here."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    report: Path | None = typer.Option(None, "--report", help="Write an HTML report."),
    pixel_pitch_um: float | None = typer.Option(None, help="Pixel pitch, um (default: the series' own)."),
    decenter_tilt_deg_per_mm: float | None = typer.Option(
        None, help="Lens design's image tilt per mm of decenter, deg/mm (default: the series' own, else 0)."),
    black_level_dn: float = typer.Option(0.0, help="Black level of IMAGE, DN."),
    white_level_dn: float | None = typer.Option(None, help="White level of IMAGE, DN (default: the type's max)."),
) -> None:
    """Qualify a camera module: MTF50 field map, best focus, field curvature, tilt, decenter, verdicts."""
    from focuslab.files import ensure_dir, write_json_atomic
    from focuslab.hw.module_series import read_series
    from focuslab.hw.qualify import qualify_frame, qualify_series
    from focuslab.hw.qualify_report import write_qualify_report
    from focuslab.hw.qualify_spec import default_spec, evaluate, load_spec, overall

    if (image is None) == (series is None):
        raise InvalidParameterError("give either one IMAGE or --series DIR (not both, not neither)")
    sp = load_spec(spec) if spec is not None else default_spec()
    if out is not None:
        ensure_dir(out)
    sq = None
    if series is not None:
        s = read_series(series)
        pitch = pixel_pitch_um if pixel_pitch_um is not None else s.pixel_pitch_um
        if pitch is None:
            raise InvalidParameterError(
                f"{series}/series.json has no pixel_pitch_um; add it or pass --pixel-pitch-um")
        kappa = decenter_tilt_deg_per_mm if decenter_tilt_deg_per_mm is not None else s.decenter_tilt_deg_per_mm
        sq = qualify_series(s.frames, s.lens_positions_um, pixel_pitch_um=pitch, reference_cpp=sp.reference_cpp,
                            decenter_tilt_deg_per_mm=kappa)
        fq = sq.best_frame_result
        source = str(series)
    else:
        fq = qualify_frame(_load_frame(image, black_level_dn, white_level_dn), reference_cpp=sp.reference_cpp)
        source = str(image)
    verdicts = evaluate(sp, fq, sq)
    doc = {"source": source, "spec": sp.name, "verdict": overall(verdicts), "criteria": [v.to_dict() for v in verdicts],
           "frame": fq.to_dict()}
    if sq is not None:
        doc["series"] = sq.to_dict()
    if out is not None:
        write_json_atomic(Path(out) / "qualification.json", doc)
    if report is not None:
        write_qualify_report(report, frame=fq, verdicts=verdicts, series=sq, source=source,
                             command="focuslab " + shlex.join(sys.argv[1:]))
    if as_json:
        print(json.dumps(doc, allow_nan=False))
        return
    con = Console()
    con.print(f"{source}: {len(fq.chart.edges)} edges; verdict: {overall(verdicts)}")
    for z, v in fq.zone_mtf50_cpp.items():
        con.print(f"  MTF50 {z:>6}: S {_fmt(v['sagittal'])}  M {_fmt(v['meridional'])} cy/px")
    con.print(f"  corner imbalance {_fmt(fq.corner_imbalance)}")
    if sq is not None:
        for k, v in sq.figures().items():
            con.print(f"  {k}: {_fmt(v)}")
        for w in sq.warnings:
            con.print(f"  warning: {w}")
    for v in verdicts:
        res = {True: "pass", False: "FAIL", None: "not measured"}[v.passed]
        con.print(f"  {v.criterion}: {_fmt(v.measured)} ({v.kind} {v.limit:g}) {res}")
    for p in (out, report):
        if p is not None:
            con.print(f"wrote {p}")


def simulate_module_command(
    out_dir: Path = typer.Argument(..., help="Folder to write (series.json + frames)."),
    tilt_x_deg: float = typer.Option(0.0, help="Sensor tilt along x (slope dz/dx), degrees."),
    tilt_y_deg: float = typer.Option(0.0, help="Sensor tilt along y, degrees."),
    decenter_x_um: float = typer.Option(0.0, help="Optical axis offset from the sensor centre along x, um."),
    decenter_y_um: float = typer.Option(0.0, help="... along y (down), um."),
    back_focus_um: float = typer.Option(0.0, help="Back-focus error (sensor too far when > 0), um."),
    extra_field_curvature_um: float = typer.Option(0.0, help="Extra best-focus shift at the corner, um."),
    series: bool = typer.Option(False, "--series", help="A through-focus series (else one frame at nominal focus)."),
    frames: int = typer.Option(15, help="Frames of the series."),
    step_um: float | None = typer.Option(None, help="Lens step of the series, um (default N c_max / 3)."),
    camera: str = typer.Option("phone_main",
                               help="Camera preset or camera file (docs/cameras.md) whose lens the module uses."),
    psf: str = typer.Option("wave", help="PSF model: wave (FieldDependentPsf) or gaussian (fast)."),
    seed: int = typer.Option(0, help="Noise seed (frame i uses seed + i)."),
) -> None:
    """Simulate a module with assembly errors and write its chart captures (series format)."""
    from focuslab.camera.presets import get_camera
    from focuslab.hw.module_model import ModuleBuild, ModuleDesign
    from focuslab.hw.module_render import capture_series, through_focus_positions_um
    from focuslab.hw.module_series import write_series

    design = ModuleDesign.from_camera(get_camera(camera))
    build = ModuleBuild(tilt_x_deg, tilt_y_deg, decenter_x_um, decenter_y_um, back_focus_um, extra_field_curvature_um)
    if series:
        pos = through_focus_positions_um(design, frames=frames, step_um=step_um)
    else:
        pos = np.array([design.nominal_lens_um])
    raw = capture_series(design, build, pos, seed=seed, psf_model=psf)
    truth = {"camera": camera, "psf_model": psf, "build": build.to_dict(),
             "apparent_tilt_deg": list(design.apparent_tilt_deg(build)), "nominal_lens_um": design.nominal_lens_um}
    path = write_series(out_dir, raw, pos, pixel_pitch_um=design.pixel_pitch_um,
                        black_level_dn=design.sensor.black_level_dn, white_level_dn=design.sensor.white_level_dn,
                        decenter_tilt_deg_per_mm=design.decenter_tilt_deg_per_mm, truth=truth)
    Console().print(f"wrote {len(raw)} frame(s) and {path}")


def register(hw_app: typer.Typer) -> None:
    """Add ``qualify`` and ``simulate-module`` to the ``hw`` group."""
    hw_app.command("qualify", help=app_help)(qualify_command)
    hw_app.command("simulate-module")(simulate_module_command)
