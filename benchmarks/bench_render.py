"""Render throughput (megapixels / s) of focuslab.render against a naive scipy baseline.

Scene: 8 fronto-parallel RGB layers (textured, soft-edged blobs over a full background) at
depths whose signed blur diameters span about -7 .. +39 px with the lens focused at 1 m
(f = 4 mm, f/2, 1.0 um pixels), geometric (pillbox) PSF. The scene grid is matched one sample
per pixel to the sensor so that both renderers see the same premultiplied layers.

Baseline (measured in the same run): for every layer and channel, scipy.ndimage.convolve of
the premultiplied colour and the alpha with the same PSF (edge replicated), composited back to
front with blurred alpha exactly as focuslab does. The baseline is given the layers already
on the sensor grid (it does no resampling) and, for the ROI, only the ROI plus the blur
margin. The two outputs are compared to show that the same work is done.

Run: ``python benchmarks/bench_render.py`` (15-30 s on 2 CPU cores; the baseline runs once).
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.ndimage as ndi
import torch

from focuslab.optics import GeometricPsf, LensSpec, coc_diameter_px, sensor_distance_mm
from focuslab.render import render_optical_image
from focuslab.scene.scene import Layer, Scene

LENS = LensSpec(focal_length_mm=4.0, f_number=2.0)
PITCH_UM = 1.0
S_MM = sensor_distance_mm(4.0, 1.0)
DEPTHS_M = (10.0, 2.0, 1.0, 0.8, 0.45, 0.3, 0.22, 0.17)  # back to front
FRAME = (1000, 1000)  # 1 MP
ROI = (372, 372, 256, 256)


def make_scene(shape, seed=0) -> Scene:
    """8 textured layers: a full background and 7 soft blobs, on a grid matched to the sensor."""
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[:h, :w] + 0.5
    layers = []
    for i, depth in enumerate(DEPTHS_M):
        tex = ndi.gaussian_filter(rng.random((h, w, 3)), sigma=(3, 3, 0)).astype(np.float32)
        tex = np.clip((tex - tex.mean()) * 6 + 0.5, 0, 1).astype(np.float32)
        if i == 0:
            alpha = np.ones((h, w), np.float32)
        else:
            cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
            r = rng.uniform(0.12, 0.3) * min(h, w)
            alpha = np.clip(r - np.hypot(xx - cx, yy - cy), 0, 1).astype(np.float32)
        layers.append(Layer(tex, alpha, depth, name=f"layer{i}"))
    hfov = 2 * math.degrees(math.atan(w * PITCH_UM * 1e-3 / (2 * S_MM)))
    return Scene(tuple(layers), hfov)


def naive_render(scene: Scene, roi, psf) -> np.ndarray:
    """Per-layer, per-channel scipy convolution of premultiplied colour and alpha, composited."""
    x, y, w, h = roi
    kernels = [psf.kernel(float(coc_diameter_px(LENS, lay.depth_m, S_MM, PITCH_UM))) for lay in scene.layers]
    m = max(k.shape[0] // 2 for k in kernels)
    H, W = scene.shape
    ys = slice(max(y - m, 0), min(y + h + m, H))
    xs = slice(max(x - m, 0), min(x + w + m, W))
    out = None
    for lay, k in zip(
        scene.layers_back_to_front(),
        [kernels[scene.layers.index(lay)] for lay in scene.layers_back_to_front()],
        strict=True,
    ):
        a = lay.alpha[ys, xs].astype(np.float32)
        ba = ndi.convolve(a, k.astype(np.float32), mode="nearest")
        bp = np.stack(
            [
                ndi.convolve(a * lay.radiance[ys, xs, c], k.astype(np.float32), mode="nearest")
                for c in range(3)
            ],
            axis=-1,
        )
        out = bp if out is None else bp + (1.0 - ba[..., None]) * out
    oy, ox = y - ys.start, x - xs.start
    return out[oy : oy + h, ox : ox + w]


def ours(scene, roi, supersample, device="cpu"):
    img = render_optical_image(
        scene,
        LENS,
        sensor_distance_mm=S_MM,
        pixel_pitch_um=PITCH_UM,
        sensor_shape_px=FRAME,
        psf=GeometricPsf(),
        roi=roi,
        supersample=supersample,
        device=device,
    )
    return img.irradiance


def timed(fn, reps):
    best, out = math.inf, None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    scene = make_scene(FRAME)
    psf = GeometricPsf()
    cocs = [float(coc_diameter_px(LENS, d, S_MM, PITCH_UM)) for d in DEPTHS_M]
    print(
        f"8 layers, blur diameters {', '.join(f'{c:+.1f}' for c in cocs)} px; torch threads "
        f"{torch.get_num_threads()}"
    )
    print(f"{'case':<34}{'time (s)':>10}{'MP/s':>10}{'x naive':>10}")
    cases = [("ROI 256x256", ROI, 3, 1), ("frame 1000x1000", None, 2, 1)]
    for label, roi, reps, base_reps in cases:
        window = roi if roi is not None else (0, 0, FRAME[1], FRAME[0])
        mp = window[2] * window[3] / 1e6
        t_naive, ref = timed(lambda window=window: naive_render(scene, window, psf), base_reps)
        print(f"{'naive scipy, ' + label:<34}{t_naive:>10.3f}{mp / t_naive:>10.3f}{1.0:>10.1f}")
        t1, img = timed(lambda roi=roi: ours(scene, roi, 1), reps)
        diff = float(np.max(np.abs(img - ref)))
        print(
            f"{'focuslab S=1, ' + label:<34}{t1:>10.3f}{mp / t1:>10.3f}{t_naive / t1:>10.1f}"
            f"   (max |diff| vs naive {diff:.1e})"
        )
        t2, _ = timed(lambda roi=roi: ours(scene, roi, 2), reps)
        print(
            f"{'focuslab S=2, ' + label:<34}{t2:>10.3f}{mp / t2:>10.3f}{t_naive / t2:>10.1f}"
            "   (4x the samples of the baseline)"
        )
        if torch.cuda.is_available():
            ours(scene, roi, 2, "cuda")  # warm-up
            t3, _ = timed(lambda roi=roi: ours(scene, roi, 2, "cuda"), reps)
            print(f"{'focuslab S=2 cuda, ' + label:<34}{t3:>10.3f}{mp / t3:>10.3f}{t_naive / t3:>10.1f}")


if __name__ == "__main__":
    main()
