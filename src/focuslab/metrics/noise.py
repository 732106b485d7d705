"""Noise of uniform patches: signal-to-noise ratio and noise power spectrum (numpy only).

* :func:`patch_snr`: mean / standard deviation of one uniform patch (spatial noise, which
  includes fixed-pattern noise), optionally after removing low-frequency non-uniformity
  (illumination fall-off, vignetting) by a least-squares plane fit.
* :func:`temporal_snr`: two frames of the same patch separate temporal noise (from their
  difference) from spatial (fixed-pattern) noise (from their mean), as in EMVA 1288.
* :func:`noise_power_spectrum`: 2-D and radially averaged NPS normalised so that its
  integral over frequency equals the variance (ISO 15739 / Parseval).

Arrays are ``H x W`` (or ``H x W x C``: every function then works per channel) in linear
light; frequencies are in cycles/pixel.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from focuslab.errors import InvalidParameterError

_MIN_PATCH_PX = 8


def as_float_image(image, name: str = "image", *, allow_channels: bool = True) -> np.ndarray:
    """Validate a metric input: finite, real, ``H x W`` (or ``H x W x C``), at least 8 x 8.

    Returns a float64 view or copy (the input is never modified). Raises
    :class:`InvalidParameterError` naming ``name`` for a wrong shape, a too-small patch,
    a non-numeric array, or NaN / inf values.
    """
    arr = np.asarray(image)
    if arr.dtype.kind not in "buif":
        raise InvalidParameterError(f"{name} must be a real numeric array, got dtype {arr.dtype}")
    if arr.ndim not in ((2, 3) if allow_channels else (2,)):
        want = "H x W or H x W x C" if allow_channels else "H x W"
        raise InvalidParameterError(f"{name} must be {want}, got shape {arr.shape}")
    if arr.shape[0] < _MIN_PATCH_PX or arr.shape[1] < _MIN_PATCH_PX:
        raise InvalidParameterError(
            f"{name} is {arr.shape[0]} x {arr.shape[1]} px; need at least {_MIN_PATCH_PX} x {_MIN_PATCH_PX} px"
        )
    out = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(out)):
        raise InvalidParameterError(f"{name} contains NaN or inf values; crop them out or replace them first")
    return out


def _out_dtype(image) -> type:
    return np.float32 if np.asarray(image).dtype == np.float32 else np.float64


def remove_plane(patch: np.ndarray) -> np.ndarray:
    """Subtract the least-squares plane ``a + b x + c y`` from a 2-D patch, keeping its mean.

    Removes low-frequency non-uniformity (shading) before a noise measurement; the mean of
    the result equals the mean of ``patch``. Returns a new float64 array.
    """
    p = np.asarray(patch, dtype=np.float64)
    h, w = p.shape
    y = np.arange(h, dtype=np.float64) - (h - 1) / 2.0
    x = np.arange(w, dtype=np.float64) - (w - 1) / 2.0
    # Centred coordinates are orthogonal to the constant and to each other on a full grid,
    # so the least-squares slopes are plain projections (no slope along a 1-px axis).
    bx = np.sum(p * x[None, :]) / (h * np.sum(x * x)) if w > 1 else 0.0
    by = np.sum(p * y[:, None]) / (w * np.sum(y * y)) if h > 1 else 0.0
    return p - bx * x[None, :] - by * y[:, None]


def _snr_db(mean: float, std: float) -> float:
    if std == 0.0:
        return float("inf")
    if mean <= 0.0:
        return float("-inf") if mean == 0.0 else float("nan")
    return float(20.0 * np.log10(mean / std))


@dataclass(frozen=True)
class SnrResult:
    """Signal-to-noise ratio of a patch (per channel when the input had channels).

    Attributes
    ----------
    mean
        Mean signal (input units), shape ``()`` or ``(C,)``.
    std
        Noise standard deviation (input units); for :func:`temporal_snr` the temporal noise
        of one frame.
    snr
        ``mean / std`` (linear ratio).
    snr_db
        ``20 log10(mean / std)``, dB.
    fixed_pattern_std
        :func:`temporal_snr` only: spatial (fixed-pattern) noise of one frame, input units;
        NaN for :func:`patch_snr`.
    warnings
        Human-readable caveats (non-positive mean, zero noise, clipped values...).
    """

    mean: np.ndarray
    std: np.ndarray
    snr: np.ndarray
    snr_db: np.ndarray
    fixed_pattern_std: np.ndarray
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """JSON-ready dict (arrays as lists, non-finite numbers as strings)."""
        return {k: _jsonable(v) for k, v in asdict(self).items()}


def _jsonable(v):
    """Arrays to lists and non-finite floats to None (strict JSON has no inf/NaN)."""
    if isinstance(v, tuple):
        return list(v)
    arr = np.asarray(v, dtype=np.float64)
    clean = np.where(np.isfinite(arr), arr, np.nan).astype(object)
    clean[~np.isfinite(arr)] = None
    return clean.tolist()


def _channels(arr: np.ndarray) -> list[np.ndarray]:
    return [arr] if arr.ndim == 2 else [arr[..., k] for k in range(arr.shape[2])]


def _pack(values: list[float], ndim: int, dtype) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    return (a[0] if ndim == 2 else a).astype(dtype)


def _snr_warnings(means, stds, arr) -> list[str]:
    out = []
    if any(m <= 0 for m in means):
        out.append("mean signal is <= 0: SNR is undefined; subtract the black level correctly")
    if any(s == 0 for s in stds):
        out.append("noise is exactly zero (synthetic or fully clipped patch): SNR is infinite")
    hi = arr.max()
    if hi > 0 and np.mean(arr == hi) > 0.01:
        out.append("more than 1 % of the patch sits at its maximum value: clipping lowers the measured noise")
    return out


def patch_snr(patch, *, remove_nonuniformity: bool = False) -> SnrResult:
    """Spatial SNR of a uniform patch: mean / standard deviation.

    Parameters
    ----------
    patch
        ``H x W`` or ``H x W x C`` uniform region, linear light (at least 8 x 8 px).
    remove_nonuniformity
        Subtract a least-squares plane per channel first (removes shading, keeps the mean).

    Returns
    -------
    SnrResult
        ``mean``, ``std`` (sample standard deviation, ``ddof=1``), ``snr`` and ``snr_db``.

    Raises
    ------
    InvalidParameterError
        Wrong shape, patch smaller than 8 x 8, NaN / inf values.

    Notes
    -----
    ``SNR = mu / sigma`` and ``SNR_dB = 20 log10(mu / sigma)``, the signal-to-noise ratio of
    a uniform patch as in ISO 15739:2023 (digital still camera noise measurement). The
    spatial standard deviation of a single
    frame contains temporal and fixed-pattern noise; use :func:`temporal_snr` to separate
    them.
    """
    arr = as_float_image(patch, "patch")
    dtype = _out_dtype(patch)
    means, stds = [], []
    for ch in _channels(arr):
        p = remove_plane(ch) if remove_nonuniformity else ch
        means.append(float(p.mean()))
        stds.append(float(p.std(ddof=1)))
    snr = [m / s if s > 0 else float("inf") for m, s in zip(means, stds, strict=True)]
    db = [_snr_db(m, s) for m, s in zip(means, stds, strict=True)]
    return SnrResult(
        mean=_pack(means, arr.ndim, dtype),
        std=_pack(stds, arr.ndim, dtype),
        snr=_pack(snr, arr.ndim, dtype),
        snr_db=_pack(db, arr.ndim, dtype),
        fixed_pattern_std=_pack([np.nan] * len(means), arr.ndim, dtype),
        warnings=tuple(_snr_warnings(means, stds, arr)),
    )


def temporal_snr(frame_a, frame_b, *, remove_nonuniformity: bool = False) -> SnrResult:
    """Temporal SNR from two frames of the same uniform patch, and the fixed-pattern noise.

    Parameters
    ----------
    frame_a, frame_b
        Two captures of the same patch under the same conditions, same shape.
    remove_nonuniformity
        Subtract a least-squares plane from the mean frame before the fixed-pattern estimate.

    Returns
    -------
    SnrResult
        ``mean`` of both frames, ``std`` = temporal noise of one frame, ``snr`` = mean /
        temporal noise, ``fixed_pattern_std`` = spatial noise of one frame with the temporal
        part removed (0 when negative by sampling error).

    Notes
    -----
    EMVA 1288 Release 4.0, eqs. (29)-(31): the difference of two frames cancels every fixed
    pattern, so ``sigma_t^2 = var(a - b) / 2``. The mean frame ``(a + b) / 2`` keeps the
    fixed pattern and half the temporal variance: ``sigma_fpn^2 = var((a + b) / 2) -
    sigma_t^2 / 2``.
    """
    a = as_float_image(frame_a, "frame_a")
    b = as_float_image(frame_b, "frame_b")
    if a.shape != b.shape:
        raise InvalidParameterError(f"the two frames must have the same shape, got {a.shape} and {b.shape}")
    dtype = _out_dtype(frame_a)
    means, stds, fpns = [], [], []
    for ca, cb in zip(_channels(a), _channels(b), strict=True):
        diff = ca - cb
        mean_frame = 0.5 * (ca + cb)
        if remove_nonuniformity:
            mean_frame = remove_plane(mean_frame)
        var_t = float(np.var(diff, ddof=1) / 2.0)
        var_s = float(np.var(mean_frame, ddof=1) - var_t / 2.0)
        means.append(float(mean_frame.mean()))
        stds.append(float(np.sqrt(var_t)))
        fpns.append(float(np.sqrt(max(var_s, 0.0))))
    snr = [m / s if s > 0 else float("inf") for m, s in zip(means, stds, strict=True)]
    db = [_snr_db(m, s) for m, s in zip(means, stds, strict=True)]
    return SnrResult(
        mean=_pack(means, a.ndim, dtype),
        std=_pack(stds, a.ndim, dtype),
        snr=_pack(snr, a.ndim, dtype),
        snr_db=_pack(db, a.ndim, dtype),
        fixed_pattern_std=_pack(fpns, a.ndim, dtype),
        warnings=tuple(_snr_warnings(means, stds, np.concatenate([a.ravel(), b.ravel()]))),
    )


def power_spectral_density(patch: np.ndarray, *, window: str = "none") -> np.ndarray:
    """Two-sided 2-D power spectral density of one 2-D patch, fftshift-free (DC at [0, 0]).

    ``S(k, l) = |DFT(w (x - mean_w))|^2 / sum(w^2)`` in (input units)^2 x pixel^2, so that
    ``sum(S) / (H W) = sum(w^2 (x - mean_w)^2) / sum(w^2)``: the (window-weighted)
    variance. ``window`` is ``"none"`` (rectangular: exact Parseval) or ``"hann"``
    (separable periodic Hann, less leakage for steep spectra). The input is not modified.
    """
    p = np.asarray(patch, dtype=np.float64)
    if window == "none":
        w = np.ones_like(p)
    elif window == "hann":
        h, wd = p.shape
        w = np.outer(np.hanning(h + 1)[:-1], np.hanning(wd + 1)[:-1])
        w = np.maximum(w, 0.0)
    else:
        raise InvalidParameterError(f"window must be 'none' or 'hann', got {window!r}")
    mean_w = np.sum(w * p) / np.sum(w)
    spec = np.fft.fft2(w * (p - mean_w))
    return (spec.real**2 + spec.imag**2) / np.sum(w * w)


def radial_average(
    spectrum: np.ndarray, *, max_frequency_cpp: float = 0.5, step_cpp: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Average a 2-D spectrum (DC at [0, 0], ``fft2`` layout) over annuli of ``|f|``.

    Annuli are ``step_cpp`` (default ``1 / min(H, W)``) cycles/pixel wide, centred on
    multiples of that step,
    from the first one above DC up to ``max_frequency_cpp``. Returns ``(frequencies_cpp,
    values)`` where each frequency is the mean ``|f|`` of the samples in its annulus (empty
    annuli are dropped).
    """
    h, w = spectrum.shape
    fr = np.hypot(np.fft.fftfreq(h)[:, None], np.fft.fftfreq(w)[None, :])
    step = 1.0 / min(h, w) if step_cpp is None else max(float(step_cpp), 1.0 / min(h, w))
    idx = np.rint(fr / step).astype(np.int64).ravel()
    n_bins = int(np.floor(max_frequency_cpp / step + 1e-9)) + 1
    keep = idx < n_bins
    counts = np.bincount(idx[keep], minlength=n_bins)
    sums = np.bincount(idx[keep], weights=spectrum.ravel()[keep], minlength=n_bins)
    fsum = np.bincount(idx[keep], weights=fr.ravel()[keep], minlength=n_bins)
    good = counts > 0
    good[0] = False  # the DC annulus holds the (removed) mean
    return fsum[good] / counts[good], sums[good] / counts[good]


