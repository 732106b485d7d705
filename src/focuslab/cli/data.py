"""``focuslab data``: generate training sets and summarize them.

``focuslab data generate --config configs/data/NAME.yaml --out DIR [--workers N] [--engine
local|ray] [--address ADDR] [--seed S]`` writes a sharded set (resumable: rerun the same
command after an interruption); ``focuslab data stats DIR [--json] [--report OUT.html]``
summarizes one. The work lives in :mod:`focuslab.data.generate` and :mod:`focuslab.data.stats`.
"""

from __future__ import annotations

import json
import shlex
import time
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from focuslab.engine import ENGINES, check_engine, check_reachable
from focuslab.errors import InvalidParameterError


def generate_command(
    config: Path = typer.Option(..., "--config", help="Data config YAML (configs/data/NAME.yaml)."),
    out: Path = typer.Option(..., "--out", help="Output folder (resumes an interrupted run of the same config)."),
    workers: int = typer.Option(1, "--workers", help="Parallel processes (local) or CPUs of a local Ray."),
    engine: str = typer.Option("local", "--engine", help=f"Execution engine: {' or '.join(ENGINES)}."),
    address: str = typer.Option(None, "--address", help="Ray cluster address (with --engine ray)."),
    seed: int = typer.Option(0, "--seed", help="Dataset seed (same seed, same bytes)."),
) -> None:
    """Generate a sharded training set from a data config."""
    from focuslab.data.generate import check_seed, fingerprint, generate_dataset, shard_sizes
    from focuslab.data.generate_config import load_config
    from focuslab.data.shards import progress_fingerprint, read_progress, shard_is_intact

    cfg = load_config(config)
    if seed < 0:
        raise InvalidParameterError(f"--seed must be a non-negative integer, got {seed}")
    check_seed(seed)
    if workers < 1:
        raise InvalidParameterError(f"--workers must be >= 1, got {workers}")
    check_engine(engine, workers, address)
    resumed = 0
    if Path(out).is_dir() and progress_fingerprint(out) == fingerprint(cfg, seed):
        resumed = sum(e["num_samples"] for e in read_progress(out).values() if shard_is_intact(out, e))
    if address is not None:
        check_reachable(address)  # before the progress bar: a user error is one line
    err = Console(stderr=True)
    t0 = time.perf_counter()
    with Progress(TextColumn(f"[bold]data {cfg['kind']}"), BarColumn(), MofNCompleteColumn(), TextColumn("shards"),
                  TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("", total=len(shard_sizes(cfg)))

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        man = generate_dataset(cfg, out, seed=seed, workers=workers, engine=engine, address=address,
                               progress=progress)
    dt = time.perf_counter() - t0
    made = man["num_samples"] - resumed
    nbytes = sum((Path(out) / s["file"]).stat().st_size for s in man["shards"])
    rate = f"{made / dt:.1f} samples/s" if made and dt > 0 else "nothing left to generate"
    print(f"{man['num_samples']} {man['kind']} samples in {len(man['shards'])} shards, {nbytes / 1e6:.1f} MB: "
          f"{Path(out) / 'manifest.json'} ({made} generated in {dt:.1f} s, {rate}; "
          f"{workers} worker(s), engine {engine})")


def stats_command(
    folder: Path = typer.Argument(..., help="Dataset folder (with manifest.json)."),
    as_json: bool = typer.Option(False, "--json", help="Print the statistics as JSON."),
    report: Path = typer.Option(None, "--report", help="Write an HTML report with histograms here."),
) -> None:
    """Summarize a training set: label histograms (DoF, diopters), light levels, variants."""
    from focuslab.data.stats import dataset_stats, stats_report

    stats = dataset_stats(folder)
    if report is not None:
        cmd = " ".join(shlex.quote(p) for p in ["focuslab", "data", "stats", str(folder), "--report", str(report)])
        stats_report(stats, report, command=cmd)
    if as_json:
        print(json.dumps(stats, indent=2))
    else:
        d, lx, e = stats["defocus_dof"], stats["light_lux"], stats["signal_electrons"]
        print(f"{stats['folder']}: {stats['num_samples']} {stats['kind']} samples, {stats['num_shards']} shards, "
              f"crop {stats['crop_px']} px")
        print(f"defocus: median {d['median']:+.2f} DoF, 1-99 % [{d['p01']:+.1f}, {d['p99']:+.1f}] DoF, "
              f"{100 * stats['in_focus_fraction']:.1f} % in focus; diopters 1-99 % "
              f"[{stats['defocus_diopters']['p01']:+.2f}, {stats['defocus_diopters']['p99']:+.2f}]")
        print(f"light: {lx['min']:.3g}-{lx['max']:.3g} lux (median {lx['median']:.3g}); signal median "
              f"{e['median']:.0f} e-/px")
        print("variants: " + ", ".join(f"{k} {v}" for k, v in stats["variants"].items()))
    if report is not None:
        print(f"report: {report}")


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group to the root app."""
    data_app = typer.Typer(name="data", help="Training sets for learned AF: generate, stats.", no_args_is_help=True,
                           add_completion=False, pretty_exceptions_enable=False)
    data_app.command("generate")(generate_command)
    data_app.command("stats")(stats_command)
    app.add_typer(data_app, name="data")
