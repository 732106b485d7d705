"""composite_layers, scene resampling, depth bins and the halo-free fill, tested on their own."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from focuslab.errors import InvalidParameterError
from focuslab.render import FieldKernels, composite_layers, depth_bins, fill_behind
from focuslab.render.resample import axis_weights, resample

DELTA = np.ones((1, 1))


def test_composite_with_sharp_layers_is_porter_duff_over(rng):
    bg = torch.from_numpy(rng.random((2, 3, 8, 9))).float()
    fg_col = torch.from_numpy(rng.random((2, 3, 8, 9))).float()
    fg_a = torch.from_numpy(rng.random((2, 1, 8, 9))).float()
    out = composite_layers([bg, fg_a * fg_col], [torch.ones(2, 1, 8, 9), fg_a], [DELTA, DELTA])
    assert torch.max(torch.abs(out - (fg_a * fg_col + (1 - fg_a) * bg))).item() < 1e-6


def test_composite_blurred_occluder_of_equal_colour_is_uniform(rng):
    k = rng.random((15, 15))
    k /= k.sum()
    a = torch.zeros(1, 1, 40, 40)
    a[..., 10:30, 12:25] = 1.0
    bg = torch.full((1, 2, 40, 40), 0.3)
    for kernels in ([DELTA, k], [k, DELTA], [k, k[::-1].copy()]):
        out = composite_layers(
            [bg, 0.3 * a.expand(-1, 2, -1, -1)], [torch.ones_like(a), a], kernels, padding="replicate"
        )
        assert torch.max(torch.abs(out - 0.3)).item() < 1e-6


def test_composite_alpha_kernels_and_field_kernels(rng):
    k1, k2 = rng.random((5, 5)), rng.random((5, 5))
    k1 /= k1.sum()
    k2 /= k2.sum()
    p = torch.from_numpy(rng.random((1, 3, 16, 16))).float()
    a = torch.from_numpy(rng.random((1, 1, 16, 16))).float()
    w = torch.linspace(0, 1, 16).reshape(1, 1, 1, 16).expand(1, 1, 16, 16)
    field = FieldKernels((w, 1 - w), (k1, k1))  # both nodes the same PSF: equals that PSF
    a_out = composite_layers([p], [a], [field], alpha_kernels=[k2])
    b_out = composite_layers([p], [a], [k1], alpha_kernels=[k2])
    assert torch.max(torch.abs(a_out - b_out)).item() < 1e-6
    chroma = np.stack([k1, k2, k1])
    c_out = composite_layers([p, p], [a, a], [chroma, chroma], alpha_kernels=[chroma, chroma])
    d_out = composite_layers([p, p], [a, a], [chroma, chroma])
    assert torch.max(torch.abs(c_out - d_out)).item() < 1e-6


def test_composite_errors():
    p, a = torch.zeros(1, 3, 8, 8), torch.zeros(1, 1, 8, 8)
    with pytest.raises(InvalidParameterError, match="equally many"):
        composite_layers([p], [a, a], [DELTA])
    with pytest.raises(InvalidParameterError, match="equally many"):
        composite_layers([], [], [])
    with pytest.raises(InvalidParameterError, match=r"alphas\[0\]: expected \(1, 1, 8, 8\)"):
        composite_layers([p], [torch.zeros(1, 3, 8, 8)], [DELTA])
    with pytest.raises(InvalidParameterError, match=r"premultiplied\[0\]: expected \(B, C, H, W\)"):
        composite_layers([p[0]], [a], [DELTA])
    with pytest.raises(InvalidParameterError, match="alpha_kernels"):
        composite_layers([p], [a], [DELTA], alpha_kernels=[])


def _weights(first, n, *, supersample=1, sensor=16, scene=16, s_mm=4.0, pitch=1.0, tps=None, offset=0.0):
    tps = pitch * 1e-3 / s_mm if tps is None else tps
    return axis_weights(
        first,
        n,
        supersample=supersample,
        sensor_px=sensor,
        pixel_pitch_um=pitch,
        sensor_distance_mm=s_mm,
        scene_samples=scene,
        tan_per_sample=tps,
        offset_deg=offset,
    )


def _apply(img, rows, cols):
    t = torch.from_numpy(img[rows.start : rows.stop, cols.start : cols.stop][None, None]).double()
    return resample(t, rows, cols)[0, 0].numpy()


def test_resample_identity_minify_and_magnify(rng):
    img = rng.random((16, 16))
    ident = _weights(0, 16)
    assert np.max(np.abs(_apply(img, ident, ident) - img)) < 1e-12
    # scene twice as dense as the sensor: each pixel is the mean of 2 x 2 samples (area average)
    dense = _weights(0, 8, sensor=8, tps=0.5e-3 / 4.0)
    assert np.max(np.abs(_apply(img, dense, dense) - img.reshape(8, 2, 8, 2).mean(axis=(1, 3)))) < 1e-12
    # magnification: a linear ramp is reproduced exactly (bilinear) away from the edges
    ramp = np.add.outer(np.arange(16.0), 2 * np.arange(16.0))
    fine = _weights(8, 16, supersample=4, sensor=8)  # 4 samples per scene sample, centre crop
    out = _apply(ramp, fine, fine)
    centres = (8 + np.arange(16) + 0.5) / 4 - 4 + 8  # scene coordinate of each output sample
    expect = np.add.outer(centres - 0.5, 2 * (centres - 0.5))
    assert np.max(np.abs(out - expect)[2:-2, 2:-2]) < 1e-9


def test_resample_weights_sum_to_one_and_replicate_edges():
    w = _weights(-40, 120, supersample=3, tps=0.7e-3 / 4.0, offset=2.0)
    assert np.allclose(w.weight.sum(axis=1), 1.0, atol=1e-12)
    img = np.full((16, 16), 0.37)
    assert np.max(np.abs(_apply(img, w, w) - 0.37)) < 1e-12


def test_offset_and_tan_geometry():
    # a layer shifted by dx degrees appears at s tan(dx) / pitch pixels
    s_mm, dx = 4.0, 0.2
    img = np.zeros((1, 64))
    img[0, 32] = 1.0  # the sample just right of the axis: centre at u = 32.5
    cols = _weights(0, 256, supersample=4, sensor=64, scene=64, offset=dx)
    rows = _weights(0, 1, sensor=1, scene=1)
    prof = _apply(img, rows, cols)[0]
    x = (np.arange(256) + 0.5) / 4 - 32
    centroid = (prof * x).sum() / prof.sum()
    expect = s_mm * math.tan(math.atan(0.5 * 1e-3 / s_mm) + math.radians(dx)) / 1e-3
    assert abs(centroid - expect) < 1e-3


def test_depth_bins_uniform_in_diopters_and_capped():
    depth = np.array([[0.5, 1.0, 2.0, 4.0]], np.float32)
    alpha = np.ones_like(depth)
    index, d = depth_bins(depth, alpha, blur_px_per_diopter=10.0, bin_step_px=1.0, max_bins=100)
    assert len(d) == 18  # (2 - 0.25) D * 10 px/D = 17.5 px -> 18 bins
    assert list(index[0]) == [17, 7, 2, 0]  # nearer -> higher index, uniform in 1/u
    assert np.allclose(d[index[0]], depth[0])  # each bin's depth is its samples' mean in diopters
    idx2, d2 = depth_bins(depth, alpha, blur_px_per_diopter=10.0, max_bins=4)
    assert len(d2) == 4 and list(idx2[0]) == [3, 1, 0, 0]
    flat, dflat = depth_bins(np.full((3, 3), 2.0), np.ones((3, 3)), blur_px_per_diopter=5.0)
    assert flat.max() == 0 and np.allclose(dflat, [2.0])
    with pytest.raises(InvalidParameterError, match="depth_bin_step_px"):
        depth_bins(depth, alpha, blur_px_per_diopter=1.0, bin_step_px=-1.0)
    with pytest.raises(InvalidParameterError, match="max_depth_bins"):
        depth_bins(depth, alpha, blur_px_per_diopter=1.0, max_bins=0)


def test_fill_behind_uses_own_colour_nearby_and_occluder_colour_far_away():
    own_a = torch.zeros(1, 1, 1, 40)
    own_a[..., :10] = 1.0
    own_p = 0.2 * own_a
    cover_a = torch.ones(1, 1, 1, 40)
    cover_p = torch.where(own_a > 0, 0.2, 0.9)
    out = fill_behind(own_p, own_a, cover_p, cover_a, radius=5)
    assert torch.allclose(out[..., :15], torch.tensor(0.2), atol=1e-3)  # within R: own colour
    assert torch.allclose(out[..., 16:], torch.tensor(0.9), atol=1e-6)  # beyond R: occluder's
    uniform = fill_behind(0.5 * own_a, own_a, 0.5 * cover_a, cover_a, radius=3)
    assert torch.equal(uniform, torch.full_like(uniform, 0.5))
