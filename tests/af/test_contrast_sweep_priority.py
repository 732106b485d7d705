"""contrast-sweep's nearest-subject priority: the significant peak at the highest code (the
nearest focus distance) wins over a stronger far one; noise bumps and weak peaks do not; the
``max`` option keeps the global peak."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.af.policies.contrast_sweep import (
    ContrastSweepPolicy,
    curve_noise_sd,
    gaussian_peak,
    half_level_centre,
    peak_segment,
    significant_peaks,
)
from focuslab.errors import InvalidParameterError

CODES = np.arange(96, 96 + 24 * 28, 24, dtype=float)  # 28 sweep positions, as phone_main


def bump(centre, height, width=60.0):
    return height * np.exp(-0.5 * ((CODES - centre) / width) ** 2)


def noisy(curve, sd=0.005, seed=0):
    return curve + np.random.default_rng(seed).normal(0.0, sd, curve.size)


def test_two_peaks_the_nearer_significant_one_wins():
    far, near = 170.0, 430.0  # codes grow toward near focus
    s = noisy(0.3 + bump(far, 1.0) + bump(near, 0.6))
    assert [int(CODES[i]) for i in significant_peaks(s)] == [168, 432]
    assert ContrastSweepPolicy().choose_peak(CODES, s) == pytest.approx(near, abs=6.0)
    assert ContrastSweepPolicy(priority="max").choose_peak(CODES, s) == pytest.approx(far, abs=12.0)


def test_a_noise_bump_or_a_weak_peak_is_not_a_subject():
    s = noisy(0.3 + bump(170.0, 1.0), sd=0.01, seed=3)
    s[20] += 0.02  # a 2-sigma bump near the macro end
    assert [int(CODES[i]) for i in significant_peaks(s)] == [168]
    assert ContrastSweepPolicy().choose_peak(CODES, s) == pytest.approx(170.0, abs=12.0)
    weak = noisy(0.3 + bump(170.0, 1.0) + bump(500.0, 0.2), seed=4)  # real, but below min_height = 0.4
    assert ContrastSweepPolicy().choose_peak(CODES, weak) == pytest.approx(170.0, abs=12.0)
    assert ContrastSweepPolicy(min_height=0.1).choose_peak(CODES, weak) == pytest.approx(500.0, abs=12.0)


def test_pure_noise_has_no_significant_peak_and_falls_back_to_the_old_peak():
    s = noisy(np.ones(CODES.size), sd=0.02, seed=1)
    assert significant_peaks(s) == []
    old = half_level_centre(CODES, s)
    old = gaussian_peak(CODES, s) if old is None else old
    assert ContrastSweepPolicy().choose_peak(CODES, s) == old


@pytest.mark.parametrize("seed", range(5))
def test_max_keeps_the_old_behaviour(seed):
    s = noisy(0.3 + bump(170.0, 1.0) + bump(430.0, 0.6), seed=seed)
    old = half_level_centre(CODES, s)
    old = gaussian_peak(CODES, s) if old is None else old
    tiles = np.stack([s, s, s[::-1], s], axis=1)
    pol = ContrastSweepPolicy(priority="max")
    assert pol.choose_peak(CODES, s) == old
    assert pol.choose_peak(CODES, s, tiles) == old  # quadrants are ignored


def test_single_subject_every_quadrant_agrees_the_whole_region_decides():
    s = noisy(0.3 + bump(300.0, 1.0), seed=2)
    tiles = np.stack([s * k for k in (0.9, 1.0, 1.1, 1.2)], axis=1)
    old = half_level_centre(CODES, s)
    assert ContrastSweepPolicy().choose_peak(CODES, s, tiles) == old


def test_a_near_card_in_two_quadrants_beats_a_far_background_that_dominates_the_region():
    far, near = 120.0, 305.0
    bg, card = 0.2 + bump(far, 1.0), 0.2 + bump(near, 0.5)
    # left quadrants mostly background, right quadrants the card; the whole region peaks far
    tiles = np.stack([0.8 * bg + 0.2 * card, card, 0.8 * bg + 0.2 * card, card], axis=1)
    whole = tiles.mean(axis=1)
    assert abs(CODES[int(np.argmax(whole))] - far) < 24
    pol = ContrastSweepPolicy()
    assert pol.choose_peak(CODES, whole, tiles) == pytest.approx(near, abs=3.0)
    assert ContrastSweepPolicy(priority="max").choose_peak(CODES, whole, tiles) < 200


def test_helpers():
    s = np.array([1.0, 2.0, 5.0, 3.0, 2.5, 4.0, 1.0])
    assert peak_segment(s, 2) == (0, 7)  # no higher sample to the right: down to the lowest
    assert peak_segment(s, 5) == (4, 7)
    assert significant_peaks(s, prominence_sigma=0.0) == [2, 5]
    assert curve_noise_sd([1.0, 1.0, 1.0, 1.0]) == 0.0
    assert significant_peaks([]) == []


@pytest.mark.parametrize(
    "options", [{"priority": "near"}, {"min_height": 1.5}, {"min_height": -0.1}, {"prominence_sigma": -1.0}]
)
def test_bad_options(options):
    with pytest.raises(InvalidParameterError):
        ContrastSweepPolicy(**options)


@pytest.mark.parametrize("index", [0, 1])
def test_depth_edge_suite_the_sweep_lands_on_the_near_card(index):
    from focuslab.bench.af_case import build_scene
    from focuslab.bench.af_runner import run_method
    from focuslab.bench.suites import suite_cases

    case = suite_cases("depth-edge")[index]  # the near card covers 5/8 of the region; "max" lands 0.9 and 4.4 DoF off
    record, _ = run_method(case, "contrast-sweep", build_scene(case))
    assert record["metrics"]["final_error"] <= 0.5
