"""The AF benchmark's self-contained HTML report (``report.html`` beside ``results.json``).

Built from the results document of :func:`focuslab.bench.leaderboard.build_results` with
:mod:`focuslab.html_report` (figures embedded as PNG data URIs; no network needed):

1. an overview: in-focus rate of every method on every suite (a heat map);
2. per suite: the leaderboard table, lens position over time per method on the suite's first
   case with the in-focus band (best code +- 1 depth of focus), the final-error distribution
   per method, the focus curve of the first case (settled contrast sweep with the true focus
   error), and example AF-region frames before and after focus; video suites also show the
   focus error over time.
"""

from __future__ import annotations

import base64
import html
import math
import os
from pathlib import Path

import numpy as np

from focuslab.bench.leaderboard import leaderboard_rows
from focuslab.html_report import Section, write_report

#: Colours of the methods in every plot (cycled in method order).
PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666", "#1f78b4")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _num(v) -> float:
    return math.nan if v is None else float(v)


def _leaderboard_html(results: dict, suite: str) -> str:
    header, rows = leaderboard_rows(results, suite)
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>" for r in rows
    )
    return f"<table class='leaderboard'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _overview_figure(results: dict):
    plt = _plt()
    suites = list(results["suites"])
    methods = list(results["methods"])
    grid = np.full((len(methods), len(suites)), np.nan)
    for j, s in enumerate(suites):
        for i, m in enumerate(methods):
            agg = results["suites"][s]["methods"].get(m, {})
            grid[i, j] = _num(agg.get("in_focus_rate"))
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * len(suites), 0.9 + 0.42 * len(methods)))
    im = ax.imshow(np.ma.masked_invalid(grid), cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    for i in range(len(methods)):
        for j in range(len(suites)):
            txt = "skip" if math.isnan(grid[i, j]) else f"{grid[i, j]:.0%}"
            ax.text(j, i, txt, ha="center", va="center", fontsize=9)
    ax.set_xticks(range(len(suites)), suites, rotation=20, ha="right")
    ax.set_yticks(range(len(methods)), methods)
    fig.colorbar(im, ax=ax, label="in-focus rate")
    ax.set_title("In-focus rate per method and suite")
    return fig


def _first_case_records(results: dict, suite: str) -> list[dict]:
    cases = results["suites"][suite]["cases"]
    if not cases:
        return []
    cid = cases[0]["case_id"]
    return [r for r in results["records"] if r["suite"] == suite and r["case_id"] == cid and r["status"] == "ok"]


def _trajectory_figure(records: list[dict], methods: list[str]):
    """Lens position (true, codes) over time per method, with the in-focus band around the best code."""
    plt = _plt()
    n = len(records)
    cols = min(3, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    for k, rec in enumerate(records):
        ax = axes[k // cols][k % cols]
        tr = rec["trace"]
        t = 1e3 * np.array([_num(v) for v in tr["t_s"]])
        best = np.array([_num(v) for v in tr["best_code"]])
        band = np.array([_num(v) for v in tr.get("band_codes", [None] * len(t))])
        if np.isfinite(band).any():
            ax.fill_between(t, best - band, best + band, color="#9bd39b", alpha=0.6, step="mid",
                            label="in focus (1 DoF)")
        ax.plot(t, best, "--", color="#2a7f2a", lw=1, label="best code")
        colour = PALETTE[methods.index(rec["method"]) % len(PALETTE)] if rec["method"] in methods else "k"
        ax.plot(t, [_num(v) for v in tr["true_code"]], "o-", ms=2.5, color=colour, label="lens (true)")
        ax.step(t, [_num(v) for v in tr["code"]], where="post", color="#888", lw=0.8, label="commanded")
        if rec.get("done_frame") is not None:
            ax.axvline(t[rec["done_frame"]], color="#c00", lw=0.8, ls=":", label="done")
        m = rec.get("metrics", {})
        err = m.get("final_error")
        unit = "DoF" if m.get("error_unit") == "dof" else "frames"
        ax.set_title(f"{rec['method']}: error {_num(err):.2f} {unit}", fontsize=9)
        ax.set_xlabel("time (ms)")
        if k % cols == 0:
            ax.set_ylabel("lens position (code)")
    for k in range(n, rows * cols):
        axes[k // cols][k % cols].axis("off")
    axes[0][0].legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def _error_figure(results: dict, suite: str, methods: list[str], key: str = "final_error"):
    """Final focus error of every run per method (strip plot over a box plot, log scale)."""
    plt = _plt()
    recs = [r for r in results["records"] if r["suite"] == suite and r["status"] == "ok"]
    data, names = [], []
    for m in methods:
        v = [_num(r["metrics"].get(key)) for r in recs if r["method"] == m]
        v = [x for x in v if math.isfinite(x)]
        if v:
            data.append(np.maximum(v, 1e-3))
            names.append(m)
    if not data:
        return None
    unit = "DoF" if all(r["metrics"].get("error_unit") == "dof" for r in recs) else "DoF / frames"
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(names) + 2), 3.4))
    ax.boxplot(data, showfliers=False, widths=0.5)
    rng = np.random.default_rng(0)  # fixed jitter: the figure is deterministic
    for i, v in enumerate(data):
        colour = PALETTE[methods.index(names[i]) % len(PALETTE)]
        ax.scatter(i + 1 + rng.uniform(-0.15, 0.15, len(v)), v, s=14, color=colour, zorder=3)
    ax.axhline(1.0, color="#c00", ls="--", lw=1, label="in-focus limit (1)")
    ax.set_yscale("log")
    ax.set_xticks(range(1, len(names) + 1), names, rotation=20, ha="right")
    ax.set_ylabel(f"final focus error ({unit})")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _focus_curve_figure(curve: dict, best_code):
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    codes = np.asarray(curve["codes"], dtype=float)
    ax.plot(codes, curve["measure"], "o-", ms=3, color="#1f78b4", label=f"{curve['method']} (green plane)")
    ax.set_xlabel("lens code")
    ax.set_ylabel("normalised focus measure")
    err = np.array([_num(v) for v in curve.get("error_dof", [])])
    if err.size and np.isfinite(err).any():
        ax2 = ax.twinx()
        ax2.plot(codes, err, "s:", ms=3, color="#d95f02", label="true focus error")
        ax2.axhline(1.0, color="#d95f02", lw=0.6, ls="--")
        ax2.set_yscale("log")
        ax2.set_ylabel("focus error (DoF)")
    if best_code is not None:
        ax.axvline(float(best_code), color="g", ls="--", label=f"best code {float(best_code):.0f}")
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    return fig


def _stack_curves_figure(results: dict, suite: str):
    """The replayed stack's focus curve per AF region, with each curve's best position."""
    plt = _plt()
    recs = [r for r in results["records"] if r["suite"] == suite and r.get("focus_curve")]
    if not recs:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    for k, r in enumerate(recs):
        c = r["focus_curve"]
        colour = PALETTE[k % len(PALETTE)]
        ax.plot(c["codes"], c["measure"], "o-", ms=3, color=colour, label=f"{r['case_id']} ({c['method']})")
        if r.get("best_code") is not None:
            ax.axvline(float(r["best_code"]), color=colour, ls="--", lw=1)
    ax.set_xlabel("lens position (frame)")
    ax.set_ylabel("normalised focus measure")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _video_error_figure(results: dict, suite: str, methods: list[str]):
    plt = _plt()
    cases = results["suites"][suite]["cases"]
    fig, axes = plt.subplots(1, len(cases), figsize=(4.2 * len(cases), 3.0), squeeze=False, sharey=True)
    for j, c in enumerate(cases):
        ax = axes[0][j]
        for r in results["records"]:
            if r["suite"] != suite or r["case_id"] != c["case_id"] or r["status"] != "ok":
                continue
            t = 1e3 * np.array([_num(v) for v in r["trace"]["t_s"]])
            e = np.array([_num(v) for v in r["trace"]["error_dof"]])
            colour = PALETTE[methods.index(r["method"]) % len(PALETTE)] if r["method"] in methods else "k"
            ax.plot(t, np.maximum(e, 1e-2), color=colour, lw=1.2, label=r["method"])
        ax.axhline(1.0, color="#c00", ls="--", lw=0.8)
        ax.set_yscale("log")
        ax.set_title(c["case_id"], fontsize=9)
        ax.set_xlabel("time (ms)")
    axes[0][0].set_ylabel("focus error (DoF)")
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    return fig


def _examples_html(rec: dict, base_dir: Path) -> str:
    ex = rec.get("examples") or {}
    cells = []
    for key, code_key in (("before", "before_code"), ("after", "after_code")):
        path = ex.get(key)
        if not path or not (base_dir / path).is_file():
            continue
        data = base64.b64encode((base_dir / path).read_bytes()).decode("ascii")
        cap = f"{key} focus ({ex.get('method', '')}, code {ex.get(code_key, '?')})"
        cells.append(f"<figure class='ex'><img src='data:image/png;base64,{data}' alt='{html.escape(cap)}'>"
                     f"<figcaption>{html.escape(cap)}</figcaption></figure>")
    if not cells:
        return ""
    return "<div class='examples'>" + "".join(cells) + "</div>"


def _per_case_html(results: dict, suite: str, methods: list[str]) -> str:
    """A folded table: every case's set-up and each method's final error (x: not in focus)."""
    recs = {(r["case_id"], r["method"]): r for r in results["records"] if r["suite"] == suite}
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["case", "set-up", "start code", *methods])
    body = []
    for c in results["suites"][suite]["cases"]:
        first = next((recs[(c["case_id"], m)] for m in methods if (c["case_id"], m) in recs), {})
        cells = [c["case_id"], first.get("label", ""), "-" if c.get("start_code") is None else str(c["start_code"])]
        for m in methods:
            r = recs.get((c["case_id"], m))
            if r is None or r["status"] != "ok":
                cells.append("skipped")
                continue
            e = r["metrics"].get("final_error")
            mark = "" if r["metrics"].get("in_focus") else " x"
            cells.append("-" if e is None else f"{e:.2f}{mark}")
        body.append("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in cells) + "</tr>")
    return ("<details><summary>Per-case final focus error (DoF; replay: frames; x = not in focus)</summary>"
            f"<table class='cases'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></details>")


def _stack_regions_html(results: dict, suite: str, methods: list[str]) -> str:
    """Per AF region of a replayed stack: the truth's best lens position and where each method ended."""
    recs = [r for r in results["records"] if r["suite"] == suite and r["status"] == "ok"]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in ["region", "ROI (x, y, w, h)", "best position", *methods])
    body = []
    for c in results["suites"][suite]["cases"]:
        mine = {r["method"]: r for r in recs if r["case_id"] == c["case_id"]}
        any_rec = next(iter(mine.values()), {})
        best = any_rec.get("best_code")
        cells = [c["case_id"], str(tuple(c["roi"])), "-" if best is None else f"{best:.2f}"]
        for m in methods:
            r = mine.get(m)
            k = None if r is None else (r.get("done_frame") if r.get("done_frame") is not None else -1)
            cells.append("-" if r is None or not r["trace"]["code"] else f"{r['trace']['code'][k]:.0f}")
        body.append("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in cells) + "</tr>")
    return (f"<p>Final lens position per AF region (frames are at positions 0, 1, ...):</p><table class='leaderboard'>"
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


_EXTRA_CSS = (
    "<style>table.leaderboard td:first-child{text-align:left;font-weight:600}"
    ".examples{display:flex;gap:1.5em}.examples img{width:256px;image-rendering:pixelated}"
    "</style>"
)


def af_report_sections(results: dict, *, base_dir: str | os.PathLike = ".") -> list[Section]:
    """The report's sections (see the module notes); ``base_dir`` is the bench folder holding the examples."""
    base = Path(base_dir)
    methods = list(results["methods"])
    intro = Section("Set-up")
    intro.items.append(_EXTRA_CSS)
    intro.text(
        f"Camera '{results['camera']}', suite seed {results['seed']}, {'full' if results['full'] else 'quick'} suites, "
        f"methods: {', '.join(methods)}. Focus error is in depth-of-focus units |c| / c_max (c_max = 2 native "
        "pixel pitches); a run is in focus when its final error is <= 1. Frames/ms to focus are medians over the "
        "runs that ended in focus; reversals count changes of direction of the lens commands (hunting). "
        "oracle and contrast-sweep are the reference rows."
    )
    secs = [intro]
    if results["suites"]:
        secs.append(Section("Overview").figure(_overview_figure(results), "In-focus rate of every method on every "
                                                                          "suite"))
    for name, s in results["suites"].items():
        sec = Section(f"Suite {name}")
        sec.text(s["description"] + f" ({len(s['cases'])} cases.)")
        sec.items.append(_leaderboard_html(results, name))
        sec.items.append(_per_case_html(results, name, methods))
        first = _first_case_records(results, name)
        if first:
            label = first[0].get("label", first[0]["case_id"])
            sec.figure(_trajectory_figure(first, methods),
                       f"Lens position over time, case {first[0]['case_id']} ({label}); shaded: in focus")
        fig = _error_figure(results, name, methods)
        if fig is not None:
            sec.figure(fig, "Final focus error of every run (box: quartiles; dashed: in-focus limit)")
        if s.get("video"):
            sec.figure(_video_error_figure(results, name, methods), "Focus error over time per video case")
        curve = next((r["focus_curve"] for r in first if r.get("focus_curve")), None)
        if curve is not None and not any(c.get("stack") for c in s["cases"]):
            sec.figure(_focus_curve_figure(curve, first[0].get("best_code")),
                       "Focus curve of the first case: settled sweep over the focus range")
        if any(c.get("stack") for c in s["cases"]):
            sec.items.append(_stack_regions_html(results, name, methods))
            fig = _stack_curves_figure(results, name)
            if fig is not None:
                sec.figure(fig, "Focus curve of every AF region over the stack (full resolution); dashed: its peak")
        ex = next((r for r in first if r.get("examples")), None)
        if ex is not None:
            sec.items.append(_examples_html(ex, base))
        secs.append(sec)
    return secs


def write_af_report(path: str | os.PathLike, results: dict, *, base_dir: str | os.PathLike | None = None) -> Path:
    """Write the AF benchmark report to ``path`` atomically (self-contained HTML); returns the path."""
    p = Path(path)
    secs = af_report_sections(results, base_dir=p.parent if base_dir is None else base_dir)
    return write_report(p, "focuslab AF benchmark", secs, command=results.get("command"))
