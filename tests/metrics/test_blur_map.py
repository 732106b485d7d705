"""Zhuo & Sim single-image defocus map: edge blur against pixel-integrated Gaussian edges,
propagation, ordering, the matting Laplacian, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import ndimage, special

from focuslab.errors import InvalidParameterError
from focuslab.metrics.blur_map import (
    canny_edges,
    defocus_map,
    edge_blur_sigma,
    joint_bilateral_sparse,
    to_gray,
)
from focuslab.metrics.matting_laplacian import matting_laplacian

SS = 8  # supersampling of the pixel integration


def step_edge(shape, x0_px, sigma_px, angle_deg=0.0, lo=0.2, hi=0.8):
    """Step edge through (x0, h/2) tilted by angle_deg from vertical, optical Gaussian blur
    sigma_px (closed form erf), integrated over square pixels (SS x SS samples per pixel)."""
    h, w = shape
    y, x = np.mgrid[0:h, 0:w].astype(float)
    off = (np.arange(SS) + 0.5) / SS - 0.5
    th = np.radians(angle_deg)
    acc = np.zeros(shape)
    for oy in off:
        for ox in off:
            d = ((x + ox - x0_px) - (y + oy - h / 2) * np.tan(th)) * np.cos(th)  # signed distance
            acc += 0.5 * (1.0 + special.erf(d / (np.sqrt(2.0) * sigma_px)))
    return lo + (hi - lo) * acc / SS**2


def leaves(shape, n, rng, ss=4):
    """Opaque disks (radius 6-20 px, random grey) on grey, area-sampled (ss x ss per pixel)."""
    hh, ww = shape[0] * ss, shape[1] * ss
    img = np.full((hh, ww), 0.5)
    y, x = np.mgrid[0:hh, 0:ww]
    for _ in range(n):
        cy, cx, r = rng.uniform(0, hh), rng.uniform(0, ww), rng.uniform(6, 20) * ss
        img[(y - cy) ** 2 + (x - cx) ** 2 < r * r] = rng.uniform(0.1, 0.9)
    return img.reshape(shape[0], ss, shape[1], ss).mean(axis=(1, 3))


@pytest.mark.parametrize("sigma_px", [0.5, 1.0, 2.0, 3.0, 4.0])
@pytest.mark.parametrize("angle_deg", [0.0, 10.0, 30.0])
def test_edge_blur_of_a_pixel_integrated_gaussian_edge_within_1_5_percent(sigma_px, angle_deg):
    img = step_edge((64, 64), 32.3, sigma_px, angle_deg)
    edges = canny_edges(img)
    sigma = edge_blur_sigma(img, edges)[8:-8, 8:-8]
    truth = np.hypot(sigma_px, np.sqrt(1.0 / 12.0))  # optical Gaussian (+) pixel box
    assert np.count_nonzero(np.isfinite(sigma)) >= 40
    assert np.nanmedian(sigma) == pytest.approx(truth, rel=0.015)  # measured worst 0.7 %


@pytest.mark.parametrize("sigma_px", [1.0, 2.0, 3.0])
def test_edge_blur_with_noise_edge_contrast_60_times_the_noise(sigma_px):
    rng = np.random.default_rng(11)
    img = step_edge((96, 96), 48.3, sigma_px) + 0.01 * rng.standard_normal((96, 96))  # contrast 0.6
    dm = defocus_map(img)
    truth = np.hypot(sigma_px, np.sqrt(1.0 / 12.0))
    assert np.nanmedian(dm.sparse_sigma_px) == pytest.approx(truth, rel=0.05)  # measured within 1 %
    assert np.median(dm.dense_sigma_px) == pytest.approx(truth, rel=0.05)


def test_edge_blur_is_independent_of_contrast_and_polarity():
    a = step_edge((48, 48), 24.4, 1.5)
    b = 1.0 - 0.1 * step_edge((48, 48), 24.4, 1.5)  # dark-to-light reversed, 1/6 the contrast
    sa = np.nanmedian(edge_blur_sigma(a, canny_edges(a)))
    sb = np.nanmedian(edge_blur_sigma(b, canny_edges(b)))
    assert sa == pytest.approx(sb, rel=1e-6)


def test_dense_map_of_one_edge_is_its_blur_everywhere():
    dm = defocus_map(step_edge((96, 96), 48.3, 2.0))
    truth = np.hypot(2.0, np.sqrt(1.0 / 12.0))
    assert np.nanmedian(dm.sparse_sigma_px) == pytest.approx(truth, rel=0.01)
    assert np.all(np.abs(dm.dense_sigma_px - truth) < 0.03 * truth)  # constants are free in L
    assert dm.solve_scale == 1 and not dm.warnings


def test_two_regions_sigma_1_and_3_are_separated_in_the_dense_map():
    rng = np.random.default_rng(1)
    base = leaves((128, 128), 60, rng)
    left_half = np.arange(128)[None, :] < 64
    img = np.where(left_half, ndimage.gaussian_filter(base, 1.0), ndimage.gaussian_filter(base, 3.0))
    dm = defocus_map(img)
    t1, t3 = np.hypot(1.0, np.sqrt(1 / 12)), np.hypot(3.0, np.sqrt(1 / 12))  # + the area sampling
    m1 = float(np.median(dm.dense_sigma_px[:, 8:56]))
    m3 = float(np.median(dm.dense_sigma_px[:, 72:120]))
    assert m1 == pytest.approx(t1, rel=0.15)  # measured -2 %
    assert m3 == pytest.approx(t3, rel=0.15)  # measured -8 %
    assert np.percentile(dm.dense_sigma_px[:, 8:56], 90) < np.percentile(dm.dense_sigma_px[:, 72:120], 10)


def test_blur_ramp_is_ranked_monotonically():
    rng = np.random.default_rng(7)
    base = leaves((96, 192), 70, rng)
    sigmas = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    band = 192 // len(sigmas)
    cols = np.arange(192)[None, :] // band
    img = np.zeros_like(base)
    for k, s in enumerate(sigmas):
        img = np.where(cols == k, ndimage.gaussian_filter(base, s), img)
    dm = defocus_map(img)
    sparse_med, dense_med = [], []
    for k in range(len(sigmas)):
        sl = slice(k * band + 6, (k + 1) * band - 6)
        sparse_med.append(np.nanmedian(dm.raw_sigma_px[:, sl]))
        dense_med.append(np.median(dm.dense_sigma_px[:, sl]))
    assert np.all(np.diff(sparse_med) > 0), sparse_med
    assert np.all(np.diff(dense_med) > 0), dense_med


def test_large_image_is_solved_on_a_block_averaged_grid():
    img = step_edge((120, 120), 60.4, 2.5)
    dm = defocus_map(img, max_solve_px=3600)
    assert dm.solve_scale == 2 and any("block-averaged" in w for w in dm.warnings)
    assert dm.dense_sigma_px.shape == img.shape
    assert np.median(dm.dense_sigma_px) == pytest.approx(np.hypot(2.5, np.sqrt(1 / 12)), rel=0.02)


def test_rgb_uses_luma_and_gives_the_grey_answer():
    g = step_edge((64, 64), 31.6, 1.5)
    rgb = np.stack([g, g, g], axis=-1)
    assert np.allclose(to_gray(rgb), g)
    a, b = defocus_map(g), defocus_map(rgb)
    assert np.nanmedian(b.sparse_sigma_px) == pytest.approx(np.nanmedian(a.sparse_sigma_px), rel=1e-9)
    assert np.median(b.dense_sigma_px) == pytest.approx(np.median(a.dense_sigma_px), rel=0.01)


def test_float32_in_float32_out_deterministic_input_untouched():
    img = step_edge((48, 48), 24.2, 1.2).astype(np.float32)
    before = img.copy()
    a, b = defocus_map(img), defocus_map(img)
    assert a.dense_sigma_px.dtype == np.float32 and a.sparse_sigma_px.dtype == np.float32
    assert np.array_equal(a.dense_sigma_px, b.dense_sigma_px)
    assert np.array_equal(img, before)
    json.dumps(a.to_dict())


def test_flat_image_gives_nan_maps_and_a_warning():
    dm = defocus_map(np.full((32, 32), 0.4))
    assert np.all(np.isnan(dm.dense_sigma_px)) and not dm.edge_mask.any()
    assert dm.warnings and "flat" in dm.warnings[0]
    assert dm.to_dict()["dense_sigma_px_percentiles"] is None


def test_noise_only_image_warns_instead_of_a_silent_map():
    rng = np.random.default_rng(3)
    dm = defocus_map(0.5 + 0.01 * rng.standard_normal((48, 48)), high_threshold=0.9, low_threshold=0.9)
    assert any("edge pixels" in w for w in dm.warnings)


@pytest.mark.parametrize(
    ("image", "kwargs", "match"),
    [
        (np.full((32, 32), np.nan), {}, "NaN"),
        (np.full((32, 32), np.inf), {}, "NaN or inf"),
        (np.zeros((4, 32)), {}, "too small"),
        (np.zeros((2, 3, 4, 5)), {}, "H x W"),
        (np.array([["a"] * 16] * 16), {}, "numeric"),
        (np.zeros((32, 32)), {"sigma0_px": 0.0}, "sigma0_px"),
        (np.zeros((32, 32)), {"max_sigma_px": -1.0}, "max_sigma_px"),
        (np.zeros((32, 32)), {"lam": float("nan")}, "lam"),
        (np.zeros((32, 32)), {"max_solve_px": 10}, "max_solve_px"),
    ],
)
def test_bad_input_raises_a_clear_error(image, kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        defocus_map(image, **kwargs)


def test_canny_finds_a_one_pixel_wide_edge_at_the_right_column():
    img = step_edge((40, 40), 20.0, 1.0)  # edge between columns 19 and 20 (x0 = 20 - 0 at pixel edge)
    e = canny_edges(img)
    cols = np.nonzero(e[5:-5])[1]
    assert set(np.unique(cols)) <= {19, 20} and e[5:-5].sum(axis=1).max() == 1
    assert not canny_edges(np.ones((20, 20))).any()
    with pytest.raises(InvalidParameterError, match="low_threshold"):
        canny_edges(img, low_threshold=0.5, high_threshold=0.2)


def test_joint_bilateral_replaces_an_isolated_outlier():
    vals = np.full((21, 21), np.nan)
    vals[10, :] = 2.0
    vals[10, 10] = 9.0
    out = joint_bilateral_sparse(vals, np.full((21, 21), 0.5), spatial_sigma_px=3.0)
    assert out[10, 10] < 3.5 and np.all(np.isnan(out[:10]))
    assert out[10, 0] == pytest.approx(2.0, abs=0.01) and out[10, 20] == pytest.approx(2.0, abs=0.01)


def test_matting_laplacian_is_symmetric_psd_with_affine_functions_of_the_image_in_its_null_space():
    rng = np.random.default_rng(5)
    img = ndimage.gaussian_filter(rng.random((20, 24, 3)), (1.5, 1.5, 0))
    lap = matting_laplacian(img, eps=1e-7)
    assert abs(lap - lap.T).max() < 1e-10
    assert np.abs(lap @ np.ones(20 * 24)).max() < 1e-10
    v = rng.standard_normal(20 * 24)
    assert v @ (lap @ v) > 0
    affine = (0.3 * img[..., 0] - 2.0 * img[..., 2] + 0.7).ravel()  # locally affine in colour: ~free
    assert affine @ (lap @ affine) < 1e-4 * (v @ (lap @ v)) * (affine @ affine) / (v @ v)
    with pytest.raises(InvalidParameterError):
        matting_laplacian(np.zeros((2, 2)))
