"""Multizone ToF depth sensor: noise law, range limits, occlusion, dominant surface, timing."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.camera.depth_sensor import DepthSensorSpec
from focuslab.errors import InvalidParameterError
from focuslab.scene import KeyframeMotion, Layer, Scene

SHAPE = (96, 128)
SPEC = DepthSensorSpec()


def _plane(depth_m, reflectance, alpha=None, **kw) -> Layer:
    a = np.ones(SHAPE, np.float32) if alpha is None else alpha
    return Layer(radiance=np.full((*SHAPE, 3), reflectance, np.float32), alpha=a, depth_m=depth_m, **kw)


def _scene(*layers) -> Scene:
    return Scene(layers=tuple(layers), hfov_deg=70.0)


def _box_alpha(frac=0.5) -> np.ndarray:
    """Centred box covering ``frac`` of each axis."""
    a = np.zeros(SHAPE, np.float32)
    h, w = SHAPE
    dh, dw = int(h * frac / 2), int(w * frac / 2)
    a[h // 2 - dh : h // 2 + dh, w // 2 - dw : w // 2 + dw] = 1.0
    return a


def test_flat_plane_mean_and_noise_match_the_stated_law():
    d, rho = 1.2, SPEC.reference_reflectance
    scene = _scene(_plane(d, rho))
    stack = np.stack([SPEC.measure(scene, 0.0, seed=s).distance_m for s in range(150)])
    sigma = SPEC.noise_floor_m + SPEC.noise_quadratic_per_m * d**2  # eq. (2), white target
    assert SPEC.noise_sigma_m(d) == pytest.approx(sigma)
    assert np.all(np.isfinite(stack))
    zone_means = stack.mean(axis=0)
    assert np.max(np.abs(zone_means - d)) < 5 * sigma / np.sqrt(150)
    assert np.std(stack - d) == pytest.approx(sigma, rel=0.03)
    r = SPEC.measure(scene, 0.0, seed=0)
    assert np.allclose(r.true_distance_m, d) and np.allclose(r.sigma_m, sigma)
    assert np.allclose(r.signal, (SPEC.max_range_m / d) ** 2)  # eq. (1) with f = 1, rho = rho_ref
    assert np.allclose(r.coverage, 1.0) and np.allclose(r.reflectance, rho, atol=1e-6)


def test_noise_grows_for_a_darker_target():
    d = 1.0
    grey = SPEC.measure(_scene(_plane(d, 0.22)), 0.0, seed=0)
    assert np.allclose(grey.sigma_m, SPEC.noise_floor_m + SPEC.noise_quadratic_per_m * d**2 * 4.0)


def test_beyond_max_range_drops_out():
    white = SPEC.reference_reflectance
    near = SPEC.measure(_scene(_plane(0.97 * SPEC.max_range_m, white)), 0.0, seed=1)
    far = SPEC.measure(_scene(_plane(1.05 * SPEC.max_range_m, white)), 0.0, seed=1)
    assert near.valid.all()
    assert not far.valid.any() and np.all(np.isnan(far.distance_m)) and np.all(np.isnan(far.sigma_m))
    too_close = SPEC.measure(_scene(_plane(0.5 * SPEC.min_range_m, white)), 0.0, seed=1)
    assert not too_close.valid.any()


def test_dark_far_plane_drops_out_where_white_does_not():
    d = 2.0
    dark = SPEC.measure(_scene(_plane(d, 0.02)), 0.0, seed=3)
    white = SPEC.measure(_scene(_plane(d, 0.9)), 0.0, seed=3)
    assert white.valid.all() and not dark.valid.any()
    r_dark = SPEC.max_range_for_reflectance_m(0.02)
    assert r_dark == pytest.approx(SPEC.max_range_m * np.sqrt(0.02 / 0.88))
    assert SPEC.measure(_scene(_plane(0.95 * r_dark, 0.02)), 0.0, seed=3).valid.all()
    assert not SPEC.measure(_scene(_plane(1.05 * r_dark, 0.02)), 0.0, seed=3).valid.any()


def test_two_planes_zones_over_the_foreground_report_it():
    fg = _plane(0.6, 0.8, alpha=_box_alpha(0.5), name="fg")
    bg = _plane(3.0, 0.9, name="bg")
    r = SPEC.measure(_scene(bg, fg), 0.0, seed=5)
    # scene grid uniform in tan: the box edges sit at tan = (32 / 64) tan(35 deg), (24 / 64) ...
    t35 = np.tan(np.radians(35.0))
    bx, by = np.degrees(np.arctan(0.5 * t35)), np.degrees(np.arctan(24 / 64 * t35))
    half_zone = 0.5 * np.max(np.diff(r.zone_edges_x_deg))
    xc, yc = r.zone_centers_deg
    inside = (np.abs(xc) < bx - half_zone) & (np.abs(yc) < by - half_zone)
    outside = (np.abs(xc) > bx + half_zone) | (np.abs(yc) > by + half_zone)
    assert inside.sum() >= 12 and outside.sum() >= 12
    assert np.allclose(r.true_distance_m[inside], 0.6)
    assert np.allclose(r.true_distance_m[outside], 3.0)
    assert np.all(np.abs(r.distance_m[inside] - 0.6) < 5 * r.sigma_m[inside])


def test_semi_transparent_foreground_is_seen_through():
    """'over': a 30 % alpha foreground leaves 70 % of the zone to the background behind it."""
    fg = _plane(0.5, 0.8, alpha=np.full(SHAPE, 0.3, np.float32))
    r = SPEC.measure(_scene(_plane(1.5, 0.8), fg), 0.0, seed=0)
    assert np.allclose(r.true_distance_m, 1.5) and np.allclose(r.coverage, 0.7, atol=1e-6)
    r2 = SPEC.measure(_scene(_plane(1.5, 0.8), _plane(0.5, 0.8, alpha=np.full(SHAPE, 0.6, np.float32))),
                      0.0, seed=0)
    assert np.allclose(r2.true_distance_m, 0.5) and np.allclose(r2.coverage, 0.6, atol=1e-6)


def test_layer_offset_moves_the_object_across_zones():
    fg = _plane(0.6, 0.8, alpha=_box_alpha(0.2), offset_deg=(-11.25, 0.0))
    r = SPEC.measure(_scene(_plane(3.0, 0.9), fg), 0.0, seed=0)
    near = r.true_distance_m < 1.0
    cols = np.nonzero(near.any(axis=0))[0]
    assert near.any() and cols.max() <= 3  # the object now sits left of centre


def test_timing_and_motion():
    moving = Layer(radiance=np.full((*SHAPE, 1), 0.9, np.float32), alpha=np.ones(SHAPE, np.float32),
                   depth_m=1.0, motion=KeyframeMotion(times_s=(0.0, 1.0), depths_m=(1.0, 2.0)))
    scene = _scene(moving)
    r = SPEC.measure(scene, 0.5, seed=0)
    k = int(np.floor((0.5 - SPEC.latency_s) * SPEC.frame_rate_hz))
    assert r.frame_index == k and r.t_scene_s == pytest.approx(k / SPEC.frame_rate_hz)
    assert r.t_s == pytest.approx(r.t_scene_s + SPEC.latency_s) and r.t_s <= 0.5
    assert np.allclose(r.true_distance_m, 1.0 + r.t_scene_s, atol=SPEC.histogram_bin_m)


def test_determinism_and_frames_differ():
    scene = _scene(_plane(1.0, 0.5))
    a, b = SPEC.measure(scene, 0.2, seed=9), SPEC.measure(scene, 0.2, seed=9)
    assert np.array_equal(a.distance_m, b.distance_m, equal_nan=True)
    c = SPEC.measure(scene, 0.2 + 1 / SPEC.frame_rate_hz, seed=9)
    assert not np.array_equal(a.distance_m, c.distance_m)
    assert not a.distance_m.flags.writeable


def test_zone_rois_tile_an_image_of_the_same_field():
    r = SPEC.measure(_scene(_plane(1.0, 0.5)), 0.0, seed=0)
    rois = r.zone_rois_px(SPEC.hfov_deg, (64, 64))
    assert rois.shape == (8, 8, 4)
    assert np.all(rois[..., 2] == 8) and np.all(rois[..., 3] == 8)
    assert tuple(rois[0, 0]) == (0, 0, 8, 8) and tuple(rois[7, 7]) == (56, 56, 8, 8)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"zones_x": 0},
        {"zones_y": 2.5},
        {"hfov_deg": 190.0},
        {"vfov_deg": -3.0},
        {"min_range_m": 5.0},
        {"max_range_m": float("nan")},
        {"reference_reflectance": 1.5},
        {"noise_floor_m": -0.1},
        {"frame_rate_hz": 0.0},
        {"latency_s": float("inf")},
        {"histogram_bin_m": 0.0},
    ],
)
def test_bad_specs(kwargs):
    with pytest.raises(InvalidParameterError) as err:
        DepthSensorSpec(**kwargs)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("t", [float("nan"), float("inf")])
def test_bad_measure_inputs(t):
    scene = _scene(_plane(1.0, 0.5))
    with pytest.raises(InvalidParameterError):
        SPEC.measure(scene, t, seed=0)
    with pytest.raises(InvalidParameterError):
        SPEC.measure("scene", 0.0, seed=0)
    with pytest.raises(InvalidParameterError):
        SPEC.measure(scene, 0.0, seed=-1)
