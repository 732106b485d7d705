"""Physics truths of render_optical_image: focus, energy, blur size, occlusion without halos."""

from __future__ import annotations

import math

import numpy as np
import pytest
from render_psf_doubles import PillboxDouble
from render_scenes import (
    FOCUS_1M_MM,
    LENS,
    PITCH_UM,
    coc_px,
    depth_map_scene,
    disc,
    matched_hfov_deg,
    two_plane_scene,
)

from focuslab.optics import sensor_distance_mm
from focuslab.render import render_optical_image
from focuslab.scene.scene import Layer, Scene

PSF = PillboxDouble()


def _render(scene, s_mm=FOCUS_1M_MM, shape=(48, 64), **kw):
    return render_optical_image(
        scene, LENS, sensor_distance_mm=s_mm, pixel_pitch_um=PITCH_UM, sensor_shape_px=shape, psf=PSF, **kw
    )


@pytest.mark.parametrize("supersample", [1, 2, 3])
def test_in_focus_layer_equals_pixel_integrated_radiance(rng, supersample):
    h, w = 24, 32
    rad = rng.random((h * supersample, w * supersample, 3)).astype(np.float32)
    scene = Scene((Layer(rad, np.ones(rad.shape[:2], np.float32), 1.0),), matched_hfov_deg(w))
    img = _render(scene, shape=(h, w), supersample=supersample).irradiance
    ref = rad.reshape(h, supersample, w, supersample, 3).mean(axis=(1, 3))
    assert img.dtype == np.float32 and img.shape == (h, w, 3)
    assert np.max(np.abs(img - ref)) < 1e-5
    # pooling conserves the mean of the supersampled radiance
    assert abs(img.mean() - rad.mean()) < 1e-6


def test_white_diffuser_renders_one_in_and_out_of_focus():
    h, w = 16, 20
    scene = Scene((Layer(np.ones((h, w, 1), np.float32), np.ones((h, w), np.float32), 0.3),), 15.0)
    for s in (FOCUS_1M_MM, sensor_distance_mm(4.0, 0.3)):
        img = _render(scene, s_mm=s, shape=(30, 40)).irradiance
        assert np.max(np.abs(img - 1.0)) < 1e-5


@pytest.mark.parametrize("depth_m", [0.5, 3.0])
def test_energy_conserved_and_blur_size_follows_thin_lens(depth_m):
    h, w, ss = 64, 64, 2
    alpha = disc((h * ss, w * ss), (w * ss / 2, h * ss / 2), 3.0).astype(np.float32)  # tiny spot
    rad = np.full((h * ss, w * ss, 1), 5.0, np.float32)
    scene = Scene((Layer(rad, alpha, depth_m),), matched_hfov_deg(w))
    sharp = Scene((Layer(rad, alpha, 1.0),), matched_hfov_deg(w))
    blurred = _render(scene, shape=(h, w)).irradiance[..., 0].astype(np.float64)
    focused = _render(sharp, shape=(h, w)).irradiance[..., 0].astype(np.float64)
    assert abs(blurred.sum() / focused.sum() - 1.0) < 1e-5
    # second moment of a pillbox of diameter c: E[r^2] = c^2 / 8; spot and pixel box add theirs
    yy, xx = np.mgrid[:h, :w] + 0.5

    def m2(img):
        cx, cy = (img * xx).sum() / img.sum(), (img * yy).sum() / img.sum()
        return (img * ((xx - cx) ** 2 + (yy - cy) ** 2)).sum() / img.sum()

    c = abs(coc_px(depth_m))
    assert c > 3.0
    measured = m2(blurred) - m2(focused)
    assert abs(measured / (c**2 / 8.0) - 1.0) < 0.03


