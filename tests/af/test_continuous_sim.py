"""The ``continuous`` policy in the real closed loop: the simulator renders every frame where the lens is."""

from __future__ import annotations

import numpy as np

from focuslab.af.backends import SimulatorBackend
from focuslab.af.loop import run_af
from focuslab.af.registry import get_policy
from focuslab.camera.presets import get_camera
from focuslab.scene.library import make_scene


def test_video_keeps_an_approaching_subject_in_focus_on_phone_main_tof():
    cam = get_camera("phone_main_tof")
    # a card walking from 2.5 m to 0.6 m in 1 s (30 frames at 30 fps), in front of a wall at 8 m
    scene = make_scene("approaching_subject", shape=(240, 320), subject_distance_m=0.6, seed=2,
                       start_distance_m=2.5, duration_s=1.0, card_fraction=0.1)
    h, w = cam.stream_sensor.shape_px
    roi = (w // 2 - 32, h // 2 - 32, 64, 64)
    be = SimulatorBackend(cam, scene, roi=roi, seed=3, illuminance_lux=400.0,
                          initial_code=cam.focus_code_for_distance(2.5))
    pol = get_policy("continuous")
    run = run_af(pol, be, video=True, duration_s=1.0)
    m = run.metrics
    codes = np.array([run.frames[0].lens_code] + [f.command_code for f in run.frames if f.command_code is not None])
    dof = 1.73 * cam.coc_max_um / 0.30  # ~16 codes per DoF (f-number x c_max / 0.30 um per code)
    assert len(run.frames) == 30 and run.done_frame is None
    assert pol.source == "depth"  # the ToF is far more precise than the preview's dual pixel here
    assert m.rms_error_dof < 0.6
    assert m.time_out_of_focus_s <= 2 / 30
    assert m.reversals <= 1
    assert np.max(np.abs(np.diff(codes))) <= 2.0 * dof + 1
