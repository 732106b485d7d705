"""Nearest-subject pooling of per-crop readings: one depth gives the plain inverse-variance pool,
two depths give the nearer one when it holds a quarter of the crops, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.models.nearest_subject import NEAR_WITHIN_DOF, NearestSubjectRun, nearest_subject_defocus, reduced_chi2


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


def test_a_run_keeps_the_nearest_subject_once_two_depths_were_seen():
    """``NearestSubjectRun``: nothing while the crops agree; the nearer subject once they
    disagree; and from then on even readings that pass the test (the background's crops blurred
    to wide sigmas) are pooled on the nearest subject, not on all crops."""
    run = NearestSubjectRun()
    one = np.full(9, 0.2) + 0.05 * np.sin(np.arange(9))
    assert run.read(one, np.full(9, 0.4)) is None and not run.two_depths
    two = np.array([4.0] * 4 + [0.0] * 5)
    assert run.read(two, np.full(9, 0.4))[0] == pytest.approx(4.0) and run.two_depths
    near_in_focus = np.array([0.0] * 4 + [-4.0] * 5)  # lens on the card; background 4 DoF behind
    wide = np.array([0.4] * 4 + [3.0] * 5)  # the blurred background's sigmas pass the test alone
    assert reduced_chi2(near_in_focus, wide) < 3.0
    assert run.read(near_in_focus, wide)[0] == pytest.approx(0.0, abs=0.05)
    assert NearestSubjectRun().read(near_in_focus, wide) is None  # without memory: the caller's blend
    assert run.read([1.0], [0.5]) is None and run.read([1.0, np.nan], [0.5, 0.5]) is None


def test_region_applies_the_rule_only_near_focus():
    run = NearestSubjectRun()
    two = (np.array([4.0] * 4 + [0.0] * 5), np.full(9, 0.4))
    assert run.region(NEAR_WITHIN_DOF + 1, 0.3, lambda: pytest.fail("no crops read far from focus")) == (7.0, 0.3)
    assert run.region(1.8, 0.3, lambda: None) == (1.8, 0.3)  # fewer than two crops a side
    assert run.region(1.8, 0.3, lambda: two)[0] == pytest.approx(4.0)
    # two depths found: the crops are read however far the whole region's blend reads
    on_card = (np.array([0.6] * 3 + [-9.0] * 6), np.full(9, 0.9))
    assert run.region(-7.2, 5.5, lambda: on_card)[0] == pytest.approx(0.6)
    fresh = NearestSubjectRun()
    assert fresh.region(-7.2, 5.5, lambda: pytest.fail("no crops read far from focus")) == (-7.2, 5.5)


def test_a_blurred_near_subject_is_not_outweighed_by_its_sigmas():
    """Measured crops of a depth-edge region with the lens at infinity (phone_main_tof, seed 3,
    one_over_f card at 0.95 m, 4.2 DoF): the card's column reads +3.7-3.9 DoF with the wider
    sigmas of its blur, the sharp background ~0. The card holds 3 of 9 crops (the truth's card),
    so the rule pools those, however small their inverse-variance weight (stop 21's weighted
    0.75 quantile fell on the background and the run ended at the infinity code, 4.2 DoF off)."""
    d = np.array([0.05, -0.02, 3.68, 0.21, -0.12, 3.87, 0.35, -0.27, 3.87])
    s = np.array([0.58, 0.62, 1.00, 0.58, 0.73, 0.92, 0.65, 1.10, 0.75])
    mu, _, used = nearest_subject_defocus(d, s)
    assert used.tolist() == [False, False, True] * 3
    w = 1 / s[used] ** 2
    assert mu == pytest.approx(np.sum(w * d[used]) / np.sum(w), abs=1e-12)


def test_two_groups_closer_than_the_floor_are_one_subject():
    """Readings that fail the chi-square test but leave no empty band of ``gap_floor_dof``
    between their two groups (tight sigmas on a slanted surface) are pooled whole."""
    d = np.array([0.0, 0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9, 1.0])
    s = np.full(9, 0.05)
    assert reduced_chi2(d, s) > 3.0
    _, _, used = nearest_subject_defocus(d, s)
    assert used.all()
    _, _, used = nearest_subject_defocus(d, s, gap_floor_dof=0.3)  # a 0.3-DoF band: two groups, the nearer 5
    assert used.tolist() == [False] * 4 + [True] * 5


def test_blended_crops_between_the_depths_leave_the_nearest_quarter_its_own():
    """Measured crops of a depth-edge region (phone_main_tof, seed 3, astronaut card at 0.96 m,
    1.42 DoF nearer than the lens): the card's column reads +1.4-1.6 DoF, the background's
    -0.9 to -2.1, and the column across the card's edge reads blends in between (-0.4 to +0.6),
    so no empty 1-DoF band splits two groups and stop 22 pooled every crop (-0.05 DoF; the run
    ended 1.42 DoF off). The nearest three crops stand apart by 0.82 DoF, more than three times
    their own 0.23-DoF spread: they are the subject."""
    d = np.array([-0.88, 0.58, 1.40, -2.08, -0.44, 1.48, -1.79, -0.29, 1.63])
    s = np.array([0.72, 0.86, 0.75, 0.70, 1.10, 0.63, 0.71, 1.25, 0.83])
    mu, _, used = nearest_subject_defocus(d, s)
    assert used.tolist() == [False, False, True] * 3
    assert mu == pytest.approx(1.42, abs=0.15)
    # a ramp (a slanted surface: no quarter standing apart) and a spread-out top stay whole
    ramp = np.linspace(-2.0, 2.0, 9)
    assert nearest_subject_defocus(ramp, np.full(9, 0.3))[2].all()
    loose = np.array([-2.0, -1.9, -1.8, -0.5, -0.4, -0.3, 0.6, 1.2, 1.8])  # top 3 span 1.2 DoF
    assert nearest_subject_defocus(loose, np.full(9, 0.3))[2].all()


def test_the_gate_can_be_set_to_a_networks_own_scatter():
    """Measured crops of a depth-edge region (phone_main_tof, seed 7, chelsea card 2.25 DoF
    nearer than the lens): each column agrees within 0.4 DoF, but the network's sigmas (0.7-1.4)
    keep the reduced chi-square at 2.5, under the default 3; ``learned-dp``'s measured 1.5 finds
    the card's column."""
    d = np.array([-0.95, -0.45, 1.87, -1.03, -0.07, 2.28, -1.35, -0.03, 2.20])
    s = np.array([0.75, 1.26, 1.13, 0.73, 1.27, 0.93, 0.78, 1.38, 1.04])
    assert 1.5 < reduced_chi2(d, s) < 3.0
    assert NearestSubjectRun().read(d, s) is None
    mu, _ = NearestSubjectRun(1.5).read(d, s)
    assert mu == pytest.approx(2.25, abs=0.25)
    with pytest.raises(InvalidParameterError, match="positive"):
        NearestSubjectRun(0.0)


def test_unreadable_crops_leave_the_rule_alone():
    """A faint wall's crops read with 5-8 DoF sigmas scatter as noise: their split is no
    subject, so the run neither pools them nor remembers two depths."""
    rng = np.random.default_rng(5)
    s = rng.uniform(5.0, 8.0, 9)
    d = s * rng.standard_normal(9) * 1.8  # scattered beyond their sigmas
    assert reduced_chi2(d, s) > 1.5
    run = NearestSubjectRun(1.5)
    assert run.read(d, s) is None and not run.two_depths


def test_three_depths_give_the_nearest_group_that_holds_a_quarter():
    """Measured crops of a depth-edge region (``wide_main_6mm``, seed 2, chelsea card, the lens
    0.27 DoF from it): the background reads -7.2 to -7.5 DoF, the column across the card's edge
    -2.2 to -2.9, the card 0.0-0.7. The two-group split takes the background apart and pooled
    the other two levels to -0.56 (the lens walked off the card to 1.20 DoF); split again, the
    nearer group's own nearer part (the card's column, a third of the crops) is the subject."""
    d = np.array([-7.47, -2.67, 0.68, -7.21, -2.19, 0.16, -7.48, -2.85, 0.02])
    s = np.array([0.78, 1.58, 1.15, 0.77, 1.58, 1.00, 0.93, 1.82, 1.03])
    mu, _, used = nearest_subject_defocus(d, s)
    assert used.tolist() == [False, False, True] * 3
    assert abs(mu - 0.27) < 0.2
    # a nearer part smaller than a quarter of all the crops (2 of 9) is not the subject alone
    d2 = np.array([-7.0, -7.1, -7.2, -2.5, -2.4, -2.6, -2.5, 0.5, 0.6])
    _, _, used2 = nearest_subject_defocus(d2, np.full(9, 0.8))
    assert used2.sum() > 2 and not used2[:3].any()


def test_the_function_and_the_run_leave_unreadable_crops_alike():
    """``nearest_subject_defocus`` applies the same sigma bound as the run: two clear depths read
    at 5-DoF sigmas are pooled whole (with the bound lifted, the nearer group)."""
    d = np.array([20.0] * 3 + [0.0] * 6)
    s = np.full(9, 5.0)
    assert nearest_subject_defocus(d, s)[2].all()
    assert nearest_subject_defocus(d, s, max_sigma_dof=math.inf)[2].sum() == 3
