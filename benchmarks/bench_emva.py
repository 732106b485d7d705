"""EMVA 1288 characterization of a 100-frame series of 12-megapixel raw frames: time and peak memory.

Series: 4000 x 3000 ``uint16`` RGGB frames (12-bit, black level 64), 21 exposure steps from dark to
1.2 x saturation, a pair of darks and a pair of flats per step, and 10 + 10 frames at the step
nearest 50 % saturation for DSNU/PRNU: 100 frames (2.4 GB of raw data). The frames are streamed
from a generator (a fast Gaussian version of the sensor model: fixed PRNU/DSNU maps, shot and
read noise, clipping), so nothing is written to disk; the time spent generating them is
measured apart and excluded from the characterization time.

Measured in the same run:

* streaming characterization (``focuslab.hw.emva.characterize_frames``) of the 100-frame
  series and of a 25-frame series (6 steps, 3 + 2 spatial frames) of the same sensor: time,
  and peak traced memory (tracemalloc, numpy arrays included) beside the peak of the frame
  source alone -> memory does not grow with the number of frames;
* baseline: the same statistics computed the obvious way, every frame of the 25-frame series
  kept in one in-memory stack (``numpy.stack``; pair variances from the stack, the averaged
  image and the stack variance with ``mean``/``var`` over the frame axis). Its memory grows
  with N: at 100 frames the stack alone would be 2.4 GB (not run).

Run: ``python benchmarks/bench_emva.py`` (about 1-2 minutes on 2 cores; ~2 GB of memory for
the baseline). ``--size 1000x750`` for a quick run.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time
import tracemalloc
from collections.abc import Iterator

import numpy as np

from focuslab.hw.emva import characterize_frames
from focuslab.hw.emva_accumulate import channel_cells
from focuslab.hw.emva_series import StepKey

K_DN_PER_E = 0.4
FULL_WELL_E = (4095 - 64) / K_DN_PER_E  # 10 077 e-: full well onto the 12-bit range
READ_NOISE_E = 3.0
PRNU = 0.01
DSNU_E = 1.5
DARK_E_PER_S = 20.0
BLACK_DN = 64.0
WHITE_DN = 4095


def make_plan(n_steps: int, spatial_flats: int, spatial_darks: int) -> dict[StepKey, int]:
    """Exposure steps at constant irradiance: pairs everywhere, more frames at ~50 % saturation."""
    t_max = 0.05
    rate = 1.2 * FULL_WELL_E / t_max  # electrons per second
    times = [t_max * (i + 1) / n_steps for i in range(n_steps)]
    mid = min(range(n_steps), key=lambda i: abs(times[i] * rate - 0.5 * FULL_WELL_E))
    plan = {}
    for i, t in enumerate(times):
        plan[StepKey("dark", t)] = spatial_darks if i == mid else 2
        plan[StepKey("flat", t, rate * t)] = spatial_flats if i == mid else 2  # QE 1: photons = electrons
    return plan


class FrameSource:
    """Frames of the plan, generated on the fly; records the time spent generating them."""

    def __init__(self, shape: tuple[int, int], seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.shape = shape
        fixed = np.random.default_rng(1288)
        self.gain = (1.0 + PRNU * fixed.standard_normal(shape, dtype=np.float32)).astype(np.float32)
        self.offset_e = (DSNU_E * fixed.standard_normal(shape, dtype=np.float32)).astype(np.float32)
        self.seconds = 0.0

    def frames(self, plan: dict[StepKey, int]) -> Iterator[tuple[StepKey, np.ndarray]]:
        for key, n in plan.items():
            t0 = time.perf_counter()
            signal_e = key.irradiance_photons_per_pixel or 0.0
            dark_e = DARK_E_PER_S * key.exposure_s
            mean_dn = BLACK_DN + K_DN_PER_E * (np.minimum(signal_e * self.gain, FULL_WELL_E) + dark_e + self.offset_e)
            sd_dn = K_DN_PER_E * np.sqrt(READ_NOISE_E**2 + min(signal_e, FULL_WELL_E) + dark_e)
            self.seconds += time.perf_counter() - t0
            for _ in range(n):
                t0 = time.perf_counter()
                z = self.rng.standard_normal(self.shape, dtype=np.float32)
                z *= sd_dn
                z += mean_dn
                np.rint(z, out=z)
                np.clip(z, 0, WHITE_DN, out=z)
                frame = z.astype(np.uint16)
                del z
                self.seconds += time.perf_counter() - t0
                yield key, frame


def streaming(shape, plan, seed=0):
    src = FrameSource(shape, seed)
    tracemalloc.start()
    tracemalloc.reset_peak()
    t0 = time.perf_counter()
    res = characterize_frames(src.frames(plan), plan, cfa="RGGB", white_level_dn=WHITE_DN)
    wall = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return res, wall - src.seconds, peak, src.seconds


def source_only(shape, plan, seed=0):
    src = FrameSource(shape, seed)
    tracemalloc.start()
    tracemalloc.reset_peak()
    for _ in src.frames(plan):
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def stacked_baseline(shape, plan, seed=0):
    """The same per-step statistics from frames kept in an in-memory stack (memory grows with N)."""
    src = FrameSource(shape, seed)
    tracemalloc.start()
    tracemalloc.reset_peak()
    t0 = time.perf_counter()
    frames = list(src.frames(plan))
    stack = np.stack([f for _, f in frames])
    del frames
    keys = [k for k, n in plan.items() for _ in range(n)]
    cells = channel_cells("RGGB")
    out = {}
    start = 0
    spatial_n = max(plan.values())
    for key, n in plan.items():
        sub = stack[start : start + n]
        start += n
        for c, (r, q) in cells.items():
            planes = sub[:, r::2, q::2]
            d = planes[0].astype(np.float64) - planes[1]
            stats = {"mean": float(planes.mean()), "var": float(d.var() / 2)}
            if n == spatial_n:
                f = planes.astype(np.float64)
                stats["avg"] = f.mean(axis=0)
                stats["var_stack"] = float(f.var(axis=0, ddof=1).mean())
                del f
            out[(key, c)] = stats
    wall = time.perf_counter() - t0 - src.seconds
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(keys) == stack.shape[0]
    return out, wall, peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="4000x3000", help="WIDTHxHEIGHT of the frames (even)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the in-memory stack baseline")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))
    shape = (h, w)
    mp = w * h / 1e6
    big = make_plan(21, 10, 10)
    small = make_plan(6, 3, 2)
    n_big, n_small = sum(big.values()), sum(small.values())
    print(f"frames {w} x {h} ({mp:.1f} MP, uint16 RGGB, 12-bit); series of {n_big} and {n_small} frames")

    res, sec_big, peak_big, gen_big = streaming(shape, big)
    g = res.channels["Gr"].summary()
    print(f"streaming  N={n_big:3d}: characterize {sec_big:6.1f} s ({1e3 * sec_big / n_big:5.0f} ms/frame, "
          f"{n_big * mp / sec_big:5.1f} MP/s); peak traced memory {peak_big / 2**20:7.0f} MB "
          f"(frame generation {gen_big:.1f} s, excluded)")
    print(f"    check (Gr): K {g['system_gain_dn_per_e']:.4f} DN/e- (truth {K_DN_PER_E}), dark noise "
          f"{g['temporal_dark_noise_e']:.2f} e- ({READ_NOISE_E}), PRNU {g['prnu_percent']:.3f} % ({100 * PRNU}), "
          f"DSNU {g['dsnu_e']:.3f} e- ({DSNU_E}), dark current {g['dark_current_mean_e_per_s']:.1f} e-/s "
          f"({DARK_E_PER_S})")
    _, sec_small, peak_small, _ = streaming(shape, small)
    print(f"streaming  N={n_small:3d}: characterize {sec_small:6.1f} s ({1e3 * sec_small / n_small:5.0f} ms/frame); "
          f"peak traced memory {peak_small / 2**20:7.0f} MB")
    src_peak = source_only(shape, big)
    print(f"frame source alone: peak traced memory {src_peak / 2**20:7.0f} MB")
    print(f"ratio memory N={n_big} / N={n_small} (streaming): {peak_big / peak_small:.2f}; "
          f"time per frame N={n_big} / N={n_small}: {(sec_big / n_big) / (sec_small / n_small):.2f}")
    if not args.no_baseline:
        _, sec_base, peak_base = stacked_baseline(shape, small)
        print(f"baseline (in-memory stack) N={n_small:3d}: {sec_base:6.1f} s; peak traced memory "
              f"{peak_base / 2**20:7.0f} MB (at N={n_big} the uint16 stack alone: {n_big * 2 * mp:.0f} MB)")
        print(f"ratio memory baseline / streaming at N={n_small}: {peak_base / peak_small:.2f}; "
              f"time: {sec_base / sec_small:.2f}")


if __name__ == "__main__":
    main()
