"""Gaussian PSF, area-sampled through differences of the error function.

A Gaussian is the usual stand-in for a lens's residual blur (aberrations, diffraction,
sensor cross-talk lumped together) and a smooth alternative to the pillbox for defocus.
Each sample holds the integral of the continuous 2-D Gaussian over that sample's square
(samples are unit squares centred on integer offsets), which for a separable Gaussian is
the product of two 1-D integrals, each a difference of ``erf`` at the sample edges.

References
----------
.. [1] M. Abramowitz and I. A. Stegun, *Handbook of Mathematical Functions*, eq. 7.1.1
       (error function) and 26.2.2 (normal distribution Phi(x) = (1 + erf(x / sqrt 2)) / 2).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from focuslab.errors import InvalidParameterError, check_finite, check_positive

#: Default half-width of the kernel, in standard deviations (mass outside: 6e-5 per axis).
DEFAULT_TRUNCATE = 4.0

#: Largest sigma in samples a kernel is built for (memory guard).
MAX_SIGMA_SAMPLES = 1024.0


def gaussian_half_width(sigma_samples: float, truncate: float = DEFAULT_TRUNCATE) -> int:
    """Half-width h (kernel 2h + 1) that holds ``truncate`` standard deviations."""
    return math.ceil(truncate * abs(float(sigma_samples)) - 0.5) if sigma_samples > 0 else 0


def gaussian_profile(sigma_samples: float, half_width: int, *, mean_samples: float = 0.0) -> np.ndarray:
    """1-D area-sampled Gaussian: integral of N(mean, sigma^2) over each unit sample.

    Parameters
    ----------
    sigma_samples
        Standard deviation, samples (> 0).
    half_width
        Samples on each side of the centre; the profile has ``2 * half_width + 1`` samples.
    mean_samples
        Centre of the Gaussian relative to the middle sample, samples.

    Returns
    -------
    numpy.ndarray
        ``(2h + 1,)`` masses Phi((x + 1/2 - m)/sigma) - Phi((x - 1/2 - m)/sigma) [1]; not
        renormalised (the sum is the mass inside the window).
    """
    edges = np.arange(-half_width - 0.5, half_width + 1.0, 1.0)
    return np.diff(ndtr((edges - mean_samples) / sigma_samples))


def gaussian_kernel(sigma_samples: float, *, truncate: float = DEFAULT_TRUNCATE) -> np.ndarray:
    """Area-sampled, isotropic 2-D Gaussian PSF.

    Parameters
    ----------
    sigma_samples
        Standard deviation, samples (>= 0; 0 gives the delta kernel ``[[1.0]]``).
    truncate
        Half-width of the kernel in standard deviations (> 0).

    Returns
    -------
    numpy.ndarray
        ``(k, k)`` float64 with k = 2 ceil(truncate sigma - 1/2) + 1, odd, centred, sum 1
        (renormalised after truncation).

    Raises
    ------
    InvalidParameterError
        Negative, non-finite or too large sigma; non-positive truncate.

    Notes
    -----
    g(x, y) = exp(-(x^2 + y^2) / (2 sigma^2)) / (2 pi sigma^2); its transfer function is
    exp(-2 pi^2 sigma^2 f^2) (:func:`focuslab.optics.mtf.gaussian_mtf`), multiplied by the
    sample-box sinc for the area-sampled kernel.
    """
    s = check_positive("sigma_samples", sigma_samples, allow_zero=True)
    t = check_positive("truncate", truncate)
    if s > MAX_SIGMA_SAMPLES:
        raise InvalidParameterError(
            f"sigma_samples {s:g} exceeds {MAX_SIGMA_SAMPLES:g}; lower samples_per_px or the blur"
        )
    if s == 0.0:
        return np.ones((1, 1))
    g = gaussian_profile(s, gaussian_half_width(s, t))
    g = g / g.sum()
    return np.outer(g, g)


def sigma_from_fwhm(fwhm_samples: float) -> float:
    """Standard deviation of a Gaussian of full width at half maximum ``fwhm_samples``."""
    return check_finite("fwhm_samples", fwhm_samples) / (2.0 * math.sqrt(2.0 * math.log(2.0)))
