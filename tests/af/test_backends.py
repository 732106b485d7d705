"""Backends: the simulator's observations, commands and truth; replay of focal-stack folders."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from focuslab.af.backends import ReplayBackend, ReplayStack, SimulatorBackend
from focuslab.af.region_depth import dominant_distance_m
from focuslab.af.replay import stack_lens_model
from focuslab.camera.presets import get_camera
from focuslab.data.image_files import write_png
from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.scene.library import make_scene

ROI = (472, 346, 64, 64)  # centre of phone_main's 1008 x 756 stream


@pytest.fixture(scope="module")
def cam():
    return get_camera("phone_main")


@pytest.fixture(scope="module")
def scene():
    return make_scene("dead_leaves", shape=(120, 160), subject_distance_m=0.5, seed=1)


def test_context_from_the_camera(cam, scene):
    ctx = SimulatorBackend(cam, scene, roi=ROI).context
    assert ctx.min_code == cam.actuator.start_code == cam.focus_code_for_distance(math.inf)
    assert ctx.max_code == cam.focus_code_for_distance(cam.lens.min_focus_distance_m)
    assert ctx.has_dual_pixel and not ctx.has_depth and ctx.has_lens_model
    assert 0 < ctx.settle_time_s < ctx.frame_interval_s
    assert ctx.coc_max_um == pytest.approx(2.8)
    assert ctx.code_for_distance(0.5) == cam.focus_code_for_distance(0.5)
    assert ctx.distance_for_code(ctx.code_for_distance(0.5)) == pytest.approx(0.5, rel=0.01)


def test_observation_is_the_scaled_roi_raw(cam, scene):
    be = SimulatorBackend(cam, scene, roi=ROI, seed=2, exposure_s=0.01)
    obs = be.observe(0, 0.0)
    assert obs.image.shape == (64, 64) and obs.image.dtype == np.float32
    assert obs.left.shape == (64, 64) and obs.right.dtype == np.float32
    assert obs.cfa in ("RGGB", "BGGR", "GRBG", "GBRG") and obs.depth is None
    assert obs.roi == ROI and obs.frame_shape_px == cam.stream_sensor.shape_px
    assert obs.exposure_s == 0.01 and obs.lens_code == cam.actuator.start_code
    assert 0.02 < float(np.mean(obs.image)) < 1.0  # a lit texture, black removed
    # exposure capped by the frame interval
    assert SimulatorBackend(cam, scene, roi=ROI, exposure_s=1.0).exposure_s == cam.frame_interval_s


def test_reported_code_is_the_true_position_plus_hall_noise(cam, scene):
    quiet = SimulatorBackend(cam, scene, roi=ROI, seed=3, hall_noise_um=0.0)
    quiet.observe(0, 0.0)
    quiet.command(300, 0.01)
    t = 0.2
    obs = quiet.observe(1, t)
    exact = quiet.code_for_um(quiet.session.lens_position_um(t + quiet.exposure_s))
    assert obs.reported_code == pytest.approx(exact, abs=1e-9)
    # settled 190 ms after the move: within the play (w/2 = 1 µm ~ 3.3 codes) of the command
    assert abs(obs.reported_code - 300) <= 0.5 * cam.actuator.hysteresis_um / 0.3 + 0.5
    noisy = SimulatorBackend(cam, scene, roi=ROI, seed=3, hall_noise_um=0.6)
    diffs = []
    for i in range(12):
        o = noisy.observe(i, i / 30.0)
        diffs.append(o.reported_code - noisy.code_for_um(noisy.session.lens_position_um(i / 30.0 + noisy.exposure_s)))
    assert 0.5 < np.std(diffs) * 0.3 < 1.2  # ~0.6 µm rms at 0.3 µm per code


def test_commands_are_clipped_to_the_code_range(cam, scene):
    be = SimulatorBackend(cam, scene, roi=ROI)
    assert be.command(5000, 0.0) == be.context.max_code
    assert be.command(-7, 0.1) == be.context.min_code
    assert be.command(250.4, 0.2) == 250


def test_truth_best_code_and_focus_error(cam, scene):
    be = SimulatorBackend(cam, scene, roi=ROI, seed=4)
    tr = be.truth(0.0)
    assert tr.subject_distance_m == pytest.approx(0.5)
    assert abs(tr.best_code - cam.focus_code_for_distance(0.5)) <= 0.5
    d_um = be.session.exposure_position_um(0.0, be.exposure_s)
    assert tr.focus_error_dof == pytest.approx(float(cam.focus_error_dof(0.5, d_um)))
    assert abs(tr.lens_code_true - cam.actuator.start_code) < 4 * 0.3 / 0.3  # resting on the stop (+ jitter)
    # at the best code, settled, the error is only play + jitter
    be.command(round(tr.best_code), 0.0)
    settled = be.truth(0.3)
    assert settled.focus_error_dof < 0.35


def test_region_truth_nearest_subject_covering_30_percent(cam):
    sc = make_scene("two_planes", shape=(120, 160), subject_distance_m=0.4, seed=1, background_distance_m=3.0)
    centre = SimulatorBackend(cam, sc, roi=ROI).truth(0.0)
    assert centre.subject_distance_m == pytest.approx(0.4)
    corner = SimulatorBackend(cam, sc, roi=(20, 20, 64, 64)).truth(0.0)
    assert corner.subject_distance_m == pytest.approx(3.0)
    # the grouping rule itself: 35 % near -> near; 20 % near -> the far majority
    near = np.r_[np.full(35, 0.4), np.full(65, 3.0)]
    assert dominant_distance_m(near, diopters_per_dof=0.25) == pytest.approx(0.4)
    assert dominant_distance_m(np.r_[np.full(20, 0.4), np.full(80, 3.0)], diopters_per_dof=0.25) == pytest.approx(3.0)
    slope = np.linspace(1.0, 1.2, 101)  # one continuous surface: its median
    assert dominant_distance_m(slope, diopters_per_dof=0.25) == pytest.approx(1.0 / np.median(1 / slope))
    assert dominant_distance_m(np.array([]), diopters_per_dof=0.25) is None


def test_depth_zones_on_a_camera_with_a_tof(scene):
    cam = get_camera("phone_main_tof")
    be = SimulatorBackend(cam, scene, roi=ROI, seed=5)
    assert be.context.has_depth
    obs = be.observe(0, 0.0)
    z = obs.depth
    assert z is not None and z.rois_px.shape == (*z.distance_m.shape, 4)
    assert np.nanmedian(z.distance_m[z.valid]) == pytest.approx(0.5, abs=0.05)


def test_simulator_bad_inputs(cam, scene):
    for kw in ({"roi": (1000, 0, 64, 64)}, {"illuminance_lux": 0.0}, {"exposure_s": -1.0}, {"hall_noise_um": -1.0}):
        with pytest.raises(InvalidParameterError):
            SimulatorBackend(cam, scene, **kw)
    with pytest.raises(InvalidParameterError):
        SimulatorBackend("phone_main", scene)
    with pytest.raises(InvalidParameterError):
        SimulatorBackend(cam, "dead_leaves")


# ---------------------------------------------------------------------------------- replay
def write_stack(root, n=7, best=4, size=(40, 48), focus=True, gt=None, dp=False, raw=False):
    """A synthetic focal stack: frame i blurred by |i - best| (Gaussian)."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    tex = rng.random(size)
    frames = []
    for i in range(n):
        img = gaussian_filter(tex, 0.9 * abs(i - best)) if i != best else tex
        data = (64 + img * 900).astype(np.uint16) if raw else (img * 255).astype(np.uint8)
        write_png(root / f"f_{i}.png", data)
        e = {"file": f"f_{i}.png", "lens_position": 10 * i}
        if focus:
            e["focus_distance_m"] = 1.0 / (0.5 + 0.5 * i)  # 0.5 D per frame
        if dp:
            write_png(root / f"f_{i}_l.png", data)
            write_png(root / f"f_{i}_r.png", data)
            e["left"], e["right"] = f"f_{i}_l.png", f"f_{i}_r.png"
        frames.append(e)
    cam = {"focal_length_mm": 4.38, "f_number": 1.73, "pixel_pitch_um": 1.4}
    if raw:
        cam.update(black_level_dn=64, white_level_dn=1023, cfa="RGGB")
    man = {"format": "focuslab.focal_stack/1", "camera": cam, "frames": frames}
    if gt:
        man["ground_truth"] = gt
    (root / "stack.json").write_text(json.dumps(man))
    return root


