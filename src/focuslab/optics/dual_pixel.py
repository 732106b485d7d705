"""Dual-pixel (DP) optics: the left/right sub-aperture PSFs and the sub-pixels' response.

Each pixel of a dual-pixel sensor has two photodiodes under one microlens. The microlens
images the exit pupil onto the photodiodes, so the *left* photodiode collects the light
that crossed the left half of the pupil (pupil x < 0, pupil axes aligned with the image
axes, seen from the sensor looking out through the lens) and the right one the other half.
A defocused point is therefore imaged by each half through its own half-aperture:

* geometric optics: the left PSF is the image of the left half-disk, the right PSF of the
  right half-disk. Pupil point rho lands at image offset (c / 2) rho, so for c > 0 (object
  nearer than the focus plane) the left PSF lies at -x and the right at +x; for c < 0 they
  swap. The centroid of a half-disk of radius R lies 4R / (3 pi) from the diameter, so the
  disparity is x_R - x_L = 4 c / (3 pi) (c signed), zero in focus [1].
* wave optics: the PSFs of the two half-pupils (see :mod:`focuslab.optics.psf_wave`).

The angular response of the sub-pixels is :class:`DualPixelResponse`: a split line at pupil
x = x0 (x0 = ``split_shift_per_field`` x field x, modelling the mismatch between the lens's
chief-ray angle and the microlens shift off axis), a soft transition of the split
(``split_softness``, the standard deviation of an error-function step, in pupil radii),
optical/electrical ``crosstalk`` between the two photodiodes, and per-side ``left_gain`` /
``right_gain`` (angular vignetting). With weights w_L(x) = Phi((x0 - x) / s) and
w_R = 1 - w_L over the pupil, the raw half-PSFs are normalised so that together they hold
all the light, then mixed:

    L = g_L ((1 - e) L0 + e R0),   R = g_R ((1 - e) R0 + e L0)                 (1)

so L + R = whole PSF when the response is ideal (s = 0, e = 0, g = 1, x0 = 0).

References
----------
.. [1] A. Punnappurath, A. Abuolaim, M. Afifi, M. S. Brown, "Modeling defocus-disparity in
       dual-pixel sensors", ICCP 2020 (half-aperture PSFs of a DP sensor).
.. [2] N. Wadhwa et al., "Synthetic depth-of-field with a single-camera mobile phone",
       ACM TOG 37(4) 64 (2018), sec. 3 (dual-pixel geometry).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from focuslab.errors import InvalidParameterError, check_finite, check_positive
from focuslab.optics.psf_geometric import DELTA_DIAMETER_SAMPLES, aperture_strip_areas, check_diameter

#: Sub-columns per sample used to apply the split weights.
SPLIT_STRIPS = 16


def _psi(z):
    """Antiderivative of the normal CDF: Psi(z) = z Phi(z) + phi(z)."""
    return z * ndtr(z) + np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class DualPixelResponse:
    """Angular response of a dual-pixel sensor's two photodiodes (hardware description).

    Parameters
    ----------
    split_softness
        Standard deviation of the soft left/right transition across the pupil, in pupil
        radii (>= 0; 0 = hard split).
    crosstalk
        Fraction of each side's light that ends up in the other photodiode, in [0, 0.5).
    left_gain, right_gain
        Throughput of each photodiode, in (0, 1] (angular vignetting, gain mismatch).
    split_shift_per_field
        Shift of the split line, pupil radii per unit relative field x (chief-ray-angle
        mismatch off axis); the split sits at x0 = shift * field_x, clipped to [-1, 1].
        Positive values move it to +x, so the left photodiode sees more of the pupil at
        +field_x.
    """

    split_softness: float = 0.0
    crosstalk: float = 0.0
    left_gain: float = 1.0
    right_gain: float = 1.0
    split_shift_per_field: float = 0.0

    def __post_init__(self) -> None:
        check_positive("split_softness", self.split_softness, allow_zero=True)
        e = check_positive("crosstalk", self.crosstalk, allow_zero=True)
        if e >= 0.5:
            raise InvalidParameterError(f"crosstalk must be in [0, 0.5), got {e}")
        for name in ("left_gain", "right_gain"):
            g = check_positive(name, getattr(self, name))
            if g > 1.0:
                raise InvalidParameterError(f"{name} must be in (0, 1], got {g}")
        check_finite("split_shift_per_field", self.split_shift_per_field)

    @property
    def is_ideal(self) -> bool:
        """True for a hard, centred split without crosstalk or vignetting."""
        return (
            self.split_softness == 0.0
            and self.crosstalk == 0.0
            and self.left_gain == 1.0
            and self.right_gain == 1.0
            and self.split_shift_per_field == 0.0
        )

    def split_position(self, field_x: float = 0.0) -> float:
        """Pupil x of the split line (pupil radii) at relative field x."""
        return float(np.clip(self.split_shift_per_field * check_finite("field_x", field_x), -1.0, 1.0))

    def left_weight(self, lo, hi, field_x: float = 0.0) -> np.ndarray:
        """Mean of the left weight w_L over pupil-x intervals [lo, hi] (arrays, pupil radii).

        Notes
        -----
        Hard split: the fraction of the interval left of x0. Soft split: with
        w_L(x) = Phi((x0 - x) / s), the mean is s (Psi((x0 - lo)/s) - Psi((x0 - hi)/s)) /
        (hi - lo), Psi(z) = z Phi(z) + phi(z) (exact). Right weight: 1 - w_L.
        """
        x0 = self.split_position(field_x)
        a = np.minimum(lo, hi)
        b = np.maximum(lo, hi)
        width = b - a
        wide = width > 1e-12
        w_safe = np.where(wide, width, 1.0)
        s = self.split_softness
        if s == 0.0:
            mean = np.clip((x0 - a) / w_safe, 0.0, 1.0)
            point = (0.5 * (a + b) < x0).astype(float)
        else:
            # a difference of two nearly equal Psi values: clip the rounding error (it made
            # sqrt(w) of the wave pupil NaN for strips far from the split)
            mean = np.clip(s * (_psi((x0 - a) / s) - _psi((x0 - b) / s)) / w_safe, 0.0, 1.0)
            point = ndtr((x0 - 0.5 * (a + b)) / s)
        return np.where(wide, mean, point)

    def mix(self, left0: np.ndarray, right0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Apply eq. (1): normalise the raw halves to total 1 per channel, then crosstalk and gains."""
        total = left0.sum(axis=(-2, -1), keepdims=True) + right0.sum(axis=(-2, -1), keepdims=True)
        l0 = left0 / total
        r0 = right0 / total
        e = self.crosstalk
        left = self.left_gain * ((1.0 - e) * l0 + e * r0)
        right = self.right_gain * ((1.0 - e) * r0 + e * l0)
        return left, right

    def pupil_left_fraction(self, field_x: float = 0.0) -> float:
        """Fraction of a uniformly lit unit-disk pupil that the left weight takes (0.5 ideal)."""
        edges = np.linspace(-1.0, 1.0, 4097)
        mid = 0.5 * (edges[1:] + edges[:-1])
        chord = 2.0 * np.sqrt(np.maximum(1.0 - mid * mid, 0.0)) * np.diff(edges)
        return float(np.sum(chord * self.left_weight(edges[:-1], edges[1:], field_x)) / np.sum(chord))


