"""The ``depth`` policy in the real closed loop on ``phone_main_tof`` (ToF zones rendered by the simulator)."""

from __future__ import annotations

import pytest

from focuslab.af.backends import SimulatorBackend
from focuslab.af.loop import run_af
from focuslab.af.registry import get_policy
from focuslab.camera.presets import get_camera
from focuslab.scene.library import make_scene


@pytest.mark.parametrize("distance_m", [0.3, 1.0, 2.5])
def test_depth_af_still_lands_in_focus(distance_m):
    cam = get_camera("phone_main_tof")
    scene = make_scene("two_planes", shape=(240, 320), subject_distance_m=distance_m, seed=1)
    h, w = cam.stream_sensor.shape_px
    be = SimulatorBackend(cam, scene, roi=(w // 2 - 64, h // 2 - 64, 128, 128), seed=3)
    pol = get_policy("depth")
    run = run_af(pol, be, max_frames=12)
    m = run.metrics
    assert pol.status == "depth"
    assert m.in_focus and m.final_error_dof < 0.5
    assert run.done_frame is not None and run.done_frame <= 3  # one jump, one frame to settle
    assert m.reversals == 0
