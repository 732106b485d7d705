"""Analogue gain: the readout's G K, the AE's choice of G, and the simulator backend that uses it."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from focuslab.af.backends import SimulatorBackend
from focuslab.camera.exposure import (
    ANALOG_GAIN_STEP,
    _white_e_per_s,
    auto_analog_gain,
    auto_exposure,
    auto_exposure_s,
)
from focuslab.camera.presets import get_camera
from focuslab.errors import InvalidParameterError
from focuslab.scene.library import make_scene
from focuslab.sensor import SensorSpec, expose, get_sensor


def test_gain_scales_the_signal_in_dn_and_is_recorded():
    spec = get_sensor("imx363").binned(4)  # K / 16: 100 e- per DN
    ph = np.full((64, 64, 3), 2000.0)
    lo = expose(spec, ph, exposure_s=0.01, seed=1, roi=(0, 0, 64, 64))
    hi = expose(spec, ph, exposure_s=0.01, seed=1, roi=(0, 0, 64, 64), analog_gain=16.0)
    assert lo.metadata["analog_gain"] == 1.0 and hi.metadata["analog_gain"] == 16.0
    g = np.zeros((64, 64), bool)
    g[0::2, 1::2] = g[1::2, 0::2] = True  # the RGGB greens
    above_lo = lo.data[g].astype(float).mean() - spec.black_level_dn
    above_hi = hi.data[g].astype(float).mean() - spec.black_level_dn
    # mean green electrons: QE x response x photons x PRNU (mean 1); 1125 e- -> 11.25 DN and 180 DN
    e = spec.quantum_efficiency * spec.channel_response[1] * 2000.0
    assert above_hi == pytest.approx(16.0 * spec.conversion_gain_dn_per_e * e, rel=0.005)
    assert above_lo == pytest.approx(spec.conversion_gain_dn_per_e * e, rel=0.05)


def test_gain_moves_the_adc_clip_not_the_full_well():
    spec = get_sensor("imx363").binned(4)
    ph = np.full((32, 32, 3), 1.0e5)  # ~56 000 e- green: below the 96 000 e- well
    d = expose(spec, ph, exposure_s=0.001, seed=1, roi=(0, 0, 32, 32), analog_gain=4.0).data
    assert int(d.max()) == spec.white_level_dn  # 4 x 0.01 x 56 000 = 2250 DN > the 10-bit white level


def test_dual_pixel_views_get_the_same_gain():
    spec = get_sensor("imx363").binned(4)
    ph = np.full((32, 32, 3), 2000.0)
    raw = expose(spec, ph, exposure_s=0.01, seed=3, roi=(0, 0, 32, 32), left_photons=0.5 * ph,
                 right_photons=0.5 * ph, analog_gain=8.0)
    b = spec.black_level_dn
    lr = raw.left.astype(float).mean() + raw.right.astype(float).mean() - 2 * b
    assert lr == pytest.approx(raw.data.astype(float).mean() - b, rel=0.01)
    assert raw.data.astype(float).mean() - b > 50.0  # 8 x the ~9 DN of unity gain


@pytest.mark.parametrize("bad", [0.5, 0.0, -2.0, 16.5, math.nan, math.inf])
def test_gain_outside_the_sensors_range_is_refused(bad):
    spec = get_sensor("imx363")
    with pytest.raises(InvalidParameterError):
        expose(spec, np.ones((8, 8, 3)), exposure_s=0.01, seed=1, roi=(0, 0, 8, 8), analog_gain=bad)


def test_sensor_spec_checks_its_gain_range():
    spec = get_sensor("imx363")
    assert spec.max_analog_gain == 16.0 and spec.binned(4).max_analog_gain == 16.0
    with pytest.raises(InvalidParameterError, match="max_analog_gain"):
        dataclasses.replace(spec, max_analog_gain=0.8)
    assert isinstance(dataclasses.replace(spec, max_analog_gain=1.0), SensorSpec)


def test_auto_gain_is_one_while_the_exposure_is_not_capped():
    cam = get_camera("phone_main")
    for lux in (300.0, 500.0, 1000.0, 5000.0):
        t = auto_exposure_s(cam, lux)
        assert t < cam.frame_interval_s and auto_analog_gain(cam, lux, t) == 1.0


@pytest.mark.parametrize("lux", [20.0, 30.0, 60.0, 150.0])
def test_auto_gain_brings_the_white_to_the_ae_target_once_the_exposure_is_capped(lux):
    """Truth: the white diffuser's electrons (camera equation) x G reach 0.8 of the unity-gain
    saturation, G rounded down to the gain register's 1/16 steps."""
    cam = get_camera("phone_main")
    t = auto_exposure_s(cam, lux)
    assert t == cam.frame_interval_s
    g = auto_analog_gain(cam, lux, t)
    need = 0.8 * cam.stream_sensor.saturation_e / (_white_e_per_s(cam, lux) * t)
    assert 1.0 < g <= need < g + ANALOG_GAIN_STEP
    assert (g / ANALOG_GAIN_STEP) == pytest.approx(round(g / ANALOG_GAIN_STEP), abs=1e-9)
    # white electrons are linear in lux at the capped exposure: twice the light, half the gain
    assert auto_analog_gain(cam, 2 * lux, t) == pytest.approx(max(0.5 * g, 1.0), abs=ANALOG_GAIN_STEP)


