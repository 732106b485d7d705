"""Nearest-subject pooling of per-crop readings: one depth gives the plain inverse-variance pool,
two depths give the nearer one when it holds a quarter of the crops, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.models.nearest_subject import nearest_subject_defocus, reduced_chi2


def test_one_depth_gives_the_inverse_variance_pool():
    rng = np.random.default_rng(0)
    s = rng.uniform(0.3, 0.6, 9)
    d = 1.5 + s * rng.standard_normal(9)  # readings consistent with their sigmas
    mu, sigma, used = nearest_subject_defocus(d, s)
    w = 1 / s**2
    m = np.sum(w * d) / np.sum(w)
    assert used.all() and mu == pytest.approx(m, abs=1e-12)
    assert sigma == pytest.approx(math.sqrt(1 / np.sum(w) + np.sum(w * (d - m) ** 2) / np.sum(w)), abs=1e-12)
    assert reduced_chi2(d, s) < 3.0


@pytest.mark.parametrize(("n_near", "want"), [(3, 4.0), (5, 4.0), (2, 0.0)])
def test_two_depths_give_the_nearer_when_it_holds_a_quarter(n_near, want):
    """Crops on a card 4 DoF nearer than the focus plane (positive defocus) and on a background
    in focus: the card wins from 3 of 9 crops (>= 1/4), not from 2."""
    d = np.array([4.0] * n_near + [0.0] * (9 - n_near)) + 0.05 * np.sin(np.arange(9))
    s = np.full(9, 0.4)
    mu, _, used = nearest_subject_defocus(d, s)
    assert mu == pytest.approx(want, abs=0.1)
    assert used.sum() == (n_near if want else 9 - n_near)


def test_bad_readings_are_refused():
    with pytest.raises(InvalidParameterError, match="one sigma per reading"):
        nearest_subject_defocus([1.0, 2.0], [0.5])
    with pytest.raises(InvalidParameterError, match="finite"):
        nearest_subject_defocus([1.0, np.nan], [0.5, 0.5])
    with pytest.raises(InvalidParameterError, match="finite"):
        nearest_subject_defocus([1.0, 2.0], [0.5, 0.0])
