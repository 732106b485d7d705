"""HTML report of a design exploration: parts, the combinations' figures, Pareto plots, optimizer.

Built with :mod:`focuslab.html_report` (self-contained HTML, PNG plots embedded). Pareto
plots show every pair of objectives: all designs in grey, the front (non-dominated over
*all* the objectives, so a front point can look dominated in one pair) in red, numbered as in
the table.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

from focuslab.html_report import Section, write_report
from focuslab.hw.design_catalog import DesignCatalog

#: Figures of the combinations table, with their column titles.
TABLE_FIGURES = (
    ("cost", "cost"), ("centre_mtf50_cpp", "centre MTF50 cy/px"), ("centre_mtf50_lp_mm", "centre MTF50 lp/mm"),
    ("corner_mtf50_cpp", "corner MTF50 cy/px"), ("corner_mtf50_lp_mm", "corner MTF50 lp/mm"),
    ("corner_mtf50_lw_ph", "corner MTF50 LW/PH"), ("acutance", "acutance"), ("snr_10lux", "SNR 10 lux"),
    ("dof_close_mm", "DoF at close focus mm"), ("af_in_focus_rate", "AF in focus"),
    ("af_ms_to_focus_median", "AF ms to focus"),
)


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _val(v) -> float:
    return math.nan if v is None else float(v)


def _cell(v):
    if v is None:
        return "-"
    if isinstance(v, float) and not math.isfinite(v):
        return "-"
    return v


def pareto_figure(points: list[dict], objectives: dict, *, labels: list[str], title: str):
    """One panel per objective pair: all points grey, the ``pareto`` ones red, labelled."""
    plt = _plt()
    names = list(objectives)
    pairs = list(itertools.combinations(names, 2))
    fig, axes = plt.subplots(1, len(pairs), figsize=(5.0 * len(pairs), 4.2), dpi=100, squeeze=False)
    for ax, (a, b) in zip(axes[0], pairs, strict=True):
        for on_front, colour, size in ((False, "0.6", 25), (True, "tab:red", 45)):
            sel = [(p, lab) for p, lab in zip(points, labels, strict=True) if bool(p.get("pareto")) == on_front]
            xs = [_val(p.get(a)) for p, _ in sel]
            ys = [_val(p.get(b)) for p, _ in sel]
            ax.scatter(xs, ys, s=size, color=colour, label="Pareto front" if on_front else "dominated",
                       zorder=3 if on_front else 2)
            if len(points) <= 40:
                for x, y, (_, lab) in zip(xs, ys, sel, strict=True):
                    ax.annotate(lab, (x, y), xytext=(3, 3), textcoords="offset points", fontsize=7)
        ax.set_xlabel(f"{a} ({objectives[a]})")
        ax.set_ylabel(f"{b} ({objectives[b]})")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def mtf_figure(records: list[dict], curves: dict):
    """Centre and corner (meridional) system MTF of every combination; front curves drawn solid."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), dpi=100)
    for i, r in enumerate(records):
        c = curves.get(r["name"])
        if c is None:
            continue
        style = {"lw": 1.6, "ls": "-"} if r.get("pareto") else {"lw": 0.8, "ls": "--"}
        for ax, key in zip(axes, ("centre", "corner_meridional"), strict=True):
            ax.plot(c["frequencies_cpp"], c[key], label=f"{i + 1} {r['name']}", **style)
    for ax, title in zip(axes, ("centre", "corner (meridional)"), strict=True):
        ax.axhline(0.5, color="grey", lw=0.6)
        ax.axvline(0.5, color="grey", ls=":", lw=0.6)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("frequency, cy/px")
        ax.set_ylabel("system MTF")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=6, ncol=1, loc="upper right")
    fig.tight_layout()
    return fig


def parts_section(catalog: DesignCatalog) -> Section:
    """The catalog's parts and settings."""
    s = Section("Catalog")
    s.text(f"Catalog {catalog.source}; settings: " + ", ".join(f"{k} = {v}" for k, v in catalog.settings.items())
           + ". SNR at 10 lux: an 18 % grey (the reflectance setting), green pixel, the exposure setting.")
    s.table(["lens", "f mm", "f-number", "min focus m", "W040", "W131", "W222", "W220 um", "Zernike um", "cost"],
            [[lc.name, lc.spec.focal_length_mm, lc.spec.f_number, lc.spec.min_focus_distance_m, lc.seidel.w040_um,
              lc.seidel.w131_um, lc.seidel.w222_um, lc.seidel.w220_um,
              ", ".join(f"{k}: {v}" for k, v in lc.zernike_um) or "-", lc.cost] for lc in catalog.lenses])
    s.table(["sensor", "pitch um", "pixels", "QE", "read noise e-", "full well e-", "dark e-/s", "dual pixel", "cost"],
            [[sc.name, sc.spec.pixel_pitch_um, f"{sc.spec.width_px} x {sc.spec.height_px}",
              sc.spec.quantum_efficiency, sc.spec.read_noise_e, sc.spec.full_well_e, sc.spec.dark_current_e_per_s,
              "yes" if sc.spec.dual_pixel else "no", sc.cost] for sc in catalog.sensors])
    s.table(["actuator", "stroke um", "resonance Hz", "damping", "cost"],
            [[a.name, a.spec.stroke_um, a.spec.natural_frequency_hz, a.spec.damping_ratio, a.cost]
             for a in catalog.actuators])
    return s


