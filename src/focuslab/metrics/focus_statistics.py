"""Statistics-based focus measures (family STA of Pertuz et al. 2013): GLVA, GLLV, GLVN, GLVM, HISE, HISR.

All frames of an ``N x H x W`` stack at once.
"""

from __future__ import annotations

import numpy as np

from focuslab.metrics.focus_filters import box_mean
from focuslab.metrics.focus_registry import frame_mean, frame_var, register_focus_measure, safe_ratio

#: Grey levels per unit of image value for the histogram operators (8-bit codes, as
#: MATLAB's ``entropy`` / ``im2uint8`` on an image scaled to [0, 1]).
HISTOGRAM_LEVELS_PER_UNIT = 255


@register_focus_measure(
    "GLVA", family="statistics",
    description="Grey-level variance: variance of the image",
    reference="Krotkov 1987",
)
def grey_level_variance(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """GLVA: phi = mean((I - mu)^2) (``fmeasure`` 2016; the 2013 code returned the std).

    References
    ----------
    E. Krotkov, "Focusing", IJCV 1(3):223-237, 1987. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_var(stack)


def local_variance(stack: np.ndarray, window_px: int) -> np.ndarray:
    """MATLAB ``stdfilt(I, ones(w, w)).^2``: unbiased variance in a w x w window, symmetric padding."""
    n = window_px * window_px
    mean = box_mean(stack, window_px, mode="reflect")
    mean_sq = box_mean(stack * stack, window_px, mode="reflect")
    return np.maximum(mean_sq - mean * mean, 0.0) * (n / (n - 1.0))


@register_focus_measure(
    "GLLV", family="statistics", window_px=15,
    description="Grey-level local variance: variance of the w x w local variance map",
    reference="Pech-Pacheco et al. 2000",
)
def grey_level_local_variance(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """GLLV: phi = var(L), L(x, y) = variance of I in the w x w window at (x, y), w = 15.

    References
    ----------
    J. L. Pech-Pacheco et al., "Diatom autofocusing in brightfield microscopy: a comparative
    study", ICPR 2000. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_var(local_variance(stack, int(window_px)))


@register_focus_measure(
    "GLVN", family="statistics", non_negative=True,
    description="Normalized grey-level variance: variance / mean",
    reference="Santos et al. 1997",
)
def normalized_variance(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """GLVN: phi = var(I) / mu (0 for an all-zero frame).

    References
    ----------
    A. Santos et al., "Evaluation of autofocus functions in molecular cytogenetic analysis",
    Journal of Microscopy 188(3):264-272, 1997. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return safe_ratio(frame_var(stack), frame_mean(stack))


def grey_codes(stack: np.ndarray) -> np.ndarray:
    """Integer grey codes round(255 I) of every pixel (MATLAB ``im2uint8`` without its clipping)."""
    return np.rint(stack * HISTOGRAM_LEVELS_PER_UNIT).astype(np.int64)


def _histogram_entropy(codes: np.ndarray) -> np.ndarray:
    """Shannon entropy (bits) of each frame's histogram of integer codes, ``(N, P)`` -> ``(N,)``."""
    n, p = codes.shape
    low = codes.min(axis=1, keepdims=True)
    span = int((codes.max(axis=1, keepdims=True) - low).max()) + 1
    if span * n <= 1 << 26:
        flat = (codes - low) + (np.arange(n) * span)[:, None]
        counts = np.bincount(flat.ravel(), minlength=n * span).reshape(n, span).astype(float)
        prob = counts / p
        terms = np.zeros_like(prob)
        np.log2(prob, out=terms, where=prob > 0)
        return -np.sum(prob * terms, axis=1)
    srt = np.sort(codes, axis=1)
    starts = np.ones_like(srt, dtype=bool)
    starts[:, 1:] = srt[:, 1:] != srt[:, :-1]
    idx = np.flatnonzero(starts.ravel())
    lengths = np.diff(np.append(idx, n * p))
    prob = lengths / p
    return -np.bincount(idx // p, weights=prob * np.log2(prob), minlength=n)


@register_focus_measure(
    "HISE", family="statistics",
    description="Histogram entropy: Shannon entropy (bits) of the 8-bit grey-level histogram",
    reference="Krotkov 1987",
)
def histogram_entropy(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """HISE: phi = -sum_k p_k log2 p_k over grey codes k = round(255 I).

    Notes
    -----
    MATLAB's ``entropy`` quantises to 8 bits (256 bins over [0, 1]); here the bins have the
    same width (1/255 of unit image value) but are not clipped to [0, 1], so images on any
    scale are measured without saturating. Entropy is not a monotone function of blur on
    every texture (blurring a two-level image first creates new grey levels and raises it);
    see docs/focus_measures.md.

    References
    ----------
    E. Krotkov, "Focusing", IJCV 1(3):223-237, 1987. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return _histogram_entropy(grey_codes(stack).reshape(stack.shape[0], -1))


@register_focus_measure(
    "HISR", family="statistics",
    description="Histogram range: max - min grey level",
    reference="Firestone et al. 1991",
)
def histogram_range(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """HISR: phi = max(I) - min(I).

    References
    ----------
    L. Firestone, K. Cook, K. Culp, N. Talsania, K. Preston, "Comparison of autofocus
    methods for automated microscopy", Cytometry 12(3):195-206, 1991. Pertuz et al. 2013,
    Table 1 and Appendix A.
    """
    return stack.max(axis=(-2, -1)) - stack.min(axis=(-2, -1))


def _glvm_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel GLVM response (I - U)^2."""
    d = stack - box_mean(stack, int(window_px))
    return d * d


@register_focus_measure(
    "GLVM", family="statistics", window_px=15,
    description="Modified grey-level variance: mean of (I - U)^2, U = w x w local mean (w = 15)",
    reference="Pertuz et al. 2013 (fmeasure 2016)",
    response=_glvm_map,
)
def modified_grey_level_variance(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """GLVM: phi = mean((I - U)^2), U the w x w local mean with replicated borders.

    Notes
    -----
    One of the operators ``fmeasure`` (2016) adds to the 28 of the 2013 paper: the grey-level
    variance about the local rather than the global mean, so slow shading does not count.

    References
    ----------
    S. Pertuz, D. Puig, M. A. Garcia, Pattern Recognition 46(5):1415-1432, 2013, and the
    2016 ``fmeasure`` code.
    """
    return frame_mean(_glvm_map(stack, window_px))

