"""Evaluate every combination of a design catalog, mark the Pareto front, write results.json/.csv.

:func:`evaluate_catalog` computes, per lens x sensor x actuator combination, the analytic
figures of :func:`focuslab.hw.design_figures.optical_figures`, the AF figures of
:func:`focuslab.hw.design_af.af_figures` (optional: ``af_cases=0`` skips them) and the cost
(sum of the parts); :func:`mark_pareto` flags the non-dominated combinations over the
catalog's objectives; :func:`write_results` writes ``results.json`` (settings, objectives,
records with their MTF curves, optimizer trials) and ``results.csv`` (one row per
combination) atomically.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable
from pathlib import Path

from focuslab.bench.record_io import json_ready
from focuslab.errors import InvalidParameterError
from focuslab.files import write_json_atomic, write_text_atomic
from focuslab.hw.design_af import af_figures
from focuslab.hw.design_catalog import DesignCatalog
from focuslab.hw.design_figures import optical_figures
from focuslab.hw.design_pareto import front_of_records

RESULTS_FORMAT = "focuslab.design_results/1"

#: Columns of results.csv before the figures.
_ID_COLUMNS = ("name", "lens", "sensor", "actuator", "status", "pareto", "cost")


def evaluate_catalog(catalog: DesignCatalog, *, af_cases: int = 2, cache_dir: str | Path | None = None,
                     progress: Callable[[str], None] | None = None) -> tuple[list[dict], dict]:
    """Figures of every combination, and their MTF curves by combination name.

    Parameters
    ----------
    catalog
        The parsed catalog.
    af_cases
        AF benchmark cases per combination (0: no AF figures).
    cache_dir
        Folder of the AF results cache (None: no cache).
    progress
        Called with one line per finished combination.

    Returns
    -------
    records, curves
        One dict per combination (``name``, part names, ``status``, ``reason``, ``cost``, the
        figures, ``pareto`` False until :func:`mark_pareto`), and ``{name: curves}``. A
        combination whose parts do not fit (e.g. the actuator's stroke cannot reach the lens's
        minimum focus distance) has ``status`` ``"infeasible"``, the reason, and no figures.

    Raises
    ------
    InvalidParameterError
        When no combination is feasible.
    """
    settings = catalog.settings
    records, curves = [], {}
    optics_cache: dict[tuple[str, str], tuple[dict, dict]] = {}
    for combo in catalog.combinations():
        t0 = time.perf_counter()
        rec = {"name": combo.name, "lens": combo.lens.name, "sensor": combo.sensor.name,
               "actuator": combo.actuator.name, "status": "ok", "reason": "", "pareto": False, "cost": combo.cost}
        try:
            camera = combo.camera(coc_max_px=settings["coc_max_px"])
        except InvalidParameterError as exc:
            rec.update(status="infeasible", reason=str(exc))
            records.append(rec)
            continue
        key = (combo.lens.name, combo.sensor.name)  # the actuator does not change the optics
        if key not in optics_cache:
            optics_cache[key] = optical_figures(combo.lens.spec, combo.lens.seidel, dict(combo.lens.zernike_um),
                                                combo.sensor.spec, settings=settings)
        figs, curve = optics_cache[key]
        rec.update(figs)
        if af_cases > 0:
            af, _ = af_figures(camera, af_cases, method=settings["af_method"], seed=settings["af_seed"],
                               cache_dir=cache_dir)
            rec.update(af)
        rec["dual_pixel"] = combo.sensor.spec.dual_pixel
        records.append(rec)
        curves[combo.name] = curve
        if progress is not None:
            progress(f"{combo.name}: {time.perf_counter() - t0:.1f} s")
    if not curves:
        raise InvalidParameterError(f"{catalog.source}: no combination is feasible ({records[0]['reason']}); "
                                    "fix the parts")
    return records, curves


def mark_pareto(records: list[dict], objectives: dict) -> list[dict]:
    """Set each feasible record's ``pareto`` flag over ``objectives`` (in place); returns the records."""
    ok = [r for r in records if r.get("status", "ok") == "ok"]
    mask = front_of_records(ok, objectives)
    for r in records:
        r["pareto"] = False
    for r, m in zip(ok, mask, strict=True):
        r["pareto"] = bool(m)
    return records


def results_csv(records: list[dict]) -> str:
    """results.csv text: identity columns, then every numeric figure (empty for NaN/None)."""
    figures: list[str] = []
    for r in records:
        figures += [k for k in r if k not in _ID_COLUMNS and k not in figures]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*_ID_COLUMNS, *figures])
    for r in json_ready(records):
        w.writerow(["" if r.get(k) is None else r.get(k) for k in (*_ID_COLUMNS, *figures)])
    return buf.getvalue()


def results_document(catalog: DesignCatalog, records: list[dict], curves: dict, *, af_cases: int,
                     optimizer: dict | None = None) -> dict:
    """The results.json document (strict JSON: NaN/inf as null)."""
    return json_ready({
        "format": RESULTS_FORMAT,
        "catalog": catalog.source,
        "settings": {**catalog.settings, "snr_illuminance_lux": 10.0, "af_cases": af_cases},
        "objectives": catalog.objectives,
        "combinations": records,
        "pareto_front": [r["name"] for r in records if r["pareto"]],
        "infeasible": {r["name"]: r["reason"] for r in records if r.get("status") == "infeasible"},
        "mtf_curves": curves,
        "optimizer": optimizer,
    })


def write_results(out_dir: str | Path, document: dict) -> tuple[Path, Path]:
    """Write ``results.json`` and ``results.csv`` into ``out_dir`` atomically; returns their paths."""
    out = Path(out_dir)
    j = write_json_atomic(out / "results.json", document)
    c = write_text_atomic(out / "results.csv", results_csv(document["combinations"]))
    return j, c
