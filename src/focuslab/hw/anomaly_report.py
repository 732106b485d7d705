"""HTML report of a population anomaly study (:mod:`focuslab.html_report`).

Score histograms of good and faulty units (both methods), ROC curves, AUROC per fault kind
and the most anomalous units with the features that make them so.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from focuslab.html_report import Section, write_report
from focuslab.hw.anomaly import METHODS, AnomalyResult
from focuslab.hw.population import FAULT_KINDS

_NAMES = {"mcd": "robust Mahalanobis (MinCovDet)", "iforest": "isolation forest"}


def _fmt(v: float) -> str:
    return "-" if not math.isfinite(v) else f"{v:.3f}"


def write_anomaly_report(path: str | os.PathLike, result: AnomalyResult, *, command: str | None = None) -> Path:
    """Write the report to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    y = result.test.labels
    summary = Section("Populations and AUROC")
    summary.text(f"Trained on {len(result.train.units)} simulated modules ({int(result.train.labels.sum())} faulty, "
                 f"labels unused); scored on a held-out population of {len(result.test.units)} "
                 f"({int(y.sum())} faulty) drawn with another seed.")
    summary.table(["method", "AUROC", *FAULT_KINDS],
                  [(_NAMES[m], _fmt(result.auroc[m]), *(_fmt(result.auroc_by_fault[m][k]) for k in FAULT_KINDS))
                   for m in METHODS])

    hist = Section("Score histograms")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), constrained_layout=True)
    for ax, m in zip(axes, METHODS, strict=True):
        s = result.scores[m]
        s_plot = np.log10(np.maximum(s, 1e-3)) if m == "mcd" else s
        bins = np.linspace(s_plot.min(), s_plot.max(), 30)
        ax.hist(s_plot[~y], bins=bins, alpha=0.6, label=f"good ({int((~y).sum())})")
        ax.hist(s_plot[y], bins=bins, alpha=0.6, label=f"faulty ({int(y.sum())})", color="tab:red")
        ax.set_xlabel("log10 squared Mahalanobis distance" if m == "mcd" else "isolation score (-score_samples)")
        ax.set_title(_NAMES[m])
        ax.legend()
    hist.figure(fig, "Held-out population: scores of good and faulty modules")

    roc = Section("ROC curves")
    fig, ax = plt.subplots(figsize=(5.5, 5), constrained_layout=True)
    if 0 < y.sum() < len(y):
        for m in METHODS:
            fpr, tpr, _ = roc_curve(y, result.scores[m])
            ax.plot(fpr, tpr, label=f"{_NAMES[m]} (AUROC {_fmt(result.auroc[m])})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set_xlabel("false-positive rate")
    ax.set_ylabel("true-positive rate")
    ax.legend(fontsize=8)
    roc.figure(fig, "ROC of the held-out population")

    top = Section("Most anomalous modules (robust Mahalanobis)")
    top.table(["module", "truth", "MCD score", "iforest score", "why (robust z of the largest features)"],
              [(t["index"], t["fault"] or "good", f"{t['mcd']:.3g}", f"{t['iforest']:.3f}",
                ", ".join(f"{w['feature']} {w['z']:+.1f}" for w in t["why"])) for t in result.top])
    return write_report(path, "Module population anomalies", [summary, hist, roc, top], command=command)