@pytest.mark.parametrize("focus_m", [0.5, 1.0, 2.0, 0.3])
@pytest.mark.parametrize("make", [two_plane_scene, depth_map_scene])
def test_equal_radiance_fg_and_bg_render_uniform(focus_m, make):
    scene = make((64, 64), fg_radiance=0.8, bg_radiance=0.8)
    img = _render(scene, s_mm=sensor_distance_mm(4.0, focus_m), shape=(48, 48)).irradiance
    assert np.max(np.abs(img - 0.8)) < 1e-5


def test_depth_map_layer_equals_two_flat_layers_over_uniform_background():
    kw = dict(fg_radiance=1.0, bg_radiance=0.25)
    for focus_m in (0.5, 2.0, 1.0):
        s = sensor_distance_mm(4.0, focus_m)
        flat = _render(two_plane_scene((64, 64), c=1, **kw), s_mm=s, shape=(48, 48)).irradiance
        sliced = _render(depth_map_scene((64, 64), **kw), s_mm=s, shape=(48, 48)).irradiance
        assert np.max(np.abs(flat - sliced)) < 1e-5


@pytest.mark.parametrize("focus_m", [0.5, 2.0])
def test_foreground_occludes_blurred_background_without_halo(focus_m):
    h, w = 64, 64
    bg_rad = np.where(np.arange(w)[None, :] % 8 < 4, 0.2, 0.6).astype(np.float32)  # stripes
    bg = Layer(np.broadcast_to(bg_rad, (h, w))[..., None].copy(), np.ones((h, w), np.float32), 2.0)
    fg_alpha = disc((h, w), (w / 2, h / 2), h / 4).astype(np.float32)
    fg = Layer(np.full((h, w, 1), 1.0, np.float32), fg_alpha, 0.5)
    img = _render(
        Scene((bg, fg), matched_hfov_deg(w)), s_mm=sensor_distance_mm(4.0, focus_m), shape=(48, 48)
    ).irradiance
    c_fg = abs(coc_px(0.5, sensor_distance_mm(4.0, focus_m)))
    # no dark or bright halo: everything lies between the darkest and brightest radiance
    assert img.min() >= 0.2 - 1e-5 and img.max() <= 1.0 + 1e-5
    # the centre of the (large) foreground disc shows the foreground only
    assert abs(img[24, 24, 0] - 1.0) < 1e-5
    if focus_m == 0.5:
        # sharp foreground edge: a pixel just outside shows the (blurred, ~mean) background
        assert c_fg < 1e-6
        assert abs(img[24, 2, 0] - 0.4) < 0.05


def test_dual_pixel_sum_and_disparity_sign():
    h, w, ss = 64, 64, 2
    alpha = disc((h * ss, w * ss), (w * ss / 2, h * ss / 2), 1.0).astype(np.float32)
    rad = np.ones((h * ss, w * ss, 1), np.float32)
    xx = np.arange(w) + 0.5
    for depth_m in (0.5, 3.0):
        scene = Scene((Layer(rad, alpha, depth_m),), matched_hfov_deg(w))
        img = _render(scene, shape=(h, w), dual_pixel=True)
        assert np.max(np.abs(img.left + img.right - img.irradiance)) < 1e-6

        def cx(a):
            a = a[..., 0].astype(np.float64).sum(axis=0)
            return (a * xx).sum() / a.sum()

        c = coc_px(depth_m)
        disparity = cx(img.right) - cx(img.left)
        assert math.copysign(1.0, disparity) == math.copysign(1.0, c)
        assert abs(disparity / (4.0 * c / (3.0 * math.pi)) - 1.0) < 0.03


def test_dual_pixel_sum_holds_at_occlusion_edges():
    scene = two_plane_scene((64, 64), fg_radiance=1.0, bg_radiance=0.3)
    for focus_m in (0.5, 2.0, 0.8):
        img = _render(scene, s_mm=sensor_distance_mm(4.0, focus_m), shape=(48, 48), dual_pixel=True)
        assert np.max(np.abs(img.left + img.right - img.irradiance)) < 1e-5
