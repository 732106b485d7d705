"""Summary statistics of a training set for curating it (``focuslab data stats DIR``).

:func:`dataset_stats` reads every shard once and summarizes the labels (signed defocus in
depth-of-focus units, diopters and codes: count, mean, standard deviation, quantiles, the
fraction in focus |defocus| <= 1 DoF, and histograms), the light level (lux, log-spaced
histogram) and the signal in photo-electrons per pixel, and the share of each variant.
Video and two-frame labels (``(N, T)``) are summarized over all frames.
:func:`stats_report` writes them as a self-contained HTML report
(:mod:`focuslab.html_report`).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from focuslab.data.shards import load_shard, read_manifest
from focuslab.errors import FocuslabError

#: Histogram edges of the defocus labels, DoF units (clipped at the ends).
DOF_EDGES = np.linspace(-40.0, 40.0, 41)

#: Histogram edges of the defocus labels, diopters.
DIOPTER_EDGES = np.linspace(-10.0, 10.0, 41)


def _summary(x: np.ndarray) -> dict:
    x = np.asarray(x, dtype=np.float64).ravel()
    x = x[np.isfinite(x)]
    if x.size == 0:
        return {"count": 0}
    q = np.quantile(x, [0.01, 0.25, 0.5, 0.75, 0.99])
    return {"count": int(x.size), "mean": float(x.mean()), "std": float(x.std()), "min": float(x.min()),
            "p01": float(q[0]), "p25": float(q[1]), "median": float(q[2]), "p75": float(q[3]), "p99": float(q[4]),
            "max": float(x.max())}


def _hist(x: np.ndarray, edges: np.ndarray) -> dict:
    x = np.asarray(x, dtype=np.float64).ravel()
    counts, _ = np.histogram(np.clip(x[np.isfinite(x)], edges[0], edges[-1]), bins=edges)
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]}


def dataset_stats(folder: str | Path) -> dict:
    """Label, light and variant statistics of the dataset in ``folder`` (JSON-ready dict).

    Raises
    ------
    InputFileError
        Missing manifest, wrong format or a corrupt shard (see :func:`load_shard`).
    """
    man = read_manifest(folder)
    keys = ("defocus_dof", "defocus_diopters", "defocus_codes", "light_lux", "signal_electrons", "variant")
    cols: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    depth_valid: list[np.ndarray] = []
    for i in range(len(man["shards"])):
        shard = load_shard(folder, i)
        for k in keys:
            cols[k].append(np.asarray(shard[k]).ravel())
        if "depth_m" in shard:
            depth_valid.append(np.isfinite(shard["depth_m"]).ravel())
    data = {k: np.concatenate(v) for k, v in cols.items()}
    dof = data["defocus_dof"]
    lux = data["light_lux"]
    lo, hi = max(float(lux.min()), 1e-3), max(float(lux.max()), 1e-3)
    lux_edges = np.logspace(math.log10(lo), math.log10(hi) + 1e-9, 21)
    names = man["variants"]
    var_counts = np.bincount(data["variant"].astype(int), minlength=len(names))
    out = {
        "folder": str(folder), "kind": man["kind"], "num_samples": int(man["num_samples"]),
        "num_shards": len(man["shards"]), "crop_px": int(man["crop_px"]), "seed": man.get("seed"),
        "defocus_dof": _summary(dof), "defocus_diopters": _summary(data["defocus_diopters"]),
        "defocus_codes": _summary(data["defocus_codes"]),
        "in_focus_fraction": float(np.mean(np.abs(dof) <= 1.0)),
        "light_lux": _summary(lux), "signal_electrons": _summary(data["signal_electrons"]),
        "variants": {n: int(var_counts[i]) for i, n in enumerate(names)},
        "histograms": {"defocus_dof": _hist(dof, DOF_EDGES),
                       "defocus_diopters": _hist(data["defocus_diopters"], DIOPTER_EDGES),
                       "light_lux": _hist(lux, lux_edges)},
    }
    if depth_valid:
        out["depth_valid_fraction"] = float(np.mean(np.concatenate(depth_valid)))
    return out


def stats_report(stats: dict, path: str | Path, *, command: str | None = None) -> Path:
    """Write the statistics as an HTML report with histograms; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from focuslab.html_report import Section, write_report

    over = Section("Overview").table(
        ["kind", "samples", "shards", "crop px", "seed", "in focus (|dof| <= 1)"],
        [[stats["kind"], stats["num_samples"], stats["num_shards"], stats["crop_px"], stats["seed"],
          stats["in_focus_fraction"]]])
    rows = []
    for key, unit in (("defocus_dof", "DoF"), ("defocus_diopters", "D"), ("defocus_codes", "codes"),
                      ("light_lux", "lux"), ("signal_electrons", "e-/px")):
        s = stats[key]
        rows.append([f"{key} ({unit})", s.get("mean", float("nan")), s.get("std", float("nan")),
                     s.get("p01", float("nan")), s.get("median", float("nan")), s.get("p99", float("nan"))])
    labels = Section("Labels and light").table(["quantity", "mean", "std", "p1", "median", "p99"], rows)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    for ax, key, xlabel, log in ((axes[0], "defocus_dof", "signed defocus, DoF units", False),
                                 (axes[1], "defocus_diopters", "signed defocus, diopters", False),
                                 (axes[2], "light_lux", "illuminance, lux", True)):
        h = stats["histograms"][key]
        e = np.asarray(h["edges"])
        ax.bar(e[:-1], h["counts"], width=np.diff(e), align="edge", color="#4477aa", edgecolor="white")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("samples")
        if log:
            ax.set_xscale("log")
    labels.figure(fig, "Label and light-level histograms (end bins hold the clipped tails).")
    sections = [over, labels]
    examples = _examples_section(stats)
    if examples is not None:
        sections.append(examples)
    var = Section("Variants (camera / dual-pixel response)").table(
        ["variant", "samples", "share"],
        [[n, c, c / max(stats["num_samples"], 1)] for n, c in stats["variants"].items()])
    return write_report(path, f"Training set {Path(stats['folder']).name}", [*sections, var], command=command)


def _examples_section(stats: dict, count: int = 8):
    """The first ``count`` crops of shard 0 (left view or frame 0, frame 0 of video) with their labels."""
    import matplotlib.pyplot as plt

    from focuslab.html_report import Section

    try:
        shard = load_shard(stats["folder"], 0)
    except FocuslabError:  # the examples are optional; the statistics were read already
        return None
    images = shard.get("left", shard.get("image"))
    if images is None:
        return None
    n = min(count, images.shape[0])
    fig, axes = plt.subplots(1, n, figsize=(1.7 * n, 2.1), squeeze=False)
    for i, ax in enumerate(axes[0]):
        img = np.asarray(images[i], np.float32)
        while img.ndim > 2:
            img = img[0]
        ax.imshow(img, cmap="gray", vmin=0.0, vmax=max(float(np.quantile(img, 0.99)), 1e-6))
        dof = np.ravel(shard["defocus_dof"][i])[0]
        ax.set_title(f"{dof:+.1f} DoF\n{float(shard['light_lux'][i]):.0f} lux", fontsize=8)
        ax.axis("off")
    return Section("Examples").figure(fig, "First crops of shard 0 (raw mosaic, left DP view or frame 0) with "
                                      "their signed defocus and light level.")
