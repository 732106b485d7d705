"""Scene, Layer, KeyframeMotion: validation, motion resolution, back-to-front ordering."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.scene import KeyframeMotion, Layer, Scene


def layer(depth=1.0, shape=(4, 6), c=1, value=0.5, alpha=1.0, **kw):
    return Layer(np.full((*shape, c), value, np.float32), np.full(shape, alpha, np.float32), depth, **kw)


# ---------------------------------------------------------------- Layer
def test_layer_normalises_inputs_without_touching_them():
    rad = np.full((4, 6), 0.25)  # float64, 2-D
    alpha = np.ones((4, 6))
    lay = Layer(rad, alpha, 2)
    assert lay.radiance.shape == (4, 6, 1) and lay.radiance.dtype == np.float32
    assert lay.alpha.dtype == np.float32 and lay.depth_m == 2.0 and isinstance(lay.depth_m, float)
    assert rad.dtype == np.float64 and rad.shape == (4, 6)
    assert lay.shape == (4, 6) and lay.channels == 1
    assert layer(c=3).channels == 3


@pytest.mark.parametrize(
    "make",
    [
        lambda: Layer(np.zeros((4, 6, 2)), np.ones((4, 6)), 1.0),  # 2 channels
        lambda: Layer(np.zeros(6), np.ones(6), 1.0),  # 1-D
        lambda: Layer(np.zeros((4, 6)), np.ones((4, 5)), 1.0),  # alpha shape
        lambda: Layer(np.full((4, 6), np.nan), np.ones((4, 6)), 1.0),
        lambda: Layer(np.zeros((4, 6)), np.full((4, 6), np.inf), 1.0),
        lambda: Layer(np.full((4, 6), -0.1), np.ones((4, 6)), 1.0),  # negative radiance
        lambda: Layer(np.zeros((4, 6)), np.full((4, 6), 1.5), 1.0),  # alpha > 1
        lambda: Layer(np.zeros((4, 6)), np.full((4, 6), -0.5), 1.0),
        lambda: Layer(np.zeros((4, 6)), np.ones((4, 6)), 0.0),  # depth 0
        lambda: Layer(np.zeros((4, 6)), np.ones((4, 6)), float("nan")),
        lambda: Layer(np.zeros((4, 6)), np.ones((4, 6)), -1.0),
        lambda: Layer(np.zeros((4, 6)), np.ones((4, 6)), np.ones((4, 5))),  # depth-map shape
        lambda: Layer(np.zeros((4, 6)), np.ones((4, 6)), np.zeros((4, 6))),  # depth-map <= 0
        lambda: Layer(np.zeros((4, 6)), np.ones((4, 6)), np.full((4, 6), np.inf)),
    ],
)
def test_layer_rejects_bad_inputs(make):
    with pytest.raises(InvalidParameterError):
        make()


def test_layer_depth_map_extremes_use_covered_part():
    depth = np.array([[0.5, 1.0, 2.0, 4.0]], np.float32)
    alpha = np.array([[0.0, 1.0, 0.5, 0.0]], np.float32)
    lay = Layer(np.zeros((1, 4)), alpha, depth)
    assert lay.min_depth_m == 1.0 and lay.max_depth_m == 2.0
    empty = Layer(np.zeros((1, 4)), np.zeros((1, 4)), depth)
    assert empty.min_depth_m == 0.5 and empty.max_depth_m == 4.0


# ---------------------------------------------------------------- KeyframeMotion
def test_keyframe_motion_interpolates_and_holds():
    m = KeyframeMotion(times_s=(0.0, 1.0, 3.0), depths_m=(4.0, 2.0, 1.0),
                       offsets_deg=((0.0, 0.0), (1.0, -2.0), (1.0, -2.0)))
    assert m.depth_m(-1.0) == 4.0 and m.depth_m(0.5) == pytest.approx(3.0)
    assert m.depth_m(2.0) == pytest.approx(1.5) and m.depth_m(10.0) == 1.0
    assert m.offset_deg(0.5) == pytest.approx((0.5, -1.0))
    assert KeyframeMotion(times_s=(0.0,), depths_m=(2.0,)).offset_deg(3.0) == (0.0, 0.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"times_s": (0.0, 0.0), "depths_m": (1.0, 1.0)},
        {"times_s": (1.0, 0.0), "depths_m": (1.0, 1.0)},
        {"times_s": (), "depths_m": ()},
        {"times_s": (0.0, 1.0), "depths_m": (1.0,)},
        {"times_s": (0.0, 1.0), "depths_m": (1.0, -1.0)},
        {"times_s": (0.0, 1.0), "depths_m": (1.0, float("nan"))},
        {"times_s": (0.0, 1.0), "depths_m": (1.0, 2.0), "offsets_deg": ((0.0, 0.0),)},
    ],
)
def test_keyframe_motion_rejects_bad_keys(kwargs):
    with pytest.raises(InvalidParameterError):
        KeyframeMotion(**kwargs)


# ---------------------------------------------------------------- Scene
def test_scene_at_resolves_motion():
    m = KeyframeMotion(times_s=(0.0, 2.0), depths_m=(3.0, 1.0), offsets_deg=((0.0, 0.0), (2.0, 1.0)))
    moving = layer(3.0, motion=m, offset_deg=(0.5, 0.0), name="card")
    depth_map = np.linspace(1.0, 2.0, 24, dtype=np.float32).reshape(4, 6)
    mapped = Layer(np.zeros((4, 6, 1)), np.ones((4, 6)), depth_map,
                   motion=KeyframeMotion(times_s=(0.0, 1.0), depths_m=(2.0, 1.0)))
    s = Scene((layer(5.0, name="bg"), moving, mapped), hfov_deg=30.0, subject_layer=1)
    assert s.is_moving
    mid = s.at(1.0)
    assert not mid.is_moving and mid.layers[0] is s.layers[0]
    assert mid.layers[1].depth_m == pytest.approx(2.0)
    assert mid.layers[1].offset_deg == pytest.approx((1.5, 0.5))  # own offset + motion
    assert np.allclose(s.at(0.5).layers[2].depth_m, depth_map * 0.75)  # map scaled by d(t)/d(t0)
    assert s.subject_distance_m(0.0) == 3.0 and s.subject_distance_m(2.0) == pytest.approx(1.0)
    static = Scene((layer(),), hfov_deg=30.0)
    assert static.at(5.0) is static and static.subject_distance_m() is None


def test_scene_back_to_front_order_and_properties():
    near, mid, far = layer(0.5, name="near"), layer(2.0, name="mid"), layer(9.0, name="far")
    s = Scene((mid, near, far), hfov_deg=40.0)
    assert [lay.name for lay in s.layers_back_to_front()] == ["far", "mid", "near"]
    assert [lay.name for lay in s.layers] == ["mid", "near", "far"]  # given order kept
    assert s.shape == (4, 6) and s.channels == 1
    assert s.vfov_deg == pytest.approx(40.0 * 4 / 6)
    # a depth-map layer is ordered by its nearest covered depth
    ramp = Layer(np.zeros((4, 6)), np.ones((4, 6)), np.full((4, 6), 3.0, np.float32).clip(1.5), name="ramp")
    s2 = Scene((near, ramp, far), hfov_deg=40.0)
    assert [lay.name for lay in s2.layers_back_to_front()] == ["far", "ramp", "near"]


def test_scene_subject_roi_metadata_restricts_median():
    depth = np.full((10, 10), 5.0, np.float32)
    depth[4:6, 4:6] = 1.0
    lay = Layer(np.zeros((10, 10)), np.ones((10, 10)), depth)
    assert Scene((lay,), 30.0, subject_layer=0).subject_distance_m() == 5.0
    s = Scene((lay,), 30.0, subject_layer=0, metadata={"subject_roi": (0.4, 0.4, 0.2, 0.2)})
    assert s.subject_distance_m() == 1.0


@pytest.mark.parametrize(
    "make",
    [
        lambda: Scene((), hfov_deg=30.0),
        lambda: Scene((layer(shape=(4, 6)), layer(shape=(4, 5))), hfov_deg=30.0),
        lambda: Scene((layer(c=1), layer(c=3)), hfov_deg=30.0),
        lambda: Scene((layer(),), hfov_deg=180.0),
        lambda: Scene((layer(),), hfov_deg=0.0),
        lambda: Scene((layer(),), hfov_deg=float("nan")),
        lambda: Scene((layer(),), hfov_deg=30.0, subject_layer=1),
        lambda: Scene((layer(),), hfov_deg=30.0, subject_layer=-1),
    ],
)
def test_scene_rejects_bad_inputs(make):
    with pytest.raises(InvalidParameterError):
        make()
