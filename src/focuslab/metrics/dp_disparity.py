"""Dual-pixel (DP) disparity map: left/right shift per patch by normalised cross-correlation.

A dual-pixel sensor sees the scene through the left and the right half of the pupil. A point
off the focus plane images to two half-blurs whose centroids are a disparity
D = x_right - x_left apart, proportional to the signed blur-circle diameter c (4 c / (3 pi)
for an ideal split of a round pupil; about 0.21 c on the Pixel 4, docs/dual_pixel.md).

**Sign (focuslab, binding):** disparity = x_right - x_left in pixels, positive when the object
is nearer than the focus plane (c > 0), negative behind it, zero in focus.

Method, per patch of ``patch_px`` x ``patch_px`` pixels on a grid of centres ``stride_px``
apart:

1. optional vignetting correction: the right view is multiplied by the smoothed ratio
   G * left / G * right (Gaussian of ``vignetting_sigma_px``), since the two DP views differ
   in brightness across the field (by up to 40 % on the Pixel 4);
2. zero-mean normalised cross-correlation (NCC) rho(s) between the left patch and the right
   patch moved by each integer shift s in [-max_shift_px, max_shift_px], computed from
   integral images (one per shift for the cross term);
3. sub-pixel peak from the three NCC values around the integer peak: a parabola (default) or
   the equiangular line fit;
4. a confidence in [0, 1] from the peak height, the peak's curvature, the patch's texture
   energy against the image noise and the left-right consistency (the right patch matched
   back to the left view must give the same shift); 0 where the peak lies on the search
   boundary or the patch
   is flat.

Sub-pixel bias: both three-point fits are biased towards integer shifts ("pixel locking").
The parabola is exact for a quadratic peak, which is what NCC of a band-limited (blurred)
texture looks like near its maximum; the equiangular line is exact for a V-shaped peak (SAD
of a sharp texture). On a Fourier-shifted noise texture low-passed with a Gaussian of
sigma 1.5 px (as DP views are: they are half-aperture blurs), the measured worst bias over
shifts 0..1 px is 0.01 px for the parabola and 0.1 px for the equiangular fit
(tests/metrics/test_dp_disparity.py), so the parabola is the default.

References
----------
.. [1] J. P. Lewis, "Fast normalized cross-correlation", Vision Interface 1995 (NCC from
       running sums / integral images).
.. [2] M. Shimizu, M. Okutomi, "Sub-pixel estimation error cancellation on area-based
       matching", IJCV 63(3):207-224, 2005 (parabola vs equiangular fits, their bias).
.. [3] J. Immerkaer, "Fast noise variance estimation", CVIU 64(2):300-302, 1996.
.. [4] N. Wadhwa et al., "Synthetic depth-of-field with a single-camera mobile phone",
       ACM TOG 37(4), 2018 (dual-pixel disparity by patch matching with confidence).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from focuslab.errors import InvalidParameterError, UnknownNameError, check_positive
from focuslab.metrics.box_filters import integral_image, smooth_gaussian, window_sums

SUBPIXEL_METHODS = ("parabola", "equiangular")

#: Peak curvature (-(rho(-1) - 2 rho(0) + rho(1))) at which the curvature term of the
#: confidence reaches 1 - 1/e.
CURVATURE_REF = 0.02

#: Left-right consistency: a gap of this many pixels between the left-to-right and the
#: right-to-left match of a patch multiplies its confidence by exp(-1/2).
LR_TOLERANCE_PX = 0.5

#: Texture energy, in units of the noise variance, at which the texture term reaches 1/2.
TEXTURE_REF_NOISE_VARIANCES = 4.0


@dataclass(frozen=True)
class DisparityMap:
    """Dual-pixel disparity on a grid of patches (see :func:`dp_disparity_map`).

    Attributes
    ----------
    disparity_px
        ``(ny, nx)`` x_right - x_left, pixels (> 0: nearer than the focus plane); NaN if flat.
    confidence
        ``(ny, nx)`` in [0, 1]; 0 for flat patches and peaks on the search boundary.
    centers_xy
        ``(ny, nx, 2)`` patch centres (x, y), pixels of the input (pixel centres at integers).
    peak_ncc
        ``(ny, nx)`` NCC value at the integer peak.
    warnings
        Human-readable warnings (many patches on the search boundary, few confident patches).
    """

    disparity_px: np.ndarray
    confidence: np.ndarray
    centers_xy: np.ndarray
    peak_ncc: np.ndarray
    patch_px: int
    stride_px: int
    max_shift_px: int
    subpixel: str
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        """Plain dict for JSON (NaN disparities become None)."""
        d = np.where(np.isfinite(self.disparity_px), self.disparity_px, np.nan)
        return {
            "disparity_px": [[None if np.isnan(v) else float(v) for v in row] for row in d],
            "confidence": self.confidence.astype(float).tolist(),
            "centers_xy": self.centers_xy.astype(float).tolist(),
            "peak_ncc": self.peak_ncc.astype(float).tolist(),
            "patch_px": self.patch_px,
            "stride_px": self.stride_px,
            "max_shift_px": self.max_shift_px,
            "subpixel": self.subpixel,
            "warnings": list(self.warnings),
        }


def _check_views(left, right) -> tuple[np.ndarray, np.ndarray, np.dtype]:
    lv, rv = np.asarray(left), np.asarray(right)
    for name, v in (("left", lv), ("right", rv)):
        if v.ndim != 2:
            raise InvalidParameterError(f"{name} view must be a 2-D H x W array, got shape {v.shape}")
        if not (np.issubdtype(v.dtype, np.floating) or np.issubdtype(v.dtype, np.integer)):
            raise InvalidParameterError(f"{name} view must be numeric, got dtype {v.dtype}")
    if lv.shape != rv.shape:
        raise InvalidParameterError(f"left and right views differ in shape: {lv.shape} vs {rv.shape}")
    lf, rf = lv.astype(np.float64), rv.astype(np.float64)
    if not (np.all(np.isfinite(lf)) and np.all(np.isfinite(rf))):
        raise InvalidParameterError("left/right views contain NaN or inf; replace them (e.g. inpaint) first")
    out = np.float32 if lv.dtype == np.float32 and rv.dtype == np.float32 else np.float64
    return lf, rf, np.dtype(out)


def _int_param(name: str, value, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < lo:
        raise InvalidParameterError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def noise_sigma(image: np.ndarray) -> float:
    """Standard deviation of white noise in ``image`` (Immerkaer's Laplacian estimator [3]).

    Notes
    -----
    sigma = sqrt(pi / 2) / (6 (W - 2)(H - 2)) sum |I * N|, N = [[1,-2,1],[-2,4,-2],[1,-2,1]]
    ([3], eq. 3). Edges and texture bias it upwards; it is used only to scale the texture term.
    """
    img = np.asarray(image, dtype=float)
    k = np.array([[1.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 1.0]])
    r = ndimage.convolve(img, k, mode="reflect")[1:-1, 1:-1]
    return float(np.sqrt(np.pi / 2.0) * np.abs(r).sum() / (6.0 * r.size))


def correct_vignetting(left: np.ndarray, right: np.ndarray, sigma_px: float) -> np.ndarray:
    """The right view scaled by the smoothed left/right brightness ratio (returns a new array)."""
    gl = smooth_gaussian(left, sigma_px)
    gr = smooth_gaussian(right, sigma_px)
    floor = 1e-6 * max(float(np.abs(gr).max()), 1e-300)
    ratio = np.where(np.abs(gr) > floor, gl / np.where(np.abs(gr) > floor, gr, 1.0), 1.0)
    return right * ratio


def _bandpass(image: np.ndarray, lo: float, hi: float) -> np.ndarray:
    out = smooth_gaussian(image, lo) if lo > 0 else image
    return out - smooth_gaussian(image, hi) if hi > 0 else out


def subpixel_offset(c_minus, c0, c_plus, method: str = "parabola") -> np.ndarray:
    """Sub-pixel offset in [-0.5, 0.5] of a maximum from three samples at -1, 0, +1 [2].

    Notes
    -----
    Parabola: d = (c- - c+) / (2 (c- - 2 c0 + c+)).
    Equiangular line: d = (c+ - c-) / (2 (c0 - min(c-, c+))).
    """
    cm, c0, cp = (np.asarray(v, dtype=float) for v in (c_minus, c0, c_plus))
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "parabola":
            den = cm - 2.0 * c0 + cp
            d = np.where(den < 0, (cm - cp) / (2.0 * np.where(den < 0, den, -1.0)), 0.0)
        elif method == "equiangular":
            den = c0 - np.minimum(cm, cp)
            d = np.where(den > 0, (cp - cm) / (2.0 * np.where(den > 0, den, 1.0)), 0.0)
        else:
            raise UnknownNameError(f"unknown subpixel method {method!r}; valid names: {', '.join(SUBPIXEL_METHODS)}")
    return np.clip(d, -0.5, 0.5)


def _peak(ncc: np.ndarray, shifts: np.ndarray, subpixel: str):
    """Sub-pixel peak of an NCC volume (shifts.size, ny, nx) searched over shifts[1:-1]."""
    nz = np.where(np.isfinite(ncc), ncc, -2.0)
    kpk = np.argmax(nz[1:-1], axis=0) + 1
    c_m, c_0, c_p = (np.take_along_axis(nz, (kpk + off)[None], axis=0)[0] for off in (-1, 0, 1))
    disp = np.where(np.isfinite(ncc).all(axis=0), shifts[kpk] + subpixel_offset(c_m, c_0, c_p, subpixel), np.nan)
    return disp, c_m, c_0, c_p, np.abs(shifts[kpk]) == shifts[-1] - 1


def dp_disparity_map(
    left,
    right,
    *,
    patch_px: int = 32,
    stride_px: int = 16,
    max_shift_px: int = 8,
    subpixel: str = "parabola",
    vignetting_correction: bool = True,
    vignetting_sigma_px: float | None = None,
    lowpass_sigma_px: float = 0.0,
    highpass_sigma_px: float = 0.0,
) -> DisparityMap:
    """Per-patch horizontal shift x_right - x_left between two dual-pixel views.

    Parameters
    ----------
    left, right
        ``H x W`` views (any real dtype, linear light, black level removed), same shape.
    patch_px
        Side of the square matching window, pixels (>= 4).
    stride_px
        Distance between patch centres, pixels (>= 1).
    max_shift_px
        Search range +-max_shift_px, integer pixels (>= 1).
    subpixel
        ``"parabola"`` (default) or ``"equiangular"`` three-point peak refinement.
    vignetting_correction
        Scale the right view by the smoothed left/right ratio before matching.
    vignetting_sigma_px
        Gaussian sigma of that smoothing; default max(4 patch_px, min(H, W) / 8).
    lowpass_sigma_px, highpass_sigma_px
        Optional band-pass applied to both views before matching (0 = off): a Gaussian of
        ``lowpass_sigma_px`` against pixel noise, minus a Gaussian of ``highpass_sigma_px``
        against shading. Real phone DP views are noisy: (2, 32) with 96-px patches is what
        the Pixel 4 evaluation uses (docs/blur_maps.md).

    Returns
    -------
    DisparityMap
        Values in float32 when both views are float32, else float64.

    Raises
    ------
    InvalidParameterError
        Views not 2-D, of different shapes, non-finite, or too small for one patch plus the
        search range; bad parameters.
    UnknownNameError
        Unknown ``subpixel`` method.

    Notes
    -----
    NCC of patch window W at shift s ([1]):
    rho(s) = sum_W (L - mu_L)(R_s - mu_Rs) / sqrt(sum_W (L - mu_L)^2 sum_W (R_s - mu_Rs)^2),
    with R_s(x) = R(x + s), so a right view equal to the left moved by +D peaks at s = D.
    Confidence = max(rho_peak, 0) * (1 - exp(-kappa / CURVATURE_REF)) * T / (T + 1)
    * exp(-g^2 / (2 LR_TOLERANCE_PX^2)), with kappa = -(rho(-1) - 2 rho(0) + rho(+1)) around the
    integer peak, T the patch variance of the left view over TEXTURE_REF_NOISE_VARIANCES times
    the noise variance [3], and g the gap between this patch's shift and that of the right
    patch at the same place matched back to the left view (the same per-shift integral
    images give both).
    """
    lf, rf, out_dtype = _check_views(left, right)
    p = _int_param("patch_px", patch_px, 4)
    step = _int_param("stride_px", stride_px, 1)
    m = _int_param("max_shift_px", max_shift_px, 1)
    if subpixel not in SUBPIXEL_METHODS:
        raise UnknownNameError(f"unknown subpixel method {subpixel!r}; valid names: {', '.join(SUBPIXEL_METHODS)}")
    h, w = lf.shape
    if h < p or w < p + 2 * (m + 1):
        raise InvalidParameterError(
            f"views of {w} x {h} px are too small for a {p}-px patch and a +-{m} px search; "
            "use smaller patch_px / max_shift_px or larger views"
        )
    if vignetting_correction:
        vs = max(4.0 * p, min(h, w) / 8.0) if vignetting_sigma_px is None else vignetting_sigma_px
        rf = correct_vignetting(lf, rf, check_positive("vignetting_sigma_px", vs))
    lo = check_positive("lowpass_sigma_px", lowpass_sigma_px, allow_zero=True)
    hi = check_positive("highpass_sigma_px", highpass_sigma_px, allow_zero=True)
    if hi and hi <= lo:
        raise InvalidParameterError(f"highpass_sigma_px ({hi:g}) must exceed lowpass_sigma_px ({lo:g}) or be 0 (off)")
    if lo or hi:
        lf, rf = (_bandpass(v, lo, hi) for v in (lf, rf))
    # Normalise both views by the same affine map (NCC is invariant; keeps sums well scaled).
    mu, sd = lf.mean(), lf.std()
    sd = sd if sd > 0 else 1.0
    lf, rf = (lf - mu) / sd, (rf - mu) / sd

    ms = m + 1  # one extra shift on each side for the three-point fit at the boundary
    y0 = np.arange(0, h - p + 1, step)
    x0 = np.arange(ms, w - p - ms + 1, step)
    n = float(p * p)
    il, il2 = integral_image(lf), integral_image(lf * lf)
    ir, ir2 = integral_image(rf), integral_image(rf * rf)
    sl = window_sums(il, y0, x0, p)
    var_l = window_sums(il2, y0, x0, p) - sl * sl / n
    shifts = np.arange(-ms, ms + 1)
    ncc = np.empty((2, shifts.size, y0.size, x0.size))  # [0]: left windows at x0, [1]: right at x0
    for k, s in enumerate(shifts):
        prod = np.zeros_like(lf)
        if s >= 0:
            prod[:, : w - s] = lf[:, : w - s] * rf[:, s:]
        else:
            prod[:, -s:] = lf[:, -s:] * rf[:, : w + s]
        iprod = integral_image(prod)
        # forward: left window at x0 against right at x0 + s; reverse: right at x0 against left at x0 - s
        for j, (xl, xr) in enumerate(((x0, x0 + s), (x0 - s, x0))):
            sx = window_sums(iprod, y0, xl, p)
            a, a2 = window_sums(il, y0, xl, p), window_sums(il2, y0, xl, p)
            b, b2 = window_sums(ir, y0, xr, p), window_sums(ir2, y0, xr, p)
            den = np.sqrt(np.maximum(a2 - a * a / n, 0.0) * np.maximum(b2 - b * b / n, 0.0))
            with np.errstate(divide="ignore", invalid="ignore"):
                ncc[j, k] = np.where(den > 1e-12 * n, (sx - a * b / n) / den, np.nan)

    flat = ~np.isfinite(ncc[0]).all(axis=0)
    (disp, c_m, c_0, c_p, boundary), (disp_rev, *_) = (_peak(v, shifts, subpixel) for v in ncc)
    lr_gap = np.abs(np.where(np.isfinite(disp_rev), disp_rev, np.inf) - disp)
    curvature = np.maximum(-(c_m - 2.0 * c_0 + c_p), 0.0)
    noise_var = noise_sigma(lf) ** 2
    texture = (np.maximum(var_l, 0.0) / n) / (TEXTURE_REF_NOISE_VARIANCES * max(noise_var, 1e-12))
    conf = np.clip(c_0, 0.0, 1.0) * (1.0 - np.exp(-curvature / CURVATURE_REF)) * texture / (texture + 1.0)
    conf = conf * np.exp(-0.5 * (lr_gap / LR_TOLERANCE_PX) ** 2)
    conf = np.where(flat | boundary, 0.0, conf)
    disp = np.where(flat, np.nan, disp)

    warnings: list[str] = []
    valid = ~flat
    if valid.any() and np.mean(boundary[valid]) > 0.1:
        warnings.append(
            f"{np.mean(boundary[valid]):.0%} of patches peak at the +-{m} px search limit; increase max_shift_px"
        )
    if flat.all():
        warnings.append("every patch is flat (no texture): no disparity measured")
    elif np.mean(conf > 0.25) < 0.1:
        warnings.append("fewer than 10% of patches have confidence > 0.25 (little texture or strong noise)")
    centers = np.stack(np.meshgrid(x0 + (p - 1) / 2.0, y0 + (p - 1) / 2.0, indexing="xy"), axis=-1)
    return DisparityMap(
        disparity_px=disp.astype(out_dtype),
        confidence=conf.astype(out_dtype),
        centers_xy=centers.astype(out_dtype),
        peak_ncc=np.where(flat, np.nan, c_0).astype(out_dtype),
        patch_px=p,
        stride_px=step,
        max_shift_px=m,
        subpixel=subpixel,
        warnings=tuple(warnings),
    )


def patch_means(reference, dmap: DisparityMap, *, invalid_value: float | None = None):
    """Mean of a dense reference map over each patch of ``dmap``, and whether it is valid.

    Parameters
    ----------
    reference
        ``H x W`` map on the pixel grid of the views ``dmap`` was measured on (e.g. a ground
        truth defocus map).
    dmap
        The disparity map whose patches (``patch_px`` square, centred on ``centers_xy``) are
        averaged over.
    invalid_value
        Reference value meaning "no data" (0 in the Pixel 4 ground truth); NaN is always
        invalid.

    Returns
    -------
    (means, valid)
        ``(ny, nx)`` patch means, and True where every pixel of the patch is valid.
    """
    ref = np.asarray(reference, dtype=float)
    if ref.ndim != 2:
        raise InvalidParameterError(f"reference must be a 2-D H x W map, got shape {ref.shape}")
    ok = np.isfinite(ref)
    if invalid_value is not None:
        ok &= ref != invalid_value
    p = dmap.patch_px
    x0 = np.round(dmap.centers_xy[0, :, 0] - (p - 1) / 2.0).astype(int)
    y0 = np.round(dmap.centers_xy[:, 0, 1] - (p - 1) / 2.0).astype(int)
    if x0.min() < 0 or y0.min() < 0 or x0.max() + p > ref.shape[1] or y0.max() + p > ref.shape[0]:
        raise InvalidParameterError(
            f"reference of shape {ref.shape} does not cover the patches of the disparity map; "
            "pass the map of the same image region"
        )
    s = window_sums(integral_image(np.where(ok, ref, 0.0)), y0, x0, p)
    cnt = window_sums(integral_image(ok.astype(float)), y0, x0, p)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(cnt > 0, s / np.maximum(cnt, 1.0), np.nan)
    return means, cnt >= p * p - 0.5
