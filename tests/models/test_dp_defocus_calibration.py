"""Defocus calibration of the dual-pixel network: the fit recovers known maps, the curve is
monotone and extends straight, files round-trip, bad input is one clear error, and on the
simulator the calibration follows the physics of the dual-pixel response (a soft split is
read low, the ideal split high) and removes the shipped network's bias."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.models.dp_calibration import (
    DefocusCalibration,
    calibrate_dp_network,
    fit_defocus_calibration,
    load_defocus_calibration,
)


def test_fit_recovers_a_gain_and_leaves_outliers_out():
    rng = np.random.default_rng(0)
    y = rng.uniform(-35, 35, 400)
    p = 0.87 * y + rng.normal(0, 0.3, y.size)  # a network reading 13 % low
    p[:20] = rng.uniform(-30, 30, 20)  # blind reads
    cal = fit_defocus_calibration(p, y)
    q = np.linspace(-25, 25, 11)
    np.testing.assert_allclose(cal.map(q), q / 0.87, atol=0.35)
    assert cal.points == 400 and 370 <= cal.used < 390
    assert cal.residual_dof < 0.4


def test_fit_follows_a_gain_that_changes_with_defocus():
    """Shrinkage that grows with the blur (gain 0.95 near focus, 0.8 at 30 DoF)."""
    y = np.linspace(-35, 35, 701)
    p = y * (0.95 - 0.15 * np.abs(y) / 30.0)
    cal = fit_defocus_calibration(p, y)
    err = np.abs(cal.map(p) - y)
    assert err.max() < 0.6 and err.mean() < 0.15


def test_curve_goes_on_straight_where_no_point_reaches_and_is_monotone():
    rng = np.random.default_rng(1)
    y = rng.uniform(-8, 8, 300)
    cal = fit_defocus_calibration(y / 1.2, y)  # points only within +-7 DoF of prediction
    assert cal.map(25.0) == pytest.approx(30.0, rel=0.08)
    assert cal.map(-40.0) == pytest.approx(-48.0, rel=0.08)
    assert cal.map(60.0) > cal.map(45.0) > cal.map(30.0)  # beyond the outer knot: the outer slope
    noisy = fit_defocus_calibration(rng.uniform(-30, 30, 300), rng.uniform(-30, 30, 300))  # no relation at all
    assert np.all(np.diff(noisy.values_dof) >= 0)


def test_apply_stretches_sigma_but_never_shrinks_it():
    steep = DefocusCalibration(knots_dof=(-10.0, 0.0, 10.0), values_dof=(-20.0, 0.0, 20.0))
    flat = DefocusCalibration(knots_dof=(-10.0, 0.0, 10.0), values_dof=(-5.0, 0.0, 5.0))
    assert steep.apply(3.0, 1.0) == pytest.approx((6.0, 2.0))
    assert flat.apply(3.0, 1.0) == pytest.approx((1.5, 1.0))
    assert steep.map(15.0) == pytest.approx(30.0) and flat.map(-30.0) == pytest.approx(-15.0)


def test_save_and_load_round_trip(tmp_path):
    cal = fit_defocus_calibration(np.linspace(-30, 30, 61), 1.1 * np.linspace(-30, 30, 61), camera="phone_main",
                                  roi_px=128)
    path = cal.save(tmp_path / "cal.json")
    back = load_defocus_calibration(path)
    assert back == cal and load_defocus_calibration(str(path)) == cal
    assert load_defocus_calibration(cal.to_dict()) == cal and load_defocus_calibration(cal) is cal


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (None, "not found"),
        ("{not json", "cannot read"),
        ("[1, 2]", "not a JSON object"),
        ('{"knots_dof": [0, 1]}', "needs numeric lists"),
        ('{"knots_dof": [0, 1], "values_dof": [1, 0]}', "must not decrease"),
        ('{"knots_dof": [1, 0], "values_dof": [0, 1]}', "must increase"),
        ('{"knots_dof": [0, 1], "values_dof": [0, NaN]}', "finite"),
    ],
)
def test_bad_calibration_files_are_one_clear_error(tmp_path, content, match):
    path = tmp_path / "cal.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputFileError, match=match):
        load_defocus_calibration(path)


@pytest.mark.parametrize(
    ("p", "y", "match"),
    [
        (np.zeros(30), np.zeros(29), "differ in length"),
        (np.r_[np.nan, np.zeros(29)], np.zeros(30), "NaN or inf"),
        (np.zeros(5), np.zeros(5), ">= 20 points"),
    ],
)
def test_bad_fit_input(p, y, match):
    with pytest.raises(InvalidParameterError, match=match):
        fit_defocus_calibration(p, y)
    with pytest.raises(InvalidParameterError, match="ridge"):
        fit_defocus_calibration(np.zeros(30), np.zeros(30), ridge=-1.0)
    with pytest.raises(InvalidParameterError, match="calibration is a DefocusCalibration"):
        load_defocus_calibration(3.0)


@pytest.fixture(scope="module")
def shipped():
    from focuslab.models.registry import load_model, weights_path

    if not weights_path("dp-defocus").is_file():
        pytest.skip("no shipped dp-defocus weights")
    return load_model("dp-defocus")


def test_calibration_follows_the_dual_pixel_response(shipped):
    """dp-defocus is trained on soft (Pixel 4, disparity 0.22 c), analytic and ideal (0.42 c) splits:
    on phone_main's Pixel 4 response it reads low near focus (slope > 1), on phone_tele's ideal split
    high (slope < 1). Measured: slope over +-3 DoF 1.12 and 0.78 (the unity-gain weights: 1.13 and 0.81)."""
    main = calibrate_dp_network(shipped, "phone_main", distances=3, roi_px=64)
    tele = calibrate_dp_network(shipped, "phone_tele", distances=3, roi_px=64)

    def slope(cal):
        return (cal.map(3.0) - cal.map(-3.0)) / 6.0

    assert slope(main) > 1.03
    assert slope(tele) < 0.9
    assert main.camera == "phone_main" and main.roi_px == 64 and main.used >= 0.8 * main.points
    again = calibrate_dp_network(shipped, "phone_main", distances=3, roi_px=64)
    assert again == main  # same seed, same calibration


class _Scaled(torch.nn.Module):
    """A dp-defocus network whose defocus reads ``gain`` times the wrapped one's."""

    def __init__(self, net: torch.nn.Module, gain: float) -> None:
        super().__init__()
        self.net, self.gain, self.crop_px = net, float(gain), net.crop_px

    def forward(self, x):
        out = self.net(x).clone()
        out[:, 0] *= self.gain
        return out


