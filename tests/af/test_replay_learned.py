"""The learned policies on a replayed dual-pixel focal stack agree with the simulator's closed loop.

A stack rendered by ``focuslab render`` records the optics and every frame's focus distance, so
replay builds the stack's own lens model (:func:`focuslab.af.replay.stack_lens_model`) and the
policies that jump in diopters run on it. Truth: on a fronto-parallel dead-leaves plane at 1 m
(41 positions, ~1.2 DoF apart there) each learned policy ends on the frame nearest the subject
(or its neighbour, for the two-frame and video networks), in as few frames as in the
simulator; and ``learned-dp`` replayed lands within one frame of where it lands live on the
same scene.
"""

from __future__ import annotations

import pytest

import focuslab.af.policies  # noqa: F401  (registers the built-in policies)
from focuslab.af.backends import ReplayBackend, ReplayStack, SimulatorBackend
from focuslab.af.loop import run_af
from focuslab.af.regions import stack_regions
from focuslab.af.registry import get_policy
from focuslab.camera.presets import get_camera
from focuslab.data.stack_render import render_stack_folder, scene_for_camera

pytestmark = pytest.mark.slow  # rendering the 41-frame stack takes ~25 s

SUBJECT_M = 1.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    out = tmp_path_factory.mktemp("dp_stack")
    render_stack_folder(out, scene_name="dead_leaves", camera_name="phone_main", positions=41, dual_pixel=True,
                        illuminance_lux=500.0, seed=3, subject_distance_m=SUBJECT_M)
    return ReplayStack(out)


def test_replayed_stack_has_the_lens_model_of_the_camera(stack):
    ctx = ReplayBackend(stack).context
    cam = get_camera("phone_main")
    assert ctx.has_lens_model and ctx.name == "phone_main"
    for d in (0.3, 0.5, 1.0, 2.0, 5.0):  # the stack's map is the factory's, to a few codes (jitter)
        assert ctx.code_for_distance(d) == pytest.approx(cam.focus_code_for_distance(d), abs=4)


@pytest.mark.parametrize(("method", "frames", "slack"),
                         [("learned-dp", 2, 0), ("learned-two-frame", 6, 1), ("learned-video", 6, 1)])
def test_learned_policies_end_on_the_subjects_frame(stack, method, frames, slack):
    for region, roi in stack_regions(stack.frame_shape_px).items():
        backend = ReplayBackend(stack, roi=roi)
        best = stack.nearest_index(backend.truth(0.0).best_code)
        run = run_af(get_policy(method), backend, max_frames=40)
        shown = stack.nearest_index(run.frames[-1].lens_code)
        assert abs(shown - best) <= slack, f"{method} {region}: frame {shown}, subject's {best}"
        assert run.metrics.in_focus and run.metrics.frames_to_focus <= frames


def test_learned_dp_replayed_lands_where_it_lands_live(stack):
    cam = get_camera("phone_main")
    scene = scene_for_camera(cam, "dead_leaves", subject_distance_m=SUBJECT_M, seed=3)
    spacing = max(b - a for a, b in zip(stack.lens_positions[:-1], stack.lens_positions[1:], strict=True))
    for roi in stack_regions(stack.frame_shape_px).values():
        live = run_af(get_policy("learned-dp"),
                      SimulatorBackend(cam, scene, roi=roi, illuminance_lux=500.0, seed=3, initial_code=96),
                      max_frames=40)
        replayed = run_af(get_policy("learned-dp"), ReplayBackend(stack, roi=roi), max_frames=40)
        assert live.metrics.in_focus and replayed.metrics.in_focus
        assert abs(live.frames[-1].lens_code - replayed.frames[-1].lens_code) <= spacing
