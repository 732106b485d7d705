"""Learned AF policies: jump / confirm / fall back on truthful stand-in networks, the thin-lens
target code, registration, and the one-line failure when the weights are missing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from learned_standins import TruthDP, TruthFusion, TruthTemporal, TruthTwoFrame, context, true_defocus_dof
from test_hillclimb_fakes import CODES_PER_DOF, FakeCamera, reversals, run

import focuslab.af.policies.learned_weights as lw
from focuslab.af.policies.learned_jump import defocus_target_code
from focuslab.af.registry import get_policy, policy_names
from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.models.nearest_subject import NEAR_WITHIN_DOF
from focuslab.models.predict import COARSE_ABOVE_DOF

LEARNED = {"learned-dp": "dp-defocus", "learned-two-frame": "two-frame", "learned-fusion": "fusion",
           "learned-video": "temporal"}


@pytest.fixture
def standin(monkeypatch):
    """Put a stand-in network in the policies' model cache: ``standin(kind, camera, **kw)``."""
    def put(cls, camera, name, **kw):
        net = cls(camera, **kw)
        monkeypatch.setitem(lw._CACHE, (name, None), net)
        return net
    return put


def dof_error(cam) -> float:
    return abs(true_defocus_dof(cam.best, cam.code))


@pytest.mark.parametrize(("best", "start"), [(200.0, 0), (420.0, 100), (60.0, 500), (310.0, 300)])
def test_learned_dp_jumps_once_and_confirms(standin, best, start):
    cam = FakeCamera(best, start_code=start, seed=int(best), depth_m=1.0)
    net = standin(TruthDP, cam, "dp-defocus")
    pol = get_policy("learned-dp")
    frames, final, cmds, done = run(pol, cam, context())
    assert done and frames == 2 and len(cmds) == 2  # predict + jump, confirm: done
    assert abs(final - best) <= 1.0 and dof_error(cam) < 0.2
    binned = abs(true_defocus_dof(best, start)) > COARSE_ABOVE_DOF  # a far start is read again binned 2 x 2
    # within 6 DoF each reading is repeated as overlapping crops (nearest subject; one batch, and the
    # stand-in's crops agree, so its pooled reading stands): the confirm, and a start that near
    crops = 1 + (abs(true_defocus_dof(best, start)) <= NEAR_WITHIN_DOF)
    assert net.calls == 2 + binned + crops and not pol.fell_back


def test_learned_dp_corrects_an_under_stepping_network(standin):
    cam = FakeCamera(450.0, start_code=50, seed=2)
    standin(TruthDP, cam, "dp-defocus", gain=0.7)
    frames, _, cmds, done = run(get_policy("learned-dp"), cam, context())
    assert done and dof_error(cam) <= 1.0 and reversals(cmds) == 0
    assert 3 <= len(cmds) <= 5 and frames <= 6  # 0.7 per jump: errors 30 %, 9 %, 2.7 % of the first


def _inverse_gain_calibration(gain: float) -> dict:
    knots = [-45.0, -10.0, 0.0, 10.0, 45.0]
    return {"knots_dof": knots, "values_dof": [k / gain for k in knots]}


@pytest.mark.parametrize("through", ["option", "context"])
def test_learned_dp_applies_a_defocus_calibration(standin, through):
    """A network reading 0.7 of the defocus, with its calibration (x 1/0.7): one jump and a confirm,
    like a truthful network; read raw it needs corrections (previous test)."""
    from dataclasses import replace

    cam = FakeCamera(450.0, start_code=50, seed=2)
    standin(TruthDP, cam, "dp-defocus", gain=0.7)
    cal = _inverse_gain_calibration(0.7)
    if through == "option":
        pol, ctx = get_policy("learned-dp", calibration=cal), context()
    else:
        pol, ctx = get_policy("learned-dp"), replace(context(), extra={"dp_defocus_calibration": cal})
    frames, _, cmds, done = run(pol, cam, ctx)
    assert done and frames == 2 and len(cmds) == 2 and dof_error(cam) < 0.3
    assert pol.calibration is not None and pol.calibration.map(7.0) == pytest.approx(10.0)


def test_learned_dp_reads_raw_when_told_or_on_an_unknown_camera(standin, tmp_path):
    cam = FakeCamera(450.0, start_code=50, seed=2)
    standin(TruthDP, cam, "dp-defocus", gain=0.7)
    ctx = context()
    assert ctx.name not in ("phone_main", "phone_main_tof", "phone_tele")
    for pol in (get_policy("learned-dp"), get_policy("learned-dp", calibration="none")):
        _, _, cmds, done = run(pol, cam, ctx)
        assert done and pol.calibration is None and len(cmds) >= 3
        cam.code = 50
    with pytest.raises(InputFileError, match="not found"):
        get_policy("learned-dp", calibration=str(tmp_path / "missing.json"))


def test_learned_dp_falls_back_to_contrast_when_uncertain(standin):
    cam = FakeCamera(300.0, start_code=150, seed=3)
    standin(TruthDP, cam, "dp-defocus", gain=0.3, logvar=6.0)  # sigma e^3 = 20 DoF per crop, 6.7 over 9 crops
    pol = get_policy("learned-dp")
    _frames, final, cmds, done = run(pol, cam, context())
    assert pol.fell_back and done and abs(final - 300.0) <= 15.0  # the contrast search finds it
    # the first (uncertain) guess is acted on, then two more frames pool at the new code: 6.7 / sqrt(2) > 2
    assert [p[3] > pol.uncertain_dof for p in pol.predictions] == [True, True, True]
    assert [p[1] for p in pol.predictions] == [150.0, cmds[1], cmds[1]]