def optimizer_section(opt: dict) -> Section:
    """The optimizer's set-up, its Pareto trials and plots."""
    s = Section("Optimizer")
    trials = opt["trials"]
    ok = [t for t in trials if t["status"] == "ok"]
    front = [t for t in ok if t["pareto"]]
    s.text(f"NSGA-II (Optuna), seed {opt['seed']}, {len(trials)} trials ({len(trials) - len(ok)} failed): base lens "
           f"{opt['lens']}, base sensor {opt['sensor']}, bounds "
           + ", ".join(f"{k} {lo:g}..{hi:g}" for k, (lo, hi) in opt["bounds"].items())
           + f". {len(front)} trials on the front.")
    params = list(opt["bounds"])
    objs = list(opt["objectives"])
    first_max = opt["objectives"][objs[0]] == "maximize"
    rows = [[t["number"], *[t["params"][p] for p in params], *[_cell(t["values"][o]) for o in objs]]
            for t in sorted(front, key=lambda t: t["values"][objs[0]], reverse=first_max)]
    s.table(["trial", *params, *objs], rows)
    if ok:
        s.figure(pareto_figure([{**t["values"], "pareto": t["pareto"]} for t in ok], opt["objectives"],
                               labels=[str(t["number"]) for t in ok], title="optimizer trials"),
                 "Optimizer trials by objective pair (numbers: trial); red: the front over all objectives.")
        plt = _plt()
        fig, axes = plt.subplots(1, len(params), figsize=(4.2 * len(params), 3.2), dpi=100, squeeze=False)
        for ax, p in zip(axes[0], params, strict=True):
            ax.scatter([t["number"] for t in ok], [t["params"][p] for t in ok],
                       c=["tab:red" if t["pareto"] else "0.6" for t in ok], s=14)
            ax.set_xlabel("trial")
            ax.set_ylabel(p)
            ax.grid(alpha=0.3)
        fig.tight_layout()
        s.figure(fig, "Parameters sampled per trial (red: on the front): NSGA-II concentrates on the front.")
    return s


def write_design_report(path: str | Path, catalog: DesignCatalog, document: dict, *, command: str | None = None
                        ) -> Path:
    """Write the HTML report of a results document (:func:`focuslab.hw.design_results.results_document`)."""
    records = document["combinations"]
    feasible = [r for r in records if r.get("status", "ok") == "ok"]
    labels = [str(i + 1) for i, r in enumerate(records) if r.get("status", "ok") == "ok"]
    table = Section("Combinations")
    table.text("One row per lens x sensor x actuator; * marks the Pareto front over "
               + ", ".join(f"{k} ({v})" for k, v in document["objectives"].items())
               + f". AF figures from {document['settings']['af_cases']} stills-bright case(s) per combination, "
               f"method {document['settings']['af_method']}.")
    cols = [(k, t) for k, t in TABLE_FIGURES if k in (feasible[0] if feasible else {})]
    table.table(["#", "combination", "front", *[t for _, t in cols]],
                [[i + 1, r["name"], "*" if r["pareto"] else ("infeasible" if r.get("status") == "infeasible" else ""),
                  *[_cell(r.get(k)) for k, _ in cols]] for i, r in enumerate(records)])
    for name, reason in document.get("infeasible", {}).items():
        table.text(f"{name} is infeasible: {reason}")
    pareto = Section("Pareto front")
    pareto.text("Front: " + ", ".join(document["pareto_front"]) + ".")
    if feasible:
        pareto.figure(pareto_figure(feasible, document["objectives"], labels=labels, title="combinations"),
                      "Every pair of objectives; numbers as in the table; red: non-dominated over all objectives.")
        pareto.figure(mtf_figure(records, document["mtf_curves"]),
                      "System MTF (lens PSF x pixel aperture), centre and corner meridional; solid: Pareto front.")
    sections = [parts_section(catalog), table, pareto]
    if document.get("optimizer"):
        sections.append(optimizer_section(document["optimizer"]))
    return write_report(path, f"Design exploration: {catalog.source}", sections, command=command)
