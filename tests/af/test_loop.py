"""run_af semantics on a small test double (instant lens, synthetic blur), and on the simulator."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from focuslab.af.loop import AFRun, run_af
from focuslab.af.registry import POLICIES, get_policy, policy_names, register_policy
from focuslab.af.truth import Truth
from focuslab.af.types import AFContext, Command, Observation
from focuslab.errors import InvalidParameterError, UnknownNameError

CODES_PER_DOF = 10.0


class FakeBackend:
    """An instant lens over codes 0..200; the image blurs with |code - best| (Gaussian)."""

    def __init__(self, best=123.0, seed=0, initial=0):
        self.best, self.code = best, initial
        rng = np.random.default_rng(seed)
        self.texture = rng.random((48, 48)).astype(np.float32)
        self.commands: list[tuple[int, float]] = []
        self.context = AFContext(min_code=0, max_code=200, frame_interval_s=0.05, has_dual_pixel=False, has_depth=False)

    def observe(self, i, t):
        sigma = 0.08 * abs(self.code - self.best)
        img = gaussian_filter(self.texture, sigma) if sigma > 0 else self.texture.copy()
        return Observation(i, t, 0.01, self.code, float(self.code), (0, 0, 48, 48), img.astype(np.float32))

    def command(self, code, t):
        self.commands.append((code, t))
        self.code = int(np.clip(code, 0, 200))
        return self.code

    def truth(self, t):
        return Truth(self.best, abs(self.code - self.best) / CODES_PER_DOF, float(self.code))


class Scripted:
    """Replays a list of Commands."""

    name = "scripted"
    requires = frozenset()

    def __init__(self, script):
        self.script = list(script)

    def reset(self, context):
        self.i = 0

    def step(self, obs):
        cmd = self.script[min(self.i, len(self.script) - 1)]
        self.i += 1
        return cmd


def test_commands_act_after_the_exposure_and_records_follow_the_lens():
    be = FakeBackend()
    run = run_af(Scripted([Command(50), Command(), Command(120, done=False), Command(done=True)]), be, max_frames=10)
    assert be.commands == [(50, pytest.approx(0.01)), (120, pytest.approx(2 * 0.05 + 0.01))]
    assert [f.lens_code for f in run.frames] == [0, 50, 50, 120]
    assert [f.command_code for f in run.frames] == [50, None, 120, None]
    assert run.done_frame == 3 and run.frames[-1].done
    assert run.metrics.final_error == pytest.approx(0.3) and run.metrics.in_focus
    assert isinstance(run, AFRun) and run.to_dict()["metrics"]["reversals"] == 0


def test_done_with_a_move_is_judged_on_one_more_frame():
    be = FakeBackend()
    run = run_af(Scripted([Command(123, done=True)]), be, max_frames=10)
    assert len(run.frames) == 2 and run.done_frame == 1
    assert run.metrics.final_error == 0.0


def test_never_done_stops_at_max_frames_and_video_ignores_done():
    run = run_af(Scripted([Command()]), FakeBackend(), max_frames=7)
    assert len(run.frames) == 7 and run.done_frame is None and not run.metrics.done
    run = run_af(Scripted([Command(done=True)]), FakeBackend(), video=True, duration_s=0.5)
    assert len(run.frames) == 10 and run.done_frame is None
    assert run.metrics.time_out_of_focus_s == pytest.approx(10 * 0.05)
    assert run.metrics.jerk_codes_per_s3 == 0.0


def test_oracle_gets_the_truth_and_others_do_not():
    be = FakeBackend(best=77.4)
    run = run_af(get_policy("oracle"), be, max_frames=10)
    assert run.frames[-1].lens_code == 77 and run.metrics.final_error == pytest.approx(0.04)
    assert run.metrics.frames_to_focus == 2 and run.done_frame == 2  # unknown settling: one frame interval

    class Snoop(Scripted):
        def set_truth(self, fn):  # pragma: no cover - must never be called
            raise AssertionError("a policy without 'truth' in requires got the truth")

    run_af(Snoop([Command(done=True)]), FakeBackend(), max_frames=3)


def test_contrast_sweep_on_the_double_finds_the_peak():
    be = FakeBackend(best=123.0)
    pol = get_policy("contrast-sweep", steps=21)
    run = run_af(pol, be, max_frames=40)
    assert run.done_frame is not None
    assert abs(run.frames[-1].lens_code - 123) <= 3
    assert run.metrics.reversals == 1  # up the range, back to the peak (no lens model: no backlash approach)


def test_bad_inputs():
    with pytest.raises(InvalidParameterError):
        run_af(object(), FakeBackend())
    for kw in ({"max_frames": 0}, {"max_frames": 2.5}, {"duration_s": -1.0}, {"duration_s": float("nan")}):
        with pytest.raises(InvalidParameterError):
            run_af(Scripted([Command()]), FakeBackend(), **kw)
    with pytest.raises(InvalidParameterError):
        run_af(Scripted([Command(12.5)]), FakeBackend())
    with pytest.raises(InvalidParameterError):
        run_af(Scripted([None]), FakeBackend())

    class NeedsTruth(Scripted):
        requires = frozenset({"truth"})

    with pytest.raises(InvalidParameterError, match="set_truth"):
        run_af(NeedsTruth([Command()]), FakeBackend())


def test_registry():
    assert {"oracle", "contrast-sweep"} <= set(policy_names())
    with pytest.raises(UnknownNameError, match="contrast-sweep"):
        get_policy("contrast-swep")
    with pytest.raises(InvalidParameterError):
        register_policy("oracle")(lambda: None)
    with pytest.raises(InvalidParameterError):
        get_policy("oracle", speed=3)
    with pytest.raises(InvalidParameterError):
        get_policy("contrast-sweep", measure="NOPE")
    assert "oracle" in POLICIES


def test_video_oracle_tracks_an_approaching_subject_on_the_simulator():
    from focuslab.af.backends import SimulatorBackend
    from focuslab.camera.presets import get_camera
    from focuslab.scene.library import make_scene

    cam = get_camera("phone_main")
    scene = make_scene("approaching_subject", shape=(240, 320), hfov_deg=20.0, seed=2)
    be = SimulatorBackend(cam, scene, roi=(488, 362, 32, 32), seed=1)
    run = run_af(get_policy("oracle"), be, video=True, duration_s=0.5)
    assert len(run.frames) == 15 and run.done_frame is None and run.video
    best = np.array([f.best_code for f in run.frames])
    assert np.all(np.diff(best) > 0)  # nearer every frame: a larger code
    assert best[0] == pytest.approx(cam.focus_code_for_distance(scene.subject_distance_m(0.0)), abs=0.5)
    errors = [f.focus_error_dof for f in run.frames[1:]]
    assert max(errors) < 0.45  # tracking: only the actuator's play and jitter remain
    assert run.metrics.time_out_of_focus_s == pytest.approx(1 / 30)  # frame 0, before the first move
    assert run.metrics.rms_error_dof < 0.5 and run.metrics.jerk_codes_per_s3 > 0
    # a walk in depth is no subject change: the whole RMS is tracking
    assert run.metrics.subject_changes == 0 and run.metrics.reacquire_frames is None
    assert run.metrics.tracking_rms_error_dof == pytest.approx(run.metrics.rms_error_dof)