def test_auto_gain_stops_at_the_sensors_limit():
    cam = get_camera("phone_main")
    t = auto_exposure_s(cam, 3.0)
    assert auto_analog_gain(cam, 3.0, t) == 16.0  # needs ~135x
    low = dataclasses.replace(cam, sensor=dataclasses.replace(cam.sensor, max_analog_gain=4.0))
    assert auto_analog_gain(low, 3.0, t) == 4.0
    with pytest.raises(InvalidParameterError):
        auto_analog_gain(cam, 0.0, t)


def test_backend_reads_with_the_aes_gain_unless_told():
    cam = get_camera("phone_main")
    scene = make_scene("dead_leaves", shape=(120, 160), subject_distance_m=0.5, seed=1)
    roi = (472, 346, 64, 64)
    dark = SimulatorBackend(cam, scene, roi=roi, illuminance_lux=3.0, seed=2)
    assert dark.analog_gain == 16.0
    assert SimulatorBackend(cam, scene, roi=roi, illuminance_lux=800.0).analog_gain == 1.0
    # a fixed exposure is a manual exposure: unity gain unless a gain is given too
    manual = SimulatorBackend(cam, scene, roi=roi, illuminance_lux=3.0, exposure_s=cam.frame_interval_s, seed=2)
    assert manual.analog_gain == 1.0
    told = SimulatorBackend(cam, scene, roi=roi, illuminance_lux=3.0, exposure_s=cam.frame_interval_s, seed=2,
                            analog_gain=16.0)
    a, b = dark.observe(0, 0.0), told.observe(0, 0.0)
    assert a.analog_gain == b.analog_gain == 16.0
    assert np.array_equal(a.image, b.image)  # the AE's choice is the same readout as the explicit one
    m1 = float(np.mean(manual.observe(0, 0.0).image))
    assert float(np.mean(a.image)) == pytest.approx(16.0 * m1, rel=0.15)  # m1 is a few quantized DN
    with pytest.raises(InvalidParameterError):
        SimulatorBackend(cam, scene, roi=roi, analog_gain=32.0)


def test_report_focus_curve_reads_dark_frames_as_the_af_loop(monkeypatch):
    """The report's focus curve of a case captures each position with the AE's exposure and
    gain (:func:`auto_exposure`), as :class:`SimulatorBackend` does: 16x at 3 lux, 1 at 800."""
    from focuslab.bench.af_case import build_scene
    from focuslab.bench.example_frames import focus_curve
    from focuslab.bench.suites import suite_cases
    from focuslab.camera.camera import Camera

    cam = get_camera("phone_main_tof")
    assert auto_exposure(cam, 3.0) == (auto_exposure_s(cam, 3.0), auto_analog_gain(cam, 3.0, cam.frame_interval_s))
    assert auto_exposure(cam, 3.0)[1] == 16.0 and auto_exposure(cam, 800.0)[1] == 1.0
    seen = []
    real = Camera.capture

    def spy(self, *args, **kwargs):
        seen.append((kwargs["exposure_s"], kwargs["analog_gain"]))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Camera, "capture", spy)
    case = next(c for c in suite_cases("stills-lowlight") if c.illuminance_lux <= 12.0)
    focus_curve(case, build_scene(case), positions=3)
    assert seen and set(seen) == {auto_exposure(cam, case.illuminance_lux)} and seen[0][1] > 1.0


def test_dark_dual_pixel_disparity_is_unbiased_with_the_gain():
    """The reason for the gain: at unity gain a 3-lux frame of the binned preview is a staircase of
    a few DN whose steps fall differently on the two dual-pixel views, and the disparity of a
    photograph at focus read -0.13 px (~1.3 DoF on this camera; 4 seeds); with the AE's 16x it reads
    what bright light reads (-0.01 px) within its noise. Truth: the same scene, lens and region at
    500 lux."""
    from focuslab.af.af_signals import roi_disparity
    from focuslab.bench.af_case import AFCase, build_scene
    from focuslab.camera.camera_file import load_camera_file

    path = Path(__file__).resolve().parents[2] / "configs" / "cameras" / "wide_main_6mm.yaml"
    cam = load_camera_file(str(path))
    roi = (440, 314, 128, 128)
    case = AFCase.from_dict({"suite": "stills-lowlight", "case_id": "rocket", "scene": "photo",
                             "scene_options": [["image", "rocket"]], "subject_distance_m": 1.475,
                             "illuminance_lux": 3.0, "camera": str(path), "roi": roi, "start_code": 80,
                             "seed": 1310017722, "video": False, "max_frames": 40})
    scene = build_scene(case)
    code = cam.focus_code_for_distance(1.475)

    def mean_disparity(lux: float, gain: float) -> float:
        t = auto_exposure_s(cam, lux)
        d = []
        for s in range(4):
            f = cam.capture(scene, 0.0, lens_code=code, exposure_s=t, illuminance_lux=lux, seed=s, roi=roi,
                            analog_gain=gain)
            left, right = f.raw.normalized_pair()
            d.append(roi_disparity(left, right, cfa=f.raw.cfa).disparity_px)
        return float(np.mean(d))

    bright = mean_disparity(500.0, 1.0)
    assert abs(mean_disparity(3.0, 16.0) - bright) < 0.03
    assert mean_disparity(3.0, 1.0) - bright < -0.07
