"""contrast-hillclimb on a synthetic focus curve, the shared AF signals, and closed loops on the simulator."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage
from test_hillclimb_fakes import CODES_PER_DOF, FakeCamera, make_context, reversals, run

from focuslab.af.af_signals import (
    balanced_mosaic,
    codes_per_dof,
    fit_focus_peak,
    focus_value,
    roi_disparity,
    settle_time_for_move_s,
)
from focuslab.af.policies.contrast_hillclimb import ContrastHillClimb
from focuslab.af.registry import get_policy
from focuslab.errors import InvalidParameterError, UnknownNameError


# ---------------------------------------------------------------- signals
def test_fit_focus_peak_is_exact_for_a_gaussian_curve():
    x = np.array([100.0, 130.0, 160.0, 190.0, 220.0])
    for p in (141.3, 160.0, 176.9):
        y = 3.0 * np.exp(-((x - p) ** 2) / (2 * 40.0**2))
        fit = fit_focus_peak(x, y)
        assert fit.bracketed
        assert fit.code == pytest.approx(p, abs=1e-6)


def test_fit_focus_peak_unbracketed_and_bad_input():
    fit = fit_focus_peak([0, 10, 20], [1.0, 2.0, 3.0])
    assert not fit.bracketed and fit.code == 20.0  # convex in ln F: the best sample
    x = np.array([0.0, 10.0, 20.0])
    fit = fit_focus_peak(x, np.exp(-((x + 4.0) ** 2) / 200.0))  # peak beyond the end: clipped to it
    assert not fit.bracketed and fit.code == 0.0
    with pytest.raises(InvalidParameterError):
        fit_focus_peak([], [])
    with pytest.raises(InvalidParameterError):
        fit_focus_peak([1, 2], [np.nan, -1.0])


def test_focus_value_is_exposure_invariant_and_falls_with_blur():
    rng = np.random.default_rng(0)
    img = ndimage.gaussian_filter(rng.random((64, 64)), 0.8) + 0.2
    f1 = focus_value(img).value
    assert focus_value(3.0 * img).value == pytest.approx(f1, rel=1e-6)  # float32 balanced mosaic
    blurred = [focus_value(ndimage.gaussian_filter(img, s)).value for s in (0.5, 1.0, 2.0, 4.0)]
    assert np.all(np.diff(blurred) < 0) and blurred[0] < f1
    out = focus_value(img.astype(np.float32))
    assert math.isfinite(out.noise) and out.noise > 0


def test_focus_value_bad_inputs():
    img = np.full((16, 16), 0.5)
    img[3, 4] = np.nan
    with pytest.raises(InvalidParameterError):
        focus_value(img)
    with pytest.raises(InvalidParameterError):
        focus_value(np.zeros((16, 16)))
    with pytest.raises(InvalidParameterError):
        focus_value(np.ones((2, 2)))
    with pytest.raises(UnknownNameError):
        focus_value(np.ones((16, 16)), method="NOPE")


def test_balanced_mosaic_flattens_a_grey_scene_behind_a_bayer_filter():
    gains = {(0, 0): 0.6, (0, 1): 1.0, (1, 0): 1.0, (1, 1): 0.4}
    mosaic = np.empty((8, 8))
    for (r, c), g in gains.items():
        mosaic[r::2, c::2] = 0.3 * g
    assert np.allclose(balanced_mosaic(mosaic, "RGGB"), 1.0)
    with pytest.raises(InvalidParameterError):
        balanced_mosaic(mosaic, "XYZW")


@pytest.mark.parametrize("shift", [-1.5, -0.5, 0.7, 2.0])
def test_roi_disparity_recovers_a_known_shift_with_its_sign(shift):
    rng = np.random.default_rng(3)
    base = ndimage.gaussian_filter(rng.random((64, 96)), 1.2)
    left = ndimage.shift(base, (0, -shift / 2), order=3, mode="nearest")[8:56, 8:88]
    right = ndimage.shift(base, (0, shift / 2), order=3, mode="nearest")[8:56, 8:88]
    m = roi_disparity(left, right)
    assert m.disparity_px == pytest.approx(shift, abs=0.05)
    assert m.confidence > 0.5 and m.sigma_px < 0.05


def test_roi_disparity_of_flat_views_has_no_confidence():
    flat = np.full((32, 48), 0.4)
    m = roi_disparity(flat, flat)
    assert m.confidence == 0.0 and math.isnan(m.disparity_px)
    with pytest.raises(InvalidParameterError):
        roi_disparity(flat, flat[:, :40])


def test_codes_per_dof_closed_form():
    ctx = make_context(lens_model=True)
    q, f, n = 0.02, 4.38, 1.73
    dpt = 300 * q
    s_mm = f / (1 - f * dpt / 1000)
    expected = 2.8 / ((f / n) * s_mm * q)
    assert codes_per_dof(ctx, 300) == pytest.approx(expected, rel=1e-9)
    assert codes_per_dof(make_context()) == CODES_PER_DOF  # stated by the backend


def test_settle_time_grows_with_the_move():
    from dataclasses import replace

    ctx = replace(make_context(), settle_time_s=0.02)
    times = [settle_time_for_move_s(ctx, m) for m in (1.0, 10.0, 100.0, 600.0)]
    assert times[0] == 0.0 and np.all(np.diff(times) > 0) and times[-1] == pytest.approx(0.02)
    assert settle_time_for_move_s(make_context(), 600.0) == 0.0


# ---------------------------------------------------------------- policy on the fake
@pytest.mark.parametrize(("best", "start"), [(150.0, 0), (330.0, 0), (480.0, 300), (90.0, 560), (300.0, 600)])
def test_hillclimb_reaches_the_peak(best, start):
    cam = FakeCamera(best, start_code=start, seed=int(best))
    frames, final, cmds, done = run(ContrastHillClimb(), cam, make_context())
    assert done and frames <= 30
    assert abs(final - best) <= CODES_PER_DOF  # within 1 DoF
    assert reversals(cmds) <= 3


def test_hillclimb_first_two_frames_find_the_direction():
    cam = FakeCamera(100.0, start_code=300, seed=1)  # the larger side is up: the probe goes the wrong way
    _, final, cmds, _ = run(ContrastHillClimb(), cam, make_context())
    assert cmds[1] > cmds[0] and cmds[2] < cmds[1]  # probe up, then turned round
    assert abs(final - 100.0) <= CODES_PER_DOF


def test_hillclimb_never_waits_forever_on_a_flat_scene():
    cam = FakeCamera(300.0, start_code=200, texture=0.0, noise=0.01, seed=2)
    frames, _, _, done = run(ContrastHillClimb(max_frames=12), cam, make_context(), max_frames=40)
    assert done and frames <= 12


def test_hillclimb_is_deterministic_and_registered():
    a = run(get_policy("contrast-hillclimb"), FakeCamera(250.0, seed=4), make_context())
    b = run(get_policy("contrast-hillclimb"), FakeCamera(250.0, seed=4), make_context())
    assert a == b


def test_hillclimb_bad_options():
    for kw in ({"coarse_dof": 0}, {"max_frames": 2}, {"k_sigma": -1}, {"max_frames": 5.5}):
        with pytest.raises(InvalidParameterError):
            ContrastHillClimb(**kw)
    with pytest.raises(InvalidParameterError):
        get_policy("contrast-hillclimb", bogus=1)
    with pytest.raises(InvalidParameterError):
        ContrastHillClimb().step(FakeCamera(100.0).observe(0))


# ---------------------------------------------------------------- closed loop on the simulator
@pytest.fixture(scope="module")
def phone_main():
    from focuslab.camera import get_camera

    return get_camera("phone_main")


def simulate(policy_name, camera, distance_m, *, seed=0, **options):
    from focuslab.af.backends import SimulatorBackend
    from focuslab.af.loop import run_af
    from focuslab.scene.library import make_scene

    scene = make_scene("dead_leaves", shape=(240, 320), subject_distance_m=distance_m, seed=seed)
    h, w = camera.stream_sensor.shape_px
    backend = SimulatorBackend(camera, scene, roi=(w // 2 - 32, h // 2 - 32, 64, 64), seed=seed)
    return run_af(get_policy(policy_name, **options), backend, max_frames=40)


@pytest.mark.parametrize("distance_m", [0.4, 1.0, 3.0])
def test_hillclimb_in_focus_on_the_simulator(phone_main, distance_m):
    run = simulate("contrast-hillclimb", phone_main, distance_m)
    m = run.metrics
    assert m.in_focus and m.final_error_dof <= 1.0
    assert m.frames <= 30 and m.reversals <= 3


def test_roi_disparity_nearest_subject_priority():
    rng = np.random.default_rng(5)
    base = ndimage.gaussian_filter(rng.random((64, 112)), 1.2)

    def views(shift):
        left = ndimage.shift(base, (0, -shift / 2), order=3, mode="nearest")[8:56, 8:104]
        right = ndimage.shift(base, (0, shift / 2), order=3, mode="nearest")[8:56, 8:104]
        return left, right

    (l_near, r_near), (l_far, r_far) = views(2.0), views(0.5)
    left, right = l_far.copy(), r_far.copy()
    left[:, :60], right[:, :60] = l_near[:, :60], r_near[:, :60]  # a near subject over 5/8 of the region
    pooled = roi_disparity(left, right)
    near = roi_disparity(left, right, nearest=True)
    assert near.disparity_px == pytest.approx(2.0, abs=0.1)
    assert pooled.disparity_px < near.disparity_px - 0.2


def test_hillclimb_survives_a_dark_region():
    class Dark(FakeCamera):
        def observe(self, i):
            from dataclasses import replace as _replace

            obs = super().observe(i)
            return _replace(obs, image=np.zeros_like(obs.image))

    frames, _, _, done = run(ContrastHillClimb(max_frames=8), Dark(200.0, seed=1), make_context())
    assert done and frames <= 8


# ---------------------------------------------------------------- two subjects in the region
class TwoSubjectCamera(FakeCamera):
    """Top half of the region: a subject in focus at ``near_code`` with weaker texture; bottom half: a
    stronger subject at ``best``. The region's curve has two peaks, the higher at ``best``."""

    def __init__(self, near_code: float, best_code: float, **kw):
        super().__init__(best_code, **kw)
        self.near = float(near_code)

    def observe(self, i):
        obs = super().observe(i)
        top = ndimage.gaussian_filter(0.5 + 0.4 * (self.tex - 0.5), math.hypot(0.6, 0.35 * abs(self.code - self.near)
                                                                            / self.cpd))[8:32, 8:8 + obs.image.shape[1]]
        img = np.array(obs.image)
        img[:24] = top + self.rng.normal(0, self.noise, top.shape)
        from focuslab.af.types import Observation

        return Observation(frame_index=obs.frame_index, t_s=obs.t_s, exposure_s=obs.exposure_s,
                           lens_code=obs.lens_code, reported_code=obs.reported_code, roi=obs.roi,
                           image=img.astype(np.float32), frame_shape_px=obs.frame_shape_px)


def test_hillclimb_climbs_through_a_nearer_weaker_peak_to_the_region_maximum():
    """The quadrant check: past the first peak the bottom quadrants still sharpen, so the climb goes on."""
    ctx = make_context()
    landed = {}
    for name, opts in (("confirmed", {}), ("plain", {"ahead_rise_fraction": math.inf})):
        cam = TwoSubjectCamera(150.0, 420.0, start_code=0, seed=3, dual_pixel=False)
        frames, final, cmds, done = run(ContrastHillClimb(**opts), cam, ctx)
        assert frames <= 30 and reversals(cmds) <= 3
        assert done
        landed[name] = final
    assert abs(landed["confirmed"] - 420.0) <= 0.5 * CODES_PER_DOF, landed
    assert abs(landed["plain"] - 150.0) <= 1.0 * CODES_PER_DOF, landed  # the plain climb: the first peak
