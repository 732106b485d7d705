"""What AF policies measure on a frame: the focus value, the dual-pixel disparity, DoF in codes.

Signals shared by the contrast, phase and hybrid policies:

* :func:`focus_value` -- the Tenengrad (or any registered operator) of the AF region at full
  resolution with each colour site divided by its mean (so that it does not change with
  exposure or light level), with its predicted 1-sigma noise from the frame's own noise;
* :func:`roi_disparity` -- the horizontal dual-pixel shift x_R - x_L of the AF region in
  frame pixels, by per-patch normalised cross-correlation
  (:func:`focuslab.metrics.dp_disparity.dp_disparity_map`) pooled with the patches'
  confidences, with a pooled confidence and a standard error;
* :func:`codes_per_dof` -- how many lens codes make one depth-of-focus unit at a code, from the
  factory calibration in the :class:`~focuslab.af.types.AFContext`;
* :func:`fit_focus_peak` -- the sub-code peak of sampled focus values (Gaussian fit, i.e. a
  parabola through the logarithms of the samples nearest the maximum).

Sign (binding, docs/architecture.md): the disparity is positive when the object is nearer than
the focus plane (blur c > 0), which a lens reaches by moving to a *higher* code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from focuslab.af.green_plane import balanced_mosaic as _balanced_mosaic  # the one balanced mosaic
from focuslab.af.green_plane import green_plane  # the one green-plane extraction of the AF package
from focuslab.af.types import AFContext, Observation
from focuslab.errors import InvalidParameterError
from focuslab.metrics.dp_disparity import dp_disparity_map
from focuslab.metrics.focus import focus_measure

#: Sum of squared coefficients of one 3 x 3 Sobel kernel ([1, 2, 1] x [-1, 0, 1]).
SOBEL_SQUARED_SUM = 12.0

#: Effective number of pixels sharing one Sobel response (the 3 x 3 support correlates
#: neighbouring responses), used in the Tenengrad noise prediction.
SOBEL_CORRELATION_PIXELS = 4.0

#: Code range spanned by one depth-of-focus unit when the lens model is unknown, as a
#: fraction of the whole code range (a phone lens sweeps ~30-60 DoF from infinity to macro).
UNKNOWN_DOF_FRACTION = 1.0 / 40.0


def balanced_mosaic(image: np.ndarray, cfa: str | None) -> np.ndarray:
    """The AF region at full resolution with every colour site divided by its own mean, checked.

    The closed loop's entry to :func:`focuslab.af.green_plane.balanced_mosaic` (the one
    implementation): it refuses non-finite pixels and a dark colour site instead of returning
    zeros there, and returns float64 for the noise statistics.

    Parameters
    ----------
    image
        ``H x W`` raw mosaic (``cfa`` given) or grey image, or ``H x W x C`` (channels are
        averaged) when ``cfa`` is None.
    cfa
        Bayer pattern at the image origin, or None.

    Returns
    -------
    numpy.ndarray
        float64 ``H x W`` (a mosaic is cropped to even sides) of mean 1 per colour site: a
        grey scene becomes a flat-fielded grey image at the full sampling of the stream, which
        resolves twice the blur the half-resolution green plane does.

    Raises
    ------
    InvalidParameterError
        Wrong shape, unknown pattern, non-finite pixels, or a colour site whose mean is <= 0
        (no light).
    """
    arr = np.asarray(image)
    if cfa is None and arr.ndim not in (2, 3):
        raise InvalidParameterError(f"image must be H x W or H x W x C, got shape {arr.shape}")
    if cfa is not None:
        green_plane(arr, cfa)  # validates the pattern and the shape
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError("the AF region contains NaN or inf pixels; pass a finite image")
    h, w = arr.shape[:2]
    if cfa is not None:
        h, w = (h // 2) * 2, (w // 2) * 2
    step = 1 if cfa is None else 2
    g = arr[:h, :w]
    for r in range(step):
        for c in range(step):
            mu = float(np.mean(g[r::step, c::step]))
            if mu <= 0.0:
                raise InvalidParameterError(
                    f"the AF region's mean level is {mu:g} (<= 0): no light; raise the exposure"
                )
    return _balanced_mosaic(arr, cfa).astype(np.float64)


#: Share of exactly-zero Laplacian responses above which a colour site counts as quantized.
QUANTIZED_ZERO_SHARE = 0.25


def robust_noise_sigma(plane: np.ndarray, cfa: str | None) -> float:
    """Pixel noise of a (balanced) plane: Immerkaer's Laplacian with a median, per colour site.

    Notes
    -----
    r = I * N, N = [[1,-2,1],[-2,4,-2],[1,-2,1]] on each colour sub-plane; for white noise of
    sigma, r is normal with standard deviation 6 sigma (sum of N^2 = 36), so
    sigma = median|r| / (0.6745 * 6) [1]. The median (instead of Immerkaer's mean) keeps
    sparse texture edges from inflating it; busy textures still bias it upwards (a factor 2-4
    on an in-focus dead-leaves chart in bright light), which makes thresholds conservative.
    The colour sites' estimates are pooled as a root mean square.

    Quantized sites. In the dark (a mean of a few DN, the low-light suites' 3-12 lux previews)
    most pixels of a site take one of a few DN values, r is exactly 0 at most pixels and the
    median collapses: it read 0 to 0.1x the frame-to-frame noise on such regions (so contrast
    AF took a noise bump for a peak). Where more than :data:`QUANTIZED_ZERO_SHARE` of a site's
    responses are exactly 0, the site's estimate is the RMS of r / 6 instead, which counts the
    quantization noise as the white noise it is. Measured against the noise between two frames
    of the same scene on the 38 such regions among 60 low-light starting frames (phone_main_tof,
    no_pdaf and configs/cameras/wide_main_6mm.yaml, full stills-lowlight suites): 0.74-1.21x,
    median 1.05x, where the median read 0-1.08x, median 0.17x, and exactly 0 on 8.
    Continuous-valued data never take this branch.

    References
    ----------
    .. [1] J. Immerkaer, "Fast noise variance estimation", CVIU 64(2):300-302, 1996.
    """
    step = 1 if cfa is None else 2
    kern = np.array([[1.0, -2.0, 1.0], [-2.0, 4.0, -2.0], [1.0, -2.0, 1.0]])
    est = []
    for r in range(step):
        for c in range(step):
            sub = plane[r::step, c::step]
            if sub.shape[0] < 3 or sub.shape[1] < 3:
                continue
            resp = np.abs(ndimage.convolve(sub, kern, mode="reflect")[1:-1, 1:-1])
            if np.mean(resp == 0.0) > QUANTIZED_ZERO_SHARE:
                est.append(float(np.sqrt(np.mean(resp * resp))) / 6.0)
            else:
                est.append(float(np.median(resp)) / (0.6745 * 6.0))
    return math.sqrt(float(np.mean(np.square(est)))) if est else 0.0


@dataclass(frozen=True)
class FocusValue:
    """A normalised focus value of one frame's AF region.

    Attributes
    ----------
    value
        Focus measure of the balanced mosaic (:func:`balanced_mosaic`, mean 1), so
        dimensionless and independent of exposure and light level; larger is sharper.
    noise
        Predicted 1-sigma of ``value`` from the pixel noise (Tenengrad; NaN for other
        operators).
    mean_level
        Mean of the AF region, fraction of the white level.
    noise_sigma
        Pixel noise of the balanced mosaic (relative to its mean level).
    """

    value: float
    noise: float
    mean_level: float
    noise_sigma: float


def focus_value(image: np.ndarray, *, cfa: str | None = None, method: str = "TENG") -> FocusValue:
    """Normalised focus value of an AF region and its predicted noise.

    Parameters
    ----------
    image
        The AF region: raw mosaic (with ``cfa``) or grey/colour image, linear, black removed.
    cfa
        Bayer pattern at the ROI origin, or None.
    method
        Focus-measure operator (:func:`focuslab.metrics.focus.focus_measure_names`).

    Returns
    -------
    FocusValue

    Raises
    ------
    InvalidParameterError
        A region with NaN/inf, too small (< 4 x 4), or with a colour site of mean <= 0.
    UnknownNameError
        Unknown ``method``.

    Notes
    -----
    F = phi(B), B the balanced mosaic (each colour site over its mean): phi of any gradient
    operator scales with the squared level, so F does not change with exposure or light.
    Scoring the full-resolution mosaic instead of the half-resolution green plane doubles
    the sampling: on the ``phone_main`` preview stream F changes by ~34 % between focus and
    4 DoF off, against ~10 % on the green plane.

    Tenengrad noise. With B = S + n, n white of variance sigma^2 (:func:`robust_noise_sigma`),
    phi(B) = phi(S) + 2 <grad S . grad n> + <|grad n|^2>; each Sobel component of n has
    variance 12 sigma^2 (the kernel's squared coefficients). The cross term dominates the
    fluctuation: its standard deviation is about 2 sqrt(12 sigma^2 phi(S) k / N) over N
    pixels whose responses are correlated over k ~ 4 pixels; the noise term adds
    24 sigma^2 sqrt(2 k / N). It is a conservative prior for the hysteresis threshold until
    frame-to-frame differences measure the real fluctuation.

    References
    ----------
    .. [1] E. Krotkov, "Focusing", IJCV 1(3):223-237, 1987 (Tenengrad).
    """
    arr = np.asarray(image)
    if arr.ndim < 2 or arr.shape[0] < 4 or arr.shape[1] < 4:
        raise InvalidParameterError(f"the AF region is {arr.shape}, smaller than 4 x 4; use a larger ROI")
    b = balanced_mosaic(arr, cfa)
    mu = float(np.mean(arr[: b.shape[0], : b.shape[1]]))
    phi = focus_measure(b, method)
    sigma = robust_noise_sigma(b, cfa)
    if method == "TENG":
        n = float(b.size)
        k = SOBEL_CORRELATION_PIXELS
        signal = max(phi - 2.0 * SOBEL_SQUARED_SUM * sigma * sigma, 0.0)
        cross = 2.0 * math.sqrt(SOBEL_SQUARED_SUM * sigma * sigma * signal * k / n)
        pure = 2.0 * SOBEL_SQUARED_SUM * sigma * sigma * math.sqrt(2.0 * k / n)
        noise = cross + pure
    else:
        noise = math.nan
    return FocusValue(value=float(phi), noise=float(noise), mean_level=mu, noise_sigma=float(sigma))


def observation_focus(observation: Observation, *, method: str = "TENG") -> FocusValue:
    """:func:`focus_value` of an observation's AF region (its ``image`` and ``cfa``)."""
    return focus_value(observation.image, cfa=observation.cfa, method=method)


def texture_snr(fv: FocusValue) -> float:
    """How far a Tenengrad focus value stands above its own pixel noise: ``(F - 24 sigma^2) / noise``.

    F - 24 sigma^2 is the texture's share of F (the white noise's own Tenengrad is twice the
    Sobel kernel's squared sum times sigma^2, :func:`focus_value`'s notes), ``noise`` its
    predicted 1-sigma. A contrast search compares focus values a few noise sigmas apart, so
    it is blind where the whole texture signal is a few sigmas: measured on
    ``phone_main_tof`` (stop 22), the low-texture suite's 1-3 % walls give 0-6, every
    textured subject that reached a contrast fall-back 200-280. NaN for non-Tenengrad values.
    """
    if not (math.isfinite(fv.noise) and fv.noise > 0 and math.isfinite(fv.noise_sigma)):
        return math.nan
    return (fv.value - 2.0 * SOBEL_SQUARED_SUM * fv.noise_sigma**2) / fv.noise


@dataclass(frozen=True)
class PhaseMeasurement:
    """The dual-pixel disparity of an AF region.

    Attributes
    ----------
    disparity_px
        x_right - x_left in frame pixels (> 0: the subject is nearer than the focus plane);
        NaN when no patch could be matched.
    confidence
        In [0, 1]: the confidence-weighted mean of the patch confidences of
        :func:`~focuslab.metrics.dp_disparity.dp_disparity_map` (peak height, curvature,
        texture against noise, left-right consistency), 0 when nothing matched.
    sigma_px
        Standard error of ``disparity_px`` from the spread of the patch disparities, frame
        pixels (inf when fewer than two patches matched).
    patches
        Patches that matched with non-zero confidence.
    at_limit
        True when most patches peaked at the search limit (the true shift may be larger).
    """

    disparity_px: float
    confidence: float
    sigma_px: float
    patches: int
    at_limit: bool = False


def roi_disparity(
    left: np.ndarray,
    right: np.ndarray,
    *,
    cfa: str | None = None,
    patch_px: int | None = None,
    max_shift_px: int | None = None,
    lowpass_sigma_px: float = 0.0,
    nearest: bool = False,
) -> PhaseMeasurement:
    """Dual-pixel disparity of an AF region, pooled over patches, in frame pixels.

    Parameters
    ----------
    left, right
        The AF region's dual-pixel views (raw mosaics with ``cfa``, or grey), same shape.
    cfa
        Bayer pattern at the ROI origin, or None.
    patch_px
        Matching window on the plane that is matched (the green plane of a mosaic, half
        resolution); default: a quarter of its smaller side, 8 to 32.
    max_shift_px
        Search range on that plane, +- pixels; default: as far as the plane's width allows,
        up to 8.
    lowpass_sigma_px
        Gaussian pre-filter of both views against pixel noise (0 = off); use ~1 in low light.
    nearest
        Nearest-subject priority: pool only the patches of the nearest depth in the region
        (:func:`nearest_cluster`), so that a near subject in front of a far background is not
        averaged with it. Off by default: it needs the two depths to differ by more than
        the per-patch noise (on ``phone_main``'s preview with a 128-px region, ~0.2 frame px,
        i.e. ~2 DoF of separation between the subject and the background seen from focus).

    Returns
    -------
    PhaseMeasurement
        Disparity and its standard error in *frame* pixels (twice the green plane's for a
        mosaic).

    Raises
    ------
    InvalidParameterError
        Views of different shapes, non-finite, or too small for one patch and a +-1 search.

    Notes
    -----
    Pooled disparity D = sum_i w_i D_i / sum_i w_i with w_i the patch confidences; standard
    error sqrt(sum_i w_i (D_i - D)^2 / sum_i w_i / (n_eff - 1)) with n_eff = (sum w)^2 / sum w^2.
    The matching itself (zero-mean NCC, parabola sub-pixel peak) is
    :func:`focuslab.metrics.dp_disparity.dp_disparity_map` [1].

    References
    ----------
    .. [1] N. Wadhwa et al., "Synthetic depth-of-field with a single-camera mobile phone",
           ACM TOG 37(4), 2018 (dual-pixel disparity by patch matching, confidence-weighted).
    """
    lv, rv = np.asarray(left), np.asarray(right)
    if lv.shape != rv.shape:
        raise InvalidParameterError(f"left and right views differ in shape: {lv.shape} vs {rv.shape}")
    gl, gr = green_plane(lv, cfa), green_plane(rv, cfa)
    scale = 2.0 if cfa is not None else 1.0
    h, w = gl.shape
    p = int(patch_px) if patch_px is not None else int(np.clip(min(h, w) // 4, 8, 32))
    p = min(p, h)
    m = int(max_shift_px) if max_shift_px is not None else int(np.clip((w - p) // 2 - 1, 1, 8))
    if p < 4 or w < p + 2 * (m + 1) or m < 1:
        raise InvalidParameterError(
            f"the AF region's matched plane is {w} x {h} px, too small for a {p}-px patch and a +-{m} px "
            "search; use a larger ROI"
        )
    dmap = dp_disparity_map(
        gl, gr, patch_px=p, stride_px=max(p // 2, 1), max_shift_px=m, lowpass_sigma_px=lowpass_sigma_px
    )
    d = dmap.disparity_px.astype(np.float64).ravel()
    c = dmap.confidence.astype(np.float64).ravel()
    ok = np.isfinite(d) & (c > 0)
    limit = bool(np.mean(np.abs(np.where(np.isfinite(d), d, 0.0)) >= m - 0.5) > 0.5) if np.isfinite(d).any() else False
    if not ok.any():
        return PhaseMeasurement(math.nan, 0.0, math.inf, 0, limit)
    wgt, dv = c[ok], d[ok]
    if nearest and dv.size >= 4:
        keep = nearest_cluster(dv, wgt)
        wgt, dv = wgt[keep], dv[keep]
    sw = float(wgt.sum())
    mean = float((wgt * dv).sum() / sw)
    n_eff = sw * sw / float((wgt * wgt).sum())
    if ok.sum() >= 2 and n_eff > 1.0:
        var = float((wgt * (dv - mean) ** 2).sum() / sw)
        se = math.sqrt(var / (n_eff - 1.0))
    else:
        se = math.inf
    conf = float((wgt * wgt).sum() / sw)
    return PhaseMeasurement(scale * mean, float(np.clip(conf, 0.0, 1.0)), scale * se, int(ok.sum()), limit)


def nearest_cluster(disparity_px: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mask of the patches that belong to the nearest subject of a region (largest disparity).

    Notes
    -----
    A nearer object has a larger x_R - x_L whatever the lens position (D = k c and
    c = A s (1/u - 1/u_f) grows as u falls). Let q be the weighted 75th percentile of the
    patch disparities and s = 1.4826 x the weighted median absolute deviation (a robust
    standard deviation). Patches within max(3 s, 0.15 px) of q are kept: in a region with one
    depth that is almost every patch; with a near subject over at least a quarter of the region
    in front of a farther background separated by more than the tolerance, it is the subject's.
    """
    d = np.asarray(disparity_px, dtype=float)
    w = np.asarray(weights, dtype=float)

    def wquantile(v: np.ndarray, q: float) -> float:
        order = np.argsort(v)
        cw = np.cumsum(w[order])
        return float(v[order][min(int(np.searchsorted(cw, q * cw[-1])), v.size - 1)])

    med = wquantile(d, 0.5)
    order = np.argsort(np.abs(d - med))
    cw = np.cumsum(w[order])
    mad = float(np.abs(d - med)[order][min(int(np.searchsorted(cw, 0.5 * cw[-1])), d.size - 1)])
    q = wquantile(d, 0.75)
    tol = max(3.0 * 1.4826 * mad, 0.15)
    keep = np.abs(d - q) <= tol
    return keep if keep.any() else np.ones(d.shape, dtype=bool)


def observation_disparity(observation: Observation, **options) -> PhaseMeasurement:
    """:func:`roi_disparity` of an observation's dual-pixel views.

    Raises
    ------
    InvalidParameterError
        When the observation carries no dual-pixel views (the camera has none).
    """
    if observation.left is None or observation.right is None:
        raise InvalidParameterError(
            "this observation has no dual-pixel views; use a camera with a dual-pixel sensor for phase AF"
        )
    return roi_disparity(observation.left, observation.right, cfa=observation.cfa, **options)


#: Significance of :func:`pool_readings`' scatter test.
SCATTER_TEST_LEVEL = 0.01


def pool_readings(readings, *, scatter_level: float | None = SCATTER_TEST_LEVEL) -> tuple[float, float]:
    """Inverse-variance pool ``(d, s)`` of ``(value, sigma)`` readings taken at one lens position.

    Notes
    -----
    ``d = sum(d_i / s_i^2) / sum(1 / s_i^2)``, and ``s = sum(1 / s_i^2)^-1/2`` when the sigmas
    are the frames' own noise, independent from frame to frame (``phase`` pools its disparities
    so, whose sigmas are their patches' measured standard errors: ``scatter_level=None``). A
    network's sigma is not only that: on a scene it cannot read (a low-contrast photograph far
    from focus) it says 3-4 DoF while successive frames read the same value within 0.01 DoF,
    and pooling four of them would claim 1.7 DoF, below the learned policies' 2-DoF
    ``uncertain_dof``: the policy then acted on a wrong reading as if it were sure (phone_tele,
    coffee photograph 5 DoF out: done at the start code). So, with ``scatter_level``, the
    readings' scatter is tested against their sigmas: with n >= 2 readings,
    ``sum((d_i - d)^2 / s_i^2)`` is chi-square with n - 1 degrees of freedom when the sigmas
    are noise; below its ``scatter_level`` quantile (default 1 %) the frames agree far more
    closely than their sigmas say, the sigma is the scene's and another frame will not lower
    it, and ``s`` is the readings' inverse-variance mean sigma, ``sqrt(n / sum(1 / s_i^2))``,
    not the pooled one. A single reading is returned as it is. Sigmas must be finite and > 0.
    """
    dd, w = _weighted_readings(readings)
    d = float(np.sum(w * dd) / np.sum(w))
    s = float(1.0 / math.sqrt(np.sum(w)))
    if scatter_level is not None and not _scatters(dd, w, d, scatter_level):
        s *= math.sqrt(dd.size)
    return d, s


def scatter_as_noise(readings, *, level: float = SCATTER_TEST_LEVEL) -> bool:
    """Whether ``(value, sigma)`` readings at one lens position scatter as their sigmas say
    (:func:`pool_readings`' chi-square test passes at ``level``), so that another frame would
    narrow their pool; True for a single reading."""
    dd, w = _weighted_readings(readings)
    return _scatters(dd, w, float(np.sum(w * dd) / np.sum(w)), level)


def _scatters(dd: np.ndarray, w: np.ndarray, mean: float, level: float) -> bool:
    """The chi-square test of :func:`scatter_as_noise` on checked values, weights and their mean."""
    if dd.size < 2:
        return True
    from scipy.stats import chi2

    return float(np.sum(w * (dd - mean) ** 2)) >= float(chi2.ppf(level, dd.size - 1))


def _weighted_readings(readings) -> tuple[np.ndarray, np.ndarray]:
    """Values and inverse-variance weights of ``(value, sigma)`` readings (checked)."""
    arr = np.asarray(readings, dtype=float).reshape(-1, 2)
    if arr.shape[0] == 0:
        raise InvalidParameterError("pool_readings needs at least one (value, sigma) reading")
    dd, ss = arr[:, 0], arr[:, 1]
    if not (np.all(np.isfinite(ss)) and np.all(ss > 0)):
        raise InvalidParameterError(f"pool_readings needs finite sigmas > 0, got {ss.tolist()}")
    return dd, 1.0 / ss**2


def codes_per_dof(context: AFContext, code: float | None = None) -> float:
    """Lens codes per depth-of-focus unit around ``code``.

    Parameters
    ----------
    context
        The AF context; its factory calibration (``distance_for_code``), focal length,
        f-number and ``coc_max_um`` give the answer when known.
    code
        Where (default: the middle of the code range). The map is not linear (VCM
        stiffening), so the DoF in codes changes along the stroke.

    Returns
    -------
    float
        Codes per DoF unit (> 0). Without a lens model: ``UNKNOWN_DOF_FRACTION`` of the code
        range, or ``context.extra["codes_per_dof"]`` when the backend states it.

    Notes
    -----
    Blur c = A s (1/u - 1/u_f) (DESIGN.md) with A = f / N, so moving the focus by dD
    diopters changes c by A s dD; in practical units c_um = A_mm s_mm dD (mm^2 / m = um).
    Codes per DoF = c_max / (A s |dD/dcode|), with s = f / (1 - f D) from 1/f = 1/u_f + 1/s
    and dD/dcode a central difference of the factory map over +-8 codes.
    """
    lo, hi = int(context.min_code), int(context.max_code)
    fallback = float(context.extra.get("codes_per_dof", max((hi - lo) * UNKNOWN_DOF_FRACTION, 1.0)))
    known = context.has_lens_model and context.focal_length_mm and context.f_number and context.coc_max_um
    if not known:
        return fallback
    c0 = 0.5 * (lo + hi) if code is None else float(code)
    step = 8
    a = int(np.clip(round(c0) - step, lo, hi))
    b = int(np.clip(round(c0) + step, lo, hi))
    if b <= a:
        return fallback

    def diopters(k: int) -> float:
        dist = float(context.distance_for_code(k))
        return 0.0 if math.isinf(dist) else 1.0 / dist

    slope = (diopters(b) - diopters(a)) / (b - a)
    if not math.isfinite(slope) or slope <= 0.0:
        # below the lift-off code the lens rests on its stop; use the slope just above it
        b2 = int(np.clip(b + 2 * step, lo, hi))
        slope = (diopters(b2) - diopters(b)) / max(b2 - b, 1)
        if not math.isfinite(slope) or slope <= 0.0:
            return fallback
    f_mm = float(context.focal_length_mm)
    dpt = diopters(int(np.clip(round(c0), lo, hi)))
    s_mm = f_mm / max(1.0 - f_mm * dpt / 1000.0, 1e-6)
    blur_um_per_code = (f_mm / float(context.f_number)) * s_mm * slope
    return float(context.coc_max_um) / blur_um_per_code


@dataclass(frozen=True)
class PeakFit:
    """A fitted focus peak: ``code`` and whether the samples bracket it (an interior maximum)."""

    code: float
    bracketed: bool
    samples: int


def fit_focus_peak(codes, values, *, max_samples: int = 5, top_level: float = 0.5) -> PeakFit:
    """Peak of sampled focus values by a Gaussian fit on the samples nearest the maximum.

    Parameters
    ----------
    codes, values
        Sample positions (lens codes, need not be sorted or unique) and positive focus values.
    max_samples
        At most this many samples (3..7) nearest the best one, by code, enter the fit.
    top_level
        Of those, besides the best sample and its two neighbours, only samples at least this
        fraction of the maximum enter it (the top of the curve, where it is Gaussian).

    Returns
    -------
    PeakFit
        ``code`` clipped to the span of the fitted samples; ``bracketed`` is False when the
        best sample has no lower sample on one side (the peak may lie beyond; the fit is
        still made, e.g. for a peak between an end stop and the next sample, and clipped).

    Notes
    -----
    A defocus focus curve near its peak is close to a Gaussian, F = a exp(-(x - p)^2 / (2 w^2)),
    so ln F is a parabola: a weighted least-squares quadratic through (x_i, ln F_i)
    (weights F_i^2, i.e. equal relative errors) gives p = -b / (2 a). With exactly three
    samples this is the three-point Gaussian interpolation of contrast AF [1]. A fit that
    is not concave falls back to the best sample.

    References
    ----------
    .. [1] N. Kehtarnavaz, H.-J. Oh, "Development and real-time implementation of a rule-based
           auto-focus algorithm", Real-Time Imaging 9(3):197-203, 2003.
    """
    x = np.asarray(codes, dtype=np.float64).ravel()
    y = np.asarray(values, dtype=np.float64).ravel()
    if x.size != y.size or x.size == 0:
        raise InvalidParameterError("codes and values must be non-empty and of equal length")
    keep = np.isfinite(x) & np.isfinite(y) & (y > 0)
    if not keep.any():
        raise InvalidParameterError("no finite positive focus value to fit")
    x, y = x[keep], y[keep]
    # merge repeated codes (mean value), sort by code
    ux, inv = np.unique(np.round(x, 6), return_inverse=True)
    uy = np.bincount(inv, weights=y) / np.bincount(inv)
    i = int(np.argmax(uy))
    bracketed = 0 < i < ux.size - 1
    n = int(np.clip(max_samples, 3, 7))
    order = np.argsort(np.abs(ux - ux[i]), kind="stable")[: min(n, ux.size)]
    # the Gaussian holds on the top of the curve; in the tails (F ~ 1 / |defocus|) it does not, so
    # beyond the best sample's two neighbours only samples above half the maximum enter the fit
    keep_idx = {i, max(i - 1, 0), min(i + 1, ux.size - 1)}
    sel = np.array(sorted(keep_idx | {int(j) for j in order if uy[j] >= top_level * uy[i]}))
    if sel.size < 3:
        return PeakFit(float(ux[i]), bracketed, int(sel.size))
    xs, ls, ws = ux[sel], np.log(uy[sel]), uy[sel] / uy[i]
    x0 = ux[i]
    coef = np.polyfit(xs - x0, ls, 2, w=ws)
    a2, a1 = coef[0], coef[1]
    if a2 >= 0:
        return PeakFit(float(x0), bracketed, int(sel.size))
    p = x0 - a1 / (2.0 * a2)
    return PeakFit(float(np.clip(p, xs.min(), xs.max())), bracketed, int(sel.size))


def settle_time_for_move_s(context: AFContext, move_codes: float) -> float:
    """Time for the lens to settle within a quarter DoF after a move of ``move_codes``, seconds.

    Notes
    -----
    A damped actuator's error decays as exp(-zeta omega t), so the time to bring a step S down
    to a tolerance e grows as ln(S / e). Scaled from the context's stated settling time
    T_full of a full-stroke step (S_full = the code range) into a quarter DoF:
    T(S) = T_full ln(S / e) / ln(S_full / e), 0 when S <= e; 0 when the context states no
    settling time.
    """
    if context.settle_time_s is None:
        return 0.0
    tol = 0.25 * codes_per_dof(context)
    s = abs(float(move_codes))
    full = max(float(context.max_code - context.min_code), 2.0 * tol)
    if s <= tol:
        return 0.0
    return float(context.settle_time_s) * min(math.log(s / tol) / math.log(full / tol), 1.0)


def frame_settled(context: AFContext, observation: Observation, command_t_s: float, move_codes: float) -> bool:
    """Whether the lens had settled by the middle of this frame's exposure after a move.

    ``command_t_s`` is when the move was sent (the end of the previous exposure in the loop).
    A frame exposed while the lens still travelled averages blur over the travel, and a
    disparity or focus value measured on it misleads the next move.
    """
    mid = float(observation.t_s) + 0.5 * float(observation.exposure_s)
    return mid - float(command_t_s) >= settle_time_for_move_s(context, move_codes)
