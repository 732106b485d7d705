"""Single-image defocus map (Zhuo & Sim, 2011): re-blur gradient ratio at edges, propagated.

A step edge of amplitude A blurred by a Gaussian of sigma has the gradient profile
A / (sqrt(2 pi) sigma) exp(-x^2 / (2 sigma^2)). Blurring the image again with a known Gaussian
sigma0 gives sqrt(sigma^2 + sigma0^2) in its place, so the ratio of the two gradient maxima is

    R = |grad I| / |grad I_reblurred| = sqrt(sigma^2 + sigma0^2) / sigma,
    sigma = sigma0 / sqrt(R^2 - 1)                                   ([1], eqs. 4-6)

independent of A and of the edge's position. Steps here:

1. edges: Canny [2] (Gaussian derivative, non-maximum suppression, hysteresis), scipy only;
2. at each edge pixel, the gradient magnitude of the image and of the re-blurred image, both
   taken with a Gaussian derivative of ``gradient_sigma_px`` = s_g (so the re-blurred one is
   the derivative at sqrt(sigma0^2 + s_g^2)); each maximum across the edge is refined by a
   parabola through log|grad| at the pixel and its two neighbours along the gradient
   direction, which is exact for a Gaussian profile, so R does not depend on where the edge
   falls between pixels. With the derivative's own blur,
   sigma^2 = sigma0^2 / (R^2 - 1) - s_g^2;
3. outliers: a joint bilateral filter of the sparse map guided by the image [1, sec. 3.2],
   evaluated piecewise-linearly in intensity (Durand & Dorsey [4]);
4. propagation: minimise d^T L d + lam (d - d_hat)^T D (d - d_hat), L the matting Laplacian
   [3] (3 x 3 windows, regulariser eps), D the diagonal edge mask: (L + lam D) d = lam D d_hat
   ([1], eqs. 8-9), a sparse SPD system solved directly (scipy.sparse SuperLU), on an image
   block-averaged to at most ``max_solve_px`` pixels and interpolated back.

The sigma reported is the Gaussian blur of the edge *in the image*, including the pixel
aperture: an optical Gaussian sigma_o integrated over square pixels reads
sqrt(sigma_o^2 + 1/12).

References
----------
.. [1] S. Zhuo, T. Sim, "Defocus map estimation from a single image", Pattern Recognition
       44(9):1852-1858, 2011.
.. [2] J. Canny, "A computational approach to edge detection", IEEE PAMI 8(6):679-698, 1986.
.. [3] A. Levin, D. Lischinski, Y. Weiss, "A closed-form solution to natural image matting",
       IEEE PAMI 30(2):228-242, 2008, eq. 12 (matting Laplacian).
.. [4] F. Durand, J. Dorsey, "Fast bilateral filtering for the display of high-dynamic-range
       images", SIGGRAPH 2002, sec. 5.1 (piecewise-linear bilateral filter).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse import linalg as sparse_linalg

from focuslab.errors import InvalidParameterError, check_positive
from focuslab.metrics.matting_laplacian import matting_laplacian

#: Fewest edge pixels (count, and fraction of the image) below which the result warns.
MIN_EDGE_PIXELS = 20
MIN_EDGE_FRACTION = 0.002

#: Rec. 709 luminance weights for RGB input (linear light).
LUMA_709 = (0.2126, 0.7152, 0.0722)


@dataclass(frozen=True)
class DefocusMap:
    """Defocus (edge blur) map of one image (see :func:`defocus_map`).

    Attributes
    ----------
    sparse_sigma_px
        ``H x W`` blur sigma (pixels) at edge pixels after outlier filtering; NaN elsewhere.
    dense_sigma_px
        ``H x W`` propagated blur sigma (pixels); NaN when no edge was found.
    edge_mask
        ``H x W`` bool, the edge pixels that carry a measurement.
    raw_sigma_px
        ``H x W`` sigma at edge pixels straight from the gradient ratio (before filtering).
    sigma0_px, solve_scale
        Re-blur sigma used, and the block size of the propagation grid (1 = full resolution).
    warnings
        Human-readable warnings (no edges, saturated estimates, downsampled propagation).
    """

    sparse_sigma_px: np.ndarray
    dense_sigma_px: np.ndarray
    edge_mask: np.ndarray
    raw_sigma_px: np.ndarray
    sigma0_px: float
    solve_scale: int
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        """Summary for JSON: shape, edge count, percentiles of the maps, warnings (no arrays)."""

        def pct(a):
            v = a[np.isfinite(a)]
            return {str(q): float(np.percentile(v, q)) for q in (5, 25, 50, 75, 95)} if v.size else None

        return {
            "shape": list(self.dense_sigma_px.shape),
            "n_edge_pixels": int(self.edge_mask.sum()),
            "sigma0_px": self.sigma0_px,
            "solve_scale": self.solve_scale,
            "sparse_sigma_px_percentiles": pct(self.sparse_sigma_px),
            "dense_sigma_px_percentiles": pct(self.dense_sigma_px),
            "warnings": list(self.warnings),
        }


def to_gray(image) -> np.ndarray:
    """``H x W`` float64 intensity of an ``H x W`` or ``H x W x C`` image (RGB: Rec. 709 luma)."""
    a = np.asarray(image)
    if a.ndim not in (2, 3) or not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(a.dtype, np.integer)):
        raise InvalidParameterError(f"image must be a numeric H x W or H x W x C array, got shape {a.shape}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise InvalidParameterError("image contains NaN or inf; replace them (e.g. inpaint) first")
    if a.ndim == 2:
        return a
    return a @ np.asarray(LUMA_709) if a.shape[2] == 3 else a.mean(axis=2)


_DIRECTIONS = ((0, 1), (1, 1), (1, 0), (1, -1))  # (dy, dx) for gradient angles 0, 45, 90, 135 deg


def _direction_bins(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    ang = np.mod(np.degrees(np.arctan2(gy, gx)), 180.0)
    return (np.floor((ang + 22.5) / 45.0).astype(int)) % 4


def _neighbours(a: np.ndarray, bins: np.ndarray):
    """Values of ``a`` one step forward and backward along each pixel's quantised direction."""
    pad = np.pad(a, 1, mode="edge")
    h, w = a.shape
    fwd = np.empty_like(a)
    bwd = np.empty_like(a)
    for k, (dy, dx) in enumerate(_DIRECTIONS):
        m = bins == k
        fwd[m] = pad[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w][m]
        bwd[m] = pad[1 - dy : 1 - dy + h, 1 - dx : 1 - dx + w][m]
    return fwd, bwd


