"""Pareto front on hand-made sets (Deb 2001 Def. 2.5)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.hw.design_pareto import dominates, front_of_records, pareto_mask


def test_hand_made_front_max_max():
    # (mtf, snr), both maximized: D dominated by B, E by everything on its upper right
    pts = {"A": (0.40, 2.0), "B": (0.30, 3.0), "C": (0.20, 4.0), "D": (0.25, 2.5), "E": (0.10, 1.0),
           "F": (0.40, 2.0)}  # F equals A: neither dominates the other, both stay
    mask = pareto_mask(list(pts.values()), ["maximize", "maximize"])
    assert dict(zip(pts, mask.tolist(), strict=True)) == {"A": True, "B": True, "C": True, "D": False, "E": False,
                                                          "F": True}


def test_directions_change_the_front():
    v = np.array([[1.0, 10.0], [2.0, 5.0], [3.0, 7.0]])
    assert pareto_mask(v, ["minimize", "minimize"]).tolist() == [True, True, False]
    assert pareto_mask(v, ["maximize", "maximize"]).tolist() == [True, False, True]
    assert pareto_mask(v, ["maximize", "minimize"]).tolist() == [False, True, True]
    assert dominates([3, 7], [2, 5], ["maximize", "maximize"])
    assert not dominates([2, 5], [2, 5], ["maximize", "maximize"])


def test_three_objectives_and_nan():
    v = [[1, 1, 1], [2, 2, 2], [2, 2, 0], [math.nan, 9, 9]]
    m = pareto_mask(v, ["maximize", "maximize", "minimize"])
    assert m.tolist() == [False, False, True, False]  # [2,2,0] beats [2,2,2] on cost alone, and [1,1,1]
    m = pareto_mask(v, ["maximize", "maximize", "maximize"])
    assert m.tolist() == [False, True, False, False]


def test_random_front_matches_brute_force():
    rng = np.random.default_rng(7)
    v = rng.normal(size=(60, 3))
    dirs = ["maximize", "minimize", "maximize"]
    s = v * np.array([-1, 1, -1])
    brute = [not any(np.all(s[j] <= s[i]) and np.any(s[j] < s[i]) for j in range(60)) for i in range(60)]
    assert pareto_mask(v, dirs).tolist() == brute


def test_records_and_errors():
    recs = [{"cost": 3.0, "snr": 2.0}, {"cost": 2.0, "snr": 2.0}, {"cost": 1.0, "snr": None}]
    assert front_of_records(recs, {"cost": "minimize", "snr": "maximize"}).tolist() == [False, True, False]
    with pytest.raises(InvalidParameterError, match="objective 'mtf' is not a design figure; figures: cost, snr"):
        front_of_records(recs, {"mtf": "maximize", "cost": "minimize"})
    with pytest.raises(InvalidParameterError, match="maximize or minimize"):
        pareto_mask([[1.0, 2.0]], ["up", "down"])
    with pytest.raises(InvalidParameterError, match="2 objectives"):
        pareto_mask([[1.0, 2.0, 3.0]], ["maximize", "maximize"])
