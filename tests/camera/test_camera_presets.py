"""Camera presets: registry behaviour, published figures, and captures through the real optics."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.camera import Camera, camera_names, get_camera, register_camera
from focuslab.errors import InvalidParameterError, UnknownNameError
from focuslab.optics.focus import lens_displacement_um
from focuslab.optics.psf_model import PsfModel
from focuslab.scene import Layer, Scene


def _plane(depth_m: float) -> Scene:
    rad = (0.2 + 0.6 * np.random.default_rng(0).random((90, 120, 3))).astype(np.float32)
    return Scene(layers=(Layer(radiance=rad, alpha=np.ones((90, 120), np.float32), depth_m=depth_m),),
                 hfov_deg=80.0)


def test_registry_lists_the_presets():
    names = camera_names()
    for n in ("phone_main", "phone_main_tof", "phone_tele", "no_pdaf"):
        assert n in names
        cam = get_camera(n)
        assert isinstance(cam, Camera) and cam.name == n and isinstance(cam.psf, PsfModel)


def test_unknown_name_lists_valid_names():
    with pytest.raises(UnknownNameError) as err:
        get_camera("phone_mian")
    assert "phone_main" in str(err.value) and "\n" not in str(err.value)


def test_duplicate_registration_is_refused():
    with pytest.raises(InvalidParameterError):
        register_camera("phone_main")(lambda: get_camera("phone_main"))


def test_preset_figures():
    main, tele, nopd, tof = (get_camera(n) for n in ("phone_main", "phone_tele", "no_pdaf", "phone_main_tof"))
    assert (main.lens.focal_length_mm, main.lens.f_number) == (4.38, 1.73)
    assert main.sensor.pixel_pitch_um == 1.4 and main.has_dual_pixel
    assert tele.has_dual_pixel and tele.lens.focal_length_mm > 1.3 * main.lens.focal_length_mm
    assert not nopd.has_dual_pixel
    assert tof.depth_sensor is not None and main.depth_sensor is None
    assert main.stream_sensor.shape_px == (756, 1008)
    assert main.stream_sensor.pixel_pitch_um == pytest.approx(5.6)
    for cam in (main, tele, nopd):  # every preset reaches its minimum focus distance and infinity
        need = lens_displacement_um(cam.lens.focal_length_mm, cam.lens.min_focus_distance_m)
        assert cam.actuator.displacement_um(cam.actuator.max_code) >= need
        assert cam.focus_code_for_distance(float("inf")) == cam.actuator.start_code
        assert 55.0 < cam.hfov_deg() < 80.0 or cam is tele
    assert 30.0 < tele.hfov_deg() < 45.0


@pytest.mark.parametrize("name", ["phone_main", "phone_tele", "no_pdaf", "phone_main_tof"])
def test_preset_settled_capture_is_in_focus(name):
    cam = get_camera(name)
    d = 0.6
    code = cam.focus_code_for_distance(d)
    ses = cam.session(seed=4)
    ses.move_to(code, 0.0)
    t = cam.actuator.settling_time_s(0.1, step_um=cam.actuator.target_um(code))
    h, w = cam.stream_sensor.shape_px
    roi = (w // 2 - 16, h // 2 - 16, 32, 32)
    f = ses.capture(_plane(d), t, exposure_s=0.01, illuminance_lux=400.0, roi=roi)
    assert f.shape_px == (32, 32) and f.has_dual_pixel == cam.has_dual_pixel
    assert cam.focus_error_dof(d, f.lens_displacement_um) < 1.0
    assert (f.depth is not None) == (cam.depth_sensor is not None)


def test_depth_zones_map_onto_the_stream():
    cam = get_camera("phone_main_tof")
    reading = cam.depth_sensor.measure(_plane(1.0), 0.0, seed=0)
    rois = cam.depth_zone_rois_px(reading)
    h, w = cam.stream_sensor.shape_px
    span = np.tan(np.radians(22.5)) * cam.lens.focal_length_mm / 5.6e-3  # half-width in stream px
    x0, x1 = rois[..., 0].min(), (rois[..., 0] + rois[..., 2]).max()
    assert x0 == round(w / 2 - span) and x1 == round(w / 2 + span)
    assert np.all(rois[..., 2] > 0) and np.all(rois[..., 3] > 0)
    assert np.array_equal(rois[:, :, 2], rois[:, ::-1, 2])  # symmetric about the centre
    y0, y1 = rois[..., 1].min(), (rois[..., 1] + rois[..., 3]).max()
    assert y0 >= 0 and y1 <= h
