"""Random textures: scale-invariant dead leaves, 1/f noise, low-texture surfaces.

Every generator takes a grid ``shape = (H, W)`` and a ``seed`` and returns float32 relative
linear radiance (1.0 = white diffuser); the same seed gives bit-identical output.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from focuslab.errors import InvalidParameterError, check_finite, check_positive
from focuslab.scene.grid import check_int, check_shape

_SMALL_DISK_SUBPX = 12  # disks up to this radius (subsamples) are rasterised with stencils
_CELL_SUBPX = 16  # cell size of the coarse "uncovered" map used to skip useless disks
_CHUNK_ELEMENTS = 3_000_000
_MAX_DISKS_PER_STAGE = 20_000_000


def _check_levels(levels) -> tuple[float, float]:
    try:
        lo, hi = (check_finite("levels", v) for v in levels)
    except TypeError:
        raise InvalidParameterError(f"levels must be (low, high), got {levels!r}") from None
    if not 0 <= lo < hi:
        raise InvalidParameterError(f"levels must satisfy 0 <= low < high, got {levels!r}")
    return lo, hi


def _sample_radii(rng: np.random.Generator, n: int, r_min: float, r_max: float) -> np.ndarray:
    """Radii with density proportional to r^-3 on [r_min, r_max] (inverse-CDF sampling)."""
    a, b = r_min**-2.0, r_max**-2.0
    return (a - rng.random(n) * (a - b)) ** -0.5


def _rasterise_small(zbuf, cx, cy, r, ids):
    """Write min(id) of disks of radius <= _SMALL_DISK_SUBPX into ``zbuf`` via stencils."""
    hs, ws = zbuf.shape
    flat = zbuf.reshape(-1)
    big_r = np.ceil(r).astype(np.int64)
    for rr in np.unique(big_r):
        sel = big_r == rr
        off = np.arange(-rr - 1, rr + 1)
        oy, ox = np.meshgrid(off, off, indexing="ij")
        oy, ox = oy.reshape(-1), ox.reshape(-1)
        step = max(1, _CHUNK_ELEMENTS // oy.size)
        xs, ys, rs, ks = cx[sel], cy[sel], r[sel], ids[sel]
        for k0 in range(0, xs.size, step):
            x, y, rad, k = xs[k0 : k0 + step], ys[k0 : k0 + step], rs[k0 : k0 + step], ks[k0 : k0 + step]
            jj = np.floor(x).astype(np.int64)[:, None] + ox
            ii = np.floor(y).astype(np.int64)[:, None] + oy
            inside = (jj + 0.5 - x[:, None]) ** 2 + (ii + 0.5 - y[:, None]) ** 2 <= (rad**2)[:, None]
            inside &= (jj >= 0) & (jj < ws) & (ii >= 0) & (ii < hs)
            np.minimum.at(flat, (ii * ws + jj)[inside], np.broadcast_to(k[:, None], inside.shape)[inside])


def _rasterise_large(zbuf, cx, cy, r, ids):
    """Write min(id) of large disks into ``zbuf``, one bounding box at a time."""
    hs, ws = zbuf.shape
    for x, y, rad, k in zip(cx, cy, r, ids, strict=True):
        j0, j1 = max(0, int(np.floor(x - rad))), min(ws, int(np.ceil(x + rad)) + 1)
        i0, i1 = max(0, int(np.floor(y - rad))), min(hs, int(np.ceil(y + rad)) + 1)
        if j0 >= j1 or i0 >= i1:
            continue
        dx2 = (np.arange(j0, j1) + 0.5 - x) ** 2
        dy2 = (np.arange(i0, i1) + 0.5 - y) ** 2
        inside = dy2[:, None] + dx2[None, :] <= rad * rad
        box = zbuf[i0:i1, j0:j1]
        np.copyto(box, np.minimum(box, k), where=inside)


def dead_leaves(
    shape,
    *,
    r_min_px: float = 1.0,
    r_max_px: float | None = None,
    levels: tuple[float, float] = (0.05, 0.85),
    color: bool = False,
    supersample: int = 3,
    seed: int | np.random.Generator | None = 0,
) -> np.ndarray:
    """Scale-invariant dead-leaves texture (occluding disks with radius density ∝ r^-3).

    Parameters
    ----------
    shape
        Grid ``(H, W)`` in pixels.
    r_min_px, r_max_px
        Radius range of the disks, pixels. ``r_max_px=None`` uses ``max(H, W) / 4`` (at least
        ``4 r_min_px``).
    levels
        ``(low, high)``: each disk's level is uniform in this range (relative linear
        radiance); for ``color=True`` the three channels are drawn independently.
    color
        Return ``H x W x 3`` (independent RGB levels per disk) instead of ``H x W``.
    supersample
        Samples per pixel along each axis; the output is the box average of the
        ``supersample**2`` point samples of each pixel (anti-aliasing).
    seed
        Seed or generator; same seed gives bit-identical output.

    Returns
    -------
    numpy.ndarray
        float32 ``H x W`` (or ``H x W x 3``) in ``[low, high]``.

    Raises
    ------
    InvalidParameterError
        For a bad shape, radii (need 0 < r_min < r_max), levels or supersampling factor.

    Notes
    -----
    Disks fall one after the other in time; a point shows the *first* disk that covered it
    (the "dead leaves" seen from above the pile, front to back). Centres form a Poisson
    process, uniform in the plane; radii have density
    ``p(r) = 2 r^-3 / (r_min^-2 - r_max^-2)`` on ``[r_min, r_max]``, which makes the texture
    approximately scale invariant, with power spectrum ``S(f) ∝ f^-2`` for
    ``1/r_max << f << 1/r_min`` [1]_, [2]_.

    Implementation (exact for the sampled points, not an approximation of the model): time
    is advanced in stages; each stage draws the disks of the whole plane for its time slice,
    keeps only those that can still reach an uncovered sample (found with a summed-area
    table of a coarse coverage map) and writes the minimum disk index (index order = time
    order) into a z-buffer. Stages stop when every sample is covered.

    References
    ----------
    .. [1] A. B. Lee, D. Mumford, J. Huang, "Occlusion models for natural images: a
       statistical study of a scale-invariant dead leaves model", IJCV 41 (2001) 35-59.
    .. [2] F. Cao, F. Guichard, H. Hornung, "Dead leaves model for measuring texture
       quality on a digital camera", Proc. SPIE 7537 (2010) 75370E.
    """
    h, w = check_shape(shape)
    lo, hi = _check_levels(levels)
    ss = check_int("supersample", supersample, 1, 8)
    r_min = check_positive("r_min_px", r_min_px)
    r_max = max(max(h, w) / 4.0, 4.0 * r_min) if r_max_px is None else check_positive("r_max_px", r_max_px)
    if not r_min < r_max:
        raise InvalidParameterError(f"need r_min_px < r_max_px, got {r_min} and {r_max}")
    rng = np.random.default_rng(seed)
    hs, ws = h * ss, w * ss
    rmin_s, rmax_s = r_min * ss, r_max * ss
    # Centres are drawn over the grid grown by r_max; disks missing the grid are discarded.
    x_lo, y_lo = -rmax_s, -rmax_s
    span_x, span_y = ws + 2 * rmax_s, hs + 2 * rmax_s
    mean_area = np.pi * 2.0 * np.log(rmax_s / rmin_s) / (rmin_s**-2 - rmax_s**-2)
    per_stage = int(np.ceil(2.0 * span_x * span_y / mean_area))  # ~86 % coverage per stage
    if per_stage > _MAX_DISKS_PER_STAGE:
        raise InvalidParameterError(
            f"dead_leaves would need {per_stage} disks per pass for r_min_px={r_min}, r_max_px={r_max} on "
            f"{h} x {w}; increase r_min_px, reduce r_max_px or supersample"
        )
    zbuf = np.full((hs, ws), np.iinfo(np.int64).max, dtype=np.int64)
    n_cy, n_cx = -(-hs // _CELL_SUBPX), -(-ws // _CELL_SUBPX)
    values: list[np.ndarray] = []
    next_id = 0
    for _stage in range(200):
        cx = x_lo + rng.random(per_stage) * span_x
        cy = y_lo + rng.random(per_stage) * span_y
        r = _sample_radii(rng, per_stage, rmin_s, rmax_s)
        values.append(lo + (hi - lo) * rng.random((per_stage, 3 if color else 1)))
        ids = next_id + np.arange(per_stage, dtype=np.int64)
        next_id += per_stage
        # Bounding boxes in coarse cells, clipped to the grid; empty boxes miss the grid.
        c0x = np.clip(np.floor((cx - r) / _CELL_SUBPX), 0, n_cx).astype(np.int64)
        c1x = np.clip(np.floor((cx + r) / _CELL_SUBPX) + 1, 0, n_cx).astype(np.int64)
        c0y = np.clip(np.floor((cy - r) / _CELL_SUBPX), 0, n_cy).astype(np.int64)
        c1y = np.clip(np.floor((cy + r) / _CELL_SUBPX) + 1, 0, n_cy).astype(np.int64)
        if _stage == 0:
            keep = (c1x > c0x) & (c1y > c0y)
        else:
            unc = zbuf == np.iinfo(np.int64).max
            pad = np.zeros((n_cy * _CELL_SUBPX, n_cx * _CELL_SUBPX), dtype=bool)
            pad[:hs, :ws] = unc
            cells = pad.reshape(n_cy, _CELL_SUBPX, n_cx, _CELL_SUBPX).any(axis=(1, 3))
            sat = np.zeros((n_cy + 1, n_cx + 1), dtype=np.int64)
            sat[1:, 1:] = cells.cumsum(0).cumsum(1)
            holes = sat[c1y, c1x] - sat[c0y, c1x] - sat[c1y, c0x] + sat[c0y, c0x]
            keep = holes > 0
        small = keep & (r <= _SMALL_DISK_SUBPX)
        large = keep & (r > _SMALL_DISK_SUBPX)
        _rasterise_small(zbuf, cx[small], cy[small], r[small], ids[small])
        _rasterise_large(zbuf, cx[large], cy[large], r[large], ids[large])
        if not np.any(zbuf == np.iinfo(np.int64).max):
            break
    else:  # pragma: no cover - coverage after 200 stages of 86 % each is certain in practice
        raise InvalidParameterError("dead_leaves did not cover the grid; increase r_min_px")
    table = np.concatenate(values, axis=0)
    img = np.empty((h, w, table.shape[1]), dtype=np.float32)
    for k in range(table.shape[1]):  # gather + box-average one channel at a time (memory)
        img[..., k] = table[:, k][zbuf].reshape(h, ss, w, ss).mean(axis=(1, 3))
    return img if color else img[..., 0]


def _radial_frequency(h: int, w: int) -> np.ndarray:
    """|f| in cycles/pixel on the ``numpy.fft.rfft2`` grid of an ``h x w`` image."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    return np.hypot(fy, fx)