def test_learned_dp_fallback_probes_toward_the_uncertain_reading(standin):
    """The contrast fallback's probe goes where the network's uncertain reading points (down
    here), not to the larger part of the code range (up), and the climb finds the peak."""
    cam = FakeCamera(100.0, start_code=250, seed=3)
    standin(TruthDP, cam, "dp-defocus", gain=0.3, logvar=6.0)  # reads 30 % of the defocus, unsure
    pol = get_policy("learned-dp")
    _, final, cmds, done = run(pol, cam, context())
    assert pol.fell_back and done and abs(final - 100.0) <= 15.0
    at = pol.predictions[-1][1]  # the code the climb starts from
    assert pol.predictions[-1][2] < -1.0 and at < 600 - at  # a reading below -1 DoF; more range above
    first = next(c for c in cmds[cmds.index(int(at)):] if c != int(at))
    assert first < at and reversals(cmds) <= 2


def test_hillclimb_direction_hint_is_checked():
    from focuslab.af.policies.contrast_hillclimb import ContrastHillClimb

    cam = FakeCamera(300.0, start_code=590, seed=1)
    hc = ContrastHillClimb()
    cmd = hc.start_from(context(), cam.observe(0), direction=1)  # no room above: the default side
    assert cmd.target_code < 590
    with pytest.raises(InvalidParameterError, match="direction must be -1, 1 or None"):
        hc.start_from(context(), cam.observe(0), direction=2)


def test_learned_dp_pools_uncertain_frames_at_one_code(standin):
    cam = FakeCamera(420.0, start_code=250, seed=8)
    # e^1.5 = 4.5 DoF per crop, 1.5 over 9 crops; frames scatter by 0.2 DoF (the pool sees noise)
    standin(TruthDP, cam, "dp-defocus", logvar=3.0, noise_dof=0.2)
    pol = get_policy("learned-dp", uncertain_dof=1.2)  # uncertain, unless two frames are pooled: 1.06
    _, final, cmds, done = run(pol, cam, context())
    assert done and not pol.fell_back and final == 420 and dof_error(cam) < 0.2
    # the first guess is acted on (4 codes off: the noise); two frames pooled there correct it, two confirm
    assert [p[1] for p in pol.predictions] == [250.0, cmds[1], cmds[1], 420.0, 420.0] and cmds[1] != 420


def test_learned_dp_does_not_pool_a_scene_sigma_away(standin):
    """Frames that read the same value to the last digit with a 1.5-DoF sigma: the sigma is not
    pixel noise, pooling does not lower it, and the policy hands over to contrast (a network that
    cannot read a low-contrast photograph far from focus, measured on phone_tele)."""
    cam = FakeCamera(420.0, start_code=100, seed=8)
    standin(TruthDP, cam, "dp-defocus", logvar=3.0, gain=0.05)  # reads 5 % of the defocus, unsure
    pol = get_policy("learned-dp", uncertain_dof=1.2)
    _, final, _, done = run(pol, cam, context())
    assert pol.fell_back and done and abs(final - 420.0) <= 15.0
    assert all(p[3] > pol.uncertain_dof for p in pol.predictions)


def test_pool_readings_keeps_a_sigma_the_frames_do_not_scatter_by():
    from scipy.stats import chi2

    from focuslab.af.af_signals import SCATTER_TEST_LEVEL, pool_readings

    d, s = pool_readings([(1.0, 2.0), (3.0, 2.0)])  # scatter as their sigma says: pooled
    assert d == pytest.approx(2.0) and s == pytest.approx(2.0 / math.sqrt(2))
    d, s = pool_readings([(1.0, 3.0), (1.01, 3.0), (0.99, 3.0), (1.0, 3.0)])  # far too close: kept
    assert d == pytest.approx(1.0) and s == pytest.approx(3.0)
    d, s = pool_readings([(0.0, 1.0), (2.0, 3.0)])  # inverse-variance weights 0.9 / 0.1
    assert d == pytest.approx(0.2) and s == pytest.approx(3.0 / math.sqrt(10.0))
    assert pool_readings([(0.5, 4.0)]) == (0.5, 4.0)
    # at the test's edge: statistic (x^2 / 2) / s^2 just above and below the 1 % quantile
    q = float(chi2.ppf(SCATTER_TEST_LEVEL, 1))
    x = math.sqrt(2.0 * q)
    assert pool_readings([(0.0, 1.0), (1.01 * x, 1.0)])[1] == pytest.approx(1 / math.sqrt(2))
    assert pool_readings([(0.0, 1.0), (0.99 * x, 1.0)])[1] == pytest.approx(1.0)
    with pytest.raises(InvalidParameterError, match="at least one"):
        pool_readings([])
    with pytest.raises(InvalidParameterError, match="finite sigmas > 0"):
        pool_readings([(0.0, 1.0), (1.0, 0.0)])
    # without the test (phase: measured sigmas) readings that agree exactly still pool
    assert pool_readings([(1.0, 3.0), (1.0, 3.0)], scatter_level=None)[1] == pytest.approx(3.0 / math.sqrt(2))
    # the test alone (the blind search asks it): the same edge, and one reading scatters as noise
    from focuslab.af.af_signals import scatter_as_noise

    assert scatter_as_noise([(0.0, 1.0), (1.01 * x, 1.0)]) and not scatter_as_noise([(0.0, 1.0), (0.99 * x, 1.0)])
    assert scatter_as_noise([(0.5, 4.0)])
    with pytest.raises(InvalidParameterError, match="finite sigmas > 0"):
        scatter_as_noise([(0.0, math.nan)])


