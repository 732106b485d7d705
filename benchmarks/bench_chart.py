"""Whole-chart analysis speed: seconds per chart and edges per second, beside measuring by hand.

Chart: 2000 x 1500 px, 40 dark squares (5 x 8, side 110 px) rotated 5 degrees on a light
ground, Gaussian PSF growing with image height (sigma = 0.8 + 1.2 r px), pixel-integrated,
noise sd 0.005 (the generator of tests/metrics/charts_synthetic.py). 160 edges.

Figures (best of ``REPEATS`` runs, one process):

* ``analyze_chart``: detection + ROI placement + e-SFR of every edge + field maps;
* ``find_chart_edges``: detection and ROI placement alone;
* baseline: ``measure_sfr(image, roi=...)`` on the same 160 ROIs handed over by hand (what a
  user with the ROIs already typed in would pay; measure_sfr converts the whole image to float
  on each call, which analyze_chart avoids by handing it the ROI's pixels), and
  ``measure_sfr`` on the 160 ROI arrays already cut out (the e-SFR work alone), so the
  detection overhead is ``analyze_chart`` minus the latter.

Also printed: MTF50 error against the analytic truth over the chart's edges.

Run: ``python benchmarks/bench_chart.py`` (about 30-60 s on 2 CPU cores).
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "metrics"))

from charts_synthetic import analytic_mtf50, square_chart

from focuslab.metrics.charts import analyze_chart, find_chart_edges
from focuslab.metrics.sfr import measure_sfr

SHAPE = (1500, 2000)
REPEATS = 3


def best_of(fn, repeats: int = REPEATS) -> tuple[float, object]:
    best, out = math.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    t0 = time.perf_counter()
    img, truths = square_chart(SHAPE, grid=(5, 8), side_px=110.0, sigma=lambda r: (0.8 + 1.2 * r,) * 2,
                               supersample=4, noise_sd=0.005, seed=1, margin_frac=0.06)
    print(f"chart {SHAPE[1]} x {SHAPE[0]} px, {len(truths)} squares, rendered in {time.perf_counter() - t0:.1f} s")

    t_det, det = best_of(lambda: find_chart_edges(img))
    rois = [er.roi for _, _, er in det.edges]
    t_full, res = best_of(lambda: analyze_chart(img))
    t_base, base = best_of(lambda: [measure_sfr(img, roi=r) for r in rois])
    crops = [img[y : y + h, x : x + w] for x, y, w, h in rois]
    t_crop, _ = best_of(lambda: [measure_sfr(c) for c in crops])

    n = len(res.edges)
    print(f"squares found {len(res.squares)} / {len(truths)}, edges measured {n}, skipped {len(res.skipped)}")
    print(f"{'':34s}{'s / chart':>12s}{'edges / s':>12s}")
    print(f"{'analyze_chart (whole chart)':34s}{t_full:12.3f}{n / t_full:12.1f}")
    print(f"{'  of which find_chart_edges':34s}{t_det:12.3f}{'':>12s}")
    print(f"{'baseline: measure_sfr, ROIs by hand':34s}{t_base:12.3f}{len(rois) / t_base:12.1f}")
    print(f"{'  measure_sfr on pre-cut ROI arrays':34s}{t_crop:12.3f}{len(rois) / t_crop:12.1f}")
    print(f"detection + mapping cost over the e-SFR alone: {t_full - t_crop:.3f} s "
          f"({100 * (t_full / t_crop - 1):.0f}% over measuring pre-cut ROIs)")
    same = all(abs(a.mtf50_cpp - b.mtf50_cpp) < 1e-12 for a, b in zip(res.edges, base, strict=True))
    print(f"analyze_chart and the baseline give the same MTF50 on every edge: {same}")

    errs = []
    for e in res.edges:
        q = res.squares[e.square]
        t = min(truths, key=lambda t: math.dist(q.centroid_xy, t.centre_xy))
        errs.append(e.mtf50_cpp / analytic_mtf50(t.sigma_along(e.normal_xy), e.normal_xy) - 1.0)
    a = np.abs(errs)
    print(f"MTF50 |error| vs analytic truth: median {100 * np.median(a):.2f}%, "
          f"95th percentile {100 * np.percentile(a, 95):.2f}%, max {100 * a.max():.2f}%")
    s = res.summary
    print(f"summary MTF50 cy/px: centre {s.centre_mtf50_cpp:.4f}, corners {s.corner_mtf50_cpp:.4f}, "
          f"sagittal {s.sagittal_mtf50_cpp:.4f}, meridional {s.meridional_mtf50_cpp:.4f}")


if __name__ == "__main__":
    main()
