"""``focuslab bench``: run AF methods on the benchmark suites and write the leaderboard and report.

The work lives in :func:`focuslab.bench.af_runner.run_benchmark`; this module parses the
arguments, shows a Rich progress bar and prints one leaderboard per suite (or the results
as JSON with ``--json``).
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from focuslab.bench.af_runner import check_methods, run_benchmark
from focuslab.bench.leaderboard import leaderboard_rows
from focuslab.bench.stack_cases import check_stack_folder
from focuslab.bench.suites import DEFAULT_CAMERA, get_suite
from focuslab.camera import get_camera
from focuslab.camera.camera_file import looks_like_camera_file
from focuslab.engine import check_engine, check_reachable
from focuslab.errors import InvalidParameterError


def _default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def bench_command(
    suite: list[str] = typer.Option(None, "--suite", help="Built-in suite (repeatable; default: all)."),
    method: list[str] = typer.Option(None, "--method",
                                     help="AF method, or NAME:key=value,... with options for it (e.g. "
                                          "learned-dp:far_weights=none; repeatable; default: every registered one)."),
    stack: list[Path] = typer.Option(None, "--stack", help="Focal-stack folder to replay (repeatable)."),
    camera: str = typer.Option(DEFAULT_CAMERA, "--camera",
                               help="Camera of the built-in suites: a preset (focuslab cameras) or a camera "
                                    "file (docs/cameras.md)."),
    out: Path = typer.Option(Path("bench_out"), "--out", help="Output folder."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON instead of tables."),
    seed: int = typer.Option(0, "--seed", help="Seed of the suites' draws."),
    full: bool = typer.Option(False, "--full", help="The larger suites (more textures, distances, start codes)."),
    workers: int = typer.Option(None, "--workers", help="Parallel processes (default: up to 2 cores)."),
    resume: bool = typer.Option(False, "--resume", help="Reuse the finished cases of an interrupted run in --out."),
    engine: str = typer.Option("local", "--engine", help="Execution engine: local (process pool) or ray."),
    address: str = typer.Option(None, "--address", help="Ray cluster address (with --engine ray; default: local Ray)."),
) -> None:
    """Benchmark AF methods in the closed loop; writes results.json, results.csv and report.html."""
    parts = ["focuslab", "bench"]
    for flag, values in (("--suite", suite), ("--method", method), ("--stack", stack)):
        for v in values or ():
            parts += [flag, str(v)]
    parts += ["--camera", camera, "--out", str(out), "--seed", str(seed)] + (["--full"] if full else [])
    command = " ".join(shlex.quote(p) for p in parts)
    # validate everything first: a user mistake is one line on stderr, before any progress bar
    if method:
        check_methods(method)
    for name in suite or ():
        get_suite(name)
    for d in stack or ():
        check_stack_folder(d)
    if looks_like_camera_file(camera):  # workers (and Ray) load it by absolute path
        camera = str(Path(camera).expanduser().resolve())
    get_camera(camera)
    if seed < 0:
        raise InvalidParameterError(f"--seed must be a non-negative integer, got {seed}")
    if workers is not None and workers < 1:
        raise InvalidParameterError(f"--workers must be >= 1, got {workers}")
    check_engine(engine, workers or 1, address)
    if address is not None:
        check_reachable(address)
    err = Console(stderr=True)
    with Progress(TextColumn("[bold]AF bench"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=err, transient=True) as bar:
        task = bar.add_task("", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label)

        results = run_benchmark(
            out, suites=suite or None, methods=method or None, stacks=stack or (), camera=camera, full=full,
            seed=seed, workers=workers or _default_workers(), engine=engine, address=address, resume=resume,
            progress=progress,
            command=command,
        )
    if as_json:
        slim = {k: v for k, v in results.items() if k != "records"}
        print(json.dumps(slim, indent=2))
        return
    console = Console(width=max(Console().width, 180))
    for name, s in results["suites"].items():
        header, rows = leaderboard_rows(results, name)
        table = Table(title=f"{name}: {len(s['cases'])} cases", title_justify="left")
        for i, h in enumerate(header):
            table.add_column(h, justify="left" if i == 0 else "right", no_wrap=i == 0)
        for r in rows:
            table.add_row(*r)
        console.print(table)
    print(f"results: {Path(out) / 'results.json'}")
    print(f"report: {Path(out) / 'report.html'}")


def register(app: typer.Typer) -> None:
    """Add the command to the app."""
    app.command("bench")(bench_command)
