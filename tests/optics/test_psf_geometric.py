"""Geometric PSFs: exact areas, pillbox transfer function, polygons, sign of the blur."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.optics.mtf import area_sampled_otf, otf_of_psf, pillbox_otf
from focuslab.optics.psf_geometric import (
    aperture_kernel,
    aperture_strip_areas,
    disk_coverage,
    kernel_half_width,
    pillbox_kernel,
)


@pytest.mark.parametrize("c", [1e-6, 0.3, 1.0, 1.2, 2.5, 7.0, -7.0, 33.3, 400.0])
def test_pillbox_sums_to_one_odd_centred_symmetric(c):
    k = pillbox_kernel(c)
    assert k.dtype == np.float64
    assert k.shape[0] == k.shape[1] == 2 * kernel_half_width(c) + 1
    assert k.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-15)
    np.testing.assert_allclose(k, k.T, atol=1e-15)
    assert np.all(k >= 0)


@pytest.mark.parametrize("c", [0.4, 3.0, 10.5, 80.0])
def test_disk_area_is_exact(c):
    areas, _ = aperture_strip_areas(c)
    assert areas.sum() == pytest.approx(math.pi * c * c / 4.0, rel=1e-12)


def test_disk_coverage_of_cells_known_cases():
    # a cell well inside is full, the quadrant of a disk centred on a corner is pi r^2 / 4
    a = disk_coverage([-0.5, 0.5], [-0.5, 0.5], 10.0)
    assert a[0, 0] == pytest.approx(1.0)
    q = disk_coverage([0.0, 3.0], [0.0, 3.0], 2.0)
    assert q[0, 0] == pytest.approx(math.pi, rel=1e-12)


def test_delta_in_focus_and_continuity():
    np.testing.assert_array_equal(pillbox_kernel(0.0), [[1.0]])
    np.testing.assert_array_equal(pillbox_kernel(0.9), [[1.0]])  # whole disk inside one sample
    assert pillbox_kernel(1.01).shape == (3, 3)
    assert pillbox_kernel(1.01)[1, 1] > 0.99


@pytest.mark.parametrize("c", [3.0, 10.5, 40.0, -25.0])
def test_pillbox_transfer_function_matches_analytic(c):
    """Area-sampled kernel = pillbox OTF x sample sinc, aliased (mtf.py eq. 1): to 1e-5."""
    f = np.linspace(0.0, 0.5, 41)
    num = otf_of_psf(pillbox_kernel(c), f, axis="x")
    truth = area_sampled_otf(lambda g: pillbox_otf(g, c), f)
    np.testing.assert_allclose(num.real, truth, atol=1e-5)
    np.testing.assert_allclose(num.imag, 0.0, atol=1e-12)
    np.testing.assert_allclose(otf_of_psf(pillbox_kernel(c), f, axis="y").real, truth, atol=1e-5)


def test_pillbox_transfer_function_without_aliasing_at_low_frequency():
    """For a large blur the aliases are negligible below 0.25 cy/sample: 2 J1/x * sinc to 1e-3."""
    c = 40.0
    f = np.linspace(0.0, 0.25, 26)
    num = otf_of_psf(pillbox_kernel(c), f).real
    np.testing.assert_allclose(num, pillbox_otf(f, c) * np.sinc(f), atol=1e-3)


def test_polygon_area_and_many_blades_become_the_disk():
    c = 40.0
    for n in (3, 5, 6, 9):
        areas, _ = aperture_strip_areas(c, blades=n)
        exact = 0.5 * n * (c / 2.0) ** 2 * math.sin(2.0 * math.pi / n)
        assert areas.sum() == pytest.approx(exact, rel=2e-3)
    disk = aperture_kernel(c)
    many = aperture_kernel(c, blades=96)
    assert np.abs(many - disk).max() < 0.02 * disk.max()
    assert np.abs(many - disk).sum() < 0.01


def test_negative_blur_rotates_an_odd_polygon_by_180_degrees():
    k_pos = aperture_kernel(21.0, blades=5, rotation_deg=10.0)
    k_neg = aperture_kernel(-21.0, blades=5, rotation_deg=10.0)
    np.testing.assert_allclose(k_neg, k_pos[::-1, ::-1], atol=1e-12)
    assert np.abs(k_neg - k_pos).max() > 1e-3  # odd blade count: not point-symmetric
    k6p = aperture_kernel(21.0, blades=6)
    np.testing.assert_allclose(aperture_kernel(-21.0, blades=6), k6p, atol=1e-12)


def test_polygon_rotation_by_one_blade_step_is_identity_and_vertex_direction():
    k = aperture_kernel(30.0, blades=5, rotation_deg=0.0)
    np.testing.assert_allclose(aperture_kernel(30.0, blades=5, rotation_deg=72.0), k, atol=1e-12)
    # a vertex at +x: the kernel reaches further along +x than along -x
    row = k[k.shape[0] // 2]
    c0 = k.shape[0] // 2
    assert row[c0 + 14] > row[c0 - 14]
    # rotation 90 deg (towards +y, down) puts the vertex at +y
    col = aperture_kernel(30.0, blades=5, rotation_deg=90.0)[:, c0]
    assert col[c0 + 14] > col[c0 - 14]


@pytest.mark.parametrize("c", [1e-6, 0.01, 0.1, -0.3])
def test_tiny_polygon_is_a_near_delta(c):
    k = aperture_kernel(c, blades=5)
    assert k.shape == (1, 1) and k[0, 0] == pytest.approx(1.0)


def test_large_diameter_builds():
    k = aperture_kernel(400.0, blades=7)
    assert k.shape == (401, 401)
    assert k.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), 1e5])
def test_bad_diameter_raises(bad):
    with pytest.raises(InvalidParameterError):
        aperture_kernel(bad)


def test_bad_blades_raise():
    with pytest.raises(InvalidParameterError):
        aperture_kernel(10.0, blades=2)
    with pytest.raises(InvalidParameterError):
        aperture_kernel(10.0, blades=5, rotation_deg=float("nan"))


def test_input_not_modified_and_deterministic():
    a = aperture_kernel(17.3, blades=7, rotation_deg=3.0)
    b = aperture_kernel(17.3, blades=7, rotation_deg=3.0)
    np.testing.assert_array_equal(a, b)
