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

Rows, per case (ROI 256 x 256, full 1000 x 1000 frame):

* ``naive scipy S=1`` and ``focuslab S=1``: one sample per pixel, like for like;
* ``focuslab S=2``: the camera's default, 2 x 2 samples per pixel (4x the samples and PSFs
  twice as wide in samples), its ratio still taken against the S=1 baseline;
* ROI only: ``naive scipy S=2`` convolves layers on a grid of 2 x 2 samples per pixel (the
  scene repeated 2 x 2, so both renderers see the same samples) with the PSFs sampled at
  2 samples per pixel, composites and averages each 2 x 2 block; ``focuslab S=2 (same
  samples)`` renders that scene, so its ratio is like for like at S = 2. The frame's naive
  S=2 render is not run: it costs about 16x its S=1 render (4x the samples, 4x the kernel
  area), over a minute.

Run: ``python benchmarks/bench_render.py`` (about 40 s on 2 CPU cores; each baseline runs
once). Times are the best of a few runs, wall clock, on a machine whose other load is not
controlled.
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


def naive_render(scene: Scene, roi, psf, supersample: int = 1) -> np.ndarray:
    """Per-layer, per-channel scipy convolution of premultiplied colour and alpha, composited.

    The scene grid has ``supersample`` samples per pixel; ``roi`` is in pixels. The output is
    averaged over ``supersample x supersample`` blocks (pixel integration).
    """
    ss = supersample
    x, y, w, h = (v * ss for v in roi)
    kernels = [
        psf.kernel(float(coc_diameter_px(LENS, lay.depth_m, S_MM, PITCH_UM)), samples_per_px=ss)
        for lay in scene.layers
    ]
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
    out = out[oy : oy + h, ox : ox + w]
    return out.reshape(h // ss, ss, w // ss, ss, 3).mean(axis=(1, 3))


def repeated_scene(scene: Scene, ss: int) -> Scene:
    """The scene on a grid of ``ss x ss`` samples per pixel (each sample repeated), same field."""
    layers = tuple(
        Layer(
            np.repeat(np.repeat(lay.radiance, ss, 0), ss, 1),
            np.repeat(np.repeat(lay.alpha, ss, 0), ss, 1),
            lay.depth_m,
            name=lay.name,
        )
        for lay in scene.layers
    )
    return Scene(layers, scene.hfov_deg)


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


def row(label: str, t: float, mp: float, t_ref: float, note: str = "") -> None:
    print(f"{label:<40}{t:>10.3f}{mp / t:>10.3f}{t_ref / t:>10.1f}{note}")


def main() -> None:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    scene = make_scene(FRAME)
    psf = GeometricPsf()
    cocs = [float(coc_diameter_px(LENS, d, S_MM, PITCH_UM)) for d in DEPTHS_M]
    print(
        f"8 layers, blur diameters {', '.join(f'{c:+.1f}' for c in cocs)} px; torch threads "
        f"{torch.get_num_threads()}"
    )
    print(f"{'case':<40}{'time (s)':>10}{'MP/s':>10}{'x naive':>10}")
    cases = [("ROI 256x256", ROI, 5), ("frame 1000x1000", None, 3)]
    for label, roi, reps in cases:
        window = roi if roi is not None else (0, 0, FRAME[1], FRAME[0])
        mp = window[2] * window[3] / 1e6
        t_naive, ref = timed(lambda window=window: naive_render(scene, window, psf), 1)
        row(f"naive scipy S=1, {label}", t_naive, mp, t_naive)
        t1, img = timed(lambda roi=roi: ours(scene, roi, 1), reps)
        row(f"focuslab S=1, {label}", t1, mp, t_naive, f"   (max |diff| vs naive {np.max(np.abs(img - ref)):.1e})")
        t2, _ = timed(lambda roi=roi: ours(scene, roi, 2), reps)
        row(f"focuslab S=2, {label}", t2, mp, t_naive, "   (4x the samples of the S=1 baseline)")
        if roi is not None:
            dense = repeated_scene(scene, 2)
            t_naive2, ref2 = timed(lambda window=window, dense=dense: naive_render(dense, window, psf, 2), 1)
            row(f"naive scipy S=2, {label}", t_naive2, mp, t_naive2)
            t22, img2 = timed(lambda roi=roi, dense=dense: ours(dense, roi, 2), reps)
            row(
                f"focuslab S=2 (same samples), {label}",
                t22,
                mp,
                t_naive2,
                f"   (max |diff| vs naive S=2 {np.max(np.abs(img2 - ref2)):.1e})",
            )
            del dense, ref2, img2  # free the 2 x 2 scene before timing the frame
        if torch.cuda.is_available():
            ours(scene, roi, 2, "cuda")  # warm-up
            t3, _ = timed(lambda roi=roi: ours(scene, roi, 2, "cuda"), reps)
            row(f"focuslab S=2 cuda, {label}", t3, mp, t_naive)


if __name__ == "__main__":
    main()