def canny_edges(gray, *, sigma_px: float = 1.0, low_threshold: float = 0.1, high_threshold: float = 0.2):
    """Canny edge map [2]: Gaussian derivative, non-maximum suppression, hysteresis.

    Parameters
    ----------
    gray
        ``H x W`` float image.
    sigma_px
        Sigma of the Gaussian derivative, pixels.
    low_threshold, high_threshold
        Hysteresis thresholds as fractions of the largest gradient magnitude (0 < low <= high
        <= 1): pixels above ``high`` seed edges, connected (8-neighbour) pixels above ``low``
        extend them.

    Returns
    -------
    numpy.ndarray
        ``H x W`` bool edge mask (one pixel wide).
    """
    g = np.asarray(gray, dtype=np.float64)
    s = check_positive("sigma_px", sigma_px)
    lo, hi = float(low_threshold), float(high_threshold)
    if not 0.0 < lo <= hi <= 1.0:
        raise InvalidParameterError(f"need 0 < low_threshold <= high_threshold <= 1, got {lo!r}, {hi!r}")
    gx = ndimage.gaussian_filter(g, s, order=(0, 1), mode="reflect")
    gy = ndimage.gaussian_filter(g, s, order=(1, 0), mode="reflect")
    mag = np.hypot(gx, gy)
    top = float(mag.max())
    if top <= 0.0:
        return np.zeros(g.shape, dtype=bool)
    fwd, bwd = _neighbours(mag, _direction_bins(gx, gy))
    nms = (mag >= fwd) & (mag > bwd)
    weak = nms & (mag >= lo * top)
    labels, n = ndimage.label(weak, structure=np.ones((3, 3), dtype=bool))
    if n == 0:
        return weak
    strong = np.zeros(n + 1, dtype=bool)
    strong[np.unique(labels[weak & (mag >= hi * top)])] = True
    strong[0] = False
    return strong[labels]