def test_learned_dp_done_at_once_when_in_focus(standin):
    cam = FakeCamera(250.0, start_code=250, seed=4)
    standin(TruthDP, cam, "dp-defocus")
    frames, _final, cmds, done = run(get_policy("learned-dp"), cam, context())
    assert done and frames == 1 and cmds == [250]


@pytest.mark.parametrize(("best", "start"), [(380.0, 40), (90.0, 450)])
def test_learned_two_frame_probes_then_jumps(standin, best, start):
    cam = FakeCamera(best, start_code=start, seed=5, dual_pixel=False)
    standin(TruthTwoFrame, cam, "two-frame")
    pol = get_policy("learned-two-frame", probe_dof=3.0, finish="none")
    frames, _, cmds, done = run(pol, cam, context())
    assert done and dof_error(cam) < 0.2 and frames <= 5  # probe, jump, probe again (the jump > 80 codes), done
    probe = cmds[1] - cmds[0]
    assert np.sign(probe) == (1 if start < 300 else -1) and abs(probe) == pytest.approx(3 * 12.6, abs=3)
    assert abs(cmds[3] - cmds[2]) == pytest.approx(abs(probe), abs=2)  # a pair within the training moves


def test_learned_two_frame_pairs_are_limited_in_dof(standin):
    """The pair limits are the training moves in DoF (1-5), whatever a code is worth: an 8-DoF
    probe is cut to 5 DoF (63 codes on the fake's 12.6 codes per DoF)."""
    cam = FakeCamera(380.0, start_code=40, seed=5, dual_pixel=False)
    standin(TruthTwoFrame, cam, "two-frame")
    _, _, cmds, done = run(get_policy("learned-two-frame", probe_dof=8.0, finish="none"), cam, context())
    assert done and cmds[1] - cmds[0] == pytest.approx(5 * 12.6, abs=2)
    from focuslab.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="max_pair_dof"):
        get_policy("learned-two-frame", min_pair_dof=3.0, max_pair_dof=2.0)


@pytest.mark.parametrize("offset", [0.9, -0.9])
def test_learned_two_frame_finishes_on_the_focus_curve(standin, offset):
    """A pair network that stops 0.9 DoF off (within its 1-DoF stop): the peak finish probes
    beside the stop and places the lens on the focus curve's peak; stopping on the network leaves it off."""
    errors = {}
    for finish in ("none", "peak"):
        cam = FakeCamera(380.0, start_code=40, seed=5, dual_pixel=False)
        standin(TruthTwoFrame, cam, "two-frame", offset=offset)
        pol = get_policy("learned-two-frame", probe_dof=3.0, finish=finish)
        frames, _, cmds, done = run(pol, cam, context())
        assert done and not pol.fell_back
        errors[finish] = dof_error(cam)
        if finish == "peak":
            assert frames <= 9 and len(cmds) >= 5, cmds  # the network's moves, then probes and the peak
    assert 0.6 < errors["none"] < 1.2 and errors["peak"] < 0.3, errors


def test_learned_two_frame_finish_keeps_the_stop_on_a_flat_curve(standin):
    """A texture-less region (its focus value flat within the noise): contrast cannot place the lens,
    so the finish returns to where the network stopped."""
    cam = FakeCamera(380.0, start_code=40, seed=5, dual_pixel=False, texture=0.0, noise=0.01)
    standin(TruthTwoFrame, cam, "two-frame", offset=0.5)
    pol = get_policy("learned-two-frame", probe_dof=3.0)
    _, _, cmds, done = run(pol, cam, context())
    network_stop = pol.predictions[-1][1]  # the code of the network's last reading
    assert done and cmds[-1] == network_stop and abs(dof_error(cam) - 0.5) < 0.1


def test_learned_fusion_uses_depth_and_jumps(standin):
    cam = FakeCamera(333.0, start_code=0, seed=6, depth_m=1.0 / (333 * 0.02))
    standin(TruthFusion, cam, "fusion")
    frames, _, _, done = run(get_policy("learned-fusion"), cam, context())
    assert done and frames == 2 and dof_error(cam) < 0.2


def test_learned_video_tracks_without_hunting_when_still(standin):
    cam = FakeCamera(200.0, start_code=200, seed=7)
    standin(TruthTemporal, cam, "temporal")
    pol = get_policy("learned-video")
    pol.reset(context())
    errors, codes = [], []
    for i in range(60):
        cam.best = 200.0 + 4.0 * min(i, 30)  # moves 4 codes a frame for 1 s, then stands still
        cmd = pol.step(cam.observe(i))
        assert not cmd.done
        if cmd.target_code is not None:
            cam.code = cmd.target_code
        errors.append(dof_error(cam))
        codes.append(cam.code)
    assert max(errors[40:]) <= 1.0  # caught up: in focus (<= 1 DoF) on the still subject
    assert len(set(codes[45:])) == 1  # no hunting once still
    assert math.sqrt(np.mean(np.square(errors))) < 1.0


