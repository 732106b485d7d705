"""Offline evaluation: slice metrics on hand-made predictions, the stacks' even diopter spacing and
their true slice (oracle), the pooled and single-slice plumbing, and the ``focuslab evaluate`` CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from focuslab.camera import get_camera
from focuslab.errors import InvalidParameterError
from focuslab.train.evaluate import focus_measure_prediction, pooled_stack_prediction
from focuslab.train.evaluate_metrics import defocus_to_slice, slice_metrics
from focuslab.train.evaluate_stacks import code_focus_diopters, eval_stack, slice_codes, slice_diopters

SLICES = 7


@pytest.fixture(scope="module")
def stack():
    cam = get_camera("phone_main")
    dpt = slice_diopters(cam, SLICES)
    # the subject exactly at slice 4's nominal focus: slice 4 is the oracle's answer
    return eval_stack(0, slices=SLICES, crop_px=32, seed=3, subject_distance_m=1.0 / dpt[4])


def test_slice_metrics_on_hand_made_predictions():
    true = [10, 10, 10, 10, 10, 20]
    pred = [10, 11, 8, 14, 30, 20.4]  # errors 0, 1, 2, 4, 20, 0 (20.4 rounds to 20)
    m = slice_metrics(pred, true)
    assert m["n"] == 6
    assert m["mae"] == pytest.approx(27 / 6)
    assert m["rmse"] == pytest.approx(math.sqrt((0 + 1 + 4 + 16 + 400 + 0) / 6))
    assert (m["within_0"], m["within_1"], m["within_2"], m["within_4"]) == pytest.approx((2 / 6, 3 / 6, 4 / 6, 5 / 6))
    clipped = slice_metrics([60, -3], [48, 0], slices=49)  # a method can only choose a slice
    assert clipped["mae"] == 0.0 and clipped["within_0"] == 1.0


@pytest.mark.parametrize(("pred", "true"), [([], []), ([1, 2], [1]), ([np.nan], [1])])
def test_slice_metrics_bad_input(pred, true):
    with pytest.raises(InvalidParameterError):
        slice_metrics(pred, true)


def test_defocus_to_slice_inverts_the_even_diopter_grid():
    dpt = np.linspace(0.0, 10.0, 49)  # step 10/48 D
    # 1 DoF = 0.25 D at this slice: 5 DoF nearer is 1.25 D = 6 slices on
    assert defocus_to_slice(dpt, 12, 5.0, 0.25) == pytest.approx(18.0)
    assert defocus_to_slice(dpt, 12, -2.5, 0.25) == pytest.approx(9.0)


def test_slices_are_evenly_spaced_in_diopters_and_codes_follow():
    cam = get_camera("phone_main")
    dpt = slice_diopters(cam, 49)
    assert dpt[0] == 0.0 and dpt[-1] == pytest.approx(1.0 / cam.lens.min_focus_distance_m)
    np.testing.assert_allclose(np.diff(dpt), (dpt[-1] - dpt[0]) / 48, rtol=1e-12)
    codes = slice_codes(cam, dpt)
    assert np.all(np.diff(codes) > 0)  # distinct, far to near
    realized = code_focus_diopters(cam, codes)
    step = dpt[1] - dpt[0]
    assert np.max(np.abs(realized - dpt)) < 0.1 * step  # integer codes: within a tenth of a slice
    with pytest.raises(InvalidParameterError, match="slices must be an integer >= 5"):
        slice_diopters(cam, 3)
    with pytest.raises(InvalidParameterError, match="minimum focus distance"):
        slice_diopters(cam, 9, near_m=0.05)


def test_stack_oracle_true_slice(stack):
    assert stack.images.shape == (SLICES, 32, 32) and stack.left.shape == stack.right.shape == stack.images.shape
    assert stack.true_slice == 4 == int(np.argmin(np.abs(stack.defocus_dof)))
    assert abs(stack.defocus_dof[4]) < 0.5  # only the actuator's play and jitter remain
    # the defocus falls linearly in diopters: one slice = step / diopters_per_dof DoF (~6.7 DoF here), up to
    # the actuator's 2 um play and 0.3 um jitter (<= 0.8 DoF of 4.8 um per DoF: 0.12 of a step)
    steps = np.diff(stack.defocus_dof) / (-stack.slice_step_diopters / stack.diopters_per_dof[:-1])
    np.testing.assert_allclose(steps, 1.0, atol=0.12)
    assert abs(np.mean(steps) - 1.0) < 0.03
    # and the rendered stack is sharpest there
    assert abs(focus_measure_prediction(stack) - stack.true_slice) <= 1


def test_pooled_prediction_of_perfect_and_of_zero_defocus(stack):
    sigma = np.ones(SLICES)
    assert pooled_stack_prediction(stack, stack.defocus_dof, sigma) == pytest.approx(
        4 + stack.defocus_dof[4] * stack.diopters_per_dof[4] / stack.slice_step_diopters, abs=0.05)
    # d = 0 everywhere with equal sigma: the mean slice in diopters (weights ~ 1 / dpt_per_dof^2)
    assert pooled_stack_prediction(stack, np.zeros(SLICES), sigma) == pytest.approx((SLICES - 1) / 2, abs=0.1)


def test_stack_is_seeded():
    a = eval_stack(1, slices=5, crop_px=16, seed=7, near_m=0.5)
    b = eval_stack(1, slices=5, crop_px=16, seed=7, near_m=0.5)
    assert a.images.tobytes() == b.images.tobytes() and a.subject_distance_m == b.subject_distance_m
    assert a.texture == "photo:astronaut"


class ZeroDP(torch.nn.Module):
    """Always 'in focus here' (d = 0, log-variance 0): the single-slice task then equals the no-move baseline."""

    crop_px = 16

    def forward(self, x):
        return torch.zeros(x.shape[0], 2)


@pytest.fixture
def zero_net(monkeypatch):
    import focuslab.models as models

    monkeypatch.setattr(models, "load_model", lambda name, weights=None: ZeroDP())


def test_evaluate_cli_runs_and_writes(tmp_path, zero_net, capsys):
    from focuslab.cli.main import main

    rc = main(["evaluate", "--model", "dp-defocus", "--scenes", "1", "--slices", "5", "--crop-px", "16",
               "--near-m", "0.5", "--json", "--out", str(tmp_path / "ev"), "--no-calibrate"])
    assert rc == 0
    res = json.loads(capsys.readouterr().out)
    m = res["methods"]
    assert "calibration" not in res and "dp-defocus uncalibrated single-slice" not in m
    assert res["settings"]["dp_reader"] == "one network"  # a stand-in is not the shipped general network
    assert "dp-defocus reader: one network" in (tmp_path / "ev" / "report.html").read_text()
    assert m["dp-defocus single-slice"]["metrics"] == m["no-move single-slice"]["metrics"]
    assert m["dp-defocus single-slice"]["metrics"]["n"] == 5 and m["focus-measure full-stack"]["metrics"]["n"] == 1
    assert (tmp_path / "ev" / "evaluate.json").is_file() and (tmp_path / "ev" / "report.html").is_file()


def test_evaluate_calibrates_the_network_first(zero_net):
    """The calibrated row maps the network through the chart-sweep calibration; the raw row is kept."""
    from focuslab.train.evaluate import evaluate_offline

    res = evaluate_offline(["dp-defocus"], scenes=1, slices=7, crop_px=16, near_m=0.5)
    m = res["methods"]
    assert m["dp-defocus uncalibrated single-slice"]["metrics"] == m["no-move single-slice"]["metrics"]
    cal = res["calibration"]
    assert cal["camera"] == "phone_main" and cal["roi_px"] == 16 and cal["points"] == 7 * 7
    # a network that always reads 0 is calibrated to the chart sweep's typical defocus at 0
    f0 = float(np.interp(0.0, cal["knots_dof"], cal["values_dof"]))
    (scene,) = res["scenes"]
    assert scene["dp_defocus_dof"] == pytest.approx([f0] * 7)
    assert scene["dp_raw_defocus_dof"] == [0.0] * 7


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--scenes", "0"], "scenes must be an integer >= 1"),
        (["--seed", "-1"], "seed must be a non-negative integer"),
        (["--model", "fusion"], "no offline focal-stack task for fusion"),
        (["--model", "nope"], "no offline focal-stack task for nope"),
        (["--slices", "3"], "slices must be an integer >= 5"),
        (["--camera", "no_pdaf", "--scenes", "1", "--slices", "5"], "has no dual-pixel sensor"),
        (["--model", "dp-defocus", "--scenes", "1", "--slices", "5", "--far-weights", "/nonexistent/far.pt"],
         "far.pt"),
        (["--model", "dp-defocus", "--scenes", "1", "--slices", "5", "--far-weights", "pixel5"], "pixel5"),
    ],
)
def test_evaluate_cli_bad_input_one_line_exit_2(argv, match, zero_net, capsys):
    from focuslab.cli.main import main

    assert main(["evaluate", *argv]) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and match in err[0]