def one_over_f_noise(
    shape,
    *,
    beta: float = 1.0,
    mean: float = 0.3,
    contrast: float = 0.5,
    seed: int | np.random.Generator | None = 0,
) -> np.ndarray:
    """Gaussian noise with amplitude spectrum ∝ 1/f^beta ("1/f" or pink noise in 2-D).

    Parameters
    ----------
    shape
        Grid ``(H, W)``.
    beta
        Spectral exponent of the *amplitude* spectrum, ``|F(f)| ∝ f^-beta`` (the power
        spectrum falls as ``f^-2 beta``); 1 is natural-image-like, 0 is white noise.
    mean
        Mean level, relative linear radiance (> 0).
    contrast
        Peak contrast in [0, 1]: the largest deviation from the mean is exactly
        ``contrast * mean``, so the texture lies in ``[mean (1 - c), mean (1 + c)]`` and is
        never negative.
    seed
        Seed or generator.

    Returns
    -------
    numpy.ndarray
        float32 ``H x W``.

    Notes
    -----
    White Gaussian noise is transformed with ``rfft2``, multiplied by ``f^-beta`` (the DC
    term set to 0) and transformed back; the result is periodic (tiles seamlessly). It is
    then scaled as ``mean * (1 + contrast * n / max|n|)``. Field, Relations between the
    statistics of natural images and the response properties of cortical cells, JOSA A 4
    (1987) 2379: natural images have amplitude spectra close to ``1/f``.
    """
    h, w = check_shape(shape)
    b = check_finite("beta", beta)
    if not 0 <= b <= 4:
        raise InvalidParameterError(f"beta must lie in [0, 4], got {beta!r}")
    m = check_positive("mean", mean)
    c = check_positive("contrast", contrast, allow_zero=True)
    if c > 1:
        raise InvalidParameterError(f"contrast must lie in [0, 1] (peak contrast), got {contrast!r}")
    rng = np.random.default_rng(seed)
    white = rng.standard_normal((h, w))
    f = _radial_frequency(h, w)
    gain = np.zeros_like(f)
    gain[f > 0] = f[f > 0] ** -b
    n = np.fft.irfft2(np.fft.rfft2(white) * gain, s=(h, w))
    n -= n.mean()
    peak = np.abs(n).max()
    if peak > 0:
        n /= peak
    return (m * (1.0 + c * n)).astype(np.float32)


