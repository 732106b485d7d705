"""The built-in AF suites: registered, deterministic, physically described, geometrically right."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.bench.suites import (
    AFCase,
    build_scene,
    card_edge_roi,
    centre_roi,
    code_range,
    describe_suite,
    focusable_range_m,
    grey_electrons_per_pixel,
    register_suite,
    suite_cases,
    suite_names,
)
from focuslab.camera import get_camera
from focuslab.errors import InvalidParameterError, UnknownNameError

SUITES = ["stills-bright", "stills-lowlight", "low-texture", "depth-edge", "video-tracking"]


def test_the_five_suites_are_registered_in_order():
    assert suite_names()[:5] == SUITES


@pytest.mark.parametrize("name", SUITES)
def test_cases_are_deterministic_and_seeded(name):
    a = suite_cases(name, seed=3)
    assert a == suite_cases(name, seed=3)
    assert a != suite_cases(name, seed=4)
    assert len({c.case_id for c in a}) == len(a) >= 3
    assert len(suite_cases(name, full=True, seed=3)) > len(a)


@pytest.mark.parametrize("name", SUITES)
def test_cases_fit_the_camera(name):
    cam = get_camera("phone_main_tof")
    h, w = cam.stream_sensor.shape_px
    lo, hi = code_range(cam)
    for c in suite_cases(name):
        x, y, rw, rh = c.roi
        assert 0 <= x and 0 <= y and x + rw <= w and y + rh <= h
        assert x % 2 == 0 and y % 2 == 0  # the Bayer phase of the region is the sensor's
        assert lo <= c.start_code <= hi
        assert c.video == (name == "video-tracking")


def test_suites_cover_many_textures_including_real_photographs():
    cases = suite_cases("stills-bright", full=True)
    photos = {c.options.get("image") for c in cases if c.scene == "photo"}
    assert len(photos) >= 5
    assert {"dead_leaves", "text", "middlebury"} <= {c.scene for c in cases}
    assert all(500 <= c.illuminance_lux <= 1000 for c in cases)


def test_lowlight_names_lux_and_electrons_from_the_photometry():
    cam = get_camera("phone_main_tof")
    e3, e6 = grey_electrons_per_pixel(cam, 3.0), grey_electrons_per_pixel(cam, 6.0)
    # both exposures are capped at the frame interval, so electrons are linear in lux
    assert e6 == pytest.approx(2.0 * e3, rel=1e-9)
    text = describe_suite("stills-lowlight")
    for lux in (3, 6, 12):
        assert f"{lux} lux" in text
    assert f"{e3:.0f} e- per 4x4-binned stream pixel" in text
    assert f"({e3 / 16:.1f} e- per native pixel;" in text
    # the exposure is capped, so the AE sets the sensor's full analogue gain: 16 x K / 16 DN per e-
    k = cam.stream_sensor.conversion_gain_dn_per_e
    assert "analogue gain 16x" in text and f"{e3 * 16 * k:.0f} DN)" in text
    assert all(c.illuminance_lux <= 20 for c in suite_cases("stills-lowlight"))


def test_grey_electrons_follow_the_reflectance_and_the_auto_exposure():
    cam = get_camera("phone_main")
    # in bright light auto-exposure holds the white level, so the signal no longer grows with lux
    assert grey_electrons_per_pixel(cam, 500.0) == pytest.approx(grey_electrons_per_pixel(cam, 1000.0), rel=1e-9)
    assert grey_electrons_per_pixel(cam, 5.0, reflectance=0.36) == pytest.approx(
        2.0 * grey_electrons_per_pixel(cam, 5.0), rel=1e-9)


def test_centre_roi_is_centred():
    cam = get_camera("phone_main")
    x, y, w, h = centre_roi(cam)
    hs, ws = cam.stream_sensor.shape_px
    assert abs((x + w / 2) - ws / 2) <= 1 and abs((y + h / 2) - hs / 2) <= 1


def test_depth_edge_region_straddles_the_card_edge():
    from focuslab.af.region_depth import region_subject_distance_m, visible_depths_m

    cam = get_camera("phone_main_tof")
    case = suite_cases("depth-edge")[0]
    scene = build_scene(case)
    d_um = float(cam.actuator.displacement_um(case.start_code))
    depths = visible_depths_m(cam, scene, case.roi, t_s=0.0, displacement_um=d_um)
    near = np.isclose(depths, case.subject_distance_m)
    far = np.isclose(depths, case.options["background_distance_m"])
    assert near.sum() + far.sum() == depths.size
    assert 0.5 < near.mean() < 0.75  # 5/8 of the region on the card, the rest on the background
    # nearest-subject priority: the region's subject is the card
    u = region_subject_distance_m(cam, scene, case.roi, t_s=0.0, displacement_um=d_um)
    assert u == pytest.approx(case.subject_distance_m)
    assert card_edge_roi(cam, 0.4)[0] < centre_roi(cam)[0]  # left of the centre: the card's left edge


def test_video_cases_move_the_subject():
    from focuslab.af.region_depth import region_subject_distance_m

    cam = get_camera("phone_main_tof")
    cases = {c.case_id.split("-")[1]: c for c in suite_cases("video-tracking")}
    assert set(cases) == {"approach", "recede", "pan"}
    for kind, c in cases.items():
        scene = build_scene(c)
        u0 = region_subject_distance_m(cam, scene, c.roi, t_s=0.0, displacement_um=100.0)
        u1 = region_subject_distance_m(cam, scene, c.roi, t_s=c.duration_s, displacement_um=100.0)
        if kind == "approach":
            assert u0 == pytest.approx(c.options["start_distance_m"]) and u1 == pytest.approx(c.subject_distance_m)
            assert u1 < u0
        elif kind == "recede":
            assert u1 > u0
        else:  # the pan ends with the region on the background
            assert u0 == pytest.approx(c.subject_distance_m)
            assert u1 == pytest.approx(c.options["background_distance_m"])


def test_drawn_subjects_are_within_every_presets_focus_range():
    from focuslab.camera import camera_names

    tele = get_camera("phone_tele")  # focuses no nearer than 0.35 m
    assert focusable_range_m(tele, 0.25, 3.0) == pytest.approx((0.385, 3.0))
    assert focusable_range_m(tele, 0.3, 0.35) == pytest.approx((0.385, 0.385 * 0.35 / 0.3))  # ratio kept
    assert focusable_range_m(get_camera("phone_main"), 0.25, 3.0) == (0.25, 3.0)  # 0.10 m: unchanged
    for cam_name in camera_names():
        cam = get_camera(cam_name)
        mod = cam.lens.min_focus_distance_m
        for name in SUITES:
            for c in suite_cases(name, camera=cam_name, full=True, seed=3):
                near = [c.subject_distance_m, c.options.get("start_distance_m")]
                assert all(d is None or d >= 1.1 * mod - 5e-3 for d in near), (cam_name, c.case_id, near)
    stills = suite_cases("stills-bright", camera="phone_tele", full=True, seed=3)
    assert min(c.subject_distance_m for c in stills if c.subject_distance_m) < 0.6  # still reaches near


def test_case_round_trips_through_json():
    import json

    for name in SUITES:
        for c in suite_cases(name):
            assert AFCase.from_dict(json.loads(json.dumps(c.to_dict()))) == c


def test_bad_inputs():
    with pytest.raises(UnknownNameError, match="stills-bright"):
        suite_cases("stills-dim")
    with pytest.raises(UnknownNameError, match="phone_main"):
        suite_cases("stills-bright", camera="no_such_camera")
    with pytest.raises(InvalidParameterError, match="seed"):
        suite_cases("stills-bright", seed=-1)
    with pytest.raises(InvalidParameterError, match="already registered"):
        register_suite("stills-bright")(lambda camera, name, *, full, rng: [])


def test_scene_distances_are_finite_and_positive():
    for name in SUITES:
        for c in suite_cases(name, full=True):
            assert c.subject_distance_m is None or (math.isfinite(c.subject_distance_m) and c.subject_distance_m > 0)


def test_full_stills_include_real_rgbd_photographs_when_the_data_is_there(shared_data):
    cases = suite_cases("stills-bright", full=True)
    rgbd = [c for c in cases if c.scene == "rgbd"]
    assert {c.options["dataset"] for c in rgbd} == {"nyu", "tum"}
    assert all(c.subject_distance_m is None for c in rgbd)  # at their own measured depths
    scene = build_scene(rgbd[0])
    assert scene.hfov_deg > 50 and scene.metadata["kind"] == "rgbd"  # the photograph's own field of view