OLD_VIDEO_LIMITS = {"target_accel_dof": 0.1, "max_speed_dof": 2.0, "max_accel_dof": 0.5, "max_jerk_dof": 0.25}


@pytest.mark.parametrize("options", [{}, OLD_VIDEO_LIMITS], ids=["defaults", "previous-defaults"])
def test_learned_video_follows_a_cut_to_another_subject_quickly(standin, options):
    """A pan to a subject 6 DoF farther, read with a 0.8-DoF sigma: with the defaults the lens
    is within 1 DoF 7 frames after the cut (the first frame of the new subject an outlier, the
    second restarts the track; then the follower's critically damped approach), its mean error
    over the first 5 frames below 5.2 DoF, without overshoot or reversal, and it rests there.
    The previous defaults (a slow tracker and soft lens limits): 9 frames and 5.9 DoF."""
    cam = FakeCamera(300.0, start_code=300, seed=9)
    standin(TruthTemporal, cam, "temporal", logvar=1.0)
    pol = get_policy("learned-video", **options)
    pol.reset(context())
    errors, codes = [], []
    for i in range(40):
        cam.best = 300.0 if i < 10 else 300.0 - 6.0 * CODES_PER_DOF
        cmd = pol.step(cam.observe(i))
        if cmd.target_code is not None:
            cam.code = cmd.target_code
        errors.append(dof_error(cam))
        codes.append(cam.code)
    arrive = next(i for i in range(10, 40) if errors[i] <= 1.0) - 10
    fast = arrive <= 7 and np.mean(errors[10:15]) < 5.2
    if options:
        assert not fast and arrive >= 9
        return
    assert fast and max(errors[10 + arrive:]) <= 1.0
    assert reversals(codes) == 0 and min(codes) >= cam.best - 1.0 * CODES_PER_DOF
    assert len(set(codes[20 + arrive:])) == 1


def test_defocus_target_code_inverts_the_thin_lens():
    from focuslab.af.backends import SimulatorBackend
    from focuslab.camera import get_camera
    from focuslab.scene.library import make_scene

    cam = get_camera("phone_main")
    ctx = SimulatorBackend(cam, make_scene("two_planes", shape=(48, 64), subject_distance_m=1.0)).context
    for u in (0.15, 0.4, 1.2, 3.0):
        want = cam.focus_code_for_distance(u)
        for code in (ctx.min_code + 20, 300, 600, ctx.max_code - 5):
            d = float(cam.coc_um(u, float(cam.actuator.displacement_um(code)))) / cam.coc_max_um
            got = defocus_target_code(ctx, code, d)
            assert abs(got - want) <= 1.0, (u, code, d, got, want)


def test_learned_policies_are_registered_with_their_needs():
    from focuslab.bench.af_runner import default_methods

    assert set(LEARNED) <= set(policy_names()) and set(LEARNED) <= set(default_methods())
    assert get_policy("learned-dp").requires == {"dual_pixel", "lens_model"}
    assert get_policy("learned-two-frame").requires == {"lens_model"}
    assert get_policy("learned-fusion").requires == {"dual_pixel", "depth", "lens_model"}
    assert get_policy("learned-video").requires == {"dual_pixel", "lens_model"}


@pytest.mark.parametrize("policy", sorted(LEARNED))
def test_missing_weights_fail_with_one_line(policy, tmp_path, monkeypatch):
    pytest.importorskip("focuslab.models")
    import focuslab.models.registry as reg

    monkeypatch.setattr(lw, "_CACHE", {})
    monkeypatch.setattr(reg, "WEIGHTS_DIR", tmp_path)
    pol = get_policy(policy)
    with pytest.raises(InputFileError) as err:
        pol.reset(context())
    msg = str(err.value)
    assert policy in msg and LEARNED[policy] in msg and "does not exist" in msg and "\n" not in msg


def test_missing_weights_through_the_bench_cli(tmp_path, monkeypatch, capsys):
    pytest.importorskip("focuslab.models")
    import focuslab.models.registry as reg
    from focuslab.cli.main import main

    monkeypatch.setattr(lw, "_CACHE", {})
    monkeypatch.setattr(reg, "WEIGHTS_DIR", tmp_path / "none")
    rc = main(["bench", "--suite", "low-texture", "--method", "learned-dp", "--workers", "1",
               "--out", str(tmp_path / "b")])
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]  # the progress bar leaves a blank
    assert rc == 2 and len(lines) == 1 and "learned-dp" in lines[0] and "does not exist" in lines[0]


def test_bad_options_are_one_line_errors():
    from focuslab.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="max_uncertain must be an integer >= 1"):
        get_policy("learned-dp", max_uncertain=0)
    with pytest.raises(InvalidParameterError, match="probe_dof must be > 0"):
        get_policy("learned-two-frame", probe_dof=-1)
    with pytest.raises(InvalidParameterError, match="finish must be 'peak' or 'none'"):
        get_policy("learned-two-frame", finish="bogus")
    with pytest.raises(InvalidParameterError, match="finish_probes must be an integer >= 0"):
        get_policy("learned-two-frame", finish_probes=-1)
    with pytest.raises(InvalidParameterError, match="finish_step_dof must be > 0"):
        get_policy("learned-two-frame", finish_step_dof=0)
    with pytest.raises(InvalidParameterError, match="rejected its options"):
        get_policy("learned-video", nonsense=1)
    for bad in ("bogus", -0.5, 0.0):
        with pytest.raises(InvalidParameterError, match="calibration"):
            get_policy("learned-video", calibration=bad)