def low_texture(
    shape,
    *,
    mean: float = 0.4,
    contrast: float = 0.01,
    shading: float = 0.15,
    seed: int | np.random.Generator | None = 0,
) -> np.ndarray:
    """A nearly featureless surface: smooth shading plus very low-contrast fine texture.

    The AF failure case (a white wall, a sky, a sheet of paper under uneven light):
    contrast-detect AF has almost nothing to measure.

    Parameters
    ----------
    shape
        Grid ``(H, W)``.
    mean
        Mean level, relative linear radiance.
    contrast
        Peak contrast of the fine texture (1/f noise, ``beta = 1``), relative to the local
        shading, in [0, 1]; e.g. 0.01 = 1 %.
    shading
        Peak relative amplitude of the smooth shading (a diagonal ramp plus a very blurred
        random field; spatial scale ~ half the frame), in [0, 0.9].
    seed
        Seed or generator.

    Returns
    -------
    numpy.ndarray
        float32 ``H x W``, equal to ``mean * (1 + shading * s) * (1 + contrast * t)`` with
        ``|s| <= 1`` smooth and ``|t| <= 1`` the normalised fine texture.
    """
    h, w = check_shape(shape)
    m = check_positive("mean", mean)
    c = check_positive("contrast", contrast, allow_zero=True)
    if c > 1:
        raise InvalidParameterError(f"contrast must lie in [0, 1], got {contrast!r}")
    s_amp = check_positive("shading", shading, allow_zero=True)
    if s_amp > 0.9:
        raise InvalidParameterError(f"shading must lie in [0, 0.9], got {shading!r}")
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    angle = rng.uniform(0, 2 * np.pi)
    ramp = (np.cos(angle) * (xx - (w - 1) / 2) + np.sin(angle) * (yy - (h - 1) / 2)) / max(h, w, 2)
    blob = ndimage.gaussian_filter(rng.standard_normal((h, w)), sigma=max(h, w) / 6.0, mode="wrap")
    blob /= max(np.abs(blob).max(), 1e-300)
    smooth = ramp + 0.5 * blob
    smooth -= smooth.mean()
    smooth /= max(np.abs(smooth).max(), 1e-300)
    fine = one_over_f_noise((h, w), beta=1.0, mean=1.0, contrast=1.0, seed=rng) - 1.0
    return (m * (1.0 + s_amp * smooth) * (1.0 + c * fine)).astype(np.float32)
