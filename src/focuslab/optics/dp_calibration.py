"""Calibration of the dual-pixel response against measured blur kernels (Pixel 4, Xin et al. 2021).

Xin et al. [1] measured, for a Google Pixel 4, the left and right dual-pixel (DP) blur
kernels of a defocused point at one defocus on a 6 x 8 grid of image patches, and the
response of each DP view to a uniformly lit white sheet (vignetting). This module reads
those files, measures the kernels (centroids, disparity, energy, equivalent blur-circle
diameter) and fits the parameters of :class:`~focuslab.optics.dual_pixel.DualPixelResponse`
so that the geometric model :class:`~focuslab.optics.models.GeometricPsf` reproduces them.

Model. For a blur circle of signed diameter c at relative field x_f, the DP response
weights pupil point x (pupil radii) by w_L(x) = Phi((x0 - x) / s), w_R = 1 - w_L, with the
split at x0 = k x_f (``split_shift_per_field`` k, softness s); the half-PSFs are then mixed
by the crosstalk e and scaled by the gains g_L, g_R (eq. (1) of
:mod:`focuslab.optics.dual_pixel`):

    L = g_L ((1 - e) L0 + e R0),   R = g_R ((1 - e) R0 + e L0).                (1)

Fit. The measured kernels are normalised per view (each sums to 1), so they carry the
shape of each half-PSF but not the L/R energy; that comes from the white sheet. The
parameters (s, e, k, ln(g_L / g_R)) and one blur diameter c_i per kernel minimise, by
``scipy.optimize.least_squares``,

    sum_i  || p_L,i - m_L,i ||^2 + || p_R,i - m_R,i ||^2
           + W_D^2 (D_i - D_model,i)^2 / c_i^2 + W_V^2 (ln r_i - ln r_model,i)^2      (2)

where p are the measured x-profiles of the per-view-normalised kernels (sum over rows, each
profile shifted so that the mean of the two views' centroids is 0), m the same profiles of
the model, D the disparity x_R - x_L, and r the white-sheet ratio L / R around kernel i
(last term only when the ratio is given). The x-profiles carry the whole split (it acts
along x only) and are insensitive to the elliptical, tilted shape of the real kernels,
which the circular geometric model does not have. Only the ratio of the gains is
observable; the larger gain is set to 1.

Sign. focuslab's left PSF lies at -x for c > 0 (object nearer than the focus plane). The
sign of the fitted c_i is the sign of the measured disparity: the left/right labels of the
data are kept. The Pixel 4 kernels have x_R - x_L = +4.9 to +5.6 px, so with the labels as
given they are kernels of c > 0 (as focuslab's).

References
----------
.. [1] S. Xin, N. Wadhwa, T. Xue, J. T. Barron, P. P. Srinivasan, J. Chen, I. Gkioulekas,
       R. Garg, "Defocus map estimation and deblurring from a single dual-pixel image",
       ICCV 2021 (data: github.com/cmu-ci-lab/dual_pixel_defocus_estimation_deblurring).
.. [2] A. Punnappurath, A. Abuolaim, M. Afifi, M. S. Brown, "Modeling defocus-disparity in
       dual-pixel sensors", ICCP 2020.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import least_squares

from focuslab.errors import InvalidParameterError, check_positive
from focuslab.optics.dp_calibration_data import (  # noqa: F401  (re-exported: the loaders' public home was here)
    PIXEL4_BLACK_LEVEL_DN,
    PIXEL4_IMAGE_SHAPE_PX,
    PIXEL4_KERNEL_GRID,
    PIXEL4_PATCH_PX,
    DualPixelKernelGrid,
    VignettingMaps,
    load_pixel4_dp_kernels,
    load_pixel4_vignetting,
    patch_grid_field_xy,
    vignetting_lr_ratio,
)
from focuslab.optics.dual_pixel import DualPixelResponse, centroid_x, centroid_y
from focuslab.optics.models import GeometricPsf

#: Default weights W_D (disparity per blur diameter) and W_V (log L/R ratio) of eq. (2).
DEFAULT_DISPARITY_WEIGHT = 1.0
DEFAULT_LR_RATIO_WEIGHT = 0.5

#: Variance of the unit sample box (area sampling), samples^2.
SAMPLE_BOX_VARIANCE = 1.0 / 12.0


def kernel_centroid_px(kernel) -> tuple[np.ndarray, np.ndarray]:
    """Intensity centroid (x, y) of ``(..., k, k)`` kernels, pixels from the centre sample (+y down)."""
    return centroid_x(kernel), centroid_y(kernel)


def kernel_energy(kernel) -> np.ndarray:
    """Sum of ``(..., k, k)`` kernels (the fraction of light a view collects)."""
    return np.asarray(kernel, dtype=float).sum(axis=(-2, -1))


def dp_disparity_px(left, right) -> np.ndarray:
    """Dual-pixel disparity x_R - x_L between the centroids of right and left kernels, pixels.

    Positive for c > 0 in focuslab's convention (left PSF at -x, object nearer than focus).
    """
    return centroid_x(right) - centroid_x(left)


def blur_diameter_px(kernel) -> np.ndarray:
    """Equivalent blur-circle diameter of ``(..., k, k)`` whole-pupil kernels, pixels.

    Notes
    -----
    A uniform disk of diameter c has variance c^2 / 16 along each axis; area sampling adds
    the unit box's 1 / 12. So c = 4 sqrt((var_x + var_y) / 2 - 1 / 12). For the area-sampled
    pillbox of :func:`~focuslab.optics.psf_geometric.aperture_kernel` it returns c to 0.3 %
    at c = 8 samples and 0.05 % above 15 (the moments of the samples are not exactly those
    of the continuous blur).
    """
    k = np.asarray(kernel, dtype=float)
    total = k.sum(axis=(-2, -1))
    x = np.arange(k.shape[-1]) - k.shape[-1] // 2
    y = np.arange(k.shape[-2]) - k.shape[-2] // 2
    var_x = (k.sum(axis=-2) @ (x * x)) / total - centroid_x(k) ** 2
    var_y = (k.sum(axis=-1) @ (y * y)) / total - centroid_y(k) ** 2
    return 4.0 * np.sqrt(np.maximum(0.5 * (var_x + var_y) - SAMPLE_BOX_VARIANCE, 0.0))


def dp_combined_kernel(left, right) -> np.ndarray:
    """Whole-pupil estimate from per-view kernels: the mean of the two views normalised to sum 1 each."""
    l = np.asarray(left, dtype=float)
    r = np.asarray(right, dtype=float)
    return 0.5 * (l / kernel_energy(l)[..., None, None] + r / kernel_energy(r)[..., None, None])


def disparity_per_coc(left, right) -> np.ndarray:
    """|x_R - x_L| / c: DP disparity per blur-circle diameter (ideal geometric split: 4 / (3 pi) = 0.424)."""
    return np.abs(dp_disparity_px(left, right)) / blur_diameter_px(dp_combined_kernel(left, right))


def _centred_x_profiles(left: np.ndarray, right: np.ndarray, n: int) -> np.ndarray:
    """x-profiles (row sums) of the per-view-normalised kernels on n cells, shifted to a common centre.

    Returns ``(2, n)``: both profiles moved by minus the mean of their centroids, by linear
    interpolation of their cumulative sums (exact for a density uniform within each cell).
    """
    out = []
    for k in (left, right):
        p = k.sum(axis=-2)
        pad = (n - p.size) // 2
        out.append(np.pad(p / p.sum(), pad))
    out = np.stack(out)
    x = np.arange(n) - n // 2
    shift = 0.5 * float((out @ x).sum())
    edges = np.arange(n + 1) - n // 2 - 0.5
    cdf = np.concatenate([np.zeros((2, 1)), np.cumsum(out, axis=-1)], axis=-1)
    moved = np.stack([np.interp(edges + shift, edges, c, left=0.0, right=1.0) for c in cdf])
    return np.diff(moved, axis=-1)


def _response(theta: np.ndarray, fit_gains: bool) -> DualPixelResponse:
    s, e, k = (float(v) for v in theta[:3])
    rho = float(theta[3]) if fit_gains else 0.0
    return DualPixelResponse(
        split_softness=s,
        crosstalk=e,
        left_gain=math.exp(min(rho, 0.0)),
        right_gain=math.exp(min(-rho, 0.0)),
        split_shift_per_field=k,
    )


@dataclass(frozen=True)
class DualPixelCalibration:
    """Result of :func:`fit_dual_pixel_response`.

    Attributes
    ----------
    response
        The fitted :class:`~focuslab.optics.dual_pixel.DualPixelResponse`.
    coc_px
        ``(N,)`` fitted signed blur-circle diameter of each kernel, pixels.
    field_xy
        ``(N, 2)`` relative field positions.
    measured_disparity_px, model_disparity_px
        ``(N,)`` x_R - x_L of the measured and of the fitted model kernels, pixels.
    measured_lr_ratio, model_lr_ratio
        ``(N,)`` L / R energy ratio (white sheet, and model kernel sums); ``None`` when no
        ratio was given to the fit.
    profile_rms
        RMS residual of the x-profiles (fraction of a view's light per pixel).
    cost
        Final value of eq. (2) / (2 N) (``least_squares`` cost).
    success
        Whether ``least_squares`` reported convergence.
    """

    response: DualPixelResponse
    coc_px: np.ndarray
    field_xy: np.ndarray
    measured_disparity_px: np.ndarray
    model_disparity_px: np.ndarray
    measured_lr_ratio: np.ndarray | None
    model_lr_ratio: np.ndarray | None
    profile_rms: float
    cost: float
    success: bool

    @property
    def measured_disparity_per_coc(self) -> np.ndarray:
        """|x_R - x_L| / |c| of the measured kernels (c = fitted diameter)."""
        return np.abs(self.measured_disparity_px / self.coc_px)

    @property
    def model_disparity_per_coc(self) -> np.ndarray:
        """|x_R - x_L| / |c| of the model kernels."""
        return np.abs(self.model_disparity_px / self.coc_px)


def fit_dual_pixel_response(
    left,
    right,
    field_xy,
    *,
    lr_energy_ratio=None,
    initial: DualPixelResponse | None = None,
    disparity_weight: float = DEFAULT_DISPARITY_WEIGHT,
    lr_ratio_weight: float = DEFAULT_LR_RATIO_WEIGHT,
    max_nfev: int = 200,
) -> DualPixelCalibration:
    """Fit a :class:`DualPixelResponse` and per-kernel blur diameters to measured DP kernels.

    Parameters
    ----------
    left, right
        ``(N, k, k)`` measured left/right kernels of a point at one defocus (any
        normalisation: each view is normalised to sum 1 before fitting).
    field_xy
        ``(N, 2)`` relative field position of each kernel.
    lr_energy_ratio
        ``(N,)`` measured L / R energy ratio at each field position (e.g. from a white
        sheet, :func:`vignetting_lr_ratio`); fits ln(g_L / g_R). ``None``: gains stay 1.
    initial
        Starting response (default: softness 0.3, crosstalk 0.05, no shift).
    disparity_weight, lr_ratio_weight
        W_D and W_V of eq. (2) (>= 0).
    max_nfev
        Limit on model evaluations of ``scipy.optimize.least_squares``.

    Returns
    -------
    DualPixelCalibration

    Raises
    ------
    InvalidParameterError
        Shapes disagree or kernels are not odd-sized, values are not finite, or the median
        measured disparity is zero.

    Notes
    -----
    Minimises eq. (2) of the module docstring (trust-region reflective least squares with a
    sparse Jacobian: each kernel's residuals depend on its own c_i and the four shared
    parameters). Model kernels: ``GeometricPsf(dp_response=...).kernel_pair(c_i, field_xy=...)``
    (circular aperture). Bounds: s in [0, 5], e in [0, 0.45], k in [-2, 2],
    |ln(g_L / g_R)| <= 2, |c_i| within a factor 2 of the measured :func:`blur_diameter_px`.
    The sign of every c_i is the sign of the median measured disparity. Deterministic.
    """
    l = np.asarray(left, dtype=float)
    r = np.asarray(right, dtype=float)
    fxy = np.asarray(field_xy, dtype=float).reshape(-1, 2)
    if l.ndim != 3 or l.shape != r.shape or l.shape[0] != len(fxy) or l.shape[1] != l.shape[2] or l.shape[2] % 2 == 0:
        raise InvalidParameterError(
            f"expected left/right (N, k, k) with odd k and field_xy (N, 2), got {l.shape}, {r.shape}, {fxy.shape}"
        )
    if not (np.all(np.isfinite(l)) and np.all(np.isfinite(r)) and np.all(np.isfinite(fxy))):
        raise InvalidParameterError("kernels and field positions must be finite")
    w_d = check_positive("disparity_weight", disparity_weight, allow_zero=True)
    w_v = check_positive("lr_ratio_weight", lr_ratio_weight, allow_zero=True)
    n_k = len(l)
    fit_gains = lr_energy_ratio is not None
    ratio = np.asarray(lr_energy_ratio, dtype=float).reshape(-1) if fit_gains else None
    if fit_gains and (ratio.shape != (n_k,) or not np.all(np.isfinite(ratio)) or np.any(ratio <= 0)):
        raise InvalidParameterError(f"lr_energy_ratio must be {n_k} positive finite values")
    disparity = dp_disparity_px(l, r)
    sign = math.copysign(1.0, float(np.median(disparity)))
    if float(np.median(disparity)) == 0.0:
        raise InvalidParameterError("the kernels show no disparity (in focus); a fit needs defocused kernels")
    c0 = blur_diameter_px(dp_combined_kernel(l, r))
    n_cells = max(l.shape[-1], 2 * math.ceil(float(c0.max()) + 0.5) + 1)  # holds a model of 2 c0
    measured = np.stack([_centred_x_profiles(a, b, n_cells) for a, b in zip(l, r, strict=True)])
    start = initial if initial is not None else DualPixelResponse(split_softness=0.3, crosstalk=0.05)
    n_glob = 4 if fit_gains else 3
    theta0 = [start.split_softness, start.crosstalk, start.split_shift_per_field]
    lo = [0.0, 0.0, -2.0]
    hi = [5.0, 0.45, 2.0]
    if fit_gains:
        theta0.append(math.log(start.left_gain / start.right_gain))
        lo.append(-2.0)
        hi.append(2.0)
    x0 = np.concatenate([theta0, c0])
    bounds = (np.concatenate([lo, 0.5 * c0]), np.concatenate([hi, 2.0 * c0]))
    x0 = np.clip(x0, bounds[0] + 1e-9, bounds[1] - 1e-9)
    n_res = 2 * n_cells + 1 + int(fit_gains)

    def model(x):
        psf = GeometricPsf(dp_response=_response(x[:n_glob], fit_gains))
        return [psf.kernel_pair(sign * ci, field_xy=tuple(f)) for ci, f in zip(x[n_glob:], fxy, strict=True)]

    def residuals(x):
        out = np.empty((n_k, n_res))
        for i, (ml, mr) in enumerate(model(x)):
            out[i, : 2 * n_cells] = (_centred_x_profiles(ml, mr, n_cells) - measured[i]).ravel()
            d_model = float(centroid_x(mr) - centroid_x(ml))
            out[i, 2 * n_cells] = w_d * (d_model - disparity[i]) / x[n_glob + i]
            if fit_gains:
                out[i, -1] = w_v * math.log(ml.sum() / mr.sum() / ratio[i])
        return out.ravel() / math.sqrt(n_k)

    sparsity = np.zeros((n_k * n_res, n_glob + n_k), dtype=bool)
    sparsity[:, :n_glob] = True
    for i in range(n_k):
        sparsity[i * n_res : (i + 1) * n_res, n_glob + i] = True
    sol = least_squares(
        residuals, x0, bounds=bounds, jac_sparsity=sparsity, x_scale="jac", max_nfev=max_nfev, diff_step=1e-6
    )
    pairs = model(sol.x)
    prof = sol.fun.reshape(n_k, n_res)[:, : 2 * n_cells] * math.sqrt(n_k)
    return DualPixelCalibration(
        response=_response(sol.x[:n_glob], fit_gains),
        coc_px=sign * sol.x[n_glob:],
        field_xy=fxy,
        measured_disparity_px=disparity,
        model_disparity_px=np.array([float(centroid_x(b) - centroid_x(a)) for a, b in pairs]),
        measured_lr_ratio=ratio,
        model_lr_ratio=np.array([a.sum() / b.sum() for a, b in pairs]) if fit_gains else None,
        profile_rms=float(np.sqrt(np.mean(prof * prof))),
        cost=float(sol.cost),
        success=bool(sol.success),
    )


def calibrate_pixel4(folder) -> DualPixelCalibration:
    """Fit the DP response to the Pixel 4 kernels and white sheets of Xin et al. 2021 in ``folder``."""
    grid = load_pixel4_dp_kernels(folder)
    ratio = vignetting_lr_ratio(load_pixel4_vignetting(folder), grid.field_xy)
    return fit_dual_pixel_response(grid.left, grid.right, grid.field_xy, lr_energy_ratio=ratio)


PIXEL4_DP_RESPONSE = DualPixelResponse(
    split_softness=0.550,
    crosstalk=0.118,
    left_gain=1.0,
    right_gain=0.842,
    split_shift_per_field=0.195,
)
"""Dual-pixel response of the Google Pixel 4 main camera (green DP views), fitted to measurements.

Data: the 6 x 8 grid of 61 x 61 left/right blur kernels and the white-sheet images of
Xin et al., ICCV 2021 [1] (``DP_data_pixel_4/calibration`` of
github.com/cmu-ci-lab/dual_pixel_defocus_estimation_deblurring @ d6a9262), read in place
from ``../shared/data/dual_pixel/pixel4/calibration``.

Fit (eq. (2) of this module, default weights, circular :class:`GeometricPsf`)::

    python -c "from focuslab.optics.dp_calibration import calibrate_pixel4; \\
    print(calibrate_pixel4('../shared/data/dual_pixel/pixel4/calibration').response)"

gives s = 0.5501, e = 0.1180, g_R / g_L = 0.8417, k = 0.1951 (rounded here to 3 decimals;
``tests/optics/test_dp_calibration.py`` refits and checks these numbers). With it the
geometric model's disparity is 0.219 c (ideal split: 4 / (3 pi) = 0.424 c); the measured
kernels give 0.196-0.232 c. The left view collects more light (L / R = 1.01-1.39 over the
kernel grid, rising with field x); the gain ratio and the split shift reproduce that trend
(RMS error of ln(L / R): 0.038). See ``docs/dual_pixel.md``.
"""

PIXEL4_DP_RESPONSE_ON_AXIS = replace(PIXEL4_DP_RESPONSE, split_shift_per_field=0.0)
""":data:`PIXEL4_DP_RESPONSE` without its split shift with field: the response of an AF region on
the optical axis, as the ``phone_main`` preset, the ``pixel4`` dataset variant and the camera
files' ``dual_pixel_response: pixel4`` render it (a field-dependent split makes every frame's PSF
field-dependent and ~4x slower to render)."""
