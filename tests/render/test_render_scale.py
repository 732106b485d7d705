"""Rendering magnified layers (Layer.scale): equals a magnified texture, ROI = crop, pinhole growth."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.ndimage as ndi
from render_psf_doubles import PillboxDouble
from render_scenes import FOCUS_1M_MM, LENS, PITCH_UM, disc, matched_hfov_deg

from focuslab.optics import sensor_distance_mm
from focuslab.render import render_optical_image
from focuslab.scene.library import make_scene
from focuslab.scene.scene import KeyframeMotion, Layer, Scene


def _render(scene, *, s_mm=FOCUS_1M_MM, shape=(48, 64), **kw):
    return render_optical_image(
        scene, LENS, sensor_distance_mm=s_mm, pixel_pitch_um=PITCH_UM, sensor_shape_px=shape, psf=PillboxDouble(), **kw
    )


def _smooth_texture(rng, shape, c=1, sigma=3.0):
    tex = ndi.gaussian_filter(rng.random((*shape, c)), sigma=(sigma, sigma, 0))
    return np.clip((tex - tex.mean()) * 5 + 0.5, 0, 1).astype(np.float32)


@pytest.mark.parametrize("depth_m", [1.0, 0.6])
def test_scale_about_the_axis_equals_a_grid_spanning_twice_the_tan_field(rng, depth_m):
    # magnifying by 2 about the axis shows at tan(theta) the layer's point at tan(theta) / 2:
    # the same texture on a grid whose samples are twice as wide in tan units
    h, w = 48, 64
    tex = _smooth_texture(rng, (h, w))
    alpha = disc((h, w), (w * 0.4, h * 0.55), h / 4).astype(np.float32)
    hfov = matched_hfov_deg(w)
    wide = 2.0 * math.degrees(math.atan(2.0 * math.tan(math.radians(hfov) / 2.0)))
    bg = Layer(np.full((h, w, 1), 0.2, np.float32), np.ones((h, w), np.float32), 3.0)
    scaled = _render(Scene((bg, Layer(tex, alpha, depth_m, scale=2.0)), hfov), dual_pixel=True)
    wide_grid = _render(Scene((bg, Layer(tex, alpha, depth_m)), wide), dual_pixel=True)
    assert np.max(np.abs(scaled.irradiance - wide_grid.irradiance)) < 1e-5
    assert np.max(np.abs(scaled.left + scaled.right - scaled.irradiance)) < 1e-5


@pytest.mark.parametrize("depth_m", [1.0, 0.5])
def test_scale_two_off_axis_equals_texture_magnified_twice(rng, depth_m):
    h, w = 64, 64
    tex = _smooth_texture(rng, (h, w), sigma=3.0)
    hfov = matched_hfov_deg(w)
    deg_per_sample = math.degrees(math.atan(PITCH_UM * 1e-3 / FOCUS_1M_MM))
    cx, cy = 6.0, -4.0  # centre of magnification, samples from the axis (small angles: tan ~ linear)
    centre_deg = (math.degrees(math.atan(cx * PITCH_UM * 1e-3 / FOCUS_1M_MM)),
                  math.degrees(math.atan(cy * PITCH_UM * 1e-3 / FOCUS_1M_MM)))
    assert abs(centre_deg[0] / deg_per_sample - cx) < 1e-3
    ones = np.ones((h, w), np.float32)
    scaled = Scene((Layer(tex, ones, depth_m, scale=2.0, scale_center_deg=centre_deg),), hfov)
    # reference: the texture magnified 2x about the same point, sampled at the grid's centres
    yy, xx = np.mgrid[:h, :w] + 0.5
    src_x = (w / 2 + cx) + (xx - (w / 2 + cx)) / 2.0 - 0.5
    src_y = (h / 2 + cy) + (yy - (h / 2 + cy)) / 2.0 - 0.5
    big = ndi.map_coordinates(tex[..., 0], [src_y, src_x], order=1, mode="nearest")[..., None]
    ref = Scene((Layer(big.astype(np.float32), ones, depth_m),), hfov)
    a, b = _render(scaled, shape=(h, w)).irradiance, _render(ref, shape=(h, w)).irradiance
    inner = (slice(8, -8), slice(8, -8))  # away from the replicated grid edges
    assert np.max(np.abs(a - b)[inner]) < 5e-3  # two bilinear interpolations vs one (measured 1.6e-3)
    assert abs(a[inner].mean() - b[inner].mean()) < 1e-3


def test_roi_equals_crop_with_scaled_moving_and_depth_map_layers(rng):
    h, w = 60, 80
    bg = Layer(rng.random((h, w, 3)).astype(np.float32), np.ones((h, w), np.float32), 2.0)
    motion = KeyframeMotion((0.0, 1.0), (0.9, 0.5), offsets_deg=((0.0, 0.0), (0.1, -0.05)), scales=(1.0, 1.8),
                            scale_center_deg=(0.05, 0.02))
    fg = Layer(rng.random((h, w, 3)).astype(np.float32), disc((h, w), (w * 0.4, h * 0.5), h / 5).astype(np.float32),
               0.9, motion=motion)
    ramp = np.linspace(0.6, 1.5, w, dtype=np.float32)[None, :].repeat(h, 0)
    mid = Layer(rng.random((h, w, 3)).astype(np.float32), disc((h, w), (w * 0.7, h * 0.6), h / 4).astype(np.float32),
                ramp, scale=0.7, scale_center_deg=(0.1, 0.0))
    scene = Scene((bg, fg, mid), matched_hfov_deg(w) * 1.1)
    s = sensor_distance_mm(4.0, 0.8)
    full = _render(scene, s_mm=s, dual_pixel=True, t_s=0.6)
    for x, y, rw, rh in ((10, 7, 21, 17), (40, 25, 24, 23)):
        part = _render(scene, s_mm=s, dual_pixel=True, t_s=0.6, roi=(x, y, rw, rh))
        for name in ("irradiance", "left", "right"):
            crop = getattr(full, name)[y : y + rh, x : x + rw]
            assert np.max(np.abs(getattr(part, name) - crop)) < 1e-5


def test_scaled_uniform_layers_stay_uniform_and_conserve_flux():
    h, w = 32, 48
    for scale in (0.6, 1.0, 2.5):
        white = Scene((Layer(np.full((h, w, 1), 0.7, np.float32), np.ones((h, w), np.float32), 0.4,
                             scale=scale, scale_center_deg=(0.1, -0.1)),), 15.0)
        assert np.max(np.abs(_render(white, shape=(24, 40)).irradiance - 0.7)) < 1e-5
    spot = disc((64, 64), (32, 32), 6).astype(np.float32)
    flux = []
    for scale in (1.0, 1.5):
        scene = Scene((Layer(np.ones((64, 64, 1), np.float32), spot, 0.5, scale=scale),), matched_hfov_deg(64))
        flux.append(_render(scene, shape=(64, 64)).irradiance.astype(np.float64).sum())
    assert abs(flux[1] / flux[0] / 1.5**2 - 1.0) < 5e-3  # area grows as scale^2, blur keeps flux


def test_approaching_subject_card_coverage_grows_as_inverse_distance_squared():
    h, w = 96, 128
    d0, d1 = 2.5, 1.25
    scene = make_scene("approaching_subject", shape=(h, w), hfov_deg=matched_hfov_deg(w), subject_distance_m=d1,
                       start_distance_m=d0, duration_s=1.0, background_distance_m=5.0, card_fraction=0.1)
    coverage = []
    for t in (0.0, 0.25, 0.5, 1.0):
        card = scene.at(t).layers[scene.subject_layer]
        white = Scene((Layer(np.ones((h, w, 1), np.float32), card.alpha, card.depth_m, scale=card.scale,
                             scale_center_deg=card.scale_center_deg),), scene.hfov_deg)
        s = sensor_distance_mm(4.0, card.depth_m)  # focused on the card: its edge is sharp
        img = _render(white, s_mm=s, shape=(h, w)).irradiance
        coverage.append((card.depth_m, float(img.astype(np.float64).sum())))
    for d, cov in coverage[1:]:
        assert abs(cov / coverage[0][1] / (d0 / d) ** 2 - 1.0) < 0.01  # measured <= 0.33 %
    assert coverage[-1][1] > 3.9 * coverage[0][1]