def test_replay_frames_follow_the_lens_and_truth_is_the_sweep_peak(tmp_path):
    be = ReplayBackend(write_stack(tmp_path / "s", focus=False), roi=(0, 0, 48, 40))
    ctx = be.context
    assert (ctx.min_code, ctx.max_code, ctx.frame_interval_s) == (0, 60, pytest.approx(1 / 30))
    assert ctx.extra["lens_positions"] == tuple(float(10 * i) for i in range(7)) and not ctx.has_lens_model
    obs = be.observe(0, 0.0)
    assert obs.reported_code == 0.0 and obs.image.dtype == np.float32 and obs.image.max() <= 1.0
    be.command(33, 0.01)
    tr = be.truth(1 / 30)
    assert be.observe(1, 1 / 30).reported_code == 30.0  # the nearest frame
    assert tr.best_code == pytest.approx(40.0, abs=2.0) and tr.focus_error_frames == pytest.approx(1.0, abs=0.2)
    assert tr.focus_error_dof is None and tr.lens_code_true == 30.0


def test_replay_ground_truth_and_dof(tmp_path):
    # subject at 1/2.5 D: frame 4 (0.5 + 0.5*4 = 2.5 D)
    be = ReplayBackend(write_stack(tmp_path / "g", gt={"subject_distance_m": 0.4}, dp=True, raw=True))
    assert be.context.has_dual_pixel
    obs = be.observe(0, 0.0)
    assert obs.cfa == "RGGB" and obs.left is not None and obs.image.dtype == np.float32
    tr = be.truth(0.0)
    assert tr.best_code == pytest.approx(40.0) and tr.focus_error_frames == pytest.approx(4.0)
    # 2 D of defocus at A s ~ 2.53 mm x 4.4 mm ~ 11.1 µm/D over c_max = 2.8 µm
    assert tr.focus_error_dof == pytest.approx(2.0 * (4.38 / 1.73) * 4.4 / 2.8, rel=0.02)
    be.command(40, 0.01)
    assert be.truth(0.1).focus_error_dof == pytest.approx(0.0, abs=1e-9)


