"""The ``continuous`` (video) policy on fake backends with a known target trajectory.

The fake backend: the target code T(frame) follows a trajectory; the lens moves a fixed share
of the way to its command each frame (a damped actuator); observations carry, as asked, depth
zones (a ToF reading every other frame, 1.5 frames old, 0.5-code noise), dual-pixel views (a
texture shifted by +-D/2 with D = (T - lens) / gain, sensor noise) and the AF image (the
texture blurred with the defocus, noise). Each test compares the policy with a naive follower
that jumps to the measured target every frame, in the same test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage

from focuslab.af.loop import run_af
from focuslab.af.policies.continuous import ContinuousPolicy
from focuslab.af.policies.depth import codes_per_dof
from focuslab.af.policies.video_tracking import focus_energy, kalata_gains
from focuslab.af.registry import get_policy
from focuslab.af.truth import Truth
from focuslab.af.types import AFContext, Command, DepthZones, Observation
from focuslab.camera.presets import get_camera
from focuslab.errors import FocuslabError, InvalidParameterError

ROI = (96, 64, 64, 64)
GAIN_TRUE = 120.0  # codes per px of disparity (the ideal-split prior is 75.5: a real DP gives less disparity)


def _context(*, lens_model: bool = True, dual_pixel: bool = True, depth: bool = True) -> AFContext:
    cam = get_camera("phone_main_tof")
    act = cam.actuator
    return AFContext(
        min_code=cam.focus_code_for_distance(math.inf),
        max_code=cam.focus_code_for_distance(cam.lens.min_focus_distance_m),
        frame_interval_s=1 / 30,
        has_dual_pixel=dual_pixel,
        has_depth=depth,
        focal_length_mm=cam.lens.focal_length_mm,
        f_number=cam.lens.f_number,
        pixel_pitch_um=cam.stream_sensor.pixel_pitch_um,
        coc_max_um=cam.coc_max_um,
        code_for_distance=cam.focus_code_for_distance if lens_model else None,
        distance_for_code=(lambda c: cam.focus_distance_m(float(act.displacement_um(int(c))))) if lens_model else None,
        name="fake",
    )


def _shift(img: np.ndarray, dx: float) -> np.ndarray:
    f = np.fft.fft2(img)
    kx = np.fft.fftfreq(img.shape[1])[None, :]
    return np.real(np.fft.ifft2(f * np.exp(-2j * np.pi * kx * dx)))


class FakeBackend:
    """Closed-loop stand-in with a known target trajectory ``target(frame) -> code``."""

    def __init__(self, target, *, start_code, depth=True, phase=True, seed=0, noise=0.004, follow=0.8,
                 phase_bias_px=0.0, gain=GAIN_TRUE):
        self.target, self.use_depth, self.use_phase = target, depth, phase
        self.rng = np.random.default_rng(seed)
        self._context = _context(dual_pixel=phase, depth=depth)
        self.lens = float(start_code)
        self.cmd = int(start_code)
        self.noise, self.follow, self.bias, self.gain = noise, follow, phase_bias_px, gain
        tex = ndimage.gaussian_filter(np.random.default_rng(seed + 1).random((ROI[3], ROI[2] + 32)), 1.2)
        self.tex = 0.4 + 0.5 * (tex - tex.mean()) / tex.std() * 0.3
        self.reading = None
        self.dof = codes_per_dof(self._context, start_code)

    @property
    def context(self):
        return self._context

    def _zones(self, frame: int) -> DepthZones:
        t = self.target(frame - 1.5)
        ctx = self._context
        d = ctx.distance_for_code(round(min(max(t, ctx.min_code + 1), ctx.max_code)))
        dist = np.full((4, 4), d) + self.rng.normal(0.0, 0.002, (4, 4))
        step = 64
        y, x = np.mgrid[0:4, 0:4] * step
        rois = np.stack([x, y, np.full_like(x, step), np.full_like(y, step)], axis=-1)
        return DepthZones(distance_m=dist, valid=np.ones((4, 4), bool), sigma_m=np.full((4, 4), 0.002), rois_px=rois)

    def observe(self, i: int, t_s: float) -> Observation:
        self.lens += self.follow * (self.cmd - self.lens)
        err = self.target(i) - self.lens
        sigma_blur = 0.4 + 0.6 * abs(err) / self.dof
        img = ndimage.gaussian_filter(self.tex, sigma_blur)[:, 16:-16]
        img = (img + self.rng.normal(0, self.noise, img.shape)).astype(np.float32)
        left = right = None
        if self.use_phase:
            disp = err / self.gain + self.bias
            base = ndimage.gaussian_filter(self.tex, sigma_blur)
            left = (_shift(base, -disp / 2)[:, 16:-16] + self.rng.normal(0, self.noise, img.shape)).astype(np.float32)
            right = (_shift(base, disp / 2)[:, 16:-16] + self.rng.normal(0, self.noise, img.shape)).astype(np.float32)
        if self.use_depth and i % 2 == 0:
            self.reading = self._zones(i)
        return Observation(frame_index=i, t_s=t_s, exposure_s=0.01, lens_code=self.cmd,
                           reported_code=self.lens + self.rng.normal(0, 0.3), roi=ROI, image=img, left=left,
                           right=right, depth=self.reading if self.use_depth else None, frame_shape_px=(256, 256))

    def command(self, code: int, t_s: float) -> int:
        self.cmd = int(np.clip(code, self._context.min_code, self._context.max_code))
        return self.cmd

    def truth(self, t_s: float) -> Truth:
        i = round(t_s * 30)
        return Truth(best_code=self.target(i), focus_error_dof=abs(self.target(i) - self.lens) / self.dof,
                     lens_code_true=self.lens)

    def dof_per_code(self, code: float) -> float:
        return 1.0 / self.dof


class NaiveFollower:
    """Jumps to the measured target every frame (what the continuous policy smooths)."""

    name, requires = "naive", frozenset()

    def __init__(self, source: str):
        self.source = source

    def reset(self, context):
        self.ctx = context

    def step(self, obs):
        if self.source == "depth":
            d = float(np.nanmedian(obs.depth.distance_m))
            return Command(int(self.ctx.code_for_distance(d)))
        from focuslab.metrics.dp_disparity import dp_disparity_map

        dm = dp_disparity_map(obs.left, obs.right, patch_px=40, stride_px=20, max_shift_px=8)
        return Command(round(obs.reported_code + GAIN_TRUE * float(np.nanmedian(dm.disparity_px))))


def _approach(frame):  # a subject walking towards the camera, 2.5 m -> 0.6 m over 45 frames, then still
    d = 2.5 - (2.5 - 0.6) * min(max(frame, 0), 45) / 45
    return float(_CTX.code_for_distance(d))


def _recede(frame):
    d = 0.5 + (2.0 - 0.5) * min(max(frame, 0), 45) / 45
    return float(_CTX.code_for_distance(d))


def _pan(frame):  # the AF region jumps from a card at 0.5 m to the background at 4 m at frame 15
    return float(_CTX.code_for_distance(0.5 if frame < 15 else 4.0))


_CTX = _context()


def _commands(run):
    return np.array([r.command_code for r in run.frames if r.command_code is not None], dtype=float)


def _max_step(run):
    codes = np.concatenate([[run.frames[0].lens_code], _commands(run)])
    return float(np.max(np.abs(np.diff(codes))))


# ---------------------------------------------------------------------------- the tracker's pieces
def test_kalata_gains_closed_forms():
    assert kalata_gains(0.0) == (0.0, 0.0)
    for lam in (0.05, 0.5, 1.0, 5.0):
        a, b = kalata_gains(lam)
        assert 0 < a < 1 and 0 < b < 2
        assert lam**2 == pytest.approx(b**2 / (1 - a), rel=1e-9)  # Kalata's defining relation
    a, b = kalata_gains(1e6)
    assert a == pytest.approx(1.0, abs=1e-5) and b == pytest.approx(2.0, abs=1e-4)


def test_focus_energy_is_larger_when_sharper_and_scale_free():
    rng = np.random.default_rng(0)
    img = ndimage.gaussian_filter(rng.random((32, 32)), 0.7) + 0.5
    blurred = ndimage.gaussian_filter(img, 2.0)
    assert focus_energy(img) > focus_energy(blurred) > 0
    assert focus_energy(3 * img) == pytest.approx(focus_energy(img))
    assert focus_energy(np.zeros((8, 8))) == 0.0


# ---------------------------------------------------------------------------- tracking
# measured: depth RMS 0.31 DoF, jerk 0.44x naive; phase RMS 0.20 DoF, jerk 0.62x naive (which reverses 9 times)
@pytest.mark.parametrize(("source", "noise", "rms_bound", "jerk_ratio"), [("depth", 0.004, 0.4, 0.7),
                                                                       ("phase", 0.02, 0.35, 0.8)])
def test_tracks_an_approaching_subject_smoothly(source, noise, rms_bound, jerk_ratio):
    def backend():
        return FakeBackend(_approach, start_code=int(_approach(0)), depth=source == "depth",
                           phase=source == "phase", noise=noise)

    pol = ContinuousPolicy(phase_gain_codes_per_px=GAIN_TRUE)  # a calibrated phase gain
    be = backend()
    run = run_af(pol, be, video=True, max_frames=45)
    m = run.metrics
    assert pol.source == source
    assert m.rms_error_dof < rms_bound
    assert m.reversals <= 1
    assert _max_step(run) <= 2.0 * be.dof + 1
    assert all(not r.done for r in run.frames) and run.done_frame is None
    naive = run_af(NaiveFollower(source), backend(), video=True, max_frames=45).metrics
    # precise depth makes the naive follower smooth too (1-code steps); noisy phase makes it jitter
    assert m.jerk_codes_per_s3 < jerk_ratio * naive.jerk_codes_per_s3
    assert m.reversals <= naive.reversals


def test_tracks_a_receding_subject_via_depth():
    be = FakeBackend(_recede, start_code=int(_recede(0)), phase=False)
    run = run_af(ContinuousPolicy(), be, video=True, max_frames=50)
    assert run.metrics.rms_error_dof < 0.5 and run.metrics.reversals <= 1
    assert _max_step(run) <= 2.0 * be.dof + 1


def test_refocuses_after_a_pan_between_depths_without_hunting():
    be = FakeBackend(_pan, start_code=int(_pan(0)), phase=False)
    run = run_af(ContinuousPolicy(), be, video=True, max_frames=40)
    err = np.array([r.focus_error_dof for r in run.frames])
    first_in = next(i for i in range(15, 40) if err[i] <= 1.0)
    assert first_in <= 15 + 14  # a ~9-DoF move at <= 2 DoF/frame and 0.5 DoF/frame^2, plus the ToF's age
    assert np.all(err[first_in:] <= 1.0)
    assert run.metrics.reversals <= 1
    assert _max_step(run) <= 2.0 * be.dof + 1
    cmds = _commands(run)
    accel = np.diff(cmds, n=2)
    assert np.max(np.abs(accel)) <= 2 * 0.5 * be.dof + 2  # velocity changes by <= a_max per frame (+ rounding)
    naive = run_af(NaiveFollower("depth"), FakeBackend(_pan, start_code=int(_pan(0)), phase=False),
                   video=True, max_frames=40).metrics
    assert run.metrics.jerk_codes_per_s3 < 0.2 * naive.jerk_codes_per_s3  # measured 0.065x


def test_hysteresis_a_still_subject_does_not_move_the_lens():
    # the subject sits 0.3 DoF from the lens and the phase is noisy: the lens must stay put
    start = 300
    be = FakeBackend(lambda f: start + 0.3 * codes_per_dof(_CTX, start), start_code=start, depth=False,
                     noise=0.01)
    run = run_af(ContinuousPolicy(phase_gain_codes_per_px=GAIN_TRUE), be, video=True, max_frames=30)
    assert set(_commands(run)) == {start}


def test_speed_limit_is_respected():
    be = FakeBackend(_pan, start_code=int(_pan(0)), phase=False)
    run = run_af(ContinuousPolicy(max_speed_dof=0.5, max_accel_dof=0.25), be, video=True, max_frames=40)
    assert _max_step(run) <= 0.5 * be.dof + 1


def test_contrast_only_climbs_to_focus_and_stays():
    target = 260.0
    be = FakeBackend(lambda f: target, start_code=200, depth=False, phase=False, noise=0.002)
    pol = ContinuousPolicy()
    run = run_af(pol, be, video=True, max_frames=45)
    err = np.array([r.focus_error_dof for r in run.frames])
    assert pol.source == "contrast"
    assert np.all(err[-10:] <= 1.0)
    assert run.metrics.reversals <= 2


def test_contrast_only_refocuses_after_a_scene_change():
    be = FakeBackend(lambda f: 200.0 if f < 25 else 290.0, start_code=200, depth=False, phase=False, noise=0.002)
    tex2 = be.tex[::-1, ::-1].copy()
    orig = be.observe

    def observe(i, t_s):  # a new scene in the AF region from frame 25
        if i == 25:
            be.tex = 0.6 * tex2 + 0.2
        return orig(i, t_s)

    be.observe = observe
    run = run_af(ContinuousPolicy(), be, video=True, max_frames=70)
    err = np.array([r.focus_error_dof for r in run.frames])
    assert np.all(err[-8:] <= 1.0)


def test_deterministic():
    runs = [run_af(ContinuousPolicy(), FakeBackend(_approach, start_code=int(_approach(0)), seed=3),
                   video=True, max_frames=20) for _ in range(2)]
    assert [r.command_code for r in runs[0].frames] == [r.command_code for r in runs[1].frames]


def test_observations_without_lens_model_use_codes():
    ctx = _context(lens_model=False)
    pol = get_policy("continuous")
    pol.reset(ctx)
    obs = Observation(frame_index=0, t_s=0.0, exposure_s=0.01, lens_code=300, reported_code=float("nan"),
                      roi=ROI, image=np.full((64, 64), 0.5, np.float32))
    cmd = pol.step(obs)
    assert isinstance(cmd.target_code, int) and not cmd.done


def test_bad_options_and_use_before_reset():
    assert get_policy("continuous").requires == frozenset()
    for bad in ({"max_speed_dof": 0}, {"max_accel_dof": float("nan")}, {"deadband_dof": 0.1, "stop_band_dof": 0.2},
                {"lead_frames": -1}, {"phase_gain_codes_per_px": -3.0}, {"use_phase": True, "max_speed_dof": True}):
        with pytest.raises(InvalidParameterError):
            ContinuousPolicy(**bad)
    with pytest.raises(FocuslabError):
        get_policy("continuous", speed=3)
    with pytest.raises(InvalidParameterError):
        ContinuousPolicy().step(None)
    with pytest.raises(InvalidParameterError):
        ContinuousPolicy().reset(None)


def test_no_depth_return_means_far_and_is_confirmed_before_moving():
    # the region's subject leaves the ToF's range at frame 10 (e.g. a pan to a far wall): the lens
    # goes to the hyperfocal code after two agreeing no-return readings, without hunting
    from focuslab.af.policies.depth import hyperfocal_m

    be = FakeBackend(lambda f: float(_CTX.code_for_distance(0.5 if f < 10 else 20.0)), start_code=int(_pan(0)),
                     phase=False)
    orig = be._zones

    def zones(frame):
        z = orig(frame)
        if frame - 1.5 < 10:
            return z
        nan = np.full(z.distance_m.shape, np.nan)
        return DepthZones(distance_m=nan, valid=np.zeros(nan.shape, bool), sigma_m=nan, rois_px=z.rois_px)

    be._zones = zones
    run = run_af(ContinuousPolicy(), be, video=True, max_frames=40)
    cmds = [r.command_code for r in run.frames]
    hyper = _CTX.code_for_distance(hyperfocal_m(_CTX))
    assert cmds[12] == cmds[0]  # one no-return reading (frame 12) is not enough to move
    assert abs(cmds[-1] - hyper) <= 0.5 * be.dof
    assert run.metrics.reversals == 0


# ---------------------------------------------------------------------------- the dual-pixel search
def _dp_observation(disp_px: float, *, blur: float, noise: float, seed: int = 0, size: int = 128,
                    texture: bool = True) -> Observation:
    """Grey dual-pixel views of a blurred texture, the right moved by ``disp_px`` from the left."""
    rng = np.random.default_rng(seed)
    tex = np.full((size, size + 64), 0.4)
    if texture:
        t = ndimage.gaussian_filter(rng.random((size, size + 64)), blur)
        tex += 0.1 * (t - t.mean()) / t.std()
    left = _shift(tex, -disp_px / 2)[:, 32:-32] + rng.normal(0, noise, (size, size))
    right = _shift(tex, disp_px / 2)[:, 32:-32] + rng.normal(0, noise, (size, size))
    return Observation(frame_index=0, t_s=0.0, exposure_s=0.01, lens_code=300, reported_code=300.0,
                       roi=(0, 0, size, size), image=left.astype(np.float32), left=left.astype(np.float32),
                       right=right.astype(np.float32), frame_shape_px=(size, size))


@pytest.mark.parametrize("disp", [-22.0, -12.0, 14.0])
def test_dual_pixel_search_widens_coarse_to_fine_beyond_the_fine_range(disp):
    # A region far out of focus: its disparity lies beyond the +-8 px search of the full-resolution
    # views, which then reports nothing; the binned levels find it (truth: the views' shift).
    pol = ContinuousPolicy()
    pol.reset(_context())
    obs = _dp_observation(disp, blur=6.0, noise=0.002)
    from focuslab.metrics.dp_disparity import dp_disparity_map

    fine = dp_disparity_map(obs.left, obs.right, patch_px=64, stride_px=32, max_shift_px=8, lowpass_sigma_px=1.0)
    assert float(np.mean(np.where(np.isfinite(fine.disparity_px), fine.confidence, 0.0))) < 0.15  # silent
    got = pol._disparity(obs)
    assert got is not None
    assert got[0] == pytest.approx(disp, abs=0.06 * abs(disp))
    assert got[1] >= 2 * 0.05  # a binned level's sigma: at least k = 2 times the fine level's


def test_dual_pixel_search_takes_agreeing_patches_of_a_smooth_texture():
    # A smooth texture 0.7 px of disparity off: every patch's NCC peak is broad, so their
    # confidences are low, but they agree (truth: the shift); a flat noisy region never agrees.
    pol = ContinuousPolicy()
    pol.reset(_context())
    got = pol._disparity(_dp_observation(0.7, blur=12.0, noise=0.0005))
    assert got is not None and got[0] == pytest.approx(0.7, abs=0.1)
    for seed in range(5):
        assert pol._disparity(_dp_observation(0.7, blur=1.0, noise=0.01, seed=seed, texture=False)) is None


def test_continuous_focuses_a_dual_pixel_region_far_out_of_focus():
    # Closed loop: the target 18 DoF from the start with 25 codes per px of disparity, 11 px: beyond
    # the fine search range. The policy must not hold the lens (it did before the coarse levels:
    # the phase never reported).
    ctx = _context()
    start = ctx.min_code + 5
    target = start + 18 * codes_per_dof(ctx, start)
    backend = FakeBackend(lambda f: target, start_code=start, depth=False, phase=True, noise=0.002, gain=25.0)
    pol = get_policy("continuous", phase_gain_codes_per_px=25.0)
    first = FakeBackend(lambda f: target, start_code=start, depth=False, phase=True, noise=0.002, gain=25.0)
    first.follow = 0.0  # the lens stays at its start for this one observation
    pol.reset(ctx)
    reading = pol._disparity(first.observe(0, 0.0))  # the first frame's disparity, beyond +-8 px
    assert reading is not None and reading[0] == pytest.approx((target - start) / 25.0, rel=0.1)
    run = run_af(pol, backend, max_frames=60, video=True)
    assert run.frames[0].focus_error_dof > 15
    assert run.frames[-1].focus_error_dof < 0.5


def test_a_track_measured_again_after_a_long_gap_starts_afresh():
    # Two readings 21 frames apart, 70 codes apart: a velocity fitted across the gap would be the
    # first reading's error (an uncalibrated phase gain), so the track restarts at the new reading
    # with no velocity; within the gap limit the same pair gives a velocity.
    ctx = _context()
    dof = codes_per_dof(ctx, 300.0)
    for gap, moving in ((21.0, False), (4.0, True)):
        pol = ContinuousPolicy()
        pol.reset(ctx)
        pol._track(245.0, 0.5 * dof, dof, 0.0, False)
        pol._track(315.0, 0.5 * dof, dof, gap, False)
        assert (pol._vc != 0.0) is moving
        if not moving:
            assert pol._code(pol._x) == pytest.approx(315.0, abs=0.5)


def test_a_track_no_source_measures_stops_extrapolating():
    # A tracked target moving at 8 codes per frame, then 4 frames with no reading (the dual-pixel
    # views are flat): the extrapolation ends at the prediction cap, 2.5 frames on, and the lens
    # no longer feeds a velocity.
    ctx = _context()
    dof = codes_per_dof(ctx, 300.0)
    pol = ContinuousPolicy()
    pol.reset(ctx)
    pol.step(_dp_observation(0.0, blur=1.0, noise=0.01, texture=False))  # frame 0: no reading
    pol._track(300.0, 0.3 * dof, dof, 0.0, False)
    pol._track(308.0, 0.3 * dof, dof, 1.0, False)
    pol._recent["phase"] = (1, 0.3 * dof)
    v = pol._v
    assert pol._vc > 1.0 and v != 0.0
    x0 = pol._x
    obs = _dp_observation(0.0, blur=1.0, noise=0.01, texture=False)
    obs = Observation(**{**obs.__dict__, "frame_index": 5, "t_s": 5 / 30})
    pol.step(obs)
    assert pol._v == 0.0 and pol._vc == 0.0
    assert pol._x == pytest.approx(x0 + 2.5 * v)


def test_factory_calibration_measures_the_dual_pixel_response_against_the_ideal_split():
    # The gain prior is the ideal half-pupil split's (D = 4 c / (3 pi)); the camera's phase
    # calibration scales it by the measured response. Truth: the Pixel 4 response's on-axis
    # disparity per blur, 0.219 (docs/dual_pixel.md), against 4 / (3 pi) = 0.424: a factor 1.94
    # (the calibration's estimator reads the soft split ~4 % low: +-10 % allowed); phone_tele's
    # ideal split: 1.
    from focuslab.af.backends import camera_context

    expected = (4.0 / (3.0 * math.pi)) / 0.219
    for name, want in (("phone_main", expected), ("phone_tele", 1.0)):
        ctx = camera_context(get_camera(name))
        pol = ContinuousPolicy()
        pol.reset(ctx)
        assert pol.response_factor == pytest.approx(want, rel=0.1)
        off = ContinuousPolicy(factory_calibration=False)
        off.reset(ctx)
        assert off.response_factor == 1.0
