"""``focuslab hw defects``: defect pixels from dark/flat frames, a series folder or one scene frame."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import numpy as np
import typer
from rich.console import Console

from focuslab.errors import InvalidParameterError


def _static(dark: list[Path], flat: list[Path], *, cfa: str | None, black_level_dn: float | None,
            k_sigma: float | None, bit_depth: int | None = None):
    from focuslab.hw.defect_detect import DEFAULT_K_SIGMA, detect_defects
    from focuslab.hw.defect_inputs import average_inputs, check_bit_depth

    d = average_inputs(dark, kind="dark", cfa=cfa, black_level_dn=black_level_dn) if dark else None
    f = average_inputs(flat, kind="flat", cfa=cfa, black_level_dn=black_level_dn) if flat else None
    for kind, avg in (("dark", d), ("flat", f)):
        if avg is not None:
            check_bit_depth(avg[0].mean_dn, bit_depth, kind=kind)
    first = (d or f)[1]
    if d is not None and f is not None and (d[1].cfa != f[1].cfa):
        raise InvalidParameterError(f"dark frames have CFA {d[1].cfa} but flat frames {f[1].cfa}; use one sensor")
    black = first.black_level_dn if black_level_dn is None else black_level_dn
    white = first.white_level_dn if bit_depth is None else float((1 << bit_depth) - 1)
    ds = None if d is None else d[0]
    fs = None if f is None else f[0]
    result = detect_defects(
        None if ds is None else ds.mean_dn, None if fs is None else fs.mean_dn, cfa=first.cfa,
        n_dark_frames=1 if ds is None else ds.n_frames, n_flat_frames=1 if fs is None else fs.n_frames,
        k_sigma=DEFAULT_K_SIGMA if k_sigma is None else k_sigma, black_level_dn=black,
        white_level_dn=white, dark_var_dn2=None if ds is None else ds.var_dn2,
        flat_var_dn2=None if fs is None else fs.var_dn2,
    )
    base = fs.mean_dn if fs is not None else ds.mean_dn
    source = (f"{0 if ds is None else ds.n_frames} dark and {0 if fs is None else fs.n_frames} flat frames "
              f"(first: {first.source})")
    return result, base, source


def _summary_line(name: str, result) -> str:
    c = result.counts()
    h, w = result.codes.shape
    return (f"{name}: {c['total']} defective pixels ({1e6 * c['total'] / (h * w):.1f} ppm of {w}x{h}): "
            f"hot {c['hot']}, dead {c['dead']}, stuck {c['stuck']}, bright {c['bright']}; "
            f"couplets {c['couplets']}, clusters {c['clusters']} (k = {result.k_sigma:g} sigma)")


def defects_command(
    dark: list[Path] = typer.Option(None, "--dark", help="Dark frame (repeat for several; averaged)."),
    flat: list[Path] = typer.Option(None, "--flat", help="Flat-field frame (repeat for several; averaged)."),
    series: Path | None = typer.Option(None, "--series", help="EMVA series folder (series.json with dark/flat)."),
    frame: Path | None = typer.Option(None, "--frame", help="One scene frame: single-frame hot/stuck detection."),
    out: Path | None = typer.Option(None, "--out", help="Write defect_map.png, defects.json and report.html here."),
    as_json: bool = typer.Option(False, "--json", help="Print the JSON summary."),
    correct: Path | None = typer.Option(
        None, "--correct", help="Write the corrected mosaic (the --frame, else the averaged flat) as 16-bit PNG."
    ),
    cfa: str | None = typer.Option(None, help="CFA of PNG/TIFF frames: RGGB, BGGR, GRBG, GBRG or mono (default mono)."),
    black_level_dn: float | None = typer.Option(None, help="Black level of PNG/TIFF frames, DN (flats alone)."),
    k_sigma: float | None = typer.Option(None, help="Threshold in robust sigmas (default 5 static, 6 single frame)."),
) -> None:
    """Find hot, dead, stuck pixels and same-colour clusters; write the map, JSON and an HTML report."""
    from focuslab.hw.defect_correct import correct_defects
    from focuslab.hw.defect_inputs import read_raw_input, select_series
    from focuslab.hw.defect_single_frame import SINGLE_FRAME_K_SIGMA, detect_single_frame

    dark, flat = list(dark or []), list(flat or [])
    if series is not None and (dark or flat):
        raise InvalidParameterError("give either --series or --dark/--flat frames, not both")
    if series is not None:
        sel = select_series(series)
        dark, flat = list(sel.darks), list(sel.flats)
        cfa = cfa or sel.cfa
        black_level_dn = sel.black_level_dn if black_level_dn is None else black_level_dn
    if not dark and not flat and frame is None:
        raise InvalidParameterError("no dark and no flat frame: give --dark/--flat files, a --series folder or "
                                    "a scene --frame")
    results = []  # (name, result, base image, source)
    if dark or flat:
        res, base, source = _static(dark, flat, cfa=cfa, black_level_dn=black_level_dn, k_sigma=k_sigma,
                                    bit_depth=None if series is None else sel.bit_depth)
        results.append(("dark_flat", res, base, source))
    if frame is not None:
        raw = read_raw_input(frame, cfa=cfa, black_level_dn=black_level_dn)
        res = detect_single_frame(raw.data, cfa=raw.cfa, k_sigma=SINGLE_FRAME_K_SIGMA if k_sigma is None else k_sigma)
        results.append(("single_frame", res, raw.data, str(frame)))
    written: list[Path] = []
    if correct is not None:
        _name, res, base, _src = results[-1]
        mask = res.mask
        if len(results) == 2 and results[0][1].codes.shape == mask.shape:
            mask = mask | results[0][1].mask  # the static map also applies to the scene frame
        from focuslab.data.image_files import write_png

        fixed = correct_defects(np.asarray(base, dtype=np.float64), mask, cfa=res.cfa)
        written.append(write_png(correct, np.clip(np.rint(fixed), 0, 65535).astype(np.uint16)))
    doc = {name: res.to_dict() for name, res, _b, _s in results}
    if out is not None:
        from focuslab.files import ensure_dir, write_json_atomic
        from focuslab.hw.defect_report import write_defect_map, write_defect_report

        folder = ensure_dir(out)
        for name, res, _b, _s in results:
            fname = "defect_map.png" if name == results[0][0] else f"defect_map_{name}.png"
            written.append(write_defect_map(folder / fname, res))
        written.append(write_json_atomic(folder / "defects.json", doc))
        command = "focuslab " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        written.append(write_defect_report(folder / "report.html", [(r, s, b) for _n, r, b, s in results],
                                           command=command))
    if as_json:
        print(json.dumps({**doc, "written": [str(p) for p in written]}, allow_nan=False))
        return
    console = Console()
    for name, res, _b, _s in results:
        console.print(_summary_line(name, res))
    for p in written:
        console.print(f"wrote {p}")


def register(hw_app: typer.Typer) -> None:
    """Add ``defects`` to the ``focuslab hw`` group."""
    hw_app.command("defects")(defects_command)
