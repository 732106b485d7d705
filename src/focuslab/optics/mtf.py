"""Analytic modulation transfer functions, and the numerical MTF of a sampled PSF.

Frequencies are in cycles per *sample* of the grid the PSF lives on (cycles/pixel when
there is one sample per pixel; with ``samples_per_px`` samples per pixel, cycles/pixel =
``samples_per_px`` x cycles/sample). Sizes are in samples.

An *area-sampled* kernel (each sample the integral of the continuous PSF over a unit
square, as every kernel in :mod:`focuslab.optics`) has the discrete-time Fourier transform

    K(f) = sum_m H(f + m) sinc(f + m)                                          (1)

along an axis, where H is the continuous OTF: the box of one sample multiplies H by
sinc(f) = sin(pi f) / (pi f), and sampling at unit pitch aliases it (Poisson summation).
:func:`area_sampled_otf` evaluates (1), so tests compare like with like.

References
----------
.. [1] J. W. Goodman, *Introduction to Fourier Optics*, 3rd ed., eq. 6-32 (OTF of a
       diffraction-limited circular pupil) and sec. 6.3.
.. [2] G. D. Boreman, *Modulation Transfer Function in Optical and Electro-Optical
       Systems*, SPIE TT52 (2001), sec. 1.5 (Gaussian, pillbox) and eq. 2.2 (pixel sinc).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import j1

from focuslab.errors import InvalidParameterError, check_positive


def gaussian_mtf(f_cy_per_sample, sigma_samples: float):
    """MTF of a Gaussian PSF of standard deviation sigma: exp(-2 pi^2 sigma^2 f^2) [2]."""
    s = check_positive("sigma_samples", sigma_samples, allow_zero=True)
    f = np.asarray(f_cy_per_sample, dtype=float)
    return np.exp(-2.0 * np.pi**2 * s * s * f * f)


def pillbox_otf(f_cy_per_sample, diameter_samples: float):
    """Signed OTF of a uniform disk of diameter c: 2 J1(pi c f) / (pi c f), 1 at f = 0 [2]."""
    c = abs(float(diameter_samples))
    x = np.pi * c * np.abs(np.asarray(f_cy_per_sample, dtype=float))
    safe = np.where(x == 0.0, 1.0, x)
    return np.where(x == 0.0, 1.0, 2.0 * j1(safe) / safe)


def pillbox_mtf(f_cy_per_sample, diameter_samples: float):
    """MTF (modulus) of a uniform disk of diameter c: |2 J1(pi c f) / (pi c f)|."""
    return np.abs(pillbox_otf(f_cy_per_sample, diameter_samples))


def diffraction_mtf(f_cy_per_sample, wavelength_um: float, f_number: float, *, sample_pitch_um: float):
    """Diffraction-limited MTF of an aberration-free circular pupil (incoherent light).

    Parameters
    ----------
    f_cy_per_sample
        Spatial frequency, cycles per sample (any shape).
    wavelength_um
        Wavelength lambda, micrometres.
    f_number
        Working f-number N.
    sample_pitch_um
        Sample spacing p on the sensor, micrometres.

    Returns
    -------
    numpy.ndarray
        MTF(nu) = (2/pi) (arccos nu - nu sqrt(1 - nu^2)) for nu = |f| / f_c <= 1, else 0,
        with cutoff f_c = 1 / (lambda N) cycles/um = p / (lambda N) cycles/sample [1].
    """
    lam = check_positive("wavelength_um", wavelength_um)
    n = check_positive("f_number", f_number)
    p = check_positive("sample_pitch_um", sample_pitch_um)
    nu = np.abs(np.asarray(f_cy_per_sample, dtype=float)) * lam * n / p
    nu_c = np.minimum(nu, 1.0)
    return (2.0 / np.pi) * (np.arccos(nu_c) - nu_c * np.sqrt(1.0 - nu_c * nu_c))


def pixel_aperture_otf(f_cy_per_px, fill: float = 1.0):
    """Signed OTF of a square pixel aperture of width ``fill`` pitches: sinc(fill f) [2]."""
    a = check_positive("fill", fill)
    if a > 1.0:
        raise InvalidParameterError(f"fill (aperture width / pitch) must be in (0, 1], got {fill}")
    return np.sinc(a * np.asarray(f_cy_per_px, dtype=float))


def pixel_aperture_mtf(f_cy_per_px, fill: float = 1.0):
    """MTF of a square pixel aperture of width ``fill`` pitches (linear fill): |sinc(fill f)|."""
    return np.abs(pixel_aperture_otf(f_cy_per_px, fill))


def area_sampled_otf(otf: Callable, f_cy_per_sample, *, n_aliases: int = 200):
    """Transfer function of an area-sampled kernel along one axis, eq. (1).

    Parameters
    ----------
    otf
        Continuous OTF along that axis, a vectorised function of frequency (cycles/sample).
    f_cy_per_sample
        Frequencies at which to evaluate, cycles/sample.
    n_aliases
        Aliases m = -n..n summed (the terms decay like |m|^-1 sinc x OTF).

    Returns
    -------
    numpy.ndarray
        sum_m otf(f + m) sinc(f + m), real for a real, even OTF.
    """
    f = np.asarray(f_cy_per_sample, dtype=float)
    m = np.arange(-int(n_aliases), int(n_aliases) + 1, dtype=float)
    g = f[..., None] + m
    return np.sum(otf(g) * np.sinc(g), axis=-1)


def otf_of_psf(kernel, f_cy_per_sample, *, axis: str = "x") -> np.ndarray:
    """Discrete-time Fourier transform of a centred kernel along x or y (complex OTF).

    Parameters
    ----------
    kernel
        ``(k, k)`` or ``(C, k, k)`` PSF, centred on ``(k // 2, k // 2)``.
    f_cy_per_sample
        1-D frequencies, cycles/sample.
    axis
        ``"x"`` (columns; the PSF is first summed over rows into the line-spread function)
        or ``"y"`` (rows).

    Returns
    -------
    numpy.ndarray
        ``(n_f,)`` or ``(C, n_f)`` complex: sum_x LSF(x) exp(-2 pi i f x), not normalised
        (its value at f = 0 is the kernel's sum).
    """
    k = np.asarray(kernel, dtype=float)
    if k.ndim not in (2, 3) or k.shape[-1] != k.shape[-2]:
        raise InvalidParameterError(f"kernel must be (k, k) or (C, k, k), got shape {k.shape}")
    if axis not in ("x", "y"):
        raise InvalidParameterError(f"axis must be 'x' or 'y', got {axis!r}")
    lsf = k.sum(axis=-2) if axis == "x" else k.sum(axis=-1)
    n = lsf.shape[-1]
    x = np.arange(n) - n // 2
    f = np.atleast_1d(np.asarray(f_cy_per_sample, dtype=float))
    return lsf @ np.exp(-2j * np.pi * np.outer(x, f))


def mtf_of_psf(kernel, f_cy_per_sample, *, axis: str = "x") -> np.ndarray:
    """Numerical MTF |OTF(f)| / OTF(0) of a sampled kernel along x or y (see :func:`otf_of_psf`)."""
    otf = otf_of_psf(kernel, f_cy_per_sample, axis=axis)
    total = np.asarray(kernel, dtype=float).sum(axis=(-2, -1))
    return np.abs(otf) / np.asarray(total)[..., None]
