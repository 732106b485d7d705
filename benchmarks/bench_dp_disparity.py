"""Dual-pixel disparity on the real Pixel 4 scenes of Xin et al. (ICCV 2021), scored against
their ground-truth defocus maps: Spearman's rho, AIWE(1), AIWE(2), 1 - |rho| per scene.

Data: ``../shared/data/dual_pixel/pixel4`` (research use, cite Xin et al. 2021): left/right
green-channel views, 14-bit in uint16 PNG with black level 1024, 2016 x 1512; ground truth
``gt_defocus_map/NNN_gt.png``, 8-bit, the central 1344 x 1008 crop (offset x 336, y 252, as
in Xin et al.'s ``_crop_image_central_fov``). Ground-truth value 0 marks pixels without a
ground truth (the gaps between the segmented layers); patches touching them are left out.

Baseline (same run): plain NCC, 32-px patches, no band-pass, the library defaults.

A third table scores the single-image Zhuo & Sim defocus map of left + right (no
dual-pixel information) the same way.

Run: ``python benchmarks/bench_dp_disparity.py [FOLDER]`` (about 80 s on 2 CPU cores).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from focuslab.data.image_files import read_image
from focuslab.errors import InputFileError
from focuslab.metrics.blur_map import defocus_map
from focuslab.metrics.dp_disparity import dp_disparity_map, patch_means
from focuslab.metrics.rank_metrics import rank_scores, spearman_rho

BLACK_LEVEL_DN = 1024.0
GT_SHAPE = (1008, 1344)
#: Settings of the evaluation (docs/blur_maps.md): large patches against the strong pixel noise.
PIXEL4_SETTINGS = {
    "patch_px": 96,
    "stride_px": 16,
    "max_shift_px": 14,
    "lowpass_sigma_px": 2.0,
    "highpass_sigma_px": 32.0,
}
BASELINE_SETTINGS = {"patch_px": 32, "stride_px": 16, "max_shift_px": 14}
#: Single-image Zhuo & Sim on left + right (no dual-pixel information): coarser scales than
#: the defaults, against the pixel noise of the Pixel 4 views.
ZHUO_SIM_SETTINGS = {"sigma0_px": 2.0, "gradient_sigma_px": 2.0, "canny_sigma_px": 2.0}


def _read_plane(path: Path) -> np.ndarray:
    if not path.is_file():
        raise InputFileError(f"missing file {path}; point at the pixel4 folder of Xin et al.'s data")
    img = read_image(path)
    return (img[..., 0] if img.ndim == 3 else img).astype(np.float64)


def load_pixel4_scene(folder, scene: str):
    """(left, right, gt) of one scene, views black-subtracted and cropped to the ground truth."""
    folder = Path(folder)
    left = _read_plane(folder / f"{scene}_left.png") - BLACK_LEVEL_DN
    right = _read_plane(folder / f"{scene}_right.png") - BLACK_LEVEL_DN
    gt = _read_plane(folder / "gt_defocus_map" / f"{scene}_gt.png")
    if gt.shape != GT_SHAPE:
        raise InputFileError(f"{scene}: ground truth is {gt.shape}, expected {GT_SHAPE}")
    y0 = (left.shape[0] - gt.shape[0]) // 2
    x0 = (left.shape[1] - gt.shape[1]) // 2
    crop = (slice(y0, y0 + gt.shape[0]), slice(x0, x0 + gt.shape[1]))
    return left[crop], right[crop], gt


def evaluate_scene(left, right, gt, **settings) -> dict:
    """Scores of one scene's disparity map against its ground truth (one table row)."""
    t0 = time.perf_counter()
    dmap = dp_disparity_map(left, right, **settings)
    seconds = time.perf_counter() - t0
    ref, valid = patch_means(gt, dmap, invalid_value=0.0)
    ok = valid & np.isfinite(dmap.disparity_px)
    d = dmap.disparity_px[ok].astype(float)
    s = rank_scores(d, ref[ok])
    conf = dmap.confidence[ok]
    top = conf >= np.median(conf)
    return {
        "rho": s.spearman_rho,
        "rho_abs": spearman_rho(np.abs(d), ref[ok]),
        "rho_confident_half": spearman_rho(d[top], ref[ok][top]),
        "aiwe1": s.aiwe1,
        "aiwe2": s.aiwe2,
        "one_minus_abs_rho": s.one_minus_abs_rho,
        "n_patches": s.n_samples,
        "median_disparity_px": float(np.median(d)),
        "seconds": seconds,
    }


