"""``focuslab evaluate``: Learning-to-Autofocus offline metrics of the networks, optionally the closed loop too.

The work lives in :func:`focuslab.train.evaluate.evaluate_offline` (simulated 49-slice focal
stacks, MAE / RMSE in slices, fractions within 0/1/2/4 slices) and, with ``--closed-loop``,
:func:`focuslab.bench.af_runner.run_benchmark` on the learned policies beside phase and hybrid.
"""

from __future__ import annotations

import json
import math
import shlex
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from focuslab.errors import InvalidParameterError

#: Methods of the optional closed-loop run.
CLOSED_LOOP_METHODS = ("learned-dp", "learned-two-frame", "learned-fusion", "learned-video", "phase", "hybrid")
#: Suites of the optional closed-loop run.
CLOSED_LOOP_SUITES = ("stills-bright", "stills-lowlight", "video-tracking")


def parse_weights(items: list[str] | None) -> dict[str, str]:
    """``["dp-defocus=path.pt", ...]`` -> ``{"dp-defocus": "path.pt"}``."""
    out = {}
    for it in items or ():
        name, sep, path = it.partition("=")
        if not sep or not name or not path:
            raise InvalidParameterError(f"--weights takes NAME=FILE (e.g. dp-defocus=best.pt), got {it!r}")
        out[name] = path
    return out


def evaluate_command(
    model: list[str] = typer.Option(None, "--model", help="Network (repeatable; default dp-defocus and two-frame)."),
    scenes: int = typer.Option(6, "--scenes", help="Simulated focal stacks."),
    seed: int = typer.Option(0, "--seed", help="Seed of the stacks' draws."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    out: Path = typer.Option(None, "--out", help="Folder for evaluate.json and report.html."),
    slices: int = typer.Option(49, "--slices", help="Slices per stack (Learning to Autofocus: 49)."),
    crop_px: int = typer.Option(128, "--crop-px", help="AF-region side, stream pixels (the benchmark's 128)."),
    camera: str = typer.Option("phone_main", "--camera",
                               help="Camera preset or camera file (dual pixel; docs/cameras.md)."),
    near_m: float = typer.Option(None, "--near-m", help="Nearest slice's focus distance (default: minimum focus)."),
    weights: list[str] = typer.Option(None, "--weights", help="NAME=FILE weights (repeatable; default shipped)."),
    calibrate: bool = typer.Option(True, "--calibrate/--no-calibrate",
                                   help="Calibrate dp-defocus for the camera on a chart sweep first."),
    far_weights: str = typer.Option("auto", "--far-weights",
                                    help="dp-defocus weights for crops read beyond 6 DoF: auto (the camera's "
                                         "per-sensor ones), none, pixel4 or a file."),
    closed_loop: bool = typer.Option(False, "--closed-loop", help="Also run the AF benchmark of the learned policies."),
    suite: list[str] = typer.Option(None, "--suite", help="Closed-loop suite (repeatable; default stills + video)."),
) -> None:
    """Learning-to-Autofocus offline metrics (MAE/RMSE in slices) on simulated dual-pixel focal stacks."""
    from focuslab.train.evaluate import OFFLINE_MODELS, evaluate_offline, format_table, write_evaluation

    parts = ["focuslab", "evaluate"] + [a for m in model or () for a in ("--model", m)]
    parts += ["--scenes", str(scenes), "--seed", str(seed), "--slices", str(slices), "--crop-px", str(crop_px),
              "--camera", camera] + ([] if near_m is None else ["--near-m", str(near_m)])
    parts += [] if calibrate else ["--no-calibrate"]
    parts += [] if far_weights == "auto" else ["--far-weights", far_weights]
    command = " ".join(shlex.quote(p) for p in parts)
    wmap = parse_weights(weights)
    if closed_loop and out is None:
        raise InvalidParameterError("--closed-loop writes a benchmark folder: give --out DIR")
    if closed_loop:
        from focuslab.bench.suites import get_suite

        for name in suite or ():
            get_suite(name)
    err = Console(stderr=True)
    with Progress(TextColumn("[bold]evaluate"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=err, transient=True) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        results = evaluate_offline(model or OFFLINE_MODELS, scenes=scenes, seed=seed, camera=camera, slices=slices,
                                   crop_px=crop_px, near_m=near_m, weights=wmap, calibrate=calibrate,
                                   far_weights=far_weights, progress=progress)
    if out is not None:
        write_evaluation(out, results, command=command)
    if closed_loop:
        from focuslab.bench.af_runner import run_benchmark

        bench = run_benchmark(Path(out) / "closed_loop", suites=list(suite or CLOSED_LOOP_SUITES),
                              methods=list(CLOSED_LOOP_METHODS), seed=seed, workers=1)
        results["closed_loop"] = {name: {m: {k: v for k, v in agg.items() if not isinstance(v, dict | list)}
                                         for m, agg in s["methods"].items()} for name, s in bench["suites"].items()}
    if as_json:
        print(json.dumps(results, indent=2, default=lambda v: None if isinstance(v, float) and math.isnan(v) else v))
        return
    for line in format_table(results):
        print(line)
    for name, methods in results.get("closed_loop", {}).items():
        print(f"closed loop, {name}:")
        for m, agg in methods.items():
            print("  " + m + ": " + ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                                              for k, v in agg.items()))
    if out is not None:
        print(f"results: {Path(out) / 'evaluate.json'}")
        print(f"report: {Path(out) / 'report.html'}")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("evaluate")(evaluate_command)
