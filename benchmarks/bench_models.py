"""Latency of the learned-AF networks per AF region on one CPU thread, PyTorch (eager and
compiled) and onnxruntime, beside the classical dual-pixel disparity of the same region (the
baseline, same run).

An AF region is the benchmark's default 128 x 128 stream pixels; the networks see it as the
crops of ``focuslab.models.predict`` (``tile_origins``: 2 x 2 crops of 64 px), so one region
is one forward call on a batch of 4 (the temporal cell: its 4 crops with their states). The
figures: median and p90 of ``focuslab.export.measure_latency`` (1 intra-op thread, 20
warm-up calls), the parameter count, and the ONNX export's max abs difference. "torch eager"
is what focuslab runs (each network's inference form, ``focuslab.models.dp_inference``:
BatchNorm folded, channels-last, ``dp-defocus``'s correlation volume as one matrix product; the
same numbers); "unfused" is the training form, the baseline of that rewrite (same run).
"compiled" is
PyTorch's ``torch.compile`` with weight freezing and the C++ wrapper
(:func:`focuslab.export.compiled.compile_for_cpu`; its compilation, ~10 s per network, is not
timed; "n/a" on a machine without a C++ compiler). Also timed:
``predict.dp_defocus`` end to end (numpy in, normalization, pooling), and the baseline
``focuslab.af.af_signals.roi_disparity`` on the same left/right region, and a region read far
from focus (the same pair: it reads ~10 DoF) with the general weights alone and with the far reader of a Pixel 4
camera (``focuslab.models.dp_cascade``: a crop read beyond 6 DoF is read again by the
per-sensor weights).

The shipped weights are used when present; else the randomly initialised network (the
latency does not depend on the weights' values; the line says which).

Run: ``python benchmarks/bench_models.py`` (25-40 s on 2 CPU cores, the compilations included).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from focuslab.af.af_signals import roi_disparity
from focuslab.errors import FocuslabError
from focuslab.export import export_onnx, measure_latency
from focuslab.export.compiled import CompileError
from focuslab.export.latency import time_calls, timing_stats_ms
from focuslab.models import build_model, example_inputs, load_model, model_names
from focuslab.models.predict import dp_defocus, tile_origins

REGION_PX = 128
REPEATS = 200


def region_views(seed: int = 0, shift_px: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """A textured 128 x 128 left/right pair, the right shifted by ``shift_px`` (a defocused subject)."""
    rng = np.random.default_rng(seed)
    base = rng.random((REGION_PX, REGION_PX + 2 * shift_px)).astype(np.float32)
    from scipy import ndimage

    base = ndimage.gaussian_filter(base, 1.2).astype(np.float32) * 0.4 + 0.1
    return base[:, shift_px:-shift_px].copy(), base[:, : -2 * shift_px].copy()


def model_for(name: str):
    try:
        return load_model(name), "shipped weights"
    except FocuslabError:
        return build_model(name), "random init (no shipped weights)"


def region_inputs(name: str, model) -> tuple[torch.Tensor, ...]:
    tiles = len(tile_origins((REGION_PX, REGION_PX), int(model.crop_px)))
    ex = example_inputs(name, batch=tiles)
    g = torch.Generator().manual_seed(1)
    return tuple(torch.randn(t.shape, generator=g) for t in ex)


def far_reader_times(dp):
    """End-to-end ``predict.dp_defocus`` on a region read far from focus, with the general weights
    alone and with the far reader of a Pixel 4-response camera (:mod:`focuslab.models.dp_cascade`):
    ``((median, p90) alone, (median, p90) cascaded, (reading alone, cascaded) in DoF)``, or None without the shipped
    weights or when the pair does not read beyond the far threshold."""
    from focuslab.models.dp_cascade import FAR_ABOVE_DOF, FarCascade, dp_reader

    reader, _ = dp_reader(dp, "phone_main")
    if not isinstance(reader, FarCascade):
        return None
    left, right = region_views()
    with torch.inference_mode():
        d = dp_defocus(dp, left, right)[0]
        if abs(d) <= FAR_ABOVE_DOF:
            return None
        dc = dp_defocus(reader, left, right)[0]
        alone = timing_stats_ms(time_calls(lambda: dp_defocus(dp, left, right), repeats=REPEATS, warmup=20))
        both = timing_stats_ms(time_calls(lambda: dp_defocus(reader, left, right), repeats=REPEATS, warmup=20))
    return alone, both, (d, dc)


def main() -> None:
    torch.set_num_threads(1)
    rows = []
    left, right = region_views()
    with tempfile.TemporaryDirectory() as tmp:
        for name in model_names():
            model, source = model_for(name)
            ins = region_inputs(name, model)
            onnx = export_onnx(model, ins, Path(tmp) / f"{name}.onnx")
            pt = measure_latency(model, ins, 1, repeats=REPEATS)
            unfused = measure_latency(model, ins, 1, runtime="torch-unfused", repeats=REPEATS)
            try:
                comp = measure_latency(model, ins, 1, runtime="torch-compiled", repeats=REPEATS)
            except CompileError:
                comp = None
            ort = measure_latency(model, ins, 1, runtime="onnxruntime", onnx_path=onnx.path, repeats=REPEATS)
            rows.append((name, source, pt.parameters, ins[0].shape[0], pt, unfused, comp, ort, onnx.max_abs_diff))
    dp = model_for("dp-defocus")[0]
    with torch.inference_mode():
        pred = timing_stats_ms(time_calls(lambda: dp_defocus(dp, left, right), repeats=REPEATS, warmup=20))
    far = far_reader_times(dp)
    base = timing_stats_ms(time_calls(lambda: roi_disparity(left, right), repeats=REPEATS, warmup=20))
    print(f"latency per {REGION_PX} x {REGION_PX} AF region, 1 CPU thread, median / p90 ms over {REPEATS} calls")
    head = (f"{'network':12s} {'params':>8s} {'crops':>5s} {'torch eager':>15s} {'eager unfused':>15s} "
            f"{'torch compiled':>15s} {'onnxruntime':>15s} {'onnx diff':>9s}")
    print(head + "  weights")
    for name, source, params, tiles, pt, unfused, comp, ort, diff in rows:
        compiled = f"{comp.median_ms:7.3f}/{comp.p90_ms:7.3f}" if comp is not None else f"{'n/a':>15s}"
        print(f"{name:12s} {params:8d} {tiles:5d} {pt.median_ms:7.3f}/{pt.p90_ms:7.3f} "
              f"{unfused.median_ms:7.3f}/{unfused.p90_ms:7.3f} {compiled} "
              f"{ort.median_ms:7.3f}/{ort.p90_ms:7.3f} {diff:9.1e}  {source}")
    print(f"predict.dp_defocus end to end (numpy in, normalization, pooling): {pred[0]:.3f} / {pred[1]:.3f} ms")
    print(f"baseline af_signals.roi_disparity (classical DP, same region):     {base[0]:.3f} / {base[1]:.3f} ms")
    if far is not None:
        (dn, sn), (dc, sc), (rn, rc) = far
        print(f"far region (read {rn:+.1f} DoF): general weights {dn:.3f} / {sn:.3f} ms; with the far reader "
              f"(phone_main: Pixel 4 weights beyond 6 DoF; read {rc:+.1f} DoF) {dc:.3f} / {sc:.3f} ms = {dc / dn:.2f}x "
              f"(a reading beyond 20 DoF adds the binned pass of each network)")
    dp_row = next(r for r in rows if r[0] == "dp-defocus")
    comp = "n/a" if dp_row[6] is None else f"{dp_row[6].median_ms / base[0]:.2f}x"
    print(f"dp-defocus onnxruntime / baseline: {dp_row[7].median_ms / base[0]:.2f}x; "
          f"torch eager / baseline: {dp_row[4].median_ms / base[0]:.2f}x; torch compiled / baseline: {comp}; "
          f"eager unfused / eager: {dp_row[5].median_ms / dp_row[4].median_ms:.2f}x; "
          "goal <= 1 ms per region, <= 200k parameters")


if __name__ == "__main__":
    t0 = time.perf_counter()
    main()
    print(f"({time.perf_counter() - t0:.1f} s)")
