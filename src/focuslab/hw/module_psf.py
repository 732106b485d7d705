"""Fast PSF of the module model: an astigmatic Gaussian with the geometric second moments.

In geometric optics, a pupil wavefront W = W_M rho_r^2 + W_S rho_t^2 (defocus of the
meridional and sagittal fans, rho_r / rho_t the pupil coordinates along the radial and
tangential directions) maps the pupil onto an ellipse with diameters c_M = 8 N W_M (radial)
and c_S = 8 N W_S (tangential) (:mod:`focuslab.optics.pupil`: u = 2 N grad W). A uniformly
lit disk of diameter c has the second moment c^2 / 16 along any axis, so the Gaussian with

    sigma_r^2 = (c_M / 4)^2 + sigma_0^2,  sigma_t^2 = (c_S / 4)^2 + sigma_0^2

has the PSF's second moments, sigma_0 standing for diffraction (the Airy core's
sigma ~ 0.42 lambda N, Zhang et al., Appl. Opt. 46, 1819 (2007), Table 1) - the same
approximation as :class:`focuslab.optics.models.GaussianPsf` (sigma = c / 4), made
anisotropic. Its MTF along the radial direction, exp(-2 pi^2 sigma_r^2 f^2), depends on the
meridional fan only and peaks where c_M = 0: the best-focus geometry of
:mod:`focuslab.hw.module_model` is the same as with the wave PSF, at a fraction of the cost.
"""

from __future__ import annotations

import math

import numpy as np

#: Sub-samples per kernel sample used to area-integrate the Gaussian.
_SUB = 5


def airy_sigma_px(wavelength_um: float, f_number: float, pixel_pitch_um: float) -> float:
    """Gaussian sigma of the Airy core, pixels: 0.42 lambda N / pitch."""
    return 0.42 * wavelength_um * f_number / pixel_pitch_um


def astigmatic_gaussian_kernel(c_radial_px: float, c_tangential_px: float, radial_angle_rad: float, *,
                               sigma0_px: float, samples_per_px: int) -> np.ndarray:
    """Area-sampled anisotropic Gaussian PSF (module notes), ``(k, k)`` summing to 1.

    Parameters
    ----------
    c_radial_px, c_tangential_px
        Blur diameters of the meridional and sagittal fans, px (sign ignored).
    radial_angle_rad
        Direction of the radial (meridional) axis in the image, radians from +x towards +y.
    sigma0_px
        Defocus-independent sigma (diffraction), px.
    samples_per_px
        Kernel samples per pixel.
    """
    k = int(samples_per_px)
    sr = math.hypot(c_radial_px / 4.0, sigma0_px) * k
    st = math.hypot(c_tangential_px / 4.0, sigma0_px) * k
    half = math.ceil(4.0 * max(sr, st, 0.25)) + 1
    n = 2 * half + 1
    # sub-sample centres of each kernel sample
    t = (np.arange(n * _SUB) + 0.5) / _SUB - n / 2.0
    xx, yy = np.meshgrid(t, t)
    c, s = math.cos(radial_angle_rad), math.sin(radial_angle_rad)
    u = xx * c + yy * s
    v = -xx * s + yy * c
    g = np.exp(-0.5 * ((u / max(sr, 1e-3)) ** 2 + (v / max(st, 1e-3)) ** 2))
    kern = g.reshape(n, _SUB, n, _SUB).sum(axis=(1, 3))
    return kern / kern.sum()
