"""Focus measures: sharper is larger, analytic values, real focal stack peaks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import ndimage

from focuslab.errors import InvalidParameterError, UnknownNameError
from focuslab.metrics.focus import focus_curve, focus_measure, focus_measure_names, peak_position


@pytest.fixture
def texture(rng):
    return ndimage.gaussian_filter(rng.random((96, 96)), 1.0)


@pytest.mark.parametrize("method", focus_measure_names())
def test_more_blur_is_monotonically_worse(method, texture):
    values = [focus_measure(ndimage.gaussian_filter(texture, s), method) for s in (0.0, 0.7, 1.4, 2.8, 5.6)]
    assert all(a > b for a, b in itertools.pairwise(values)), values


# value of a uniform image of grey level c: 0, except Helmli's ratio max(U/I, I/U) = 1
_UNIFORM = {"HELM": lambda c: 1.0}


@pytest.mark.parametrize("method", focus_measure_names())
def test_uniform_image_has_no_sharpness(method):
    expected = _UNIFORM.get(method, lambda c: 0.0)(0.4)
    assert focus_measure(np.full((32, 32), 0.4), method) == pytest.approx(expected, abs=1e-14)


def test_gradient_energy_of_a_ramp_is_its_slope_squared():
    ramp = np.tile(np.arange(40, dtype=float) * 0.25, (40, 1))
    assert focus_measure(ramp, "GRAE") == pytest.approx(0.0625, rel=1e-12)


def test_tenengrad_of_a_ramp_matches_the_sobel_gain():
    ramp = np.tile(np.arange(40, dtype=float) * 0.5, (40, 1))
    # interior Sobel response to a slope g is 8 g; reflect mode halves it at the two border columns
    val = focus_measure(ramp, "TENG", roi=None)
    g = 8 * 0.5
    expected = (38 * g**2 + 2 * (g / 2) ** 2) / 40
    assert val == pytest.approx(expected, rel=1e-12)


def test_rgb_equals_grey_of_channel_mean(texture):
    rgb = np.stack([texture, texture * 0.5, texture * 1.5], axis=2)
    assert focus_measure(rgb, "LAPV") == pytest.approx(focus_measure(texture, "LAPV"), rel=1e-12)


def test_roi_and_curve(texture):
    stack = np.stack([ndimage.gaussian_filter(texture, s) for s in (3, 2, 1, 0.5, 1, 2)])
    curve = focus_curve(stack, "TENG", roi=(10, 10, 50, 50))
    assert int(np.argmax(curve)) == 3
    assert curve[0] < curve[1] < curve[2] < curve[3]


def test_peak_position_parabola_is_exact_for_a_parabola():
    x = np.arange(7.0)
    y = -(x - 3.3) ** 2 + 10
    assert peak_position(x, y) == pytest.approx(3.3, abs=1e-12)
    assert peak_position(x, x) == 6.0


def test_bad_inputs():
    with pytest.raises(UnknownNameError, match="TENG"):
        focus_measure(np.zeros((8, 8)), "nope")
    with pytest.raises(InvalidParameterError, match="NaN"):
        focus_measure(np.full((8, 8), np.nan))
    with pytest.raises(InvalidParameterError, match="ROI"):
        focus_measure(np.zeros((8, 8)), roi=(6, 6, 5, 5))
    with pytest.raises(InvalidParameterError):
        focus_measure(np.zeros((2, 8, 8, 3)))


@pytest.mark.shared_data
def test_real_focal_sweep_near_peaks_early_far_late(shared_data):
    """depth-mapper: Canon 6D 50 mm sweep near->far; bottom of frame (near) peaks before the top."""
    from focuslab.data.focal_stack import read_focal_stack

    stack = read_focal_stack(shared_data / "focal_stacks" / "depth-mapper")
    assert len(stack) == 27
    frames = [stack.read(i)[::4, ::4].mean(axis=2) for i in range(len(stack))]
    h = frames[0].shape[0]
    top = focus_curve([f[: h // 4] for f in frames], "TENG")
    bottom = focus_curve([f[-h // 4 :] for f in frames], "TENG")
    assert int(np.argmax(bottom)) < int(np.argmax(top))
