"""Outputs of a defect-pixel run: the defect map PNG, the JSON summary and the HTML report."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from focuslab.html_report import Section, write_report
from focuslab.hw.defect_result import CLUSTER_FLAG, DefectCode, DefectResult

_COLOURS = {DefectCode.HOT: "tab:red", DefectCode.DEAD: "tab:blue", DefectCode.STUCK: "tab:purple",
            DefectCode.BRIGHT: "tab:orange"}
_METHOD_TITLES = {"dark_flat": "dark and flat frames (static)", "single_frame": "one scene frame (dynamic)"}


def write_defect_map(path: str | os.PathLike, result: DefectResult) -> Path:
    """The ``uint8`` defect map as a grey PNG (codes as pixel values; see ``DefectResult.codes``)."""
    from focuslab.data.image_files import write_png

    return write_png(path, result.codes)


def _display(image: np.ndarray, max_px: int = 1600) -> tuple[np.ndarray, int]:
    """A grey preview of a mosaic: every ``step``-th pixel (``step`` even, so one CFA colour),
    square-root scaled between its 1st and 99.5th percentiles; returns (preview, step)."""
    step = max(1, int(np.ceil(max(image.shape) / max_px)))
    step += step % 2 if step > 1 else 0
    small = np.asarray(image, dtype=np.float64)[::step, ::step]
    lo, hi = np.percentile(small, [1.0, 99.5])
    return np.sqrt(np.clip((small - lo) / max(hi - lo, 1e-12), 0.0, 1.0)), step


def _map_figure(result: DefectResult, title: str, background: np.ndarray | None = None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    h, w = result.codes.shape
    fig, ax = plt.subplots(figsize=(9, max(3.0, 9 * h / max(w, 1))), constrained_layout=True)
    if background is not None and background.shape == result.codes.shape:
        preview, _step = _display(background)
        ax.imshow(preview, cmap="gray", extent=(0, w, h, 0), interpolation="nearest")
    types = result.types
    for code, colour in _COLOURS.items():
        ys, xs = np.nonzero(types == code)
        if ys.size:
            ax.scatter(xs, ys, s=6, c=colour, label=f"{code.name.lower()} ({ys.size})", linewidths=0)
    for c in result.clusters:
        x, y, cw, ch = c.bbox_px
        ax.add_patch(Rectangle((x - 3, y - 3), cw + 6, ch + 6, fill=False, edgecolor="black", lw=0.8))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.set_aspect("equal")
    ax.set_xlabel("x (px)")
    ax.set_ylabel("y (px)")
    ax.set_title(title)
    if np.any(types):
        ax.legend(loc="upper right", fontsize=8, markerscale=2)
    return fig


def _cluster_histogram(result: DefectResult):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [c.size_px for c in result.clusters]
    fig, ax = plt.subplots(figsize=(6, 3.2), constrained_layout=True)
    bins = np.arange(1.5, max(sizes, default=2) + 1.5)
    ax.hist(sizes, bins=bins, color="tab:grey", edgecolor="black")
    ax.set_xlabel("cluster size (same-colour pixels)")
    ax.set_ylabel("clusters")
    ax.set_title("couplets (2) and clusters (>= 3)")
    return fig


def result_sections(result: DefectResult, *, source: str, background: np.ndarray | None = None) -> list[Section]:
    """Report sections of one result: counts, thresholds, the map (over ``background``), the clusters."""
    counts = result.counts()
    h, w = result.codes.shape
    head = Section(f"Defects from {_METHOD_TITLES.get(result.method, result.method)}")
    head.text(f"Source: {source}. {w} x {h} pixels, CFA {result.cfa}, threshold {result.k_sigma:g} robust sigmas"
              + (f", {result.n_dark_frames} dark and {result.n_flat_frames} flat frames averaged."
                 if result.method == "dark_flat" else "."))
    head.table(["type", "pixels", "ppm of pixels"],
               [[k, v, 1e6 * v / (h * w)] for k, v in counts.items() if k not in ("couplets", "clusters")]
               + [["couplets (groups)", counts["couplets"], ""], ["clusters >= 3 (groups)", counts["clusters"], ""]])
    head.table(["plane", "dark sigma (DN)", "hot threshold (DN)", "gain sigma", "dead threshold (gain)",
                "flat level (DN)"],
               [[p.plane, *(("-" if v is None else float(v)) for v in (p.dark_sigma_dn, p.hot_threshold_dn,
                                                                       p.gain_sigma, p.dead_threshold_gain,
                                                                       p.flat_level_dn))] for p in result.planes])
    for note in result.notes:
        head.text(note)
    head.figure(_map_figure(result, f"defect map ({counts['total']} pixels); boxes: couplets and clusters",
                            background),
                "Positions of the defective pixels by type (dots enlarged) over the frame (one CFA colour, "
                "square-root scale); black boxes mark same-colour groups.")
    sections = [head]
    if result.clusters:
        cl = Section("Couplets and clusters")
        cl.text(f"Groups of 8-connected defective pixels in the same CFA plane; bit {CLUSTER_FLAG} is set on their "
                "pixels in defect_map.png.")
        cl.figure(_cluster_histogram(result), "Cluster sizes.")
        cl.table(["plane", "kind", "pixels", "x", "y", "w", "h", "types"],
                 [[c.plane, c.kind, c.size_px, *c.bbox_px, ",".join(DefectCode(t).name.lower() for t in c.codes)]
                  for c in result.clusters[:50]])
        sections.append(cl)
    return sections


def write_defect_report(path: str | os.PathLike, results: list[tuple[DefectResult, str, np.ndarray | None]], *,
                        command: str | None = None) -> Path:
    """Self-contained HTML report of one or more ``(result, source description, background frame)``."""
    sections: list[Section] = []
    for result, source, background in results:
        sections.extend(result_sections(result, source=source, background=background))
    return write_report(path, "Defect pixels", sections, command=command)