def split_in_focus(kernel: np.ndarray, response: DualPixelResponse, field_x: float = 0.0):
    """Left/right PSFs at zero defocus: both the whole PSF, split by the pupil fractions."""
    fl = response.pupil_left_fraction(field_x)
    return response.mix(kernel * fl, kernel * (1.0 - fl))


def geometric_pair(
    diameter_samples: float,
    response: DualPixelResponse | None = None,
    *,
    field_x: float = 0.0,
    blades: int | None = None,
    rotation_deg: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Geometric dual-pixel PSFs: images of the left/right parts of the aperture, area-sampled.

    Parameters
    ----------
    diameter_samples
        Signed blur diameter c, samples.
    response
        Sub-pixel angular response (default: ideal).
    field_x
        Relative field x (only used by ``split_shift_per_field``).
    blades, rotation_deg
        Aperture shape, as in :func:`focuslab.optics.psf_geometric.aperture_kernel`.

    Returns
    -------
    (left, right)
        ``(k + 2, k + 2)`` float64 each, k the whole-aperture kernel's size; ``left + right``
        sums to 1 and, for an ideal response, equals the whole kernel resampled along x with
        a one-sample tent (:func:`strip_splat_matrix`).

    Notes
    -----
    An image point u receives light from pupil x = 2 u_x / c, so each sub-column strip of
    the aperture image is weighted by the mean of w_L over the pupil interval it maps to.
    For a disk the strip areas are exact; each strip goes to its two nearest sample columns by
    linear interpolation (:func:`strip_splat_matrix`), which keeps the sub-sample centroids, so
    the hard-split centroid separation is 4 c / (3 pi) to within the strip width squared at
    any blur, also below one sample (area sampling alone gave zero there).
    """
    resp = response if response is not None else DualPixelResponse()
    c = check_diameter(diameter_samples)
    if abs(c) < DELTA_DIAMETER_SAMPLES:
        return split_in_focus(np.ones((1, 1)), resp, field_x)
    areas, x_edges = aperture_strip_areas(c, blades=blades, rotation_deg=rotation_deg, strips=SPLIT_STRIPS)
    w_left = resp.left_weight(2.0 * x_edges[:-1] / c, 2.0 * x_edges[1:] / c, field_x)
    splat = strip_splat_matrix(x_edges)
    left0 = _pad_rows((areas * w_left) @ splat)
    whole = _pad_rows(areas @ splat)
    return resp.mix(left0, whole - left0)


def strip_splat_matrix(x_edges: np.ndarray) -> np.ndarray:
    """``(n_strips, k + 2)`` weights that put each sub-column strip's area on the two sample
    columns nearest its centre by linear interpolation (a tent of one sample).

    Box (area) sampling puts a strip's area in the column that contains it, so a PSF narrower
    than a sample keeps no trace of where in the sample it lies: a half-disk pair of blur
    ``|c| < 1`` sample would come out as two identical deltas (zero disparity; with the 2 x
    supersampled stream of ``phone_main`` that was every defocus under 1 DoF) and larger ones
    lose part of their sub-sample centroid. Linear interpolation keeps each strip's first
    moment exactly (``(1 - f) j + f (j + 1) = j + f``), so the kernels' centroids - the
    disparity - are those of the strip areas, 4 c / (3 pi) for the ideal split at every blur,
    at the price of a tent instead of a box along x (x variance + 1/12 sample^2).
    """
    xc = 0.5 * (x_edges[:-1] + x_edges[1:])
    h = round(float(x_edges[-1]) - 0.5)  # columns -h..h of the area-sampled kernel
    j0 = np.floor(xc).astype(int)
    f = xc - j0
    m = np.zeros((xc.size, 2 * h + 3))
    rows = np.arange(xc.size)
    m[rows, j0 + h + 1] += 1.0 - f
    m[rows, j0 + h + 2] += f
    return m


def _pad_rows(kernel: np.ndarray) -> np.ndarray:
    """``(k, k + 2)`` -> ``(k + 2, k + 2)`` with a zero row above and below (square, odd)."""
    return np.pad(kernel, ((1, 1), (0, 0)))


def gaussian_pair(
    sigma_defocus_samples: float,
    sigma_floor_samples: float,
    diameter_samples: float,
    response: DualPixelResponse | None = None,
    *,
    field_x: float = 0.0,
    half_width: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Dual-pixel split of a Gaussian PSF (defocus part sigma_d, defocus-free floor sigma_m).

    Parameters
    ----------
    sigma_defocus_samples
        Standard deviation sigma_d of the defocus blur (the part made by the pupil), samples.
    sigma_floor_samples
        Standard deviation sigma_m of the blur that does not depend on the pupil half
        (residual aberrations, sensor), samples.
    diameter_samples
        Signed blur diameter c, samples (sets the side of each half and the split line).
    response
        Sub-pixel angular response (default: ideal).
    field_x
        Relative field x.
    half_width
        Kernel half-width, samples (kernel 2h + 1).

    Returns
    -------
    (left, right)
        ``(k, k)`` float64 each; left + right = the whole Gaussian for an ideal response.

    Notes
    -----
    Splitting the defocus Gaussian at the image of the split line u_s = c x0 / 2 and
    convolving with the floor Gaussian gives the whole Gaussian (sigma^2 = sigma_d^2 +
    sigma_m^2) times Phi(sgn(c) (u_s - x) sigma_d / (sigma sigma_e)), the product of two
    normal densities integrated over a half-line; the soft split adds (s |c| / 2)^2 to
    sigma_e^2 = sigma_m^2. Each ideal half is a half-Gaussian of sigma_d (centroid
    sigma_d sqrt(2 / pi) from the centre) convolved with the centred floor, which does not
    move centroids, so the disparity is 2 sqrt(2 / pi) sigma_d whatever sigma_m.
    """
    resp = response if response is not None else DualPixelResponse()
    sd = float(sigma_defocus_samples)
    sm = float(sigma_floor_samples)
    sigma = math.hypot(sd, sm)
    h = int(half_width)
    edges = np.arange(-h - 0.5, h + 1.0, 1.0)
    if sigma == 0.0:
        return split_in_focus(np.ones((1, 1)), resp, field_x)
    gy = np.diff(ndtr(edges / sigma))
    whole = np.outer(gy, np.diff(ndtr(edges / sigma)))
    if sd == 0.0 or diameter_samples == 0.0:
        return split_in_focus(whole, resp, field_x)
    c = float(diameter_samples)
    u_s = c * resp.split_position(field_x) / 2.0
    sub = np.linspace(-h - 0.5, h + 0.5, (2 * h + 1) * SPLIT_STRIPS + 1)
    mass = np.diff(ndtr(sub / sigma))
    se = math.hypot(sm, resp.split_softness * abs(c) / 2.0)
    if se == 0.0:
        lo = np.where(c > 0, sub[:-1], -sub[1:])
        hi = np.where(c > 0, sub[1:], -sub[:-1])
        edge = u_s if c > 0 else -u_s
        frac = np.clip((edge - lo) / (hi - lo), 0.0, 1.0)
    else:
        mid = 0.5 * (sub[1:] + sub[:-1])
        frac = ndtr(math.copysign(1.0, c) * (u_s - mid) * sd / (sigma * se))
    gx_left = (mass * frac).reshape(-1, SPLIT_STRIPS).sum(axis=-1)
    left0 = np.outer(gy, gx_left)
    return resp.mix(left0, whole - left0)


def centroid_x(kernel: np.ndarray) -> np.ndarray:
    """Intensity centroid along x (samples from the kernel centre) of a (k, k) or (C, k, k) kernel."""
    k = np.asarray(kernel, dtype=float)
    x = np.arange(k.shape[-1]) - k.shape[-1] // 2
    return (k.sum(axis=-2) @ x) / k.sum(axis=(-2, -1))


def centroid_y(kernel: np.ndarray) -> np.ndarray:
    """Intensity centroid along y (rows, samples from the kernel centre)."""
    k = np.asarray(kernel, dtype=float)
    y = np.arange(k.shape[-2]) - k.shape[-2] // 2
    return (k.sum(axis=-1) @ y) / k.sum(axis=(-2, -1))
