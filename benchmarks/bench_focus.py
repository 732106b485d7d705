"""Focus-measure throughput (frames / s): vectorised ``focus_curve`` vs a per-frame Python loop.

Stack: 49 synthetic 1000 x 1000 (1 MP) float32 grey frames, a focus sweep of one texture
(Gaussian-filtered noise, sigma 1 px) blurred by a Gaussian of sigma = 0.15 |i - 24| px, so
frame 24 is the sharpest; every operator's curve is checked to peak there (same work done).

For each of the registered operators (the 28 of Pertuz et al. 2013):

* ``focus_curve(stack, name)`` on all 49 frames (array operations over frames in chunks of
  ``focus.CHUNK_PIXELS`` pixels; for 1 MP frames that is one frame at a time);
* baseline measured in the same run: ``[focus_measure(f, name) for f in frames]`` on the
  first ``--loop-frames`` frames (default 7), frames / s extrapolated.

Second table, the AF-window case where batching frames matters: the same 49 frames cropped
to a 64 x 64 ROI, vectorised curve vs the per-frame loop, both on all 49 frames (best of 3).

Run: ``python benchmarks/bench_focus.py [--measures TENG,LAPV] [--size 1000]`` (about 1-2
minutes on 2 CPU cores for all 28). Timings are wall-clock on a shared machine: compare the
two columns of one run, not runs on different days.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import ndimage

from focuslab.metrics.focus import focus_curve, focus_measure, focus_measure_names, focus_measure_spec

FRAMES = 49
PEAK = 24
ROI_PX = 64


def make_stack(size_px: int, frames: int = FRAMES, seed: int = 0) -> np.ndarray:
    """``frames x size x size`` float32 focus sweep, sharpest frame in the middle."""
    rng = np.random.default_rng(seed)
    texture = 0.2 + 0.6 * ndimage.gaussian_filter(rng.random((size_px, size_px)), 1.0)
    out = np.empty((frames, size_px, size_px), dtype=np.float32)
    for i in range(frames):
        sigma = 0.15 * abs(i - frames // 2)
        out[i] = ndimage.gaussian_filter(texture, sigma) if sigma else texture
    return out


def _time(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measures", default=",".join(focus_measure_names()))
    parser.add_argument("--size", type=int, default=1000, help="frame side, px (1000 = 1 MP)")
    parser.add_argument("--loop-frames", type=int, default=7, help="frames timed by the per-frame baseline")
    args = parser.parse_args(argv)
    names = [n.strip().upper() for n in args.measures.split(",") if n.strip()]

    t_make, stack = _time(lambda: make_stack(args.size))
    print(f"stack: {FRAMES} frames of {args.size} x {args.size} px float32 ({t_make:.1f} s to make)")
    print(f"{'measure':8} {'family':13} {'vectorised fps':>15} {'loop fps':>9} {'ratio':>6}  peak")
    focus_curve(stack[:2, :64, :64], "TENG")  # warm-up (imports, allocators)
    total_vec = total_loop = 0.0
    ok = True
    for name in names:
        t_vec, curve = _time(lambda n=name: focus_curve(stack, n))
        loop = stack[: args.loop_frames]
        t_loop, _ = _time(lambda n=name, fr=loop: [focus_measure(f, n) for f in fr])
        fps_vec, fps_loop = FRAMES / t_vec, len(loop) / t_loop
        peak = int(np.argmax(curve))
        ok &= abs(peak - PEAK) <= 1
        total_vec += t_vec
        total_loop += t_loop * FRAMES / len(loop)
        family = focus_measure_spec(name).family
        print(f"{name:8} {family:13} {fps_vec:15.1f} {fps_loop:9.1f} {fps_vec / fps_loop:6.2f}  {peak}")
    n = len(names)
    print(f"all {n}: vectorised {FRAMES * n / total_vec:.2f} frame-measures/s, "
          f"loop {FRAMES * n / total_loop:.2f} (the 49-frame stack through every measure: "
          f"{total_vec:.1f} s vs {total_loop:.1f} s)")
    print(f"every curve peaks within 1 frame of frame {PEAK}: {ok}")

    roi = stack[:, :ROI_PX, :ROI_PX].copy()
    print(f"\nAF window: {FRAMES} frames of {ROI_PX} x {ROI_PX} px")
    print(f"{'measure':8} {'vectorised fps':>15} {'loop fps':>9} {'ratio':>6}")
    for name in names:  # best of 3: these runs take milliseconds
        t_vec = min(_time(lambda n=name: focus_curve(roi, n))[0] for _ in range(3))
        t_loop = min(_time(lambda n=name: [focus_measure(f, n) for f in roi])[0] for _ in range(3))
        print(f"{name:8} {FRAMES / t_vec:15.0f} {FRAMES / t_loop:9.0f} {t_loop / t_vec:6.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
