"""``focuslab hw design``: evaluate a lens/sensor catalog, its Pareto front, optionally optimize."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from focuslab.errors import InvalidParameterError
from focuslab.files import ensure_dir

#: Columns of the terminal table: figure, title, format.
_COLUMNS = (
    ("cost", "cost", "{:.1f}"), ("centre_mtf50_cpp", "ctr MTF50\ncy/px", "{:.3f}"),
    ("corner_mtf50_cpp", "cnr MTF50\ncy/px", "{:.3f}"), ("corner_mtf50_lp_mm", "cnr MTF50\nlp/mm", "{:.0f}"),
    ("corner_mtf50_lw_ph", "cnr MTF50\nLW/PH", "{:.0f}"), ("acutance", "acut.", "{:.3f}"),
    ("snr_10lux", "SNR\n10 lux", "{:.2f}"), ("dof_close_mm", "DoF close\nmm", "{:.2f}"),
    ("af_in_focus_rate", "AF in\nfocus", "{:.2f}"), ("af_ms_to_focus_median", "AF ms", "{:.0f}"),
)


def _fmt(v, spec: str) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return spec.format(v)


def design_command(
    catalog: Path = typer.Argument(..., help="Catalog YAML (see configs/hw/design_catalog_example.yaml)."),
    optimize: bool = typer.Option(False, "--optimize", help="Also run the catalog's optimize: section (NSGA-II)."),
    trials: int | None = typer.Option(None, "--trials", help="Optimizer trials (default: the catalog's, else 40)."),
    seed: int | None = typer.Option(None, "--seed", help="Optimizer seed (default: the catalog's, else 0)."),
    af_cases: int = typer.Option(2, "--af-cases", help="AF benchmark cases per combination, 0-12 (0: no AF figures)."),
    out: Path = typer.Option(Path("design_results"), "--out", help="Folder for results.json, results.csv, AF cache."),
    as_json: bool = typer.Option(False, "--json", help="Print results.json on stdout instead of the table."),
    report: Path | None = typer.Option(None, "--report", help="Write an HTML report (Pareto plots, table, trials)."),
) -> None:
    """Figures of every lens x sensor combination (MTF50, acutance, SNR at 10 lux, DoF, AF, cost), the Pareto front."""
    from focuslab.hw.design_af import MAX_AF_CASES
    from focuslab.hw.design_catalog import load_catalog
    from focuslab.hw.design_results import evaluate_catalog, mark_pareto, results_document, write_results

    if not 0 <= af_cases <= MAX_AF_CASES:
        raise InvalidParameterError(f"--af-cases must be in 0..{MAX_AF_CASES}, got {af_cases}")
    if trials is not None and trials < 1:
        raise InvalidParameterError(f"--trials must be >= 1, got {trials}")
    if seed is not None and seed < 0:
        raise InvalidParameterError(f"--seed must be >= 0, got {seed}")
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"--out {str(out)!r} is a file; give a folder")
    ensure_dir(out)  # fail now, not after the evaluation
    if report is not None:
        ensure_dir(report.parent)
    cat = load_catalog(catalog)
    af_objectives = [k for k in cat.objectives if k.startswith("af_")]
    if af_objectives and af_cases == 0:
        raise InvalidParameterError(f"objective {af_objectives[0]} needs AF runs; give --af-cases 1 or more")
    err = Console(stderr=True)
    opt_doc = None
    if optimize:
        from focuslab.hw.design_optimize import parse_optimize

        parse_optimize(cat, trials=trials, seed=seed)  # check the section before the long evaluation
    records, curves = evaluate_catalog(cat, af_cases=af_cases, cache_dir=out / "af_cache",
                                       progress=None if as_json else (lambda line: err.print(line, style="dim")))
    mark_pareto(records, cat.objectives)
    if optimize:
        from focuslab.hw.design_optimize import run_catalog_optimizer

        opt_doc = run_catalog_optimizer(cat, trials=trials, seed=seed)
    doc = results_document(cat, records, curves, af_cases=af_cases, optimizer=opt_doc)
    json_path, csv_path = write_results(out, doc)
    written = None
    if report is not None:
        from focuslab.hw.design_report import write_design_report

        written = write_design_report(report, cat, doc, command="focuslab " + " ".join(sys.argv[1:]))
    if as_json:
        print(json.dumps(doc, allow_nan=False))
        return
    console = Console(width=max(Console().width, 160))
    table = Table(title=f"{cat.source}: {len(records)} combinations, * = Pareto front over "
                        + ", ".join(f"{k} ({v})" for k, v in cat.objectives.items()), title_justify="left")
    table.add_column("combination", justify="left")
    table.add_column("*")
    for _, title, _ in _COLUMNS:
        table.add_column(title, justify="right")
    for r in records:
        if r["status"] != "ok":
            table.add_row(r["name"], "x", _fmt(r["cost"], "{:.1f}"), *(["-"] * (len(_COLUMNS) - 1)))
            continue
        table.add_row(r["name"], "*" if r["pareto"] else "", *(_fmt(r.get(k), f) for k, _, f in _COLUMNS))
    console.print(table)
    for r in records:
        if r["status"] != "ok":
            console.print(f"x {r['name']}: infeasible: {r['reason']}")
    if opt_doc is not None:
        front = [t for t in opt_doc["trials"] if t["pareto"]]
        ot = Table(title=f"optimizer: {len(opt_doc['trials'])} trials (NSGA-II, seed {opt_doc['seed']}), "
                         f"{len(front)} on the front", title_justify="left")
        ot.add_column("trial", justify="right")
        for p in opt_doc["bounds"]:
            ot.add_column(p, justify="right")
        for o in opt_doc["objectives"]:
            ot.add_column(f"{o}\n({opt_doc['objectives'][o]})", justify="right")
        for t in front:
            ot.add_row(str(t["number"]), *(f"{t['params'][p]:.3f}" for p in opt_doc["bounds"]),
                       *(_fmt(t["values"][o], "{:.4g}") for o in opt_doc["objectives"]))
        console.print(ot)
    console.print(f"wrote {json_path} and {csv_path}" + (f" and {written}" if written else ""))


def register(hw_app: typer.Typer) -> None:
    """Add ``design`` to the ``focuslab hw`` group."""
    hw_app.command("design")(design_command)
