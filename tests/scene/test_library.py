"""Built-in scene library: every scene builds and validates; geometry truths; errors."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError, UnknownNameError
from focuslab.scene.library import describe_scene, make_scene, scene_names
from focuslab.scene.registry import SCENES, register_scene
from focuslab.scene.scene import Scene
from focuslab.scene.synthetic_scenes import card_alpha, tilted_plane_depth_m

SMALL = (36, 48)
NEEDS_DATA = {"rgbd"}
REQUIRED = {"dead_leaves", "slanted_edge", "siemens_star", "text", "low_texture", "two_planes",
            "tilted_plane", "photo", "middlebury", "rgbd", "approaching_subject"}


def _build(name, request, **kw):
    if name in NEEDS_DATA:
        kw.setdefault("data_dir", request.getfixturevalue("shared_data"))
    return make_scene(name, shape=SMALL, **kw)


def test_required_scenes_registered():
    assert REQUIRED <= set(scene_names())
    assert scene_names() == sorted(scene_names())


@pytest.mark.parametrize("name", sorted(SCENES))
def test_every_scene_builds_and_validates(name, request):
    scene = _build(name, request)
    assert isinstance(scene, Scene) and scene.shape == SMALL
    assert scene.subject_layer is not None
    assert isinstance(scene.metadata.get("kind"), str)
    assert 0 < scene.hfov_deg < 180
    for lay in scene.layers:
        assert lay.radiance.dtype == np.float32 and np.all(np.isfinite(lay.radiance))
        assert 0.0 <= lay.radiance.min() and lay.radiance.max() <= 1.0
    # the farthest layer covers the whole frame: nothing renders through to "no scene"
    back = scene.layers_back_to_front()[0]
    assert np.all(back.alpha == 1.0)
    # metadata names the subject distance (for video: where the subject ends up); the
    # tilted plane's median over rows differs from its exact centre depth by < 2e-4
    t_end = scene.metadata.get("duration_s", 0.0)
    assert scene.subject_distance_m(t_end) == pytest.approx(scene.metadata["subject_distance_m"], rel=1e-3)
    # deterministic: same seed, same arrays
    again = _build(name, request)
    for a, b in zip(scene.layers, again.layers, strict=True):
        assert np.array_equal(a.radiance, b.radiance) and np.array_equal(a.alpha, b.alpha)
    d = describe_scene(name)
    assert d["name"] == name and d["summary"] and isinstance(d["options"], dict)


@pytest.mark.parametrize("name", ["dead_leaves", "low_texture", "two_planes", "tilted_plane"])
def test_random_scenes_change_with_seed(name):
    a = make_scene(name, shape=SMALL, seed=1)
    b = make_scene(name, shape=SMALL, seed=2)
    assert not np.array_equal(a.layers[0].radiance, b.layers[0].radiance)


def test_synthetic_defaults():
    s = make_scene("dead_leaves")
    assert s.shape == (480, 640) and s.hfov_deg == 40.0 and s.subject_distance_m() == 1.0
    s = make_scene("slanted_edge", shape=SMALL, hfov_deg=25.0, subject_distance_m=2.5, angle_deg=7.0)
    assert s.hfov_deg == 25.0 and s.subject_distance_m() == 2.5 and s.metadata["angle_deg"] == 7.0


def test_two_planes_geometry():
    s = make_scene("two_planes", shape=(60, 80), subject_distance_m=0.7, background_distance_m=2.0)
    back, card = s.layers
    assert s.subject_layer == 1 and card.depth_m == 0.7 and back.depth_m == 2.0
    assert np.all(back.alpha == 1.0)
    assert float(card.alpha.astype(np.float64).sum()) == pytest.approx(0.4 * 60 * 80, rel=1e-6)
    assert card.alpha[30, 40] == 1.0 and card.alpha[0, 0] == 0.0
    assert 0 < np.count_nonzero((card.alpha > 0) & (card.alpha < 1))  # anti-aliased border
    assert [lay.name for lay in s.layers_back_to_front()] == ["background", "card"]
    photo = make_scene("two_planes", shape=SMALL, foreground="chelsea")
    assert photo.channels == 3
    with pytest.raises(InvalidParameterError, match="farther"):
        make_scene("two_planes", shape=SMALL, subject_distance_m=3.0, background_distance_m=2.0)
    with pytest.raises(InvalidParameterError):
        make_scene("two_planes", shape=SMALL, foreground="mona_lisa")


def test_card_alpha_exact_area():
    for shape, frac in [((37, 53), 0.4), ((10, 10), 0.25), ((64, 48), 0.9)]:
        a = card_alpha(shape, frac).astype(np.float64)
        assert a.sum() == pytest.approx(frac * shape[0] * shape[1], rel=1e-6)
        assert np.allclose(a, a[::-1, ::-1])  # centred
    with pytest.raises(InvalidParameterError):
        card_alpha((10, 10), 0.99)


def test_tilted_plane_is_a_plane():
    h, w, hfov, z0, tilt = 50, 70, 40.0, 1.2, 60.0
    z = tilted_plane_depth_m((h, w), hfov, z0, tilt).astype(np.float64)
    inv = 1.0 / z[:, 0]
    assert np.allclose(np.diff(inv, 2), 0.0, atol=1e-6)  # 1/Z linear in the row (pinhole)
    assert np.all(np.diff(z[:, 0]) < 0)  # far at the top, near at the bottom
    # points (X=0, Y = Z t, Z) lie on the plane Z = Z0 - Y tan(tilt)
    t = (np.arange(h) + 0.5 - h / 2) * 2 * np.tan(np.radians(hfov / 2)) / w
    assert np.allclose(z[:, 0], z0 - z[:, 0] * t * np.tan(np.radians(tilt)), rtol=1e-6)
    s = make_scene("tilted_plane", shape=(50, 70), hfov_deg=hfov, subject_distance_m=z0, tilt_deg=tilt)
    assert s.metadata["near_distance_m"] < z0 < s.metadata["far_distance_m"]
    with pytest.raises(InvalidParameterError, match="horizon"):
        make_scene("tilted_plane", shape=SMALL, hfov_deg=90.0, tilt_deg=80.0)


def test_approaching_subject_motion():
    s = make_scene("approaching_subject", shape=SMALL, subject_distance_m=0.5, start_distance_m=2.5,
                   duration_s=2.0, background_distance_m=6.0)
    assert s.is_moving and s.metadata["kind"] == "video"
    assert s.subject_distance_m(0.0) == pytest.approx(2.5)
    assert s.subject_distance_m(1.0) == pytest.approx(1.5)
    assert s.subject_distance_m(2.0) == pytest.approx(0.5)
    assert s.subject_distance_m(5.0) == pytest.approx(0.5)
    still = s.at(1.0)
    assert not still.is_moving and still.layers[0].depth_m == 6.0
    with pytest.raises(InvalidParameterError):
        make_scene("approaching_subject", shape=SMALL, start_distance_m=7.0, background_distance_m=6.0)


def test_middlebury_scene_native_and_rescaled():
    s = make_scene("middlebury", shape=(50, 74))
    assert s.hfov_deg == pytest.approx(40.85, abs=0.01) and s.channels == 3
    depth = s.layers[0].depth_m
    assert depth.shape == (50, 74) and 2.0 < depth.min() and depth.max() < 5.1
    r = make_scene("middlebury", shape=(50, 74), subject_distance_m=1.0, hfov_deg=30.0)
    assert r.subject_distance_m() == pytest.approx(1.0, rel=1e-6) and r.hfov_deg == 30.0
    ratio = r.layers[0].depth_m / depth
    assert np.allclose(ratio, ratio[0, 0], rtol=1e-5)  # one scale factor for the whole scene


@pytest.mark.shared_data
def test_rgbd_scene_datasets(shared_data):
    for ds in ("tum", "sun", "nyu"):
        s = make_scene("rgbd", shape=SMALL, dataset=ds, data_dir=shared_data)
        assert s.metadata["dataset"] == ds and 0.3 < s.subject_distance_m() < 10.0
    with pytest.raises(UnknownNameError):
        make_scene("rgbd", shape=SMALL, dataset="kitti", data_dir=shared_data)


def test_errors():
    with pytest.raises(UnknownNameError, match="dead_leaves") as info:
        make_scene("dead_leafs")
    assert "\n" not in str(info.value)
    with pytest.raises(UnknownNameError):
        describe_scene("nope")
    with pytest.raises(InvalidParameterError, match="angle_deg"):
        make_scene("dead_leaves", shape=SMALL, angle_deg=5.0)
    with pytest.raises(InvalidParameterError, match="none"):
        make_scene("middlebury", shape=SMALL, dataset="tum")
    for kw in ({"shape": (0, 10)}, {"shape": (10,)}, {"shape": (4.5, 8)}, {"hfov_deg": 180.0},
               {"hfov_deg": float("nan")}, {"subject_distance_m": -1.0}, {"subject_distance_m": float("inf")},
               {"seed": -1}, {"seed": 1.5}, {"seed": True}):
        with pytest.raises(InvalidParameterError):
            make_scene("checkerboard", **({"shape": SMALL} | kw))
    with pytest.raises(InvalidParameterError):  # option values are validated too
        make_scene("slanted_edge", shape=SMALL, angle_deg=60.0)


def test_registry_refuses_duplicates():
    with pytest.raises(InvalidParameterError, match="already registered"):
        register_scene("dead_leaves")(lambda shape, hfov_deg, subject_distance_m, seed: None)
    assert SCENES["dead_leaves"].builder.__name__ == "dead_leaves_scene"