def test_learned_video_scales_readings_by_a_given_gain(standin):
    """``calibration=<gain>``: every reading (and its sigma) is multiplied by the gain before the
    tracker sees it: a network reading 1.6x the defocus, given 1 / 1.6, reads the truth."""
    cam = FakeCamera(300.0, start_code=300 - 40, seed=4)
    standin(TruthTemporal, cam, "temporal", gain=1.6, logvar=-1.0)
    truth = true_defocus_dof(cam.best, cam.code)
    sigmas = []
    for cal, want in (("none", 1.6 * truth), (1 / 1.6, truth)):
        pol = get_policy("learned-video", calibration=cal)
        pol.reset(context())
        pol.step(cam.observe(0))
        assert pol.predictions[0][2] == pytest.approx(want, rel=1e-5), cal
        sigmas.append(pol.predictions[0][3])
    assert sigmas[1] == pytest.approx(sigmas[0] / 1.6, rel=1e-5)


@pytest.mark.parametrize(("camera", "measured", "applied"),
                         [("phone_tele", 0.64, 0.64), ("phone_main", 1.05, None), ("phone_main", None, None)])
def test_learned_video_auto_gain_scales_only_an_over_reading(monkeypatch, camera, measured, applied):
    """``calibration="auto"`` measures the preset's gain once per camera and region size and
    applies it only below one (an over-reading network); a refused sweep reads raw."""
    from focuslab.af.backends import SimulatorBackend
    from focuslab.af.policies import learned_video
    from focuslab.camera import get_camera
    from focuslab.errors import InvalidParameterError
    from focuslab.models import temporal_calibration as tc
    from focuslab.scene.library import make_scene

    calls = []

    def fake_gain(model, cam, *, roi_px, **kw):
        calls.append((cam, roi_px))
        if measured is None:
            raise InvalidParameterError("a gain calibration needs >= 10 readings")
        return measured

    monkeypatch.setattr(tc, "temporal_rest_gain", fake_gain)
    monkeypatch.setattr(learned_video, "_GAINS", {})
    backend = SimulatorBackend(get_camera(camera), make_scene("dead_leaves", shape=(96, 128)), roi=(0, 0, 64, 64))
    for _ in range(2):  # the second run takes the cached gain
        pol = get_policy("learned-video")
        pol.reset(backend.context)
        pol.step(backend.observe(0, 0.0))
        assert pol.gain == applied
    assert calls == [(camera, 64)]


def test_learned_video_reads_raw_on_a_camera_the_simulator_does_not_know(standin, monkeypatch):
    from focuslab.models import temporal_calibration as tc

    monkeypatch.setattr(tc, "temporal_rest_gain", lambda *a, **k: pytest.fail("no sweep for an unknown camera"))
    cam = FakeCamera(300.0, start_code=300, seed=4)
    standin(TruthTemporal, cam, "temporal")
    pol = get_policy("learned-video")
    pol.reset(context())
    pol.step(cam.observe(0))
    assert pol.gain is None


def test_learned_dp_moves_on_an_uncertain_prediction_whose_side_is_sure(standin):
    cam = FakeCamera(450.0, start_code=50, seed=9)
    standin(TruthDP, cam, "dp-defocus", logvar=6.0)  # sigma 6.7 DoF over 9 crops; |d| ~ 30 DoF > 2 sigma
    pol = get_policy("learned-dp")
    pol.reset(context())
    cmd = pol.step(cam.observe(0))
    assert abs(cmd.target_code - 450.0) <= 1.0
    assert pol.predictions[0][3] > pol.uncertain_dof and abs(pol.predictions[0][2]) > 2 * pol.predictions[0][3]


def test_shipped_dp_network_focuses_a_simulated_still_in_the_closed_loop():
    """Integration: the shipped dp-defocus weights through learned-dp on stills-bright case 01
    (the astronaut photograph at 0.61 m, lens parked 31 DoF away at code 685)."""
    reg = pytest.importorskip("focuslab.models.registry")
    if not reg.weights_path("dp-defocus").is_file():
        pytest.skip("no shipped dp-defocus weights")
    from focuslab.bench.af_runner import run_case
    from focuslab.bench.suites import suite_cases

    lw.clear_model_cache()
    case = suite_cases("stills-bright")[1]
    (rec,) = run_case(case, ["learned-dp"])
    m = rec["metrics"]
    assert rec["trace"]["error_dof"][0] > 20.0  # it starts far out of focus
    assert m["in_focus"] and m["final_error"] <= 1.0 and m["frames_to_focus"] <= 3 and m["reversals"] == 0


def test_learned_dp_loads_the_per_sensor_weights_when_asked():
    pol = get_policy("learned-dp", weights="pixel4")
    pol.reset(context())
    assert pol.model.metadata["train_config"]["dp_families"] == ["pixel4"]
    pol = get_policy("learned-dp")
    pol.reset(context())
    assert pol.model.metadata["train_config"].get("dp_families") is None  # the general weights by default