def _peak_log_parabola(center: np.ndarray, fwd: np.ndarray, bwd: np.ndarray) -> np.ndarray:
    """Maximum of the parabola through log values at -1, 0, +1 (exact for a Gaussian profile)."""
    tiny = 1e-300
    lc, lf, lb = (np.log(np.maximum(v, tiny)) for v in (center, fwd, bwd))
    curv = lf - 2.0 * lc + lb
    with np.errstate(divide="ignore", invalid="ignore"):
        off = np.where(curv < 0, 0.5 * (lb - lf) / np.where(curv < 0, curv, -1.0), 0.0)
    off = np.clip(off, -0.5, 0.5)
    return np.exp(lc + 0.5 * (lf - lb) * off + 0.5 * curv * off * off)


def edge_blur_sigma(gray, edges, *, sigma0_px: float = 1.0, gradient_sigma_px: float = 1.0) -> np.ndarray:
    """Gaussian blur sigma (pixels) at each edge pixel from the re-blur gradient ratio [1].

    Returns an ``H x W`` array, NaN off the edges and where R <= 1 (noise); 0 where
    sigma0^2 / (R^2 - 1) < s_g^2 (sharper than the derivative can tell).
    """
    g = np.asarray(gray, dtype=np.float64)
    s0 = check_positive("sigma0_px", sigma0_px)
    sg = check_positive("gradient_sigma_px", gradient_sigma_px)
    s1 = math.hypot(s0, sg)
    gx = ndimage.gaussian_filter(g, sg, order=(0, 1), mode="reflect")
    gy = ndimage.gaussian_filter(g, sg, order=(1, 0), mode="reflect")
    m0 = np.hypot(gx, gy)
    m1 = np.hypot(
        ndimage.gaussian_filter(g, s1, order=(0, 1), mode="reflect"),
        ndimage.gaussian_filter(g, s1, order=(1, 0), mode="reflect"),
    )
    bins = _direction_bins(gx, gy)
    p0 = _peak_log_parabola(m0, *_neighbours(m0, bins))
    p1 = _peak_log_parabola(m1, *_neighbours(m1, bins))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = p0 / p1
        var = s0 * s0 / (r * r - 1.0) - sg * sg
    sigma = np.sqrt(np.maximum(var, 0.0))
    return np.where(np.asarray(edges, dtype=bool) & (r > 1.0) & np.isfinite(sigma), sigma, np.nan)


def joint_bilateral_sparse(values, guide, *, spatial_sigma_px: float = 4.0, range_sigma: float = 0.1, levels: int = 12):
    """Joint bilateral filter of a sparse map (NaN = no value) guided by an image in [0, 1].

    Notes
    -----
    out(x) = sum_y G_s(x - y) G_r(I(x) - I(y)) m(y) v(y) / sum_y G_s(x - y) G_r(I(x) - I(y)) m(y),
    m the mask of known values. The range kernel is sampled at ``levels`` intensities i_k;
    each level is two Gaussian convolutions and the result is linearly interpolated in
    I(x) between levels [4]. Returned only where ``values`` is known.
    """
    v = np.asarray(values, dtype=np.float64)
    known = np.isfinite(v)
    if not known.any():
        return v.copy()
    guide = np.asarray(guide, dtype=np.float64)
    ik = np.linspace(0.0, 1.0, int(levels))
    vz = np.where(known, v, 0.0)
    m = known.astype(np.float64)
    outs = np.empty((ik.size, *v.shape))
    for k, level in enumerate(ik):
        wr = np.exp(-0.5 * ((guide - level) / range_sigma) ** 2)
        num = ndimage.gaussian_filter(wr * m * vz, spatial_sigma_px, mode="constant")
        den = ndimage.gaussian_filter(wr * m, spatial_sigma_px, mode="constant")
        with np.errstate(invalid="ignore", divide="ignore"):
            outs[k] = np.where(den > 1e-12, num / den, np.nan)
    pos = np.clip(guide, 0.0, 1.0) * (ik.size - 1)
    k0 = np.minimum(np.floor(pos).astype(int), ik.size - 2)
    t = pos - k0
    a = np.take_along_axis(outs, k0[None], axis=0)[0]
    b = np.take_along_axis(outs, (k0 + 1)[None], axis=0)[0]
    out = np.where(np.isfinite(a) & np.isfinite(b), (1 - t) * a + t * b, np.where(np.isfinite(a), a, b))
    return np.where(known, out, np.nan)


