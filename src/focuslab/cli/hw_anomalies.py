"""``focuslab hw anomalies``: simulate module populations, score anomalies, report AUROC."""

from __future__ import annotations

import json
import math
import shlex
import sys
from pathlib import Path

import typer
from rich.console import Console


def _fmt(v) -> str:
    return "-" if v is None or (isinstance(v, float) and not math.isfinite(v)) else f"{v:.3f}"


def anomalies_command(
    modules: int = typer.Option(200, "--modules", help="Modules in the held-out population (and in training)."),
    faulty_fraction: float = typer.Option(0.05, "--faulty-fraction", help="Fraction of faulty modules, 0..1."),
    seed: int = typer.Option(0, "--seed", help="Seed of the training population (held-out: seed + 1000)."),
    train_modules: int | None = typer.Option(None, "--train-modules", help="Training population size."),
    camera: str = typer.Option("phone_main",
                               help="Camera preset or camera file (docs/cameras.md) of the module design."),
    workers: int = typer.Option(1, "--workers", help="Processes measuring the modules (same results for any)."),
    out: Path | None = typer.Option(None, "--out", help="Write anomalies.json and features.csv here."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    report: Path | None = typer.Option(None, "--report", help="Write an HTML report."),
) -> None:
    """Simulate a production population with faulty modules, score anomalies (MinCovDet, isolation forest)."""
    from focuslab.camera.presets import get_camera
    from focuslab.errors import InvalidParameterError
    from focuslab.files import ensure_dir, write_json_atomic, write_text_atomic
    from focuslab.hw.anomaly import run_anomaly_study
    from focuslab.hw.anomaly_features import FEATURES
    from focuslab.hw.anomaly_report import write_anomaly_report
    from focuslab.hw.module_model import ModuleDesign

    if modules < 2:
        raise InvalidParameterError(f"--modules must be at least 2, got {modules}")
    if not 0.0 < faulty_fraction < 1.0:
        raise InvalidParameterError(f"--faulty-fraction must be in (0, 1), got {faulty_fraction}")
    if round(faulty_fraction * modules) < 1:
        raise InvalidParameterError(
            f"{modules} modules at --faulty-fraction {faulty_fraction} hold no faulty module; raise either")
    if out is not None:
        ensure_dir(out)
    design = ModuleDesign.from_camera(get_camera(camera))
    res = run_anomaly_study(design, modules=modules, faulty_fraction=faulty_fraction, seed=seed,
                            train_modules=train_modules, workers=workers)
    doc = res.to_dict()
    if out is not None:
        write_json_atomic(Path(out) / "anomalies.json", doc)
        lines = [",".join(["population", "index", "fault", *FEATURES])]
        for name, pop in (("train", res.train), ("test", res.test)):
            for u, row in zip(pop.units, pop.features, strict=True):
                lines.append(",".join([name, str(u.index), u.fault or "good", *(f"{v:.6g}" for v in row)]))
        write_text_atomic(Path(out) / "features.csv", "\n".join(lines) + "\n")
    if report is not None:
        write_anomaly_report(report, res, command="focuslab " + shlex.join(sys.argv[1:]))
    if as_json:
        print(json.dumps(doc, allow_nan=False))
        return
    con = Console()
    con.print(f"trained on {doc['train']['modules']} modules ({doc['train']['seconds']} s), "
              f"held-out {doc['test']['modules']} ({doc['test']['faulty']} faulty, {doc['test']['seconds']} s)")
    for m in ("mcd", "iforest"):
        kinds = ", ".join(f"{k} {_fmt(v)}" for k, v in doc["auroc_by_fault"][m].items())
        con.print(f"AUROC {m}: {_fmt(doc['auroc'][m])}  ({kinds})")
    for t in doc["top"][:5]:
        why = ", ".join(f"{w['feature']} {w['z']:+.1f}" for w in t["why"])
        con.print(f"  module {t['index']} ({t['fault'] or 'good'}): {why}")
    for p in (out, report):
        if p is not None:
            con.print(f"wrote {p}")


def register(hw_app: typer.Typer) -> None:
    """Add ``anomalies`` to the ``hw`` group."""
    hw_app.command("anomalies")(anomalies_command)
