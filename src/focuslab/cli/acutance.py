"""``focuslab acutance``: CPIQ acutance of a slanted edge for named viewing conditions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.metrics.acutance import (
    acutance_for_conditions,
    get_viewing_condition,
    viewing_condition_names,
)


def parse_roi(text: str) -> tuple[int, int, int, int]:
    """``"X,Y,W,H"`` to a ROI tuple of ints (x, y >= 0; w, h > 0)."""
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise InvalidParameterError(f"--roi must be X,Y,W,H (four integers, pixels), got {text!r}") from None
    if x < 0 or y < 0 or w <= 0 or h <= 0:
        raise InvalidParameterError(f"--roi needs X, Y >= 0 and W, H > 0, got {text!r}")
    return x, y, w, h


def read_sfr_json(path: Path) -> dict:
    """Read ``frequencies_cpp`` and ``sfr`` (and optional ``image_height_px``) from a JSON file."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(f"SFR file {str(path)!r} does not exist; check the path") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"cannot read SFR JSON {str(path)!r} ({exc}); give a JSON file") from None
    if not isinstance(doc, dict) or "frequencies_cpp" not in doc or "sfr" not in doc:
        raise InputFileError(f"{str(path)!r} needs the keys 'frequencies_cpp' and 'sfr' (e.g. 'focuslab sfr --json')")
    try:
        f = np.asarray(doc["frequencies_cpp"], dtype=np.float64)
        s = np.asarray(doc["sfr"], dtype=np.float64)
    except (TypeError, ValueError):
        raise InputFileError(f"{str(path)!r}: 'frequencies_cpp' and 'sfr' must be lists of numbers") from None
    return {"frequencies_cpp": f, "sfr": s, "image_height_px": doc.get("image_height_px"), "mtf50_cpp": None}


def measure_edge(image: Path, *, roi, channel: str, encoding: str | None, raw_mode: str) -> dict:
    """Load ``image`` and measure the slanted-edge SFR in ``roi`` (the ISO 12233 e-SFR)."""
    from focuslab.data.measure_input import load_measurement_image
    from focuslab.metrics.sfr import measure_sfr

    img = load_measurement_image(image, raw_mode=raw_mode)
    enc = encoding or ("linear" if img.linear else "srgb")
    res = measure_sfr(img.data, roi=roi, channel=channel, encoding=enc)
    return {
        "frequencies_cpp": np.asarray(res.frequencies_cpp), "sfr": np.asarray(res.sfr),
        "image_height_px": int(img.data.shape[0]), "mtf50_cpp": float(res.mtf50_cpp),
        "encoding": enc, "roi": list(res.roi), "angle_deg": float(res.angle_deg),
        "sfr_warnings": list(res.warnings),
    }


def acutance_report(
    image: Path | None = None,
    *,
    sfr_json: Path | None = None,
    roi: str | None = None,
    viewings: list[str] | None = None,
    channel: str = "luminance",
    encoding: str | None = None,
    raw_mode: str = "demosaic",
    image_height_px: int | None = None,
) -> dict:
    """Everything ``focuslab acutance`` prints, as a JSON-ready dict (importable for tests)."""
    if (image is None) == (sfr_json is None):
        raise InvalidParameterError("give either IMAGE (a slanted-edge photo) or --sfr-json FILE, not both or neither")
    if image is not None:
        curve = measure_edge(image, roi=parse_roi(roi) if roi else None, channel=channel, encoding=encoding,
                             raw_mode=raw_mode)
        source = str(image)
    else:
        if roi:
            raise InvalidParameterError("--roi applies to IMAGE; an --sfr-json curve is already measured")
        curve = read_sfr_json(sfr_json)
        source = str(sfr_json)
    # Without --roi the file is taken to be an edge crop, whose height is not the picture's.
    height = image_height_px if image_height_px is not None else (curve["image_height_px"] if roi else None)
    for name in viewings or []:
        get_viewing_condition(name)  # unknown names list the valid ones
    results = acutance_for_conditions(curve["frequencies_cpp"], curve["sfr"], viewings or None,
                                      image_height_px=height)
    out = {"source": source, "image_height_px": height}
    out.update({k: v for k, v in curve.items() if k not in ("frequencies_cpp", "sfr", "image_height_px")})
    mtf50 = out.get("mtf50_cpp")
    if mtf50 is not None and height is not None and math.isfinite(mtf50):
        out["mtf50_lw_ph"] = 2.0 * mtf50 * float(height)  # line widths per picture height
    out["acutance"] = {name: r.to_dict() for name, r in results.items()}
    return out


def acutance_command(
    image: Path | None = typer.Argument(None, help="Slanted-edge image (PNG/TIFF/JPEG 8/16-bit, or camera raw)."),
    roi: str | None = typer.Option(None, "--roi", help="Edge ROI X,Y,W,H in pixels (default: the whole image)."),
    viewing: list[str] | None = typer.Option(
        None, "--viewing", help="Viewing condition (repeatable); default: every one that applies."
    ),
    channel: str = typer.Option("luminance", help="luminance, R, G or B."),
    encoding: str | None = typer.Option(
        None, help="srgb, linear or gamma:G (default: linear for raw files, srgb otherwise)."
    ),
    raw_mode: str = typer.Option("demosaic", help="Raw files: demosaic, mosaic, cfa:R, cfa:G, cfa:G2 or cfa:B."),
    sfr_json: Path | None = typer.Option(
        None, "--sfr-json", help="Use a measured SFR (JSON with frequencies_cpp and sfr) instead of IMAGE."
    ),
    image_height_px: int | None = typer.Option(
        None, help="Full picture height, px, for print/TV conditions (default: the file's height when --roi is "
        "given; without --roi the file is taken as a crop and those conditions are skipped)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """CPIQ acutance (IEEE 1858) of a slanted edge's SFR for standard viewing conditions."""
    report = acutance_report(
        image, sfr_json=sfr_json, roi=roi, viewings=viewing, channel=channel, encoding=encoding,
        raw_mode=raw_mode, image_height_px=image_height_px,
    )
    if as_json:
        print(json.dumps(report, indent=2))
        return
    mtf50 = report.get("mtf50_cpp")
    title = f"acutance of {report['source']}"
    if mtf50 is not None and math.isfinite(mtf50):
        title += f" (MTF50 {mtf50:.4f} cy/px)"
    table = Table(title=title)
    for col in ("viewing", "acutance", "px/deg", "limit cy/deg"):
        table.add_column(col, justify="left" if col == "viewing" else "right")
    for name, r in report["acutance"].items():
        table.add_row(name, f"{r['acutance']:.4f}", f"{r['pixels_per_degree']:.1f}", f"{r['upper_frequency_cpd']:.1f}")
    console = Console()
    console.print(table)
    skipped = [n for n in viewing_condition_names() if n not in report["acutance"]]
    if skipped and not viewing:
        console.print(f"skipped (need --image-height-px): {', '.join(skipped)}")
    for w in report.get("sfr_warnings", []) + [w for r in report["acutance"].values() for w in r["warnings"]]:
        console.print(f"[yellow]warning:[/yellow] {w}")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("acutance")(acutance_command)