def test_learned_dp_reads_raw_when_the_preset_calibration_is_refused(monkeypatch):
    """A chart sweep the fit refuses (e.g. too few points) leaves the network raw instead of failing the run."""
    import focuslab.models.dp_calibration as dc
    from focuslab.af.backends import SimulatorBackend
    from focuslab.af.policies import learned_dp
    from focuslab.camera import get_camera
    from focuslab.errors import InvalidParameterError
    from focuslab.scene.library import make_scene

    def refuse(*a, **k):
        raise InvalidParameterError("a defocus calibration needs >= 20 points, got 3")

    monkeypatch.setattr(dc, "calibrate_dp_network", refuse)
    monkeypatch.setattr(learned_dp, "_CALIBRATIONS", {})
    ctx = SimulatorBackend(get_camera("phone_main"), make_scene("dead_leaves"), roi=(0, 0, 64, 64)).context
    assert learned_dp.preset_dp_calibration(ctx, object(), None, 64) is None
    assert learned_dp._CALIBRATIONS == {("phone_main", "", 64): None}


def test_learned_dp_focuses_the_near_card_of_a_depth_edge():
    """A near card over 5/8 of the region and a background 3-6 m away: pooled over every crop
    the reading is a blend and the lens settles between the depths; with the nearest-subject
    pooling (the default) it ends on the card (depth-edge quick suite, seed 0: measured 3 of 3
    in focus, 0 of 3 with ``nearest_subject=False``)."""
    from focuslab.bench.af_case import build_scene
    from focuslab.bench.af_runner import run_method
    from focuslab.bench.suites import suite_cases

    ends = {"learned-dp": [], "learned-dp:nearest_subject=false": []}
    for case in suite_cases("depth-edge"):
        scene = build_scene(case)
        for m in ends:
            ends[m].append(run_method(case, m, scene)[0]["metrics"])
    assert sum(m["in_focus"] for m in ends["learned-dp"]) >= 2, ends
    assert sum(m["in_focus"] for m in ends["learned-dp:nearest_subject=false"]) == 0, ends
    from focuslab.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="nearest_subject"):
        get_policy("learned-dp", nearest_subject="yes")


def test_learned_fusion_focuses_the_near_card_of_a_depth_edge_more_often():
    """The same nearest-subject pooling in ``learned-fusion`` (depth-edge full suite, seed 0:
    measured 5 of 6 in focus, 3 of 6 with ``nearest_subject=False``)."""
    from focuslab.bench.af_case import build_scene
    from focuslab.bench.af_runner import run_method
    from focuslab.bench.suites import suite_cases

    hits = {"learned-fusion": 0, "learned-fusion:nearest_subject=false": 0}
    for case in suite_cases("depth-edge", full=True):
        scene = build_scene(case)
        for m in hits:
            hits[m] += run_method(case, m, scene)[0]["metrics"]["in_focus"]
    assert hits["learned-fusion"] >= hits["learned-fusion:nearest_subject=false"] + 2, hits


def test_texture_snr_tells_a_faint_wall_from_a_texture():
    """The texture's Tenengrad over its own noise: a textured fake stays far above the blind
    threshold (in focus and 10 DoF out), a 1 %-contrast one and pure noise sit near zero."""
    from focuslab.af.af_signals import FocusValue, observation_focus, texture_snr

    def snr(texture, best, code):
        return texture_snr(observation_focus(FakeCamera(best, start_code=code, seed=3, texture=texture).observe(0)))

    blind = get_policy("learned-dp").blind_snr
    assert blind == 20.0 and get_policy("learned-fusion").blind_snr == 0.0
    assert snr(1.0, 300, 300) > 5 * blind and snr(1.0, 300, 150) > 3 * blind
    assert snr(0.01, 300, 300) < blind / 3 and abs(snr(0.0, 300, 300)) < 3.0
    assert math.isnan(texture_snr(FocusValue(1.0, math.nan, 0.5, 0.01)))  # not a Tenengrad value


def _blind_policy(points):
    """A learned-dp with a blind search's points set by hand (code, reading, sigma)."""
    pol = get_policy("learned-dp")
    pol._ctx = context()
    pol._blind = list(points)
    return pol


@pytest.mark.parametrize("gain", [0.6, 0.35, 1.2])
def test_blind_fit_finds_the_zero_of_a_shrunk_reading(gain):
    """Noise-free readings r = g d (+ a bias b) at lens positions around focus: the line's zero is
    the focus. With g at the prior's mean the fit is exact; with the points spread over +-6 DoF
    the data outweigh the prior and a gain of 0.35 or 1.2 is found within a few per cent."""
    from focuslab.af.policies.learned_jump import BLIND_GAIN_PRIOR

    best = 300.0
    codes = [best + k for k in (-90, -60, -30, 0, 30, 60, 90)] if gain != BLIND_GAIN_PRIOR[0] else [220.0, 340.0]
    pts = [(c, gain * true_defocus_dof(best, c), 3.0) for c in codes]
    pol = _blind_policy(pts)
    for ref in (250.0, 330.0):
        d, g = pol.blind_fit(ref)
        assert abs(defocus_target_code(context(), ref, d) - best) < (0.3 if gain == BLIND_GAIN_PRIOR[0] else 4.0)
        if gain != BLIND_GAIN_PRIOR[0]:
            assert g == pytest.approx(gain, rel=0.08)
    # a bias shifts the zero by b / g: that is what the network says, and the fit follows it
    pts = [(c, r + 0.6, s) for c, r, s in pts]
    d, g = _blind_policy(pts).blind_fit(best)
    assert d == pytest.approx(0.6 / g, rel=0.05)


