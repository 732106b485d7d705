"""Zernike polynomials: Noll's indexing (Table I) and orthonormality over the unit disk."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError, UnknownNameError
from focuslab.optics.zernike import (
    ZERNIKE_NAMES,
    astigmatism_0,
    astigmatism_45,
    coma_x,
    coma_y,
    defocus,
    noll_index,
    noll_to_nm,
    spherical,
    zernike,
    zernike_radial,
    zernike_xy,
)

# Noll 1976, Table I: j -> (n, m), with m < 0 for the sin terms
NOLL_TABLE = {
    1: (0, 0), 2: (1, 1), 3: (1, -1), 4: (2, 0), 5: (2, -2), 6: (2, 2), 7: (3, -1), 8: (3, 1),
    9: (3, -3), 10: (3, 3), 11: (4, 0), 12: (4, 2), 13: (4, -2), 14: (4, 4), 15: (4, -4),
    16: (5, 1), 17: (5, -1), 18: (5, 3), 19: (5, -3), 20: (5, 5), 21: (5, -5), 22: (6, 0),
}  # fmt: skip


def test_noll_indexing_matches_table():
    for j, nm in NOLL_TABLE.items():
        assert noll_to_nm(j) == nm


def _disk_quadrature(n_r=24, n_t=64):
    """Exact for polynomials in rho of degree < 2 n_r and trig orders < n_t."""
    t, w = np.polynomial.legendre.leggauss(n_r)
    rho = 0.5 * (t + 1.0)
    w_r = 0.5 * w * rho  # rho drho
    theta = 2 * np.pi * np.arange(n_t) / n_t
    rr, tt = np.meshgrid(rho, theta, indexing="ij")
    ww = np.outer(w_r, np.full(n_t, 2 * np.pi / n_t)) / np.pi  # area average
    return rr, tt, ww


def test_orthonormal_over_unit_disk():
    rr, tt, ww = _disk_quadrature()
    z = np.stack([zernike(j, rr, tt) for j in range(1, 37)])
    gram = np.einsum("iab,jab,ab->ij", z, z, ww)
    np.testing.assert_allclose(gram, np.eye(36), atol=1e-12)


def test_closed_forms():
    rho = np.linspace(0, 1, 7)
    th = np.linspace(0, 2 * np.pi, 7)
    np.testing.assert_allclose(defocus(rho, th), math.sqrt(3) * (2 * rho**2 - 1))
    np.testing.assert_allclose(astigmatism_0(rho, th), math.sqrt(6) * rho**2 * np.cos(2 * th))
    np.testing.assert_allclose(astigmatism_45(rho, th), math.sqrt(6) * rho**2 * np.sin(2 * th))
    np.testing.assert_allclose(coma_x(rho, th), math.sqrt(8) * (3 * rho**3 - 2 * rho) * np.cos(th))
    np.testing.assert_allclose(coma_y(rho, th), math.sqrt(8) * (3 * rho**3 - 2 * rho) * np.sin(th))
    np.testing.assert_allclose(spherical(rho, th), math.sqrt(5) * (6 * rho**4 - 6 * rho**2 + 1))
    np.testing.assert_allclose(zernike("tilt_y", rho, th), 2 * rho * np.sin(th))


def test_radial_polynomials_are_one_at_the_edge():
    for n in range(9):
        for m in range(n % 2, n + 1, 2):
            assert zernike_radial(n, m, 1.0) == pytest.approx(1.0)


def test_cartesian_form_axes():
    # theta from +x towards +y: tilt_y grows with y (down the image)
    assert zernike_xy("tilt_y", 0.0, 0.5) == pytest.approx(1.0)
    assert zernike_xy("tilt_x", 0.5, 0.0) == pytest.approx(1.0)
    assert zernike_xy(6, 1.0, 0.0) == pytest.approx(math.sqrt(6))


def test_names_and_errors():
    assert all(noll_index(name) == j for name, j in ZERNIKE_NAMES.items())
    with pytest.raises(UnknownNameError, match="defocus"):
        zernike("focus", 0.5, 0.0)
    for bad in (0, -1, 1.5, True, "7"):
        with pytest.raises((InvalidParameterError, UnknownNameError)):
            zernike(bad, 0.5, 0.0)
    with pytest.raises(InvalidParameterError):
        zernike_radial(3, 2, 0.5)
