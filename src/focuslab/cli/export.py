"""``focuslab export``: a registered network to ONNX (verified with onnxruntime) or Core ML (spec checked).

The work lives in :mod:`focuslab.export`; this module resolves the model (shipped weights or
``--weights``), calls the exporter and prints what was written, the ONNX-vs-PyTorch max abs
difference or the Core ML spec's inputs and outputs, and (``--latency``) the per-call latency
on one CPU thread.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from focuslab.errors import InvalidParameterError

FORMATS = ("onnx", "coreml")


def load_for_export(name: str, weights: Path | None):
    """``(model, example_inputs)`` of network ``name`` with the shipped weights or ``weights``.

    Raises
    ------
    UnknownNameError
        ``name`` is not a registered network (the message lists them).
    InputFileError
        The weights file is missing or corrupt.
    """
    from focuslab.models import example_inputs, load_model

    model = load_model(name, weights)
    return model, example_inputs(name, batch=1)


def export_model(name: str, fmt: str, out: Path, *, weights: Path | None = None, latency: bool = False) -> dict:
    """Export network ``name`` as ``fmt`` to ``out``; returns the JSON-ready summary the CLI prints."""
    if fmt not in FORMATS:
        raise InvalidParameterError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out = Path(out)
    if fmt == "onnx" and out.suffix != ".onnx":
        raise InvalidParameterError(f"an ONNX --out must end in .onnx, got {str(out)!r}")
    if fmt == "coreml" and out.suffix != ".mlpackage":
        raise InvalidParameterError(f"a Core ML --out must end in .mlpackage, got {str(out)!r}")
    model, inputs = load_for_export(name, weights)
    if fmt == "onnx":
        from focuslab.export.onnx_export import export_onnx

        summary = export_onnx(model, inputs, out).to_dict()
    else:
        from focuslab.export.coreml_export import export_coreml

        summary = export_coreml(model, inputs, out).to_dict()
    summary["model"] = name
    if latency:
        from focuslab.export.latency import measure_latency

        lat = [measure_latency(model, inputs, 1, repeats=100).to_dict()]
        if fmt == "onnx":
            lat.append(measure_latency(model, inputs, 1, runtime="onnxruntime", onnx_path=out, repeats=100).to_dict())
        summary["latency"] = lat
    return summary


def export_command(
    model: str = typer.Argument(..., help="Network name (dp-defocus, two-frame, fusion, temporal)."),
    fmt: str = typer.Option(..., "--format", help="onnx or coreml."),
    out: Path = typer.Option(..., "--out", help="Output file (.onnx) or package (.mlpackage)."),
    weights: Path = typer.Option(None, "--weights", help="Weights file (default: the shipped weights)."),
    latency: bool = typer.Option(False, "--latency", help="Also time one call on one CPU thread."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Export a network to ONNX (checked with onnxruntime) or Core ML (an iOS 16 .mlpackage, spec checked)."""
    s = export_model(model, fmt, out, weights=weights, latency=latency)
    if as_json:
        print(json.dumps(s, indent=2))
        return
    print(f"{model}: wrote {s['path']} ({fmt})")
    for key in ("inputs", "outputs"):
        for t in s[key]:
            print(f"  {key[:-1]:6s} {t['name']:10s} {t['dtype']:8s} {tuple(t['shape'])}")
    if fmt == "onnx":
        print(f"  opset {s['opset']}, {s['parameters']} parameters, {s['file_bytes'] / 1024:.1f} KiB")
        print(f"  onnxruntime vs PyTorch: max abs difference {s['max_abs_diff']:.2e} (bound 1e-4; "
              + ", ".join(f"{k} {v:.1e}" for k, v in s["diffs"].items()) + ")")
    else:
        print(f"  Core ML spec version {s['spec_version']} (iOS 16 / macOS 13), {s['compute_precision']} compute; "
              "prediction runs on macOS only")
    for lat in s.get("latency", ()):
        print(f"  latency {lat['runtime']}, {lat['threads']} thread: median {lat['median_ms']:.3f} ms, "
              f"p90 {lat['p90_ms']:.3f} ms")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("export")(export_command)
