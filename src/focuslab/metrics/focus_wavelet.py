"""Wavelet-based focus measures (family WAV of Pertuz et al. 2013): WAVS, WAVV, WAVR.

Daubechies db6 DWT with symmetric extension (``wavedec2(I, n, 'db6')``), sub-bands
reconstructed to the frame size (``wrcoef2``), all frames of a stack at once
(:mod:`focuslab.metrics.wavelet_dwt`).
"""

from __future__ import annotations

import numpy as np

from focuslab.metrics.focus_registry import frame_mean, frame_var, register_focus_measure, safe_ratio
from focuslab.metrics.wavelet_dwt import wavelet_subbands

#: Daubechies order used by ``fmeasure`` (db6, 12 taps).
WAVELET_ORDER = 6


def _wavs_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel WAVS response |H| + |V| + |D|."""
    b = wavelet_subbands(stack, order=WAVELET_ORDER, levels=1)
    return np.abs(b["h"]) + np.abs(b["v"]) + np.abs(b["d"])


@register_focus_measure(
    "WAVS", family="wavelet",
    description="Sum of wavelet coefficients: mean of |H| + |V| + |D| (db6, level 1)",
    reference="Yang & Nelson 2003",
    response=_wavs_map,
)
def wavelet_sum(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """WAVS: phi = mean(|W_H| + |W_V| + |W_D|), level-1 db6 detail sub-bands reconstructed to full size.

    References
    ----------
    G. Yang, B. J. Nelson, "Wavelet-based autofocusing and unsupervised segmentation of
    microscopic images", IROS 2003, pp. 2143-2148. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_wavs_map(stack, window_px))


@register_focus_measure(
    "WAVV", family="wavelet",
    description="Variance of wavelet coefficients: var|H| + var|V| + var|D| (db6, level 1)",
    reference="Yang & Nelson 2003",
)
def wavelet_variance(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """WAVV: phi = var(|W_H|) + var(|W_V|) + var(|W_D|).

    Notes
    -----
    ``fmeasure`` (2013) adds std2(H)^2 + std2(V) + std2(D), squaring only the first term; the
    three variances of Yang & Nelson are used here (population variance).

    References
    ----------
    G. Yang, B. J. Nelson, IROS 2003. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    b = wavelet_subbands(stack, order=WAVELET_ORDER, levels=1)
    return frame_var(np.abs(b["h"])) + frame_var(np.abs(b["v"])) + frame_var(np.abs(b["d"]))


@register_focus_measure(
    "WAVR", family="wavelet", non_negative=True,
    description="Ratio of wavelet coefficients: mean(H^2 + V^2 + D^2) / mean(|A1| + |A2| + |A3|) (db6)",
    reference="Xie et al. 2006",
)
def wavelet_ratio(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """WAVR: phi = mean(W_H^2 + W_V^2 + W_D^2) / mean(|A_1| + |A_2| + |A_3|).

    Notes
    -----
    Level-1 detail energy over the summed approximations of levels 1 to 3 (3-level db6
    decomposition), as ``fmeasure``'s whole-image form. 0 for an all-zero frame.

    References
    ----------
    H. Xie, W. Rong, L. Sun, "Wavelet-based focus measure and 3-D surface reconstruction
    method for microscopy images", IROS 2006, pp. 229-234. Pertuz et al. 2013, Table 1 and
    Appendix A.
    """
    b = wavelet_subbands(stack, order=WAVELET_ORDER, levels=3)
    high = frame_mean(b["h"] ** 2 + b["v"] ** 2 + b["d"] ** 2)
    low = frame_mean(np.abs(b["a1"]) + np.abs(b["a2"]) + np.abs(b["a3"]))
    return safe_ratio(high, low)