def test_blind_fit_keeps_the_gain_in_range():
    """Readings that rise through focus (noise: a wrong-signed slope) do not flip the search:
    the gain is held at its lower bound."""
    from focuslab.af.policies.learned_jump import BLIND_GAIN_RANGE

    pts = [(c, -0.5 * true_defocus_dof(300.0, c) + 1.0, 3.0) for c in (200.0, 250.0, 300.0, 350.0, 400.0)]
    d, g = _blind_policy(pts).blind_fit(300.0)
    assert g == BLIND_GAIN_RANGE[0] and d == pytest.approx(1.0 / BLIND_GAIN_RANGE[0], rel=0.05)


def test_learned_dp_searches_blind_on_a_wall_contrast_cannot_see(standin):
    """A 0.3 %-contrast wall: the network reads 40 % of the defocus, scattering by 1 DoF a frame
    with a 6.7-DoF sigma, and contrast is blind. The policy fits the readings of several lens
    positions and ends in focus, where the contrast fall-back (blind_snr=0) ends 1.5 DoF off."""
    results = {}
    for blind in (20.0, 0.0):
        cam = FakeCamera(300.0, start_code=150, seed=3, texture=0.003)
        standin(TruthDP, cam, "dp-defocus", gain=0.4, logvar=6.0, noise_dof=1.0)
        pol = get_policy("learned-dp", blind_snr=blind)
        frames, _, cmds, done = run(pol, cam, context())
        results[blind] = (pol, frames, dof_error(cam), cmds, done)
    pol, frames, err, cmds, done = results[20.0]
    assert done and pol.searched_blind and not pol.fell_back and err <= 1.0
    assert frames <= pol.max_frames + 18 and 3 <= len(pol._blind) <= 8
    assert all(abs(c - 300) < 150 for c in cmds[1:])  # no run to the end stops
    pol0, _, err0, _, done0 = results[0.0]
    assert done0 and pol0.fell_back and not pol0.searched_blind and err0 > 1.0


def test_learned_dp_still_falls_back_to_contrast_on_a_textured_scene(standin):
    """An uncertain network on a textured region (contrast sees it): the contrast fall-back, as before."""
    cam = FakeCamera(300.0, start_code=150, seed=3)
    standin(TruthDP, cam, "dp-defocus", gain=0.3, logvar=6.0)
    pol = get_policy("learned-dp")
    run(pol, cam, context())
    assert pol.fell_back and not pol.searched_blind


def test_blind_snr_option_is_checked():
    with pytest.raises(InvalidParameterError, match="blind_snr"):
        get_policy("learned-dp", blind_snr=-1.0)

def test_dp_defocus_crops_of_one_surface_stay_under_learned_dps_gate():
    """The nearest-subject gate of ``learned-dp`` (reduced chi-square 1.5) against the shipped
    ``dp-defocus`` on rendered regions: every stills-bright quick case, its lens in focus and
    2 DoF off, reads its crops as one surface (measured 0.02-0.27); each depth-edge quick case,
    the lens on its card, reads two depths (measured 2.5, 3.1 and 7.8)."""
    from focuslab.af.af_signals import codes_per_dof
    from focuslab.af.backends import SimulatorBackend
    from focuslab.af.policies.learned_dp import LearnedDPAF
    from focuslab.af.policies.learned_weights import learned_model
    from focuslab.bench.af_case import build_scene
    from focuslab.bench.suites import suite_cases
    from focuslab.camera import get_camera
    from focuslab.models.nearest_subject import reduced_chi2
    from focuslab.models.predict import dp_defocus_map

    model = learned_model("learned-dp", "dp-defocus", None)
    gate = LearnedDPAF.nearest_chi2_per_dof

    def chi2_at(case, scene, off_dof):
        cam = get_camera(case.camera)
        probe = SimulatorBackend(cam, scene, roi=case.roi, illuminance_lux=case.illuminance_lux, seed=case.seed)
        best = probe.truth(0.0).best_code
        code = round(best + off_dof * codes_per_dof(probe.context, best))
        be = SimulatorBackend(cam, scene, roi=case.roi, illuminance_lux=case.illuminance_lux, seed=case.seed,
                              initial_code=code)
        obs = be.observe(0, 0.0)
        _, d, s = dp_defocus_map(model, obs.left, obs.right)
        return reduced_chi2(d, s)

    one = [chi2_at(c, scene, off) for c in suite_cases("stills-bright") for scene in [build_scene(c)]
           for off in (0.0, 2.0)]
    assert max(one) < gate, one
    two = [chi2_at(c, build_scene(c), 0.0) for c in suite_cases("depth-edge")]
    assert min(two) > gate, two  # the default gate, 3, misses one of the three


