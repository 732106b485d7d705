"""``dp-defocus`` on real dual-pixel data: the Pixel 4 scenes of Xin et al. (ICCV 2021).

The network is applied in tiles (crops of its input size on a regular grid) over each scene's
left/right views, and its signed defocus is ranked against the scene's ground-truth defocus
map averaged over each tile (Spearman's rho, :func:`focuslab.metrics.rank_metrics.spearman_rho`),
the score Xin et al. use and the one the classical DP disparity gets in
``tests/metrics/test_dp_disparity.py`` (median 0.83 over the 8 scenes).

Data layout (``../shared/data/dual_pixel/pixel4``, research use, cite the paper): green-channel
views ``NNN_left.png`` / ``NNN_right.png``, 14-bit in uint16 with black level 1024, 2016 x 1512;
ground truth ``gt_defocus_map/NNN_gt.png``, 8-bit, the central 1344 x 1008 crop, 0 = no data
(tiles touching a 0 are left out).

References
----------
.. [1] S. Xin et al., "Defocus map estimation and deblurring from a single dual-pixel image",
       ICCV 2021.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from torch import nn

from focuslab.af.green_plane import bin_mean
from focuslab.errors import InputFileError

BLACK_LEVEL_DN = 1024.0
GT_SHAPE = (1008, 1344)


def _plane(path: Path) -> np.ndarray:
    from focuslab.data.image_files import read_image

    if not path.is_file():
        raise InputFileError(f"missing file {path}; point at the pixel4 folder of Xin et al.'s data")
    img = read_image(path)
    return (img[..., 0] if img.ndim == 3 else img).astype(np.float64)


def load_scene(folder: str | Path, scene: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(left, right, gt)``: views above black, cropped to the ground truth's central field."""
    folder = Path(folder)
    left = _plane(folder / f"{scene}_left.png") - BLACK_LEVEL_DN
    right = _plane(folder / f"{scene}_right.png") - BLACK_LEVEL_DN
    gt = _plane(folder / "gt_defocus_map" / f"{scene}_gt.png")
    if gt.shape != GT_SHAPE:
        raise InputFileError(f"{scene}: ground truth is {gt.shape}, expected {GT_SHAPE}")
    y0, x0 = (left.shape[0] - GT_SHAPE[0]) // 2, (left.shape[1] - GT_SHAPE[1]) // 2
    crop = (slice(y0, y0 + GT_SHAPE[0]), slice(x0, x0 + GT_SHAPE[1]))
    return left[crop], right[crop], gt


def scene_rank(model: nn.Module, left, right, gt, *, stride_px: int = 16) -> dict:
    """Spearman's rho between the tiled network defocus and the ground truth's tile means."""
    from focuslab.metrics.rank_metrics import spearman_rho
    from focuslab.models.predict import dp_defocus_map

    scale = np.float32(1.0 / max(float(np.mean(left)), 1e-6))  # any scale: the input is normalized
    centres, d, sigma = dp_defocus_map(model, left * scale, right * scale, stride_px=stride_px)
    n = model.crop_px
    ref, ok = [], []
    for cy, cx in centres:
        y, x = round(cy - (n - 1) / 2), round(cx - (n - 1) / 2)
        g = gt[y : y + n, x : x + n]
        ok.append(bool(np.all(g > 0)))
        ref.append(float(g.mean()))
    ok_arr = np.array(ok)
    ref_arr = np.array(ref)
    return {
        "rho": spearman_rho(d[ok_arr], ref_arr[ok_arr]),
        "n_tiles": int(ok_arr.sum()),
        "median_defocus_dof": float(np.median(d[ok_arr])),
        "median_sigma_dof": float(np.median(sigma[ok_arr])),
    }


def pixel4_rank(model: nn.Module, folder: str | Path, *, binning: int = 2, stride_px: int = 16) -> list[dict]:
    """One row per scene with a ground truth: ``scene`` plus :func:`scene_rank`'s scores. With
    ``binning=k`` the views (and the ground truth, a bin with a no-data pixel voided) are k x k
    binned first (the classical disparity's test bins 2 x 2; the simulated preview stream the
    networks learn from is 4 x 4 binned)."""
    folder = Path(folder)
    scenes = sorted(p.name[:3] for p in (folder / "gt_defocus_map").glob("*_gt.png"))
    if not scenes:
        raise InputFileError(f"no gt_defocus_map/NNN_gt.png in {folder}; give the pixel4 folder")
    rows = []
    for scene in scenes:
        left, right, gt = load_scene(folder, scene)
        if binning > 1:
            gt = np.where(bin_mean(gt > 0, binning) == 1.0, bin_mean(gt, binning), 0.0)
            left, right = bin_mean(left, binning), bin_mean(right, binning)
        rows.append({"scene": scene, **scene_rank(model, left, right, gt, stride_px=stride_px)})
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m focuslab.models.dp_real_check [PIXEL4_FOLDER] [WEIGHTS]``: a table of rho per
    scene and the median (default folder ``../shared/data/dual_pixel/pixel4`` beside the checkout;
    default weights the shipped general ones; ``pixel4`` for the per-sensor ones, ``cascade``
    for the general ones with the Pixel 4 ones reading the far crops as ``learned-dp`` reads on
    phone_main (:mod:`focuslab.models.dp_cascade`), or a file). ``-h`` / ``--help`` prints this;
    a missing folder or weights file is one line on stderr and exit code 2."""
    import sys

    from focuslab.errors import FocuslabError

    argv = sys.argv[1:] if argv is None else list(argv)
    if any(a in ("-h", "--help") for a in argv):
        print("usage: python -m focuslab.models.dp_real_check [PIXEL4_FOLDER] [WEIGHTS]\n\n"
              + " ".join(main.__doc__.split()))
        return 0
    try:
        return _run(argv)
    except FocuslabError as exc:
        print(f"dp_real_check: error: {exc}", file=sys.stderr)
        return 2


def _run(argv: list[str]) -> int:
    import time

    import torch

    from focuslab.models import load_model

    default = Path(__file__).resolve().parents[4] / "shared" / "data" / "dual_pixel" / "pixel4"
    folder = Path(argv[0]) if argv else default
    torch.set_num_threads(1)
    weights = argv[1] if len(argv) > 1 else None
    if weights == "cascade":
        from focuslab.models.dp_cascade import dp_reader

        model, _ = dp_reader(load_model("dp-defocus"), "phone_main")
    else:
        model = load_model("dp-defocus", weights)
    t0 = time.perf_counter()
    rows = pixel4_rank(model, folder)
    print("| scene | rho | tiles | median defocus (DoF) | median sigma (DoF) |\n|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['scene']} | {r['rho']:.3f} | {r['n_tiles']} | {r['median_defocus_dof']:.1f} | "
              f"{r['median_sigma_dof']:.1f} |")  # fmt: skip
    print(f"| median | {np.median([r['rho'] for r in rows]):.3f} | | | |")
    print(f"({time.perf_counter() - t0:.0f} s, 2 x 2 binned views, 64-px tiles every 16 px)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