def test_replay_lens_model_from_the_frames_focus_distances(tmp_path):
    """Frames at 0.5 + 0.5 i D, positions 10 i: the stack's own code <-> distance calibration."""
    ctx = ReplayBackend(write_stack(tmp_path / "m")).context
    assert ctx.has_lens_model
    assert ctx.code_for_distance(0.4) == 40  # 2.5 D: frame 4
    assert ctx.code_for_distance(1.0 / 1.75) == 25  # between frames: linear in diopters
    assert ctx.distance_for_code(25) == pytest.approx(1.0 / 1.75)
    assert ctx.distance_for_code(0) == pytest.approx(2.0)
    # beyond the captured range: clipped to the stack's ends
    assert ctx.code_for_distance(math.inf) == 0 and ctx.code_for_distance(0.05) == 60
    # a round trip along the stack
    for code in range(0, 61, 5):
        assert ctx.code_for_distance(ctx.distance_for_code(code)) == code


def test_stack_lens_model_needs_every_distance_moving_one_way():
    pos = [0.0, 10.0, 20.0, 30.0]
    cfd, dfc = stack_lens_model(pos, [math.inf, 2.0, 1.0, 0.5])  # 0, 0.5, 1, 2 D
    assert dfc(0) == math.inf and dfc(5) == pytest.approx(4.0) and cfd(math.inf) == 0 and cfd(0.5) == 30
    cfd, dfc = stack_lens_model(pos, [0.5, 1.0, 2.0, math.inf])  # a far-to-near stack the other way round
    assert cfd(1.0) == 10 and dfc(30) == math.inf
    assert stack_lens_model(pos, [math.inf, 2.0, None, 0.5]) is None  # one frame's focus unknown
    assert stack_lens_model(pos, [math.inf, 1.0, 2.0, 0.5]) is None  # focus turns back: not a sweep
    assert stack_lens_model(pos, [1.0, 1.0, 0.5, 0.25]) is None  # two frames focused alike
    assert stack_lens_model([0.0], [1.0]) is None


