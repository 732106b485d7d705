"""The ``depth`` policy: zones over the AF region -> one distance -> lens code, fallbacks, settling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.af.policies.depth import (
    DepthPolicy,
    codes_per_dof,
    dof_diopters,
    hyperfocal_m,
    roi_depth_estimate,
    roi_overlap_fraction,
)
from focuslab.af.registry import get_policy
from focuslab.af.types import AFContext, Command, DepthZones, Observation
from focuslab.camera.presets import get_camera
from focuslab.errors import FocuslabError, InvalidParameterError

ROI = (96, 96, 64, 64)


def _context(camera_name: str = "phone_main_tof", *, lens_model: bool = True, settle_time_s=0.02) -> AFContext:
    cam = get_camera(camera_name)
    act = cam.actuator
    return AFContext(
        min_code=cam.focus_code_for_distance(math.inf),
        max_code=cam.focus_code_for_distance(cam.lens.min_focus_distance_m),
        frame_interval_s=cam.frame_interval_s,
        has_dual_pixel=True,
        has_depth=True,
        focal_length_mm=cam.lens.focal_length_mm,
        f_number=cam.lens.f_number,
        pixel_pitch_um=cam.stream_sensor.pixel_pitch_um,
        coc_max_um=cam.coc_max_um,
        code_for_distance=cam.focus_code_for_distance if lens_model else None,
        distance_for_code=(lambda c: cam.focus_distance_m(float(act.displacement_um(int(c))))) if lens_model else None,
        settle_time_s=settle_time_s,
        name=camera_name,
    )


def _zones(dist, sigma=0.01, *, n=4, frame=256, valid=None) -> DepthZones:
    """``n x n`` zones tiling a ``frame`` px square; ``dist`` scalar or ``n x n``."""
    d = np.broadcast_to(np.asarray(dist, dtype=float), (n, n)).copy()
    ok = np.isfinite(d) if valid is None else np.asarray(valid, dtype=bool)
    d[~ok] = np.nan
    s = np.where(ok, np.broadcast_to(np.asarray(sigma, dtype=float), (n, n)), np.nan)
    step = frame // n
    y, x = np.mgrid[0:n, 0:n] * step
    rois = np.stack([x, y, np.full_like(x, step), np.full_like(y, step)], axis=-1)
    return DepthZones(distance_m=d, valid=ok, sigma_m=s, rois_px=rois)


def _obs(zones, *, frame_index=0, reported=96.0, roi=ROI, lens_code=96) -> Observation:
    return Observation(frame_index=frame_index, t_s=frame_index / 30, exposure_s=0.01, lens_code=lens_code,
                       reported_code=reported, roi=roi, image=np.zeros((8, 8), np.float32), depth=zones,
                       frame_shape_px=(256, 256))


# ---------------------------------------------------------------------------- zones -> distance
def test_overlap_fraction_of_a_tiling_sums_to_one():
    z = _zones(1.0)
    frac = roi_overlap_fraction(z.rois_px, ROI)
    assert frac.sum() == pytest.approx(1.0)
    assert frac[1, 1] == pytest.approx(0.25) and frac[0, 0] == 0.0  # the ROI sits on 4 zones' shared corner


def test_uniform_zones_give_their_distance():
    est = roi_depth_estimate(_zones(1.25), ROI)
    assert est.distance_m == pytest.approx(1.25, rel=1e-12)
    assert est.n_zones == 4 and est.n_clusters == 1 and est.support == pytest.approx(1.0)


def test_inverse_variance_weighting_in_diopters():
    # two zones at 1.00 m and 1.02 m under the ROI, sigmas 1 cm and 2 cm, equal overlap
    d = np.full((4, 4), np.nan)
    s = np.full((4, 4), np.nan)
    d[1, 1], s[1, 1] = 1.00, 0.01
    d[1, 2], s[1, 2] = 1.02, 0.02
    roi = (64, 64, 128, 64)  # covers zones (1,1) and (1,2) fully
    est = roi_depth_estimate(_zones(d, s), roi, cluster_gap_diopters=0.25)
    diop = np.array([1 / 1.00, 1 / 1.02])
    sd = np.array([0.01 / 1.00**2, 0.02 / 1.02**2])
    w = 1 / sd**2
    assert est.distance_m == pytest.approx(1.0 / np.sum(w * diop / w.sum()), rel=1e-12)
    assert est.sigma_m == pytest.approx((1 / math.sqrt(np.sum(1 / sd**2))) * est.distance_m**2, rel=1e-12)


def test_nearest_cluster_wins_when_it_holds_enough_of_the_region():
    d = np.full((4, 4), 3.0)
    d[1, 1] = 0.5  # one quarter of the ROI sees a near subject
    est = roi_depth_estimate(_zones(d), ROI)
    assert est.distance_m == pytest.approx(0.5) and est.n_clusters == 2
    assert est.support == pytest.approx(0.25)
    # a near zone holding only a sliver of the ROI does not win, unless the share is waived
    d = np.full((4, 4), 3.0)
    d[0, 0] = 0.5
    roi = (60, 60, 68, 68)
    assert roi_overlap_fraction(_zones(d).rois_px, roi)[0, 0] == pytest.approx(16 / 68**2)
    assert roi_depth_estimate(_zones(d), roi, min_cluster_fraction=0.1).distance_m == pytest.approx(3.0)
    assert roi_depth_estimate(_zones(d), roi, min_cluster_fraction=0.0).distance_m == pytest.approx(0.5)


def test_zones_within_one_dof_form_one_cluster():
    d = np.full((4, 4), 2.0)
    d[1, 1] = 1.9  # 0.026 D apart, well within one DoF (0.25 D)
    est = roi_depth_estimate(_zones(d, 0.001), ROI)
    assert est.n_clusters == 1 and 1.9 < est.distance_m < 2.0


def test_no_return_gives_none():
    assert roi_depth_estimate(_zones(np.nan), ROI) is None
    d = np.full((4, 4), np.nan)
    d[0, 0] = 1.0  # a return, but outside the ROI
    assert roi_depth_estimate(_zones(d), ROI) is None


def test_bad_inputs_raise():
    z = _zones(1.0)
    with pytest.raises(InvalidParameterError):
        roi_depth_estimate(z, (0, 0, 0, 10))
    with pytest.raises(InvalidParameterError):
        roi_depth_estimate(z, (0, 0, np.nan, 10))
    with pytest.raises(InvalidParameterError):
        roi_depth_estimate(z, ROI, min_cluster_fraction=1.5)
    with pytest.raises(InvalidParameterError):
        roi_depth_estimate(z, ROI, cluster_gap_diopters=-1)
    bad = DepthZones(distance_m=z.distance_m, valid=z.valid, sigma_m=z.sigma_m[:2], rois_px=z.rois_px)
    with pytest.raises(InvalidParameterError):
        roi_depth_estimate(bad, ROI)
    with pytest.raises(InvalidParameterError):
        roi_depth_estimate("zones", ROI)


def test_inf_and_zero_sigma_zones_are_handled():
    d = np.full((4, 4), 1.0)
    d[1, 1] = np.inf  # never a valid range
    s = np.full((4, 4), 0.0)  # a zero sigma must not take all the weight (floored)
    est = roi_depth_estimate(_zones(d, s, valid=np.ones((4, 4), bool)), ROI)
    assert est.distance_m == pytest.approx(1.0) and est.n_zones == 3


# ---------------------------------------------------------------------------- lens geometry
def test_dof_geometry_of_phone_main():
    ctx = _context()
    # c_max N / f^2 = 2.8e-6 * 1.73 / 4.38e-3^2 = 0.2525 D; hyperfocal f^2/(N c) + f = 3.965 m
    assert dof_diopters(ctx) == pytest.approx(2.8e-6 * 1.73 / 4.38e-3**2, rel=1e-9)
    assert hyperfocal_m(ctx) == pytest.approx((4.38**2 / (1.73 * 2.8e-3) + 4.38) * 1e-3, rel=1e-9)
    # ~ N c_max / (0.30 um/code) = 16.1 codes per DoF near infinity, fewer as the VCM stiffens
    assert codes_per_dof(ctx, 100) == pytest.approx(1.73 * 2.8 / 0.30, rel=0.02)
    assert codes_per_dof(ctx, 600) < codes_per_dof(ctx, 100)
    assert codes_per_dof(ctx, ctx.max_code) > 0.9 * codes_per_dof(ctx, ctx.max_code - 10)
    # without a lens model: the shared af_signals convention (1/40 of the code range)
    from focuslab.af.af_signals import UNKNOWN_DOF_FRACTION

    expected = (ctx.max_code - ctx.min_code) * UNKNOWN_DOF_FRACTION
    assert codes_per_dof(_context(lens_model=False), 300) == pytest.approx(expected)


# ---------------------------------------------------------------------------- the policy
def test_registered_and_requires():
    pol = get_policy("depth")
    assert pol.name == "depth" and pol.requires == frozenset({"depth", "lens_model"})
    with pytest.raises(FocuslabError):
        get_policy("depth", fallback="guess")


@pytest.mark.parametrize("distance_m", [0.15, 0.4, 1.0, 2.5])
def test_jumps_to_the_code_of_the_distance_then_done_when_settled(distance_m):
    ctx = _context()
    pol = DepthPolicy()
    pol.reset(ctx)
    cmd = pol.step(_obs(_zones(distance_m, 0.002)))
    want = ctx.code_for_distance(distance_m)
    assert abs(cmd.target_code - want) <= 1 and not cmd.done and pol.status == "depth"
    # the lens still on its way: not done
    cmd = pol.step(_obs(None, frame_index=1, reported=(96 + want) / 2, lens_code=cmd.target_code))
    assert not cmd.done and cmd.target_code == pol._target
    cmd = pol.step(_obs(None, frame_index=2, reported=want + 0.5, lens_code=pol._target))
    assert cmd.done and cmd.target_code == pol._target


def test_done_only_once_the_lens_settled_before_the_exposure():
    ctx = _context()
    pol = DepthPolicy()
    pol.reset(ctx)
    want = pol.step(_obs(_zones(0.4))).target_code  # commanded at t = 0.01 s (end of the exposure)
    # a 190-code step settles in ~0.02 * ln(190/4) / ln(641/4) = 15 ms: frame 1 (t = 33 ms) is sharp
    assert pol.settle_time_s(abs(want - 96), 4.0) == pytest.approx(0.02 * math.log((want - 96) / 4) / math.log(
        (ctx.max_code - ctx.min_code) / (0.25 * codes_per_dof(ctx, 0.5 * (ctx.min_code + ctx.max_code)))), rel=1e-9)
    assert pol.step(_obs(None, frame_index=1, reported=want)).done
    # with an unknown settling time, two frames in a row must find the lens on target
    pol = DepthPolicy()
    pol.reset(_context(settle_time_s=None))
    pol.step(_obs(_zones(0.4)))
    assert not pol.step(_obs(None, frame_index=1, reported=want)).done
    assert pol.step(_obs(None, frame_index=2, reported=want)).done


def test_nearer_than_minimum_focus_goes_to_the_macro_end():
    ctx = _context()
    pol = DepthPolicy()
    pol.reset(ctx)
    cmd = pol.step(_obs(_zones(0.05)))
    assert cmd.target_code == ctx.max_code and pol.status == "macro"


@pytest.mark.parametrize(("fallback", "expect"), [("hyperfocal", "hyper"), ("infinity", "inf"), ("none", None)])
def test_no_return_falls_back(fallback, expect):
    ctx = _context()
    pol = DepthPolicy(fallback=fallback)
    pol.reset(ctx)
    cmd = pol.step(_obs(_zones(np.nan)))
    assert pol.status == f"fallback-{fallback}" and pol.estimate is None
    if expect is None:
        assert cmd == Command(None, done=True)
        assert pol.step(_obs(None, frame_index=1)) == Command(None, done=True)
    elif expect == "inf":
        assert cmd.target_code == ctx.min_code
    else:
        h = hyperfocal_m(ctx)
        assert cmd.target_code == ctx.code_for_distance(h)
        # focused at H, everything from H/2 to infinity is within one DoF: the codes of H/2 and inf
        # lie within one DoF of the hyperfocal code
        dof = codes_per_dof(ctx, cmd.target_code)
        assert abs(ctx.code_for_distance(h / 2) - cmd.target_code) <= dof + 1
        assert abs(ctx.min_code - cmd.target_code) <= dof + 1


def test_waits_for_a_first_reading_then_falls_back():
    ctx = _context()
    pol = DepthPolicy(max_wait_frames=3)
    pol.reset(ctx)
    assert pol.step(_obs(None, frame_index=0)) == Command(None, done=False)
    assert pol.step(_obs(None, frame_index=1)) == Command(None, done=False)
    cmd = pol.step(_obs(None, frame_index=2))
    assert pol.status == "fallback-hyperfocal" and cmd.target_code is not None


def test_gives_up_settling_after_max_settle_frames():
    pol = DepthPolicy(max_settle_frames=3)
    pol.reset(_context())
    pol.step(_obs(_zones(1.0)))
    outs = [pol.step(_obs(None, frame_index=i, reported=96.0)) for i in range(1, 4)]
    assert [c.done for c in outs] == [False, False, True]


def test_deterministic_and_resettable():
    ctx = _context()
    pol = DepthPolicy()
    runs = []
    for _ in range(2):
        pol.reset(ctx)
        runs.append([pol.step(_obs(_zones(0.7))), pol.step(_obs(None, frame_index=1, reported=300.0))])
    assert runs[0] == runs[1]


def test_bad_policy_inputs():
    with pytest.raises(InvalidParameterError):
        DepthPolicy(settle_tolerance_dof=0)
    with pytest.raises(InvalidParameterError):
        DepthPolicy(max_wait_frames=0)
    with pytest.raises(InvalidParameterError):
        DepthPolicy(min_cluster_fraction=2)
    pol = DepthPolicy()
    with pytest.raises(InvalidParameterError):
        pol.step(_obs(_zones(1.0)))  # no reset
    with pytest.raises(InvalidParameterError, match="lens model"):
        pol.reset(_context(lens_model=False))
    with pytest.raises(InvalidParameterError):
        pol.reset("camera")
