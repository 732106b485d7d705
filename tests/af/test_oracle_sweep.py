"""The reference rows: the oracle is exact (only the actuator's own error is left) and the
contrast sweep lands within 0.5 DoF on rendered stills; on real focal stacks the sweep lands
on the sharpest frame of the region; determinism."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.af.backends import ReplayBackend, ReplayStack, SimulatorBackend
from focuslab.af.green_plane import green_plane
from focuslab.af.loop import run_af
from focuslab.af.policies.contrast_sweep import gaussian_peak, half_level_centre
from focuslab.af.registry import get_policy
from focuslab.camera.presets import get_camera
from focuslab.metrics.focus import focus_curve
from focuslab.scene.library import make_scene


def centre_roi_px(cam, size=64):
    h, w = cam.stream_sensor.shape_px
    return (w // 2 - size // 2, h // 2 - size // 2, size, size)


def scene_for(cam_name, tex, dist, seed=3):
    # a scene grid about as fine as the stream over the ROI (1.2 samples per stream pixel)
    return make_scene(
        tex, shape=(240, 320), hfov_deg=14.0 if cam_name == "phone_tele" else 20.0, subject_distance_m=dist, seed=seed
    )


def actuator_bound_dof(backend, code):
    """Irreducible error: half the play + 3 sigma jitter + half a code, in DoF near ``code``."""
    act = backend.camera.actuator
    slope = act.displacement_um(int(code) + 1) - act.displacement_um(int(code))
    um = 0.5 * act.hysteresis_um + 3.0 * act.position_noise_um + 0.5 * slope
    return um / slope * backend.dof_per_code(code)


@pytest.mark.parametrize(
    ("cam_name", "tex", "dist"),
    [
        ("phone_main", "dead_leaves", 0.15),
        ("phone_main", "photo", 0.6),
        ("no_pdaf", "text", 2.5),
        ("phone_tele", "dead_leaves", 1.0),
    ],
)
def test_oracle_is_exact_up_to_the_actuator(cam_name, tex, dist):
    cam = get_camera(cam_name)
    be = SimulatorBackend(cam, scene_for(cam_name, tex, dist), roi=centre_roi_px(cam, 32), seed=11)
    run = run_af(get_policy("oracle"), be, max_frames=10)
    last = run.frames[-1]
    assert run.done_frame is not None and run.done_frame <= 3
    assert last.lens_code == round(last.best_code)  # the right code, at once
    assert run.metrics.final_error <= actuator_bound_dof(be, last.best_code)
    assert run.metrics.reversals == 0


@pytest.mark.parametrize(
    ("cam_name", "tex", "dist", "lux"),
    [
        ("phone_main", "dead_leaves", 0.8, 500.0),
        ("no_pdaf", "dead_leaves", 0.4, 500.0),
        ("phone_tele", "text", 1.5, 500.0),
        pytest.param("phone_main", "dead_leaves", 0.25, 500.0, marks=pytest.mark.slow),
        pytest.param("phone_main", "photo", 3.0, 500.0, marks=pytest.mark.slow),
        pytest.param("phone_main", "text", 0.8, 8.0, marks=pytest.mark.slow),
        pytest.param("phone_tele", "photo", 0.4, 500.0, marks=pytest.mark.slow),
    ],
)
def test_contrast_sweep_within_half_a_depth_of_focus(cam_name, tex, dist, lux):
    cam = get_camera(cam_name)
    be = SimulatorBackend(cam, scene_for(cam_name, tex, dist), roi=centre_roi_px(cam, 48), seed=7, illuminance_lux=lux)
    run = run_af(get_policy("contrast-sweep"), be, max_frames=60)
    assert run.done_frame is not None
    assert run.metrics.final_error <= 0.5
    assert run.metrics.reversals == 2  # up the sweep, below the peak, up to it (backlash approach)


def test_same_seed_same_run_and_seed_matters():
    cam = get_camera("phone_main")
    sc = scene_for("phone_main", "dead_leaves", 0.5)

    def go(seed):
        pol = get_policy("contrast-sweep", step_dof=6.0)  # a coarse sweep: few frames
        return run_af(pol, SimulatorBackend(cam, sc, roi=centre_roi_px(cam, 32), seed=seed))

    a, b, c = go(5), go(5), go(6)
    assert a.frames == b.frames and a.metrics == b.metrics
    assert np.array_equal(a.final_image, b.final_image)
    assert a.frames != c.frames


def test_peak_interpolators():
    x = np.arange(0, 100, 10.0)
    curve = np.exp(-0.5 * ((x - 43.0) / 12.0) ** 2)
    assert gaussian_peak(x, curve) == pytest.approx(43.0, abs=1e-9)  # exact for a Gaussian
    assert half_level_centre(x, curve) == pytest.approx(43.0, abs=1.0)
    flat = np.minimum(curve, 0.8)  # a flat top (binned stream): the flanks still give the centre
    assert half_level_centre(x, flat, level=0.5) == pytest.approx(43.0, abs=1.0)
    assert half_level_centre(x, np.exp(-0.5 * ((x - 2.0) / 12.0) ** 2)) is None  # no left flank
    assert gaussian_peak(x, np.exp(-0.5 * ((x - 4.0) / 12.0) ** 2)) == pytest.approx(4.0, abs=1e-6)


# ------------------------------------------------------------------------ real focal stacks
@pytest.fixture(scope="module")
def depth_mapper(shared_data):
    return ReplayStack(shared_data / "focal_stacks" / "depth-mapper")


def sharpest_frame(rs, roi):
    x, y, w, h = roi
    curve = focus_curve(np.stack([green_plane(im[y : y + h, x : x + w], rs.cfa) for im in rs.images]), "TENG")
    return int(np.argmax(curve))


def test_depth_mapper_sweep_lands_on_the_sharpest_frame_and_near_focuses_first(depth_mapper):
    rs = depth_mapper
    h, w = rs.frame_shape_px
    bottom, top = (w // 2 - 100, h - 160, 200, 120), (w // 2 - 100, 40, 200, 120)
    landed = {}
    for name, roi in (("bottom", bottom), ("top", top), ("centre", None)):
        be = ReplayBackend(rs, roi=roi)
        run = run_af(get_policy("contrast-sweep"), be, max_frames=40)
        final = rs.nearest_index(run.frames[-1].lens_code)
        assert abs(final - sharpest_frame(rs, be.roi)) <= 1
        assert run.metrics.in_focus and run.metrics.error_unit == "frames"
        landed[name] = final
    assert landed["bottom"] < landed["top"]  # near (bottom) peaks earlier in the near-to-far sweep


@pytest.mark.parametrize("folder", ["depthmap", "pcb"])
def test_focus_stack_sweeps_land_on_the_sharpest_frame(shared_data, folder):
    rs = ReplayStack(shared_data / "focal_stacks" / "focus-stack" / folder)
    if folder == "pcb":
        assert rs.skipped == ["expected.jpg"] and len(rs) == 7  # the fused result is not a frame
    h, w = rs.frame_shape_px
    for roi in (None, (w // 4, h // 4, 256, 256), (w // 2, h // 2, 256, 256)):
        be = ReplayBackend(rs, roi=roi)
        run = run_af(get_policy("contrast-sweep"), be, max_frames=30)
        final = rs.nearest_index(run.frames[-1].lens_code)
        assert abs(final - sharpest_frame(rs, be.roi)) <= 1
        oracle = run_af(get_policy("oracle"), ReplayBackend(rs, roi=roi), max_frames=5)
        assert oracle.metrics.final_error <= 0.5  # the nearest frame to the sweep's peak


def test_causal_oracle_sees_a_subject_change_one_frame_late():
    """``oracle`` commands the best code of the frame it will expose next (it sees the future);
    ``oracle(causal=True)`` the best code of the frame it is shown, so a step of the subject
    costs it the first frame that shows it."""
    from types import SimpleNamespace

    from focuslab.af.types import AFContext, Observation

    ctx = AFContext(min_code=0, max_code=1023, frame_interval_s=0.1, has_dual_pixel=False, has_depth=False,
                    focal_length_mm=4.0, f_number=2.0, pixel_pitch_um=1.0, coc_max_um=2.0)

    def truth(t):  # the subject steps from code 100 to code 400 at t = 1 s
        return SimpleNamespace(best_code=100.0 if t < 1.0 - 1e-9 else 400.0)

    commands = {}
    for causal in (False, True):
        pol = get_policy("oracle", causal=causal)
        pol.set_truth(truth)
        pol.reset(ctx)
        obs = Observation(frame_index=9, t_s=0.9, exposure_s=0.01, lens_code=100, reported_code=100.0, roi=(0, 0, 8, 8),
                          image=np.zeros((8, 8), np.float32))
        commands[causal] = pol.step(obs).target_code
    assert commands == {False: 400, True: None}  # the causal one holds the code the frame shows
    with pytest.raises(Exception, match="rejected its options"):
        get_policy("oracle", causal=True, lookahead=2)


def test_a_pan_is_one_subject_change_and_the_causal_oracle_reacquires_it_a_frame_late():
    """On the benchmark's pan (video-tracking, phone_main_tof) the truth jumps from the card to the
    background once: the oracle that sees one frame ahead is never out of focus there, the causal
    one is for exactly the frame of the jump, and its tracking RMS leaves that frame out."""
    from focuslab.bench.af_case import build_scene
    from focuslab.bench.af_runner import _make_backend
    from focuslab.bench.suites import suite_cases

    case = next(c for c in suite_cases("video-tracking", camera="phone_main_tof", full=False, seed=0)
                if "pan" in c.case_id)
    scene = build_scene(case)
    m = {}
    for causal in (False, True):
        run = run_af(get_policy("oracle", causal=causal), _make_backend(case, scene), video=True,
                     duration_s=case.duration_s)
        m[causal] = run.metrics
    assert m[False].subject_changes == m[True].subject_changes == 1
    assert m[False].reacquire_frames == 1.0 and m[True].reacquire_frames == 2.0
    assert m[True].tracking_rms_error_dof < 0.4 < m[True].rms_error_dof  # the jump's frame is most of the RMS
    assert m[False].tracking_rms_error_dof == pytest.approx(m[False].rms_error_dof, abs=1e-9)
