"""learned-fusion on a camera other than the one its weights learned: the ToF remap."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.af.backends import SimulatorBackend
from focuslab.af.policies.learned_fusion import TRAINED_CAMERA, tof_remap
from focuslab.af.registry import get_policy
from focuslab.camera import get_camera
from focuslab.camera.camera_file import camera_from_dict
from focuslab.errors import InvalidParameterError
from focuslab.scene.library import make_scene


def _context(cam):
    return SimulatorBackend(cam, make_scene("dead_leaves", shape=(48, 64)), roi=(0, 0, 32, 32)).context


def test_the_trained_camera_reads_untouched():
    assert tof_remap(_context(get_camera(TRAINED_CAMERA)), TRAINED_CAMERA) is None
    assert tof_remap(_context(get_camera("phone_main")), TRAINED_CAMERA) is None  # the same lens and VCM


def test_remapped_distance_sits_at_this_cameras_code_on_the_trained_camera():
    cam = camera_from_dict({"name": "remap_6mm", "base": "phone_main_tof",
                            "lens": {"focal_length_mm": 6.0, "f_number": 1.8},
                            "actuator": {"stroke_um": 450.0, "start_code": 80, "slope_um_per_code": 0.42,
                                         "quadratic_um_per_code2": 0.0}})
    ctx = _context(cam)
    remap = tof_remap(ctx, TRAINED_CAMERA)
    assert remap is not None
    ref = get_camera(TRAINED_CAMERA)
    u = np.array([0.15, 0.3, 0.6, 1.3, 2.5, 4.0], dtype=np.float32)
    mapped = remap(u)
    here = np.array([ctx.code_for_distance(float(x)) for x in u])
    there = np.array([ref.focus_code_for_distance(float(x)) for x in mapped])
    assert np.max(np.abs(here - there)) <= 1  # the same code, so the network's map gives this camera's
    # without the remap the codes differ by up to ~150 (0.15 m): a 6 mm lens travels f^2 / u, 1.9x
    # as far per diopter, on a steeper VCM from an earlier lift-off (the maps cross near 1.3 m)
    direct = np.array([ref.focus_code_for_distance(float(x)) for x in u])
    assert np.abs(here - direct)[0] > 100 and np.abs(here - direct)[-1] > 8
    grid = np.array([[np.nan, 1.0], [-1.0, 2.0]], dtype=np.float32)
    out = remap(grid)
    assert np.isnan(out[0, 0]) and out[1, 0] == -1.0 and np.isfinite(out[1, 1])  # no-returns stay


def test_trained_camera_option():
    assert get_policy("learned-fusion").trained_camera == "auto"
    assert get_policy("learned-fusion", trained_camera="none").trained_camera is None
    with pytest.raises(InvalidParameterError, match="trained_camera"):
        get_policy("learned-fusion", trained_camera=3)
