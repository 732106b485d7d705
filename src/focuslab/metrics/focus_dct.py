"""DCT-based focus measures (family DCT of Pertuz et al. 2013): DCTE, DCTR.

``fmeasure`` evaluates an 8 x 8 orthonormal 2-D DCT (MATLAB ``dct2``) in a sliding window
around every pixel (``nlfilter``). Here the needed coefficients of every window position are
obtained for all frames at once by separable correlations with the DCT basis vectors, and
the energy ratio by Parseval's theorem. Only windows that lie fully inside the frame are
averaged (``nlfilter`` pads with zeros, which adds a false edge along the border).
"""

from __future__ import annotations

import numpy as np

from focuslab.metrics.focus_filters import valid_correlate
from focuslab.metrics.focus_registry import frame_mean, register_focus_measure, safe_ratio


def dct_basis(size_px: int, order: int) -> np.ndarray:
    """Orthonormal DCT-II basis vector c_u(m) = a_u cos(pi (2m + 1) u / (2M)), a_0 = sqrt(1/M), a_u = sqrt(2/M)."""
    m = np.arange(size_px, dtype=float)
    scale = np.sqrt((1.0 if order == 0 else 2.0) / size_px)
    return scale * np.cos(np.pi * (2.0 * m + 1.0) * order / (2.0 * size_px))


def window_sums(stack: np.ndarray, size_px: int) -> np.ndarray:
    """Sum over every ``size_px x size_px`` window fully inside each frame, ``N x (H-w+1) x (W-w+1)``."""
    ones = np.ones(size_px)
    return valid_correlate(valid_correlate(stack, ones, -1), ones, -2)


def _dcte_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-window DCTE ratio sigma_w^2 / mu_w^2 (windows inside the frame)."""
    w = int(window_px)
    s1 = window_sums(stack, w)
    s2 = window_sums(stack * stack, w)
    return np.maximum(safe_ratio(w * w * s2, s1 * s1) - (s1 != 0), 0.0)


@register_focus_measure(
    "DCTE", family="dct", window_px=8, non_negative=True, min_size_px=2,
    description="DCT energy ratio: AC / DC energy of the w x w DCT in a sliding window (w = 8)",
    reference="Shen & Chen 2006",
    response=_dcte_map,
)
def dct_energy_ratio(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """DCTE: phi = mean over windows of (sum_{(u,v) != (0,0)} F_uv^2) / F_00^2.

    Notes
    -----
    For the orthonormal DCT, sum_uv F_uv^2 = sum I^2 (Parseval) and F_00 = sum I / w, so
    the ratio is w^2 S_2 / S_1^2 - 1 = sigma_w^2 / mu_w^2 with S_1, S_2 the window sums of I
    and I^2 and sigma_w^2, mu_w^2 the window's population variance and squared mean.
    Windows with F_00 = 0 count as 0.

    References
    ----------
    C.-H. Shen, H. H. Chen, "Robust focus measure for low-contrast images", ICCE 2006,
    pp. 69-70. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_dcte_map(stack, window_px))


def _dctr_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-window DCTR ratio (windows inside the frame)."""
    w = int(window_px)
    rows = [valid_correlate(stack, dct_basis(w, u), -2) for u in range(3)]

    def coeff(u: int, v: int) -> np.ndarray:
        return valid_correlate(rows[u], dct_basis(w, v), -1)

    dc = coeff(0, 0)
    ac = sum(coeff(u, v) ** 2 for u, v in ((0, 1), (0, 2), (1, 0), (1, 1), (2, 0)))
    return safe_ratio(ac, dc * dc)


@register_focus_measure(
    "DCTR", family="dct", window_px=8, non_negative=True,
    description="DCT reduced energy ratio: (F01^2 + F02^2 + F10^2 + F11^2 + F20^2) / F00^2 in a w x w window",
    reference="Lee et al. 2009",
    response=_dctr_map,
)
def dct_reduced_energy_ratio(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """DCTR: phi = mean over windows of (F_01^2 + F_02^2 + F_10^2 + F_11^2 + F_20^2) / F_00^2.

    Notes
    -----
    The five lowest AC coefficients of the orthonormal w x w DCT (w = 8) over the DC energy;
    F_uv = sum_{m,n} I(y+m, x+n) c_u(m) c_v(n). Windows with F_00 = 0 count as 0.

    References
    ----------
    S.-Y. Lee, J.-T. Yoo, Y. Kumar, S.-W. Kim, "Reduced energy-ratio measure for robust
    autofocusing in digital camera", IEEE Signal Processing Letters 16(2):133-136, 2009.
    Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_dctr_map(stack, window_px))