@dataclass(frozen=True)
class NpsResult:
    """Noise power spectrum of a patch (one channel).

    Attributes
    ----------
    nps_2d
        ``H' x W'`` NPS, (input units)^2 x pixel^2, ``numpy.fft.fftshift`` layout (DC at
        the centre); ``H' x W'`` is the block size when blocks were averaged.
    fx_cpp, fy_cpp
        Frequencies of the columns and rows of ``nps_2d``, cycles/pixel (shifted layout).
    frequencies_cpp, nps
        Radial average: annulus centres (mean ``|f|``) up to 0.5 cycles/pixel, and the NPS.
    variance
        Variance of the (detrended) patch, input units^2; equals the integral of ``nps_2d``.
    blocks
        Number of blocks averaged.
    warnings
        Caveats.
    """

    nps_2d: np.ndarray
    fx_cpp: np.ndarray
    fy_cpp: np.ndarray
    frequencies_cpp: np.ndarray
    nps: np.ndarray
    variance: float
    blocks: int
    warnings: tuple[str, ...] = ()

    def to_dict(self, *, include_2d: bool = False) -> dict:
        """JSON-ready dict; the 2-D NPS only with ``include_2d=True`` (it can be large)."""
        d = {
            "frequencies_cpp": self.frequencies_cpp.tolist(),
            "nps": self.nps.tolist(),
            "variance": float(self.variance),
            "blocks": int(self.blocks),
            "warnings": list(self.warnings),
        }
        if include_2d:
            d.update(nps_2d=self.nps_2d.tolist(), fx_cpp=self.fx_cpp.tolist(), fy_cpp=self.fy_cpp.tolist())
        return d