def _block_mean(a: np.ndarray, f: int) -> np.ndarray:
    h, w = a.shape[:2]
    hp, wp = -(-h // f) * f, -(-w // f) * f
    pad = [(0, hp - h), (0, wp - w)] + [(0, 0)] * (a.ndim - 2)
    p = np.pad(a, pad, mode="edge")
    return p.reshape(hp // f, f, wp // f, f, *a.shape[2:]).mean(axis=(1, 3))


def propagate(sparse_sigma, guide, *, lam: float = 0.1, eps: float = 1e-5) -> np.ndarray:
    """Dense map d minimising d^T L d + lam sum_edges (d - d_hat)^2 ([1], eqs. 8-9).

    ``guide`` is the ``h x w`` or ``h x w x C`` image in [0, 1] the matting Laplacian [3] is
    built from; ``sparse_sigma`` holds d_hat (NaN where unknown). Solved with SuperLU.
    """
    d_hat = np.asarray(sparse_sigma, dtype=np.float64)
    known = np.isfinite(d_hat)
    lap = matting_laplacian(guide, eps=eps)
    dvec = sparse.diags(known.ravel().astype(np.float64))
    a = (lap + lam * dvec).tocsc()
    b = lam * np.where(known, d_hat, 0.0).ravel()
    return sparse_linalg.spsolve(a, b, permc_spec="MMD_AT_PLUS_A").reshape(d_hat.shape)


def _upsample(a: np.ndarray, f: int, shape) -> np.ndarray:
    """Linear interpolation of a block-mean grid back to ``shape`` (block centres aligned)."""
    yy = (np.arange(shape[0]) + 0.5) / f - 0.5
    xx = (np.arange(shape[1]) + 0.5) / f - 0.5
    y, x = np.meshgrid(yy, xx, indexing="ij")
    return ndimage.map_coordinates(a, [y, x], order=1, mode="nearest")


def defocus_map(
    image,
    *,
    sigma0_px: float = 1.0,
    gradient_sigma_px: float = 1.0,
    canny_sigma_px: float = 1.0,
    low_threshold: float = 0.1,
    high_threshold: float = 0.2,
    max_sigma_px: float = 10.0,
    bilateral_spatial_sigma_px: float = 4.0,
    bilateral_range_sigma: float = 0.1,
    lam: float = 0.1,
    eps: float = 1e-5,
    max_solve_px: int = 65536,
) -> DefocusMap:
    """Defocus map of one image by the method of Zhuo & Sim [1].

    Parameters
    ----------
    image
        ``H x W`` or ``H x W x C`` float image, linear light (any scale: it is normalised by
        its range). RGB uses Rec. 709 luma for the gradients and all channels for the
        matting Laplacian.
    sigma0_px
        Sigma of the re-blur Gaussian, pixels.
    gradient_sigma_px
        Sigma of the Gaussian derivative used for the gradient ratio, pixels.
    canny_sigma_px, low_threshold, high_threshold
        Canny edge detector settings (:func:`canny_edges`).
    max_sigma_px
        Estimates above this are clipped to it (R -> 1 there, the ratio is unreliable).
    bilateral_spatial_sigma_px, bilateral_range_sigma
        Joint bilateral outlier filter: spatial sigma (pixels) and range sigma (fraction of
        the image's range).
    lam, eps
        Propagation weight of the sparse estimates (lambda) and matting-Laplacian
        regulariser (epsilon, for intensities in [0, 1]). lambda = 0.1 keeps the dense map
        within 2-8 % of the edge estimates on the two-region test image, where 0.005 pulls
        both regions a third of the way towards each other across a shared background.
    max_solve_px
        Most pixels of the propagation grid; larger images are block-averaged by the
        smallest integer factor that fits and the dense map is interpolated back.

    Returns
    -------
    DefocusMap

    Raises
    ------
    InvalidParameterError
        Not a numeric 2-D / 3-D array, NaN/inf values, image smaller than 8 x 8, or bad
        parameters. A flat image or one without edges gives NaN maps and a warning.
    """
    gray = to_gray(image)
    h, w = gray.shape
    if h < 8 or w < 8:
        raise InvalidParameterError(f"image of {w} x {h} px is too small for a defocus map; need at least 8 x 8")
    cap = check_positive("max_sigma_px", max_sigma_px)
    s0 = check_positive("sigma0_px", sigma0_px)
    lam = check_positive("lam", lam)
    eps = check_positive("eps", eps)
    if isinstance(max_solve_px, bool) or not isinstance(max_solve_px, (int, np.integer)) or max_solve_px < 64:
        raise InvalidParameterError(f"max_solve_px must be an integer >= 64, got {max_solve_px!r}")
    nan_map = np.full((h, w), np.nan)
    lo, span = float(gray.min()), float(np.ptp(gray))
    if span <= 0.0:
        empty = np.zeros((h, w), dtype=bool)
        return DefocusMap(nan_map, nan_map.copy(), empty, nan_map.copy(), s0, 1, ("flat image: no edges, no map",))
    gnorm = (gray - lo) / span
    edges = canny_edges(gnorm, sigma_px=canny_sigma_px, low_threshold=low_threshold, high_threshold=high_threshold)
    raw = edge_blur_sigma(gnorm, edges, sigma0_px=s0, gradient_sigma_px=gradient_sigma_px)
    warnings: list[str] = []
    known = np.isfinite(raw)
    n_edges = int(edges.sum())
    if n_edges and np.mean(known[edges]) < 0.5:
        warnings.append(f"{1 - np.mean(known[edges]):.0%} of edge pixels have a gradient ratio <= 1 (noise)")
    saturated = known & (raw > cap)
    if known.any() and np.mean(saturated[known]) > 0.1:
        warnings.append(
            f"{np.mean(saturated[known]):.0%} of edge estimates exceed max_sigma_px={cap:g} and are clipped"
        )
    raw = np.minimum(raw, cap)
    n_known = int(known.sum())
    if 0 < n_known < max(MIN_EDGE_PIXELS, MIN_EDGE_FRACTION * h * w):
        warnings.append(f"only {n_known} edge pixels carry an estimate: the dense map is mostly extrapolated")
    if not known.any():
        warnings.append("no usable edges found: the defocus map is undefined (NaN)")
        return DefocusMap(nan_map, nan_map.copy(), known, raw, s0, 1, tuple(warnings))
    filtered = joint_bilateral_sparse(
        raw, gnorm, spatial_sigma_px=bilateral_spatial_sigma_px, range_sigma=bilateral_range_sigma
    )
    guide = np.asarray(image, dtype=np.float64)
    guide = (guide - guide.min()) / max(float(np.ptp(guide)), 1e-300)
    f = max(1, math.ceil(math.sqrt(h * w / int(max_solve_px))))
    if f > 1:
        warnings.append(f"propagation solved on a {f}x block-averaged grid (max_solve_px={max_solve_px})")
        num = _block_mean(np.where(known, filtered, 0.0), f)
        den = _block_mean(known.astype(np.float64), f)
        coarse = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        dense = _upsample(propagate(coarse, _block_mean(guide, f), lam=lam, eps=eps), f, (h, w))
    else:
        dense = propagate(filtered, guide, lam=lam, eps=eps)
    dense = np.clip(dense, 0.0, cap)
    out = np.float32 if np.asarray(image).dtype == np.float32 else np.float64
    return DefocusMap(
        sparse_sigma_px=filtered.astype(out),
        dense_sigma_px=dense.astype(out),
        edge_mask=known,
        raw_sigma_px=raw.astype(out),
        sigma0_px=s0,
        solve_scale=f,
        warnings=tuple(warnings),
    )
