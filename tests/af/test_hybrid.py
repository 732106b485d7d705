"""hybrid: phase, depth and contrast by confidence on fakes (frames, reversals), and on the simulator."""

from __future__ import annotations

import pytest
from test_hillclimb_fakes import CODES_PER_DOF, GAIN_CODES_PER_PX, FakeCamera, make_context, reversals, run

from focuslab.af.af_signals import codes_per_dof
from focuslab.af.phase_calibration import PhaseCalibration
from focuslab.af.policies.hybrid import HybridAF, region_depth_estimate
from focuslab.af.registry import get_policy
from focuslab.errors import InvalidParameterError

FAKE_CAL = PhaseCalibration(gain_codes_per_px=GAIN_CODES_PER_PX, offset_px=0.0, r2=1.0, residual_codes=0.0)


@pytest.mark.parametrize(("best", "start"), [(200.0, 0), (450.0, 20), (80.0, 520), (305.0, 300)])
def test_hybrid_phase_jump_is_fast_and_never_hunts(best, start):
    cam = FakeCamera(best, start_code=start, seed=int(best))
    pol = HybridAF(calibration=FAKE_CAL)
    frames, final, cmds, done = run(pol, cam, make_context())
    assert done and frames <= 3 and pol.source == "phase"
    assert abs(final - best) <= CODES_PER_DOF
    assert reversals(cmds) <= 1


def test_hybrid_uses_depth_without_dual_pixels():
    ctx = make_context(lens_model=True, dual_pixel=False, depth=True)
    subject_m = 1.0 / (250 * 0.02)  # the fake map focuses code 250 at 0.2 m
    cam = FakeCamera(250.0, start_code=0, seed=4, depth_m=subject_m, dual_pixel=False,
                     codes_per_dof=codes_per_dof(ctx, 250))
    pol = HybridAF()
    frames, final, cmds, done = run(pol, cam, ctx)
    assert done and pol.source == "depth" and frames <= 8
    assert abs(final - 250.0) <= codes_per_dof(ctx, 250)
    assert reversals(cmds) <= 1


def test_region_depth_estimate_takes_the_nearest_zone_over_the_region():
    import numpy as np

    from focuslab.af.types import DepthZones

    ctx = make_context(lens_model=True, depth=True)
    obs = FakeCamera(100.0, dual_pixel=False).observe(0)
    zones = DepthZones(distance_m=np.array([[0.5, 2.0], [np.nan, 0.2]]), valid=np.array([[True, True], [False, True]]),
                       sigma_m=np.array([[0.01, 0.04], [np.nan, 0.002]]),
                       rois_px=np.array([[[0, 0, 24, 24], [24, 0, 24, 24]], [[0, 24, 24, 24], [200, 200, 8, 8]]]))
    from dataclasses import replace

    code, sigma = region_depth_estimate(replace(obs, depth=zones), ctx)
    assert code == ctx.code_for_distance(0.5) and sigma >= 1.0  # the 0.2 m zone lies outside the region
    assert region_depth_estimate(obs, ctx) is None


def test_hybrid_falls_back_to_contrast_on_low_texture_and_stops():
    cam = FakeCamera(300.0, start_code=200, texture=0.0, noise=0.01, seed=6)
    pol = HybridAF(calibration=FAKE_CAL, max_frames=12)
    frames, _, _, done = run(pol, cam, make_context())
    assert done and pol.source == "contrast" and frames <= 12


def test_hybrid_without_phase_or_depth_is_a_hill_climb():
    cam = FakeCamera(260.0, start_code=0, seed=8, dual_pixel=False)
    pol = HybridAF()
    frames, final, _, done = run(pol, cam, make_context(dual_pixel=False, name="not-a-preset"))
    assert frames <= 30
    assert done and pol.source == "contrast" and abs(final - 260.0) <= CODES_PER_DOF


def test_hybrid_is_deterministic_and_bad_options():
    a = run(get_policy("hybrid", calibration=FAKE_CAL), FakeCamera(333.0, seed=9), make_context())
    b = run(get_policy("hybrid", calibration=FAKE_CAL), FakeCamera(333.0, seed=9), make_context())
    assert a == b
    for kw in ({"min_phase_confidence": -0.1}, {"max_frames": 3}, {"scan_dof": 0}, {"approach_fraction": 1.2}):
        with pytest.raises(InvalidParameterError):
            HybridAF(**kw)
    assert get_policy("hybrid").requires == frozenset()


@pytest.mark.parametrize("distance_m", [0.4, 1.0, 3.0])
def test_hybrid_in_focus_on_the_simulator(distance_m):
    from test_hillclimb import simulate

    from focuslab.camera import get_camera

    run = simulate("hybrid", get_camera("phone_main"), distance_m)
    m = run.metrics
    # a 64-px region gives phase a standard error near max_confirm_sigma_dof: a contrast confirm may follow
    assert m.in_focus and m.frames <= 8 and m.reversals <= 1
