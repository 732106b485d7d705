"""The fast paths of the renderer against plain references: packed FFTs, gather-sum resampling, S = 2 render.

The reference renderer here is the model of :mod:`focuslab.render.renderer` written out in
float64 with dense resampling matrices and ``scipy.ndimage.convolve``; the fast render (packed
complex FFTs, channels-last ``embedding_bag`` resampling, in-place compositing) must agree
with it to float32 rounding.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
from render_psf_doubles import PillboxDouble
from render_scenes import LENS, PITCH_UM, disc, matched_hfov_deg

from focuslab.errors import InvalidParameterError
from focuslab.optics import coc_diameter_px, sensor_distance_mm
from focuslab.render import FieldKernels, blur, convolve2d, render_optical_image
from focuslab.render.convolution import periodic_blend_pairs, periodic_convolve_many
from focuslab.render.resample import axis_weights, resample
from focuslab.scene.scene import Layer, Scene


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("channels_last", [False, True])
def test_periodic_convolve_many_equals_direct_circular(rng, channels, channels_last):
    x = torch.from_numpy(rng.random((2, 15, 18, channels))).float().permute(0, 3, 1, 2)
    if not channels_last:
        x = x.contiguous()
    kernels = [rng.random((7, 5)), rng.random((1, 3, 9)), np.ones((1, 1)) * 0.5]
    outs = periodic_convolve_many(x, kernels)
    for k, out in zip(kernels, outs, strict=True):
        ref = convolve2d(x.contiguous(), k, padding="circular", method="direct")
        assert out.shape == x.shape and out.dtype == torch.float32
        assert torch.max(torch.abs(out - ref)).item() < 2e-6 * float(ref.abs().max())
    assert torch.equal(x, x.clone())  # the input is not modified


def test_periodic_convolve_many_rejects_chromatic_and_oversized_kernels():
    x = torch.zeros(1, 3, 8, 8)
    with pytest.raises(InvalidParameterError, match="achromatic"):
        periodic_convolve_many(x, [np.ones((3, 3, 3))])
    with pytest.raises(InvalidParameterError, match="no larger"):
        periodic_convolve_many(x, [np.ones((9, 9))])


def _dense(w, n_in):
    """Dense (n_out, n_in) matrix of an AxisWeights (indices relative to its start)."""
    m = np.zeros((w.index.shape[0], n_in))
    np.add.at(m, (np.arange(w.index.shape[0])[:, None].repeat(w.index.shape[1], 1), w.index + w.start), w.weight)
    return m


@pytest.mark.parametrize(("supersample", "tps", "offset", "scale"), [(2, 1e-3 / 4, 0.3, 1.0), (1, 3e-3 / 4, -0.2, 1.7),
                                                                     (3, 1e-3 / 4, 0.0, 0.6)])
def test_gather_sum_resampling_equals_dense_matrices(rng, supersample, tps, offset, scale):
    img = rng.random((2, 3, 40, 50))
    kw = dict(supersample=supersample, pixel_pitch_um=1.0, sensor_distance_mm=4.0, tan_per_sample=tps,
              offset_deg=offset, scale=scale, scale_center_deg=0.1)
    rows = axis_weights(-7, 45, sensor_px=36, scene_samples=40, **kw)
    cols = axis_weights(-5, 61, sensor_px=48, scene_samples=50, **kw)
    crop = torch.from_numpy(img[:, :, rows.start : rows.stop, cols.start : cols.stop])
    out = resample(crop, rows, cols).numpy()
    ref = np.einsum("ij,bcjk,lk->bcil", _dense(rows, 40), img, _dense(cols, 50))
    assert np.max(np.abs(out - ref)) < 1e-12
    assert np.array_equal(resample(crop, rows, cols, transposed=True).numpy(), out.transpose(0, 1, 3, 2))


def _reference_render(scene, s_mm, shape, ss, psf):
    """The renderer's model in float64: dense resampling, wrap-around scipy convolution, eq. (1), pooling."""
    h, w = shape
    cocs = [float(coc_diameter_px(LENS, lay.depth_m, s_mm, PITCH_UM)) for lay in scene.layers_back_to_front()]
    kernels = [(psf.kernel(c, samples_per_px=ss), *psf.kernel_pair(c, samples_per_px=ss)) for c in cocs]
    margin = max(k[0].shape[0] // 2 for k in kernels) + 2
    tps = 2.0 * math.tan(math.radians(scene.hfov_deg) / 2.0) / scene.shape[1]
    kw = dict(supersample=ss, pixel_pitch_um=PITCH_UM, sensor_distance_mm=s_mm, tan_per_sample=tps, offset_deg=0.0)
    rows = _dense(axis_weights(-margin, h * ss + 2 * margin, sensor_px=h, scene_samples=scene.shape[0], **kw),
                  scene.shape[0])
    cols = _dense(axis_weights(-margin, w * ss + 2 * margin, sensor_px=w, scene_samples=scene.shape[1], **kw),
                  scene.shape[1])
    outs = [None, None, None]
    for lay, ks in zip(scene.layers_back_to_front(), kernels, strict=True):
        a = rows @ lay.alpha.astype(np.float64) @ cols.T
        p = np.stack([rows @ (lay.alpha * lay.radiance[..., c]).astype(np.float64) @ cols.T
                      for c in range(scene.channels)])
        ba = ndi.convolve(a, ks[0], mode="wrap")
        for n, k in enumerate(ks):
            bp = np.stack([ndi.convolve(pc, k, mode="wrap") for pc in p])
            outs[n] = bp if outs[n] is None else bp + (1.0 - ba) * outs[n]
    crop = (slice(None), slice(margin, margin + h * ss), slice(margin, margin + w * ss))
    return [o[crop].reshape(-1, h, ss, w, ss).mean(axis=(2, 4)).transpose(1, 2, 0) for o in outs]


def test_fast_s2_render_equals_float64_reference(rng):
    h, w = 40, 48
    layers = [Layer(rng.random((h, w, 3)).astype(np.float32), np.ones((h, w), np.float32), 3.0)]
    for depth, cx, cy, r in ((1.0, 20, 18, 9), (0.6, 30, 22, 8), (0.45, 14, 26, 6)):
        tex = ndi.gaussian_filter(rng.random((h, w, 3)), (1, 1, 0)).astype(np.float32)
        layers.append(Layer(tex, disc((h, w), (cx, cy), r).astype(np.float32), depth))
    scene = Scene(tuple(layers), matched_hfov_deg(w) * 1.05)
    s = sensor_distance_mm(4.0, 0.9)
    psf = PillboxDouble()
    fast = render_optical_image(scene, LENS, sensor_distance_mm=s, pixel_pitch_um=PITCH_UM, sensor_shape_px=(h, w),
                                psf=psf, supersample=2, dual_pixel=True)
    ref = _reference_render(scene, s, (h, w), 2, psf)
    for name, r in zip(("irradiance", "left", "right"), ref, strict=True):
        assert np.max(np.abs(getattr(fast, name) - r)) < 1e-6  # float32 rounding (measured 2e-7)
    assert np.max(np.abs(fast.left + fast.right - fast.irradiance)) < 1e-6


def test_periodic_blend_equals_field_kernel_blur(rng):
    x = torch.from_numpy(rng.random((1, 15, 18, 4))).float().permute(0, 3, 1, 2)  # channels last, as rendered
    ramp = torch.linspace(0.0, 1.0, 18).reshape(1, 1, 1, 18).expand(1, 1, 15, 18).contiguous()
    weights = (ramp, 1.0 - ramp)
    sets = [[rng.random((5, 7)), rng.random((9, 3))], [np.ones((1, 1)), rng.random((3, 3))]]
    views = periodic_blend_pairs(x, weights, sets)
    for ks, v in zip(sets, views, strict=True):
        ref = blur(x.contiguous(), FieldKernels(weights, tuple(ks)), padding="circular", method="direct")
        assert torch.max(torch.abs(v.flatten(1, 2) - ref)).item() < 2e-6 * float(ref.abs().max())
    with pytest.raises(InvalidParameterError, match="weight maps"):
        periodic_blend_pairs(x, weights, [[np.ones((3, 3))]])
