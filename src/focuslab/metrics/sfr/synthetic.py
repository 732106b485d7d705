"""Synthetic slanted edges with an exactly known SFR, for validating e-SFR measurements.

An ideal straight edge is blurred by a circularly symmetric PSF (Gaussian, pillbox, or the
diffraction-limited Airy pattern of a circular pupil) and integrated over square pixels,
exactly: the value of pixel ``(x, y)`` is the average of the blurred edge profile ``E(s)``
over the pixel square, where ``s`` is the signed distance to the edge. Writing ``H`` for the
second antiderivative of ``E`` and ``a = |cos(theta)|``, ``b = |sin(theta)|`` (the pixel's
extents along the normal),

    pixel(s0) = [H(s0 + (a+b)/2) - H(s0 + (a-b)/2) - H(s0 - (a-b)/2) + H(s0 - (a+b)/2)] / (a b)

so the system MTF along the normal is ``MTF_psf(f) sinc(a f) sinc(b f)``
(:func:`system_mtf`). For the Gaussian ``H`` is closed form; for the pillbox it is the
double cumulative integral of the closed-form disk ESF on a 1e-3 px grid. The diffraction
edge is computed from its band-limited MTF instead (Fourier synthesis of a step,
``E(s) = 1/2 + (1/pi) int_0^fc MTF(f) sinc(a f) sinc(b f) sin(2 pi f s) / f df``, composite
Gauss-Legendre quadrature of 64 panels x 32 points, separable in x and y).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import j1, ndtr

from focuslab.errors import InvalidParameterError

PSF_KINDS = ("gaussian", "pillbox", "diffraction")
_PANELS, _POINTS_PER_PANEL = 64, 32
_GRID_STEP_PX = 1e-3


def _gaussian_h(t: np.ndarray, sigma: float) -> np.ndarray:
    z = t / sigma
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return 0.5 * (t * t + sigma * sigma) * ndtr(z) + 0.5 * sigma * t * pdf


def _pillbox_h(radius: float):
    t = np.arange(-radius - 2 * _GRID_STEP_PX, radius + 2 * _GRID_STEP_PX, _GRID_STEP_PX)
    u = np.clip(t / radius, -1.0, 1.0)
    esf = 0.5 + (u * np.sqrt(1.0 - u * u) + np.arcsin(u)) / math.pi
    g = np.concatenate([[0.0], np.cumsum(0.5 * (esf[1:] + esf[:-1]) * _GRID_STEP_PX)])
    h = np.concatenate([[0.0], np.cumsum(0.5 * (g[1:] + g[:-1]) * _GRID_STEP_PX)])
    t_end, g_end, h_end = t[-1], g[-1], h[-1]

    def h_of(s: np.ndarray) -> np.ndarray:
        inside = np.interp(s, t, h, left=0.0)
        beyond = h_end + g_end * (s - t_end) + 0.5 * (s - t_end) ** 2
        return np.where(s > t_end, beyond, inside)

    return h_of


def _fourier_edge(u: np.ndarray, v: np.ndarray, *, fc: float, size_px: float, a: float, b: float) -> np.ndarray:
    """Pixel-integrated step ``E(u - v)`` from the band-limited MTF (sin(A - B) = sin A cos B - cos A sin B)."""
    x, w = np.polynomial.legendre.leggauss(_POINTS_PER_PANEL)
    width = fc / _PANELS
    f = (np.arange(_PANELS)[:, None] * width + 0.5 * width * (x[None, :] + 1.0)).ravel()
    w = np.tile(0.5 * width * w, _PANELS)
    k = w * psf_mtf(f, psf="diffraction", size_px=size_px) * np.sinc(a * f) * np.sinc(b * f) / f
    pu, pv = 2.0 * math.pi * np.outer(u, f), 2.0 * math.pi * np.outer(v, f)
    return 0.5 + ((np.cos(pv) * k) @ np.sin(pu).T - (np.sin(pv) * k) @ np.cos(pu).T) / math.pi


def psf_mtf(freq_cpp: np.ndarray, *, psf: str, size_px: float) -> np.ndarray:
    """MTF of the PSF: Gaussian ``exp(-2 pi^2 sigma^2 f^2)`` (``size_px`` = sigma), pillbox
    ``2 J1(pi d f) / (pi d f)`` (``size_px`` = diameter d), or diffraction-limited circular pupil
    ``(2/pi) (acos(v) - v sqrt(1 - v^2))``, ``v = f / fc``, ``fc = 1 / size_px`` (``size_px`` =
    wavelength x f-number in pixels; Goodman, Introduction to Fourier Optics, eq. 6-31)."""
    f = np.asarray(freq_cpp, dtype=np.float64)
    if psf == "gaussian":
        return np.exp(-2.0 * math.pi**2 * size_px**2 * f * f)
    if psf == "diffraction":
        v = np.clip(np.abs(f) * size_px, 0.0, 1.0)
        return (2.0 / math.pi) * (np.arccos(v) - v * np.sqrt(1.0 - v * v))
    x = math.pi * size_px * f
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x == 0, 1.0, 2.0 * j1(x) / np.where(x == 0, 1.0, x))


def system_mtf(freq_cpp: np.ndarray, *, psf: str, size_px: float, angle_deg: float) -> np.ndarray:
    """Exact SFR along the edge normal: PSF MTF x square-pixel aperture ``sinc(f cos) sinc(f sin)``."""
    th = math.radians(angle_deg)
    f = np.asarray(freq_cpp, dtype=np.float64)
    return psf_mtf(f, psf=psf, size_px=size_px) * np.sinc(f * math.cos(th)) * np.sinc(f * math.sin(th))


def slanted_edge(
    shape: tuple[int, int],
    *,
    angle_deg: float,
    psf: str = "gaussian",
    size_px: float = 1.0,
    dark: float = 0.1,
    light: float = 0.9,
    offset_px: float = 0.0,
    snr_db: float | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """A near-vertical edge (dark on the left) through the image centre, float64 ``H x W``.

    Parameters
    ----------
    shape
        (rows, cols).
    angle_deg
        Edge angle from vertical, ``atan(dx/dy)``, in (-45, 45).
    psf, size_px
        ``"gaussian"`` with sigma ``size_px``, ``"pillbox"`` with diameter ``size_px``, or
        ``"diffraction"`` with ``size_px`` = wavelength x f-number (cut-off ``1/size_px`` cy/px).
    dark, light
        Levels on the two sides.
    offset_px
        Shift of the edge along its normal from the image centre.
    snr_db
        Optional white Gaussian noise with ``sigma = (light - dark) / 10**(snr_db / 20)``;
        needs ``rng``.

    Returns
    -------
    numpy.ndarray
        The pixel values (transpose it for a horizontal edge, flip it for light-to-dark).
    """
    if psf not in PSF_KINDS:
        raise InvalidParameterError(f"unknown psf {psf!r}; valid: {', '.join(PSF_KINDS)}")
    if not 0.0 < abs(angle_deg) < 45.0:
        raise InvalidParameterError(f"angle_deg must be in (-45, 45) and not 0, got {angle_deg!r}")
    if not size_px > 0:
        raise InvalidParameterError(f"size_px must be > 0, got {size_px!r}")
    rows, cols = shape
    th = math.radians(angle_deg)
    a, b = abs(math.cos(th)), abs(math.sin(th))
    u = (np.arange(cols, dtype=np.float64) - (cols - 1) / 2.0) * math.cos(th)
    v = (np.arange(rows, dtype=np.float64) - (rows - 1) / 2.0) * math.sin(th) + offset_px
    if psf == "diffraction":
        frac = _fourier_edge(u, v, fc=1.0 / size_px, size_px=size_px, a=a, b=b)
    else:
        s0 = u[None, :] - v[:, None]
        h = (lambda t: _gaussian_h(t, size_px)) if psf == "gaussian" else _pillbox_h(size_px / 2.0)
        p, m = 0.5 * (a + b), 0.5 * (a - b)
        frac = (h(s0 + p) - h(s0 + m) - h(s0 - m) + h(s0 - p)) / (a * b)
    img = dark + (light - dark) * frac
    if snr_db is not None:
        if rng is None:
            raise InvalidParameterError("snr_db needs rng (a numpy.random.Generator) for reproducible noise")
        img = img + rng.normal(0.0, (light - dark) / 10 ** (snr_db / 20.0), size=img.shape)
    return img