def test_stack_lens_model_fits_a_dense_sweep_whose_focus_wobbles():
    """A dense stack records where the lens really was: the actuator's jitter turns the focus
    back between neighbouring frames. The cubic fit keeps the calibration (to ~jitter)."""
    pos = np.arange(0.0, 400.0, 5.0)  # 80 frames
    true = 0.25 + 0.02 * pos + 2e-5 * pos**2  # diopters, a stiffening actuator
    wobble = np.where(np.arange(pos.size) % 2 == 0, 0.06, -0.06)  # > the 0.1 D step: turns back
    assert np.any(np.diff(true + wobble) < 0)
    cfd, dfc = stack_lens_model(pos, list(1.0 / (true + wobble)))
    fine = np.arange(0.0, 396.0, 1.0)
    got = np.array([1.0 / dfc(c) for c in fine])
    assert np.max(np.abs(got - (0.25 + 0.02 * fine + 2e-5 * fine**2))) < 0.03
    assert abs(cfd(1.0 / (0.25 + 0.02 * 200 + 2e-5 * 200**2)) - 200) <= 2
    rng = np.random.default_rng(0)
    assert stack_lens_model(pos, list(1.0 / rng.uniform(0.5, 5.0, pos.size))) is None  # no sweep at all


def test_replay_without_optics_has_no_lens_model(tmp_path):
    root = write_stack(tmp_path / "o")
    man = json.loads((root / "stack.json").read_text())
    del man["camera"]["f_number"]
    (root / "stack.json").write_text(json.dumps(man))
    assert not ReplayBackend(root).context.has_lens_model


def test_replay_bad_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputFileError, match="image"):
        ReplayStack(tmp_path / "empty")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    write_png(mixed / "a_1.png", np.zeros((10, 12), np.uint8))
    write_png(mixed / "a_2.png", np.zeros((12, 10), np.uint8))
    with pytest.raises(InputFileError, match="sizes"):
        ReplayStack(mixed)
    part = write_stack(tmp_path / "part", n=3)
    man = json.loads((part / "stack.json").read_text())
    del man["frames"][1]["lens_position"]
    (part / "stack.json").write_text(json.dumps(man))
    with pytest.raises(InputFileError, match="lens_position"):
        ReplayStack(part)
    man["frames"][1]["lens_position"] = 0
    (part / "stack.json").write_text(json.dumps(man))
    with pytest.raises(InputFileError, match="share a lens position"):
        ReplayStack(part)
    with pytest.raises(InputFileError):
        ReplayStack(tmp_path / "missing")


def test_unnumbered_image_in_a_numbered_folder_is_left_out(tmp_path):
    d = tmp_path / "plain"
    d.mkdir()
    for i in range(3):
        write_png(d / f"img_{i + 1}.png", np.full((8, 8), 10 * i, np.uint8))
    write_png(d / "expected.png", np.zeros((8, 8), np.uint8))
    rs = ReplayStack(d)
    assert rs.skipped == ["expected.png"] and len(rs) == 3
    assert list(rs.lens_positions) == [0.0, 1.0, 2.0]  # file order after the fused image is dropped