class _FarUnsureDP(TruthDP):
    """A stand-in that reads far defocus short, as the real network saturates (beyond 8 DoF it
    adds only a tenth of the rest), with a sigma that grows with what it reads: far away each
    reading is sure of its side but not of its size."""

    def answer(self, batch, extra=0.0):
        out = super().answer(batch, extra)
        d = float(out[0, 0])
        r = math.copysign(min(abs(d), 8.0 + 0.1 * max(abs(d) - 8.0, 0.0)), d)
        out[:, 0] = r
        # log variance: a crop's sigma 0.9 + 0.9 |r|, the region's (9 crops pooled) 0.3 + 0.3 |r|
        out[:, 1] = 2.0 * math.log(0.9 + 0.9 * abs(r))
        return out


def test_sure_side_moves_from_afar_do_not_use_up_the_corrections(standin):
    """A start ~60 DoF out on a reading that saturates: the first moves are taken on readings
    sure only of their side (sigma above ``uncertain_dof``); only the moves on sure readings count
    against ``max_corrections``, so the run still has its corrections near focus and ends in
    focus (counting every move, it stopped after four, 4.0 DoF out)."""
    cam = FakeCamera(560.0, start_code=20, seed=4, depth_m=1.0)
    standin(_FarUnsureDP, cam, "dp-defocus")
    pol = get_policy("learned-dp", nearest_subject=False)
    _, _, cmds, done = run(pol, cam, context())
    assert done and dof_error(cam) <= 0.5  # measured 0.0; counting every move, 4.0
    assert len(cmds) > 1 + pol.max_corrections  # more moves than the budget: the unsure ones were free


def test_learned_two_frame_sweeps_for_the_near_card_of_a_depth_edge():
    """Depth from defocus reads the surface out of focus on a region holding two depths; where
    the pair's crops disagree (or the network gives up after they hinted so) the run goes on as
    a contrast sweep with nearest-subject priority (depth-edge quick suite, seed 0: measured 3 of
    3 in focus and swept; 1 of 3 with ``nearest_subject=False``, the astronaut card ending 3.6
    DoF off on the background)."""
    from focuslab.af.loop import run_af
    from focuslab.bench.af_case import build_scene
    from focuslab.bench.af_runner import _make_backend
    from focuslab.bench.suites import suite_cases

    for case in suite_cases("depth-edge"):
        scene = build_scene(case)
        pol = get_policy("learned-two-frame")
        run = run_af(pol, _make_backend(case, scene))
        assert run.metrics.in_focus and pol.swept, (case.case_id, run.metrics)
        if case.case_id == "01-astronaut":
            whole = run_af(get_policy("learned-two-frame", nearest_subject=False), _make_backend(case, scene))
            assert whole.metrics.final_error_dof > 3.0, whole.metrics
    with pytest.raises(InvalidParameterError, match="nearest_subject"):
        get_policy("learned-two-frame", nearest_subject="yes")


@pytest.mark.parametrize(("texture", "chi2", "swept"), [(1.0, 5.0, True), (1.0, 0.5, False), (0.003, 5.0, False)])
def test_learned_two_frame_gives_up_to_the_sweep_only_on_a_textured_two_depth_hint(standin, texture, chi2, swept):
    """The hand-over where the network gives up: the nearest-subject sweep when some pair's crops
    hinted at two depths (chi-square >= 1) on a textured region, else the contrast hill-climb (a
    faint wall, or a region the crops read as one depth)."""
    cam = FakeCamera(300.0, start_code=300, seed=1, texture=texture)
    standin(TruthTwoFrame, cam, "two-frame")
    pol = get_policy("learned-two-frame")
    pol.reset(context())
    pol._max_chi2 = chi2  # what the run's crops read so far (white box: the rule alone)
    cmd = pol.fall_back(cam.observe(0))
    assert pol.swept is swept and pol.fell_back is (not swept)
    if swept:  # the sweep's window: 12 DoF toward infinity to 12 toward near, in the context's DoF
        from focuslab.af.af_signals import codes_per_dof

        ctx, dof = pol._sweep._ctx, codes_per_dof(context(), 300)
        assert ctx.min_code == pytest.approx(max(300 - 12 * dof, context().min_code), abs=1)
        assert ctx.max_code == pytest.approx(min(300 + 12 * dof, context().max_code), abs=1)
        assert cmd.target_code == ctx.min_code  # it starts from the far end


@pytest.mark.parametrize(("peak", "window", "edge"), [
    (100.0, (100, 300), -1),   # at the far end of a window short of the range: climb on outward
    (300.0, (100, 300), 1),    # at the near end
    (200.0, (100, 300), 0),    # bracketed
    (100.0, (0, 300), 0),      # at the far end, but that is the end of the code range
])
def test_learned_two_frame_does_not_trust_a_sweep_peak_at_a_window_end(standin, peak, window, edge):
    """A sweep whose peak lies within half a step of a window end short of the code range has
    not bracketed its subject (a wide_main_6mm photograph 23 DoF beyond ended 23.5 DoF off)."""
    from dataclasses import replace

    from focuslab.af.policies.contrast_sweep import ContrastSweepPolicy

    cam = FakeCamera(300.0, start_code=200, seed=1)
    standin(TruthTwoFrame, cam, "two-frame")
    pol = get_policy("learned-two-frame")
    ctx = replace(context(), min_code=0, max_code=1000)
    pol.reset(ctx)
    sweep = ContrastSweepPolicy(priority="nearest", fine_frames=0, lowpass_sigma_px=0.0)
    sweep.reset(replace(ctx, min_code=window[0], max_code=window[1]))
    sweep.peak_code = peak
    pol._sweep = sweep
    assert pol._sweep_edge() == edge
