"""Analytic MTFs: known values, zeros, cutoffs; numerical MTF of sampled kernels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from focuslab.errors import InvalidParameterError
from focuslab.optics.mtf import (
    area_sampled_otf,
    diffraction_mtf,
    gaussian_mtf,
    mtf_of_psf,
    otf_of_psf,
    pillbox_mtf,
    pillbox_otf,
    pixel_aperture_mtf,
    pixel_aperture_otf,
)

J1_FIRST_ZERO = 3.831705970207512


def test_gaussian_mtf_values():
    assert gaussian_mtf(0.0, 2.0) == 1.0
    assert gaussian_mtf(0.1, 2.0) == pytest.approx(math.exp(-2 * math.pi**2 * 4 * 0.01), rel=1e-14)
    # MTF50 of a Gaussian: f = sqrt(ln 2 / 2) / (pi sigma)
    assert gaussian_mtf(math.sqrt(math.log(2) / 2) / (math.pi * 1.5), 1.5) == pytest.approx(0.5)
    assert gaussian_mtf(np.inf, 1.0) == 0.0


def test_pillbox_otf_values_and_first_zero():
    assert pillbox_otf(0.0, 10.0) == 1.0
    assert pillbox_otf(J1_FIRST_ZERO / (math.pi * 10.0), 10.0) == pytest.approx(0.0, abs=1e-12)
    assert pillbox_otf(0.15, 10.0) < 0  # first negative lobe (contrast reversal)
    assert pillbox_mtf(0.15, 10.0) == pytest.approx(-pillbox_otf(0.15, 10.0))
    assert pillbox_otf(0.05, 10.0) == pytest.approx(pillbox_otf(0.05, -10.0))  # sign-independent
    # small-argument series 1 - x^2 / 8 + x^4 / 192
    x = math.pi * 10.0 * 1e-3
    assert pillbox_otf(1e-3, 10.0) == pytest.approx(1 - x**2 / 8 + x**4 / 192, rel=1e-12)


def test_diffraction_mtf_values_and_cutoff():
    lam, n, p = 0.55, 2.0, 1.1  # cutoff p / (lambda N) = 1 cy/sample
    assert diffraction_mtf(0.0, lam, n, sample_pitch_um=p) == pytest.approx(1.0)
    half = (2 / math.pi) * (math.acos(0.5) - 0.5 * math.sqrt(0.75))
    assert diffraction_mtf(0.5, lam, n, sample_pitch_um=p) == pytest.approx(half, rel=1e-12)
    assert diffraction_mtf(1.0, lam, n, sample_pitch_um=p) == pytest.approx(0.0, abs=1e-12)
    assert diffraction_mtf(1.7, lam, n, sample_pitch_um=p) == 0.0
    f = np.linspace(0, 1, 50)
    assert np.all(np.diff(diffraction_mtf(f, lam, n, sample_pitch_um=p)) < 0)
    # slope at 0 is -4 / pi per unit of normalised frequency
    slope = (1 - diffraction_mtf(1e-6, lam, n, sample_pitch_um=p)) / 1e-6
    assert slope == pytest.approx(4 / math.pi, rel=1e-4)


def test_pixel_aperture():
    assert pixel_aperture_mtf(0.5) == pytest.approx(2 / math.pi)
    assert pixel_aperture_mtf(1.0) == pytest.approx(0.0, abs=1e-15)
    assert pixel_aperture_mtf(0.5, fill=0.5) == pytest.approx(math.sin(math.pi / 4) / (math.pi / 4))
    assert pixel_aperture_otf(1.5) < 0
    with pytest.raises(InvalidParameterError):
        pixel_aperture_mtf(0.2, fill=1.2)


def test_numerical_mtf_of_delta_and_of_a_two_point_kernel():
    f = np.linspace(0, 0.5, 11)
    np.testing.assert_allclose(mtf_of_psf(np.ones((1, 1)), f), 1.0)
    k = np.zeros((3, 3))
    k[1, 0] = k[1, 2] = 0.5  # cos(2 pi f) along x, constant along y
    np.testing.assert_allclose(otf_of_psf(k, f, axis="x").real, np.cos(2 * np.pi * f), atol=1e-15)
    np.testing.assert_allclose(mtf_of_psf(k, f, axis="y"), 1.0, atol=1e-15)


def test_otf_phase_gives_the_shift_direction():
    k = np.zeros((5, 5))
    k[2, 3] = 1.0  # one sample at +x
    otf = otf_of_psf(k, [0.25])
    assert otf[0] == pytest.approx(np.exp(-2j * np.pi * 0.25))


def test_multichannel_kernels():
    k = np.stack([np.ones((3, 3)) / 9, np.eye(3) / 3])
    out = mtf_of_psf(k, [0.0, 0.2])
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out[:, 0], 1.0)


def test_area_sampled_otf_of_a_constant_is_one():
    # sum_m sinc(f + m) = 1 for every f (partition of unity of the sampled box)
    total = area_sampled_otf(np.ones_like, [0.0, 0.3, 0.5], n_aliases=2000)
    np.testing.assert_allclose(total, 1.0, atol=2e-4)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4, 4)])
def test_bad_kernel_shape_raises(shape):
    with pytest.raises(InvalidParameterError):
        otf_of_psf(np.ones(shape), [0.1])


def test_bad_parameters_raise():
    with pytest.raises(InvalidParameterError):
        otf_of_psf(np.ones((3, 3)), [0.1], axis="z")
    with pytest.raises(InvalidParameterError):
        gaussian_mtf(0.1, -1.0)
    with pytest.raises(InvalidParameterError):
        diffraction_mtf(0.1, float("nan"), 2.0, sample_pitch_um=1.0)
    with pytest.raises(InvalidParameterError):
        diffraction_mtf(0.1, 0.55, 2.0, sample_pitch_um=0.0)


def test_nan_frequencies_propagate():
    assert np.isnan(gaussian_mtf(np.nan, 1.0))
    assert np.isnan(pillbox_otf(np.nan, 4.0))
