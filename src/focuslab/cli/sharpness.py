"""``focuslab sharpness``: a focus-measure score per image (or per frame of a focal-stack folder), and the sharpest."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import typer

from focuslab.cli.sfr import parse_roi
from focuslab.data.focal_stack import read_focal_stack
from focuslab.data.image_files import read_image
from focuslab.data.measure_input import RAW_MODES, cfa_plane, load_measurement_image
from focuslab.errors import InvalidParameterError
from focuslab.metrics.focus import (
    describe_focus_measure,
    focus_measure,
    focus_measure_families,
    focus_measure_spec,
    peak_position,
)


def _inputs(paths: Sequence[str | os.PathLike]) -> tuple[list[tuple[Path, float | None, dict]], bool]:
    """Image files to measure with their lens positions and stack camera block, and whether
    they came from one stack folder."""
    items: list[tuple[Path, float | None, dict]] = []
    folders = 0
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            stack = read_focal_stack(p)
            items += [(stack.root / f.file, f.lens_position, stack.camera) for f in stack.frames]
            folders += 1
        else:
            items.append((p, None, {}))
    return items, folders == 1 and len(paths) == 1


def _load(path: Path, camera: dict, raw_mode: str) -> np.ndarray:
    """The image to score. Raw Bayer frames of a focal-stack folder (``cfa``, black and white
    levels in its ``camera`` block) are scored on their first green plane above black, so the
    CFA's colour modulation does not count as detail."""
    cfa = camera.get("cfa")
    if cfa in ("RGGB", "BGGR", "GRBG", "GBRG") and "black_level_dn" in camera and "white_level_dn" in camera:
        mosaic = read_image(path).astype(np.float64)
        black, white = float(camera["black_level_dn"]), float(camera["white_level_dn"])
        return cfa_plane((mosaic - black) / (white - black), cfa, "G")
    return load_measurement_image(path, raw_mode=raw_mode).data


def sharpness_report(
    paths: Sequence[str | os.PathLike],
    *,
    measure: str = "TENG",
    roi: Sequence[int] | None = None,
    window_px: int | None = None,
    raw_mode: str = "demosaic",
) -> dict:
    """Score every image (files, or the frames of focal-stack folders) with one focus measure.

    Returns
    -------
    dict
        ``measure``, ``description``, ``roi``, ``window_px``, ``images`` (``file``,
        ``lens_position`` or None, ``score``), ``sharpest`` (``index``, ``file``, ``score``),
        and for a single focal-stack folder ``peak_lens_position`` (parabolic refinement of
        the maximum over the lens positions).

    Raises
    ------
    FocuslabError
        No input, a missing/corrupt file, an unknown measure, an ROI outside an image...
    """
    spec = focus_measure_spec(measure)
    if not paths:
        raise InvalidParameterError("give at least one image file or focal-stack folder")
    items, one_stack = _inputs(paths)
    rows = []
    for path, lens_position, camera in items:
        image = _load(path, camera, raw_mode)
        score = focus_measure(image, spec.name, roi=roi, window_px=window_px)
        rows.append({"file": str(path), "lens_position": lens_position, "score": score})
    scores = np.array([r["score"] for r in rows])
    best = int(np.argmax(scores))
    out = {
        "measure": spec.name,
        "description": describe_focus_measure(spec.name),
        "roi": list(roi) if roi is not None else None,
        "window_px": window_px if window_px is not None else spec.window_px,
        "images": rows,
        "sharpest": {"index": best, "file": rows[best]["file"], "score": rows[best]["score"]},
    }
    if one_stack:
        out["peak_lens_position"] = peak_position([r["lens_position"] for r in rows], scores)
    return out


def _print_table(report: dict) -> None:
    width = max(len(Path(r["file"]).name) for r in report["images"])
    print(f"{report['measure']}: {report['description']}")
    for i, r in enumerate(report["images"]):
        mark = "  <- sharpest" if i == report["sharpest"]["index"] else ""
        lens = "" if r["lens_position"] is None else f"  lens {r['lens_position']:g}"
        print(f"{Path(r['file']).name:<{width}}{lens}  {r['score']:.6g}{mark}")
    print(f"sharpest: {report['sharpest']['file']}")
    if "peak_lens_position" in report:
        print(f"peak lens position (parabolic): {report['peak_lens_position']:.4g}")


def _print_measures() -> None:
    for family, names in focus_measure_families().items():
        print(f"{family}:")
        for name in names:
            print(f"  {name}  {describe_focus_measure(name)}")


def sharpness_command(
    images: list[Path] | None = typer.Argument(None, help="Image files and/or focal-stack folders."),
    measure: str = typer.Option("TENG", "--measure", "-m", help="Focus measure (Pertuz acronym; --list shows all)."),
    roi: str | None = typer.Option(None, "--roi", help="X,Y,W,H of the region to measure, px (default: whole image)."),
    window: int | None = typer.Option(None, "--window", help="Local window, px (GDER SFIL GLLV GLVM HELM DCTE DCTR)."),
    raw_mode: str = typer.Option("demosaic", help=f"Raw files: {', '.join(RAW_MODES)}."),
    as_json: bool = typer.Option(False, "--json", help="Print the scores as JSON on stdout."),
    list_measures: bool = typer.Option(False, "--list", help="List the focus measures by family and exit."),
) -> None:
    """Score images with a focus measure (larger is sharper) and name the sharpest."""
    if list_measures:
        _print_measures()
        return
    box = parse_roi(roi) if roi is not None else None
    report = sharpness_report(images or [], measure=measure, roi=box, window_px=window, raw_mode=raw_mode)
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        _print_table(report)


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("sharpness")(sharpness_command)
