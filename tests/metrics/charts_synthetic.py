"""Synthetic slanted-square charts with a known, field-dependent Gaussian PSF (test truth).

Each dark square is rendered on its own patch: the square is point-sampled on a grid of
``supersample`` x ``supersample`` sub-pixels per pixel, convolved with an (astigmatic)
Gaussian PSF whose principal axes are the radial and tangential directions at the square's
centre, then averaged over each pixel's sub-pixels (square-pixel integration). Convolution
being linear, the image is ``light - (light - dark) * sum(coverage)``.

Truth: along an edge with unit normal n, the system line spread is a Gaussian of variance
``n^T Sigma n`` (Sigma = R diag(sigma_r^2, sigma_t^2) R^T) convolved with the pixel box seen
along n, so the analytic MTF is ``exp(-2 pi^2 (n^T Sigma n) f^2) * sinc(f n_x) * sinc(f n_y)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.signal import fftconvolve


@dataclass(frozen=True)
class SquareTruth:
    corners_xy: np.ndarray  # (4, 2), in order around the square
    centre_xy: tuple[float, float]
    sigma_radial_px: float
    sigma_tangential_px: float
    radial_angle_rad: float

    def sigma_along(self, normal_xy) -> float:
        """Std of the PSF projected on the unit vector ``normal_xy``, px."""
        c, s = math.cos(self.radial_angle_rad), math.sin(self.radial_angle_rad)
        nr = normal_xy[0] * c + normal_xy[1] * s
        nt = -normal_xy[0] * s + normal_xy[1] * c
        return math.sqrt((nr * self.sigma_radial_px) ** 2 + (nt * self.sigma_tangential_px) ** 2)


def analytic_mtf(f_cpp, sigma_px: float, normal_xy) -> np.ndarray:
    """Gaussian PSF MTF times the square-pixel aperture seen along ``normal_xy``."""
    f = np.asarray(f_cpp, dtype=np.float64)
    return np.exp(-2 * np.pi**2 * sigma_px**2 * f**2) * np.abs(np.sinc(f * normal_xy[0]) * np.sinc(f * normal_xy[1]))


def analytic_mtf50(sigma_px: float, normal_xy) -> float:
    """Frequency (cycles/pixel) where :func:`analytic_mtf` falls to 0.5."""
    return brentq(lambda f: float(analytic_mtf(f, sigma_px, normal_xy)) - 0.5, 1e-6, 1.0)


def _kernel(sigma_r: float, sigma_t: float, angle: float, s: int) -> np.ndarray:
    half = math.ceil(4.0 * max(sigma_r, sigma_t) * s)
    off = (np.arange(-half, half + 1)) / s
    x, y = np.meshgrid(off, off)
    c, si = math.cos(angle), math.sin(angle)
    r, t = x * c + y * si, -x * si + y * c
    k = np.exp(-0.5 * ((r / sigma_r) ** 2 + (t / sigma_t) ** 2))
    return k / k.sum()


def square_chart(
    shape: tuple[int, int] = (480, 640),
    *,
    grid: tuple[int, int] = (3, 4),
    side_px: float = 64.0,
    rotation_deg: float = 5.0,
    dark: float = 0.2,
    light: float = 0.8,
    sigma: Callable[[float], tuple[float, float]] = lambda r: (1.0, 1.0),
    supersample: int = 6,
    noise_sd: float = 0.0,
    seed: int = 0,
    margin_frac: float = 0.12,
    psf: Callable[[tuple[float, float], int], np.ndarray] | None = None,
) -> tuple[np.ndarray, list[SquareTruth]]:
    """A ``grid`` (rows, cols) of dark squares rotated by ``rotation_deg`` on a light ground.

    ``sigma(r) -> (sigma_radial_px, sigma_tangential_px)`` gives the PSF at relative image height
    r of each square's centre. Or ``psf(field_xy, samples_per_px) -> 2-D kernel`` (e.g. an
    optics PSF model; ``field_xy`` = offset / half-diagonal) replaces the Gaussian (the truth's
    sigmas are then NaN). Returns the float64 image and the truth per square.
    """
    h, w = shape
    rows, cols = grid
    cx0, cy0 = (w - 1) / 2.0, (h - 1) / 2.0
    half_diag = 0.5 * math.hypot(w - 1, h - 1)
    # a single row or column sits on the image centre line
    xs = np.linspace(margin_frac * w + side_px / 2, w - margin_frac * w - side_px / 2, cols) if cols > 1 else [cx0]
    ys = np.linspace(margin_frac * h + side_px / 2, h - margin_frac * h - side_px / 2, rows) if rows > 1 else [cy0]
    img = np.full(shape, light, dtype=np.float64)
    a = math.radians(rotation_deg)
    unit = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64) * side_px / 2
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    s = int(supersample)
    truths = []
    for yc in ys:
        for xc in xs:
            corners = unit @ rot.T + np.array([xc, yc])
            r = math.hypot(xc - cx0, yc - cy0) / half_diag
            phi = math.atan2(yc - cy0, xc - cx0)
            if psf is None:
                sr, st = sigma(r)
                kernel = _kernel(sr, st, phi, int(supersample))
            else:
                sr = st = math.nan
                kernel = psf(((xc - cx0) / half_diag, (yc - cy0) / half_diag), int(supersample))
            truths.append(SquareTruth(corners, (float(xc), float(yc)), sr, st, phi))
            pad = math.ceil(kernel.shape[0] / (2 * supersample)) + 3
            x0, x1 = math.floor(corners[:, 0].min()) - pad, math.ceil(corners[:, 0].max()) + pad
            y0, y1 = math.floor(corners[:, 1].min()) - pad, math.ceil(corners[:, 1].max()) + pad
            sub = (np.arange((x1 - x0) * s) + 0.5) / s - 0.5 + x0
            suby = (np.arange((y1 - y0) * s) + 0.5) / s - 0.5 + y0
            gx, gy = np.meshgrid(sub, suby)
            inside = np.ones(gx.shape, dtype=bool)
            for i in range(4):
                p, q = corners[i], corners[(i + 1) % 4]
                inside &= (q[0] - p[0]) * (gy - p[1]) - (q[1] - p[1]) * (gx - p[0]) >= 0
            cov = fftconvolve(inside.astype(np.float64), kernel, mode="same")
            cov = cov.reshape(y1 - y0, s, x1 - x0, s).mean(axis=(1, 3))
            img[y0:y1, x0:x1] -= (light - dark) * cov
    if noise_sd > 0:
        img = img + np.random.default_rng(seed).normal(0.0, noise_sd, img.shape)
    return img, truths