def evaluate_pixel4(folder, *, settings: dict | None = None) -> list[dict]:
    """One row per scene (``scene`` plus :func:`evaluate_scene`'s scores) for every scene with
    a ground-truth defocus map in ``folder``."""
    folder = Path(folder)
    scenes = sorted(p.name[:3] for p in (folder / "gt_defocus_map").glob("*_gt.png"))
    if not scenes:
        raise InputFileError(f"no gt_defocus_map/NNN_gt.png in {folder}")
    rows = []
    for scene in scenes:
        left, right, gt = load_pixel4_scene(folder, scene)
        rows.append({"scene": scene, **evaluate_scene(left, right, gt, **(settings or PIXEL4_SETTINGS))})
    return rows


def evaluate_pixel4_single_image(folder) -> list[dict]:
    """Zhuo & Sim defocus map of left + right per scene, scored like the disparity: the dense
    map on every 4th pixel (both axes) with a ground truth, and rho of the edge estimates."""
    folder = Path(folder)
    rows = []
    for scene in sorted(p.name[:3] for p in (folder / "gt_defocus_map").glob("*_gt.png")):
        left, right, gt = load_pixel4_scene(folder, scene)
        t0 = time.perf_counter()
        dm = defocus_map(left + right, **ZHUO_SIM_SETTINGS)
        seconds = time.perf_counter() - t0
        ok = gt > 0
        edge = ok & np.isfinite(dm.sparse_sigma_px)
        grid = np.zeros_like(ok)
        grid[::4, ::4] = True  # every 16th pixel for the scores: AIWE(1) sorts per iteration
        s = rank_scores(dm.dense_sigma_px[ok & grid], gt[ok & grid])
        rows.append(
            {
                "scene": scene,
                "rho": s.spearman_rho,
                "rho_sparse_edges": spearman_rho(dm.sparse_sigma_px[edge], gt[edge]),
                "aiwe1": s.aiwe1,
                "aiwe2": s.aiwe2,
                "one_minus_abs_rho": s.one_minus_abs_rho,
                "median_sigma_px": float(np.median(dm.dense_sigma_px[ok])),
                "n_patches": int(edge.sum()),
                "seconds": seconds,
            }
        )
    return rows


DP_COLUMNS = ["rho", "rho_abs", "rho_confident_half", "aiwe1", "aiwe2", "one_minus_abs_rho", "median_disparity_px"]
ZS_COLUMNS = ["rho", "rho_sparse_edges", "aiwe1", "aiwe2", "one_minus_abs_rho", "median_sigma_px"]


def format_table(rows: list[dict], cols: list[str] = DP_COLUMNS) -> str:
    """Markdown table of :func:`evaluate_pixel4` rows with a median row."""
    head = "| scene | " + " | ".join(cols) + " | patches |"
    lines = [head, "|" + "---|" * (len(cols) + 2)]
    for r in rows:
        lines.append(f"| {r['scene']} | " + " | ".join(f"{r[c]:.3f}" for c in cols) + f" | {r['n_patches']} |")
    med = {c: float(np.median([r[c] for r in rows])) for c in cols}
    lines.append("| median | " + " | ".join(f"{med[c]:.3f}" for c in cols) + " | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    default = Path(__file__).resolve().parents[2] / "shared" / "data" / "dual_pixel" / "pixel4"
    folder = Path(argv[0]) if argv else default
    if not folder.is_dir():
        print(f"no Pixel 4 data at {folder}; pass its folder", file=sys.stderr)
        return 2
    for name, settings in (("focuslab (Pixel 4 settings)", PIXEL4_SETTINGS), ("baseline", BASELINE_SETTINGS)):
        t0 = time.perf_counter()
        rows = evaluate_pixel4(folder, settings=settings)
        print(f"\n{name}: {settings}  ({time.perf_counter() - t0:.1f} s for {len(rows)} scenes)")
        print(format_table(rows))
    t0 = time.perf_counter()
    rows = evaluate_pixel4_single_image(folder)
    print(f"\nsingle image, Zhuo & Sim on left + right: {ZHUO_SIM_SETTINGS}  ({time.perf_counter() - t0:.1f} s)")
    print(format_table(rows, ZS_COLUMNS).replace("| patches |", "| edge px |"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
