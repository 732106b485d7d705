"""Camera + capture session: the lens position actually reached, focus error, frames, validation."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from camera_psf_double import PillboxDouble

from focuslab.camera.actuator import ActuatorSpec
from focuslab.camera.camera import Camera
from focuslab.camera.depth_sensor import DepthSensorSpec
from focuslab.errors import InvalidParameterError
from focuslab.optics.focus import focus_distance_from_displacement_m, lens_displacement_um
from focuslab.optics.lens import LensSpec
from focuslab.scene import Layer, Scene
from focuslab.sensor.photometry import photons_per_pixel
from focuslab.sensor.presets import get_sensor

LENS = LensSpec(focal_length_mm=4.38, f_number=1.73, min_focus_distance_m=0.1)
ACT = ActuatorSpec()


def _camera(sensor="imx363", **kw) -> Camera:
    """A small-sensor camera (512 x 384 native, 128 x 96 stream) for fast captures."""
    s = replace(get_sensor(sensor), width_px=512, height_px=384)
    return Camera(lens=LENS, sensor=s, actuator=ACT, psf=PillboxDouble(), **kw)


def _plane(depth_m: float, *, grey: float | None = None, seed: int = 0) -> Scene:
    rng = np.random.default_rng(seed)
    shape = (120, 160)
    rad = np.full((*shape, 1), grey, np.float32) if grey is not None else (
        0.2 + 0.6 * rng.random((*shape, 1))).astype(np.float32)
    layer = Layer(radiance=rad, alpha=np.ones(shape, np.float32), depth_m=depth_m)
    return Scene(layers=(layer,), hfov_deg=14.0)


def test_settled_capture_is_in_focus_at_the_commanded_distance():
    cam = _camera()
    d = 0.5
    code = cam.focus_code_for_distance(d)
    ses = cam.session(seed=3)
    ses.move_to(code, 0.0)
    step = ACT.target_um(code)
    t = ACT.settling_time_s(0.05, step_um=step)
    frame = ses.capture(_plane(d), t, exposure_s=0.01, illuminance_lux=500.0, roi=(40, 30, 32, 24))
    assert frame.lens_code == code
    err = cam.focus_error_dof(d, frame.lens_displacement_um)
    assert err < 1.0
    assert frame.focus_distance_m == pytest.approx(d, rel=0.05)
    # the truth the frame reports is self-consistent thin-lens geometry
    assert frame.focus_distance_m == pytest.approx(
        focus_distance_from_displacement_m(LENS.focal_length_mm, frame.lens_displacement_um), rel=1e-12)
    assert frame.sensor_distance_mm == pytest.approx(LENS.focal_length_mm + frame.lens_displacement_um / 1000)
    # stops short by half the play (moving up), within the jitter
    target = step - ACT.hysteresis_um / 2
    assert abs(frame.lens_displacement_um - target) < 5 * ACT.position_noise_um + 0.05


def test_capture_before_settling_sees_the_lens_on_its_way():
    cam = _camera()
    ses = cam.session(seed=1, initial_code=200)
    start = ses.lens_position_um(0.0)
    code = cam.focus_code_for_distance(0.15)
    ses.move_to(code, 0.0)
    target = ses.actuator.target_at_um(0.0)
    frame = ses.capture(_plane(0.15), 0.2 * ACT.peak_time_s, exposure_s=1e-4, illuminance_lux=500.0,
                        roi=(0, 0, 16, 16))
    assert start + 5.0 < frame.lens_displacement_um < target - 5.0
    assert cam.focus_error_dof(0.15, frame.lens_displacement_um) > 1.0


def test_exposure_averages_the_moving_lens():
    cam = _camera()
    ses = cam.session(seed=2)
    ses.move_to(700, 0.0)
    t0, exp = 0.001, 0.004
    mean = ses.actuator.mean_position_um(t0, t0 + exp)
    assert ses.exposure_position_um(t0, exp) == pytest.approx(mean + ses.actuator.noise_um(t0))
    assert ses.actuator.position_um(t0) < mean < ses.actuator.position_um(t0 + exp)


def test_dual_pixel_present_only_on_dual_pixel_sensors():
    scene = _plane(0.8)
    dp = _camera("imx363").session(seed=0).capture(scene, 0.0, exposure_s=0.01, illuminance_lux=300.0,
                                                   roi=(8, 8, 16, 16))
    assert dp.has_dual_pixel and dp.raw.left.shape == (16, 16)
    off = _camera("imx363").session(seed=0).capture(scene, 0.0, exposure_s=0.01, illuminance_lux=300.0,
                                                    roi=(8, 8, 16, 16), dual_pixel=False)
    assert not off.has_dual_pixel
    cd = _camera("imx258")
    plain = cd.session(seed=0).capture(scene, 0.0, exposure_s=0.01, illuminance_lux=300.0, roi=(8, 8, 16, 16))
    assert not plain.has_dual_pixel and plain.raw.left is None
    with pytest.raises(InvalidParameterError):
        cd.session(seed=0).capture(scene, 0.0, exposure_s=0.01, illuminance_lux=300.0, dual_pixel=True)


def test_roi_and_full_stream_shapes():
    cam = _camera()
    ses = cam.session(seed=0)
    f = ses.capture(_plane(1.0), 0.0, exposure_s=0.01, illuminance_lux=300.0, roi=(10, 20, 32, 24))
    assert f.shape_px == (24, 32) and f.raw.roi == (10, 20, 32, 24) and f.roi == (10, 20, 32, 24)
    assert f.raw.cfa == "RGGB"  # (10, 20) is an even offset: the pattern is unchanged
    full = ses.capture(_plane(1.0), 0.0, exposure_s=0.01, illuminance_lux=300.0, dual_pixel=False)
    assert full.shape_px == (96, 128) and full.roi is None
    assert full.binning == 4 and full.pixel_pitch_um == pytest.approx(5.6)
    assert [f.frame_index, full.frame_index] == [0, 1] and ses.frame_count == 2
    with pytest.raises(InvalidParameterError):
        ses.capture(_plane(1.0), 0.0, exposure_s=0.01, illuminance_lux=300.0, roi=(120, 0, 16, 16))


def test_mean_signal_follows_the_camera_equation():
    """Grey plane in focus: G-pixel mean = photometry(f-number, T, binned pitch, bellows) x QE x K."""
    cam = _camera(preview_binning=2)
    d, grey, lux, exp = 0.3, 0.4, 200.0, 0.01
    code = cam.focus_code_for_distance(d)
    ses = cam.session(seed=5, initial_code=code)
    f = ses.capture(_plane(d, grey=grey), 1.0, exposure_s=exp, illuminance_lux=lux, roi=(60, 40, 64, 64),
                    dual_pixel=False)
    stream = cam.stream_sensor
    m = f.lens_displacement_um / 1000.0 / LENS.focal_length_mm
    ph = photons_per_pixel(np.full((1, 1, 3), grey), illuminance_lux=lux, f_number=LENS.f_number,
                           pixel_pitch_um=stream.pixel_pitch_um, exposure_s=exp,
                           transmission=LENS.transmission, magnification=m)[0, 0, 1]
    qe_g = stream.quantum_efficiency * stream.channel_response[1]
    expected_dn = ph * qe_g * stream.conversion_gain_dn_per_e
    g = f.raw.channel_masks()[..., 1]
    measured = f.raw.data[g].astype(float).mean() - stream.black_level_dn
    assert measured == pytest.approx(expected_dn, rel=0.02)
    assert m > 0.01  # the bellows factor matters at 30 cm


def test_dual_pixel_disparity_sign_follows_front_and_back_focus():
    """Object nearer than focus (c > 0): left image shifted to -x relative to right, and back."""
    cam = _camera()
    rng = np.random.default_rng(0)
    bars = np.repeat((rng.random((1, 160)) > 0.5).astype(np.float32), 120, axis=0)[..., None] * 0.8 + 0.1
    scene = Scene(layers=(Layer(radiance=bars, alpha=np.ones((120, 160), np.float32), depth_m=0.4),),
                  hfov_deg=14.0)

    def disparity(code):
        ses = cam.session(seed=0, initial_code=code)
        f = ses.capture(scene, 0.0, exposure_s=0.02, illuminance_lux=2000.0, roi=(24, 24, 80, 48))
        left, right = (a.mean(axis=0) for a in f.raw.normalized_pair())
        left, right = left - left.mean(), right - right.mean()
        lags = np.arange(-6, 7)
        score = [np.dot(np.roll(left, k), right) for k in lags]
        return lags[int(np.argmax(score))], cam.coc_um(0.4, f.lens_displacement_um)

    shift_far, c_far = disparity(cam.focus_code_for_distance(1.5))  # focused behind the object
    shift_near, c_near = disparity(cam.focus_code_for_distance(0.2))
    assert c_far > 0 > c_near
    assert shift_far > 0 > shift_near  # right = left shifted by +4c/(3 pi) for c > 0


def test_determinism():
    cam = _camera()

    def run(seed):
        ses = cam.session(seed=seed)
        ses.move_to(500, 0.0)
        return [ses.capture(_plane(0.7), t, exposure_s=0.005, illuminance_lux=100.0, roi=(0, 0, 24, 24))
                for t in (0.0, 0.01, 0.05)]

    a, b, c = run(11), run(11), run(12)
    for fa, fb in zip(a, b, strict=True):
        assert np.array_equal(fa.raw.data, fb.raw.data) and np.array_equal(fa.raw.left, fb.raw.left)
        assert fa.lens_displacement_um == fb.lens_displacement_um
    assert not np.array_equal(a[0].raw.data, a[1].raw.data)  # frames differ (noise per frame index)
    assert not np.array_equal(a[2].raw.data, c[2].raw.data)


def test_depth_reading_attached_with_a_depth_sensor():
    cam = _camera(depth_sensor=DepthSensorSpec(hfov_deg=10.0, vfov_deg=8.0, zones_x=4, zones_y=4))
    f = cam.session(seed=0).capture(_plane(0.9, grey=0.5), 0.3, exposure_s=0.01, illuminance_lux=100.0,
                                    roi=(0, 0, 8, 8))
    assert f.depth is not None and f.depth.valid.all()
    assert np.allclose(f.depth.true_distance_m, 0.9)
    assert _camera().session(seed=0).capture(_plane(0.9), 0.3, exposure_s=0.01, illuminance_lux=100.0,
                                             roi=(0, 0, 8, 8)).depth is None


def test_focus_code_and_focus_error_closed_forms():
    cam = _camera()
    assert cam.focus_code_for_distance(math.inf) == ACT.start_code
    codes = [cam.focus_code_for_distance(u) for u in (5.0, 2.0, 1.0, 0.5, 0.2, 0.1)]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    for u, c in zip((5.0, 2.0, 1.0, 0.5, 0.2, 0.1), codes, strict=True):
        need = lens_displacement_um(LENS.focal_length_mm, u)
        assert abs(ACT.displacement_um(c) - need) <= 0.5 * 0.33
    assert cam.focus_code_for_distance(0.05) == cam.focus_code_for_distance(0.1)  # clamped to MFD
    # |c| / c_max with c = A s (1/u - 1/u_f) and c_max = 2 native pitches (not the binned pitch)
    d_um, u = 60.0, 0.25
    s = LENS.focal_length_mm + d_um / 1000
    uf = 1 / (1 / LENS.focal_length_mm - 1 / s) / 1000
    c_um = LENS.aperture_diameter_mm * s * (1 / u - 1 / uf)
    assert cam.coc_max_um == pytest.approx(2 * 1.4)
    assert cam.focus_error_dof(u, d_um) == pytest.approx(abs(c_um) / 2.8, rel=1e-9)
    assert cam.focus_distance_m(0.0) == math.inf
    assert cam.hfov_deg() == pytest.approx(2 * math.degrees(math.atan(512 * 1.4e-3 / 2 / 4.38)))


@pytest.mark.parametrize(
    "change",
    [
        {"lens": LensSpec(focal_length_mm=4.38, f_number=1.73, min_focus_distance_m=0.02)},  # short stroke
        {"lens": LensSpec(focal_length_mm=0.2, f_number=2.0, min_focus_distance_m=0.1)},  # 175 deg field
        {"actuator": ActuatorSpec(slope_um_per_code=0.1)},  # calibrated map never reaches the MFD
        {"psf": "pillbox"},
        {"sensor": "imx363"},
        {"preview_binning": 0},
        {"preview_binning": 4000},
        {"supersample": 1.5},
        {"frame_interval_s": 0.0},
        {"depth_sensor": "tof"},
    ],
)
def test_impossible_cameras_raise_one_line_errors(change):
    base = {"lens": LENS, "sensor": get_sensor("imx363"), "actuator": ACT, "psf": PillboxDouble()}
    with pytest.raises(InvalidParameterError) as err:
        Camera(**{**base, **change})
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"exposure_s": 0.0, "illuminance_lux": 10.0},
        {"exposure_s": float("nan"), "illuminance_lux": 10.0},
        {"exposure_s": 0.01, "illuminance_lux": -1.0},
        {"exposure_s": 0.01, "illuminance_lux": float("inf")},
    ],
)
def test_bad_capture_inputs(kwargs):
    ses = _camera().session(seed=0)
    with pytest.raises(InvalidParameterError):
        ses.capture(_plane(1.0), 0.0, roi=(0, 0, 8, 8), **kwargs)
    with pytest.raises(InvalidParameterError):
        ses.capture(_plane(1.0), float("nan"), exposure_s=0.01, illuminance_lux=1.0)
    with pytest.raises(InvalidParameterError):
        ses.capture("scene", 0.0, exposure_s=0.01, illuminance_lux=1.0)
    with pytest.raises(InvalidParameterError):
        _camera().session(seed=-3)
    with pytest.raises(InvalidParameterError):
        _camera().focus_code_for_distance(float("nan"))


def test_one_shot_capture_rests_at_the_code():
    cam = _camera()
    code = cam.focus_code_for_distance(0.4)
    f = cam.capture(_plane(0.4), 0.2, lens_code=code, exposure_s=0.01, illuminance_lux=100.0, seed=8,
                    roi=(0, 0, 16, 16))
    assert f.lens_code == code and f.frame_index == 0
    assert abs(f.lens_displacement_um - ACT.target_um(code)) < 5 * ACT.position_noise_um
    g = cam.capture(_plane(0.4), 0.2, lens_code=code, exposure_s=0.01, illuminance_lux=100.0, seed=8,
                    roi=(0, 0, 16, 16))
    assert np.array_equal(f.raw.data, g.raw.data)