def noise_power_spectrum(
    patch,
    *,
    remove_nonuniformity: bool = True,
    block_px: int | None = None,
    window: str = "none",
) -> NpsResult:
    """Noise power spectrum (2-D and radially averaged) of a uniform 2-D patch.

    Parameters
    ----------
    patch
        ``H x W`` uniform region (one channel), linear light.
    remove_nonuniformity
        Remove a least-squares plane (per block) before the transform (ISO 15739 removes
        low-frequency non-uniformity before noise measurement).
    block_px
        When given, the patch is cut into non-overlapping ``block_px x block_px`` blocks
        whose periodograms are averaged (Bartlett's method: less variance, coarser
        frequency step). ``None`` uses the whole patch as one block.
    window
        ``"none"`` (default; Parseval holds exactly) or ``"hann"``.

    Returns
    -------
    NpsResult

    Raises
    ------
    InvalidParameterError
        Not 2-D, smaller than 8 x 8 (or ``block_px`` < 8 / larger than the patch), NaN/inf.

    Notes
    -----
    With pixel pitch 1 the discrete NPS is ``NPS(u_k, v_l) = |DFT(x - mean)|^2 / (N_x
    N_y)`` (the normalisation of IEC 62220-1 and of J. T. Dobbins III, "Image quality
    metrics for digital systems", Handbook of Medical Imaging vol. 1, SPIE 2000, ch. 3),
    the one ISO 15739-style noise spectra use. Its frequency
    samples are ``du = 1/N_x``, ``dv = 1/N_y`` apart, so by Parseval's theorem
    ``sum_kl NPS du dv = sum (x - mean)^2 / (N_x N_y) = variance``. White noise of
    variance ``sigma^2`` has a flat NPS at ``sigma^2``.
    """
    arr = as_float_image(patch, "patch", allow_channels=False)
    dtype = _out_dtype(patch)
    h, w = arr.shape
    if block_px is None:
        bh, bw = h, w
    else:
        if not isinstance(block_px, int | np.integer) or not _MIN_PATCH_PX <= block_px <= min(h, w):
            raise InvalidParameterError(
                f"block_px must be an integer in [{_MIN_PATCH_PX}, {min(h, w)}], got {block_px!r}"
            )
        bh = bw = int(block_px)
    acc = np.zeros((bh, bw))
    var_acc = 0.0
    n = 0
    for i0 in range(0, h - bh + 1, bh):
        for j0 in range(0, w - bw + 1, bw):
            blk = arr[i0 : i0 + bh, j0 : j0 + bw]
            if remove_nonuniformity:
                blk = remove_plane(blk)
            acc += power_spectral_density(blk, window=window)
            var_acc += float(np.var(blk))
            n += 1
    nps2 = acc / n
    fr, rad = radial_average(nps2)
    warnings = []
    if var_acc == 0.0:
        warnings.append("the patch is perfectly uniform: the NPS is zero everywhere")
    return NpsResult(
        nps_2d=np.fft.fftshift(nps2).astype(dtype),
        fx_cpp=np.fft.fftshift(np.fft.fftfreq(bw)).astype(dtype),
        fy_cpp=np.fft.fftshift(np.fft.fftfreq(bh)).astype(dtype),
        frequencies_cpp=fr.astype(dtype),
        nps=rad.astype(dtype),
        variance=var_acc / n,
        blocks=n,
        warnings=tuple(warnings),
    )
