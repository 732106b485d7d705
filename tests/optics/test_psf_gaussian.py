"""Gaussian PSF: transfer function exp(-2 pi^2 sigma^2 f^2), moments, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.optics.mtf import area_sampled_otf, gaussian_mtf, otf_of_psf
from focuslab.optics.psf_gaussian import gaussian_kernel, gaussian_profile, sigma_from_fwhm


@pytest.mark.parametrize("sigma", [0.3, 0.7, 1.0, 2.5, 6.0])
def test_sums_to_one_odd_centred(sigma):
    k = gaussian_kernel(sigma)
    assert k.shape[0] % 2 == 1 and k.shape[0] == k.shape[1]
    assert k.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-16)
    np.testing.assert_allclose(k, k.T, atol=1e-16)


def test_zero_sigma_is_a_delta():
    np.testing.assert_array_equal(gaussian_kernel(0.0), [[1.0]])


@pytest.mark.parametrize("sigma", [0.5, 1.0, 3.0])
def test_transfer_function_matches_analytic(sigma):
    """exp(-2 pi^2 sigma^2 f^2) x sinc, aliased (mtf.py eq. 1): 1e-6 (truncate 6), 1e-3 (default)."""
    f = np.linspace(0.0, 0.5, 41)
    truth = area_sampled_otf(lambda g: gaussian_mtf(g, sigma), f)
    np.testing.assert_allclose(otf_of_psf(gaussian_kernel(sigma, truncate=6.0), f).real, truth, atol=1e-6)
    np.testing.assert_allclose(otf_of_psf(gaussian_kernel(sigma), f).real, truth, atol=1e-3)


def test_variance_is_sigma_squared_plus_box():
    """Area sampling adds the unit box's variance 1/12 (Sheppard's correction)."""
    s = 2.0
    k = gaussian_kernel(s, truncate=8.0)
    x = np.arange(k.shape[0]) - k.shape[0] // 2
    var_x = (k.sum(axis=0) * x * x).sum()
    assert var_x == pytest.approx(s * s + 1.0 / 12.0, rel=1e-8)


def test_profile_is_area_of_normal_density():
    g = gaussian_profile(1.0, 3, mean_samples=0.25)
    phi = np.vectorize(lambda x: 0.5 * (1.0 + math.erf(x / math.sqrt(2.0))))
    edges = np.arange(-3.5, 4.0, 1.0) - 0.25
    np.testing.assert_allclose(g, np.diff(phi(edges)), rtol=1e-12)
    assert np.argmax(g) == 3


def test_fwhm_conversion():
    assert sigma_from_fwhm(2.0 * np.sqrt(2.0 * np.log(2.0))) == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), 1e6])
def test_bad_sigma_raises(bad):
    with pytest.raises(InvalidParameterError):
        gaussian_kernel(bad)


def test_bad_truncate_raises():
    with pytest.raises(InvalidParameterError):
        gaussian_kernel(1.0, truncate=0.0)