@pytest.mark.parametrize(("gain", "at_most"), [(1.0, 0.9), (1.5, 0.3)])
def test_calibration_lowers_the_error_on_other_scenes(shipped, gain, at_most):
    """Calibrated on the dead-leaves chart, the network's defocus on an evaluation stack of a photograph
    (other seeds) is nearer the truth on phone_tele, whose ideal split the shipped weights over-read
    near focus (measured: mean error within 15 DoF 1.04 -> 0.87 DoF, 84 % of the raw; the unity-gain
    weights over-read it more, and the calibration cut theirs below 80 %), and much nearer for a
    network that over-reads it by a further 1.5x (measured: 4.65 -> 0.89 DoF, 19 % of the raw)."""
    from focuslab.train.evaluate import single_slice_predictions
    from focuslab.train.evaluate_stacks import eval_stack

    net = shipped if gain == 1.0 else _Scaled(shipped, gain)
    cal = calibrate_dp_network(net, "phone_tele", distances=3, roi_px=64)
    st = eval_stack(1, camera="phone_tele", crop_px=64, seed=5)
    _, d, _ = single_slice_predictions(net, st)
    near = np.abs(st.defocus_dof) < 15
    raw = np.mean(np.abs(d - st.defocus_dof)[near])
    calibrated = np.mean(np.abs(cal.map(d) - st.defocus_dof)[near])
    assert calibrated < at_most * raw


def test_calibration_refuses_a_camera_without_dual_pixel(shipped):
    with pytest.raises(InvalidParameterError, match="no dual-pixel sensor"):
        calibrate_dp_network(shipped, "no_pdaf", distances=2, roi_px=32)
    with pytest.raises(InvalidParameterError, match="distances must be an integer >= 2"):
        calibrate_dp_network(shipped, "phone_main", distances=1)


def test_json_is_plain(tmp_path):
    cal = DefocusCalibration(knots_dof=(0.0, 1.0), values_dof=(0.0, 1.0))
    data = json.loads(cal.save(tmp_path / "c.json").read_text())
    assert data["knots_dof"] == [0.0, 1.0] and data["residual_dof"] is None


def test_per_sensor_weights_are_named_by_their_family():
    from focuslab.models.registry import resolve_weights, weights_path

    general = weights_path("dp-defocus")
    pixel4 = weights_path("dp-defocus", "pixel4")
    assert general.name == "dp-defocus.pt" and pixel4.name == "dp-defocus-pixel4.pt"
    assert pixel4.is_file() and pixel4.stat().st_size < 2_000_000
    assert weights_path("dp-defocus", "general") == general
    assert resolve_weights("dp-defocus", "general") == general and resolve_weights("dp-defocus", "pixel4") == pixel4
    assert resolve_weights("dp-defocus", None) is None and str(resolve_weights("dp-defocus", "a.pt")) == "a.pt"
    with pytest.raises(InvalidParameterError, match="no shipped 'two-frame' weights for the family 'pixel4'"):
        weights_path("two-frame", "pixel4")


def test_pixel4_weights_read_the_pixel4_response_without_its_bias():
    """The per-sensor weights, on phone_main (the Pixel 4 response): the calibration curve is close to
    identity (measured: slope over +-3 DoF 0.993, f(20) = 19.94 DoF; the general weights' slope is
    1.13, which the 5 % bound refuses)."""
    from focuslab.models.registry import load_model

    net = load_model("dp-defocus", "pixel4")
    assert net.metadata["train_config"]["dp_families"] == ["pixel4"]
    cal = calibrate_dp_network(net, "phone_main", distances=3, roi_px=64)
    assert abs((cal.map(3.0) - cal.map(-3.0)) / 6.0 - 1.0) < 0.05
    assert abs(cal.map(20.0) - 20.0) < 1.0
