"""Laplacian-based focus measures (family LAP of Pertuz et al. 2013): LAPE, LAPM, LAPV, LAPD.

Second differences with replicated borders (``imfilter(..., 'replicate')``), all frames of an
``N x H x W`` stack at once.
"""

from __future__ import annotations

import numpy as np

from focuslab.metrics.focus_filters import edge_padded, separable
from focuslab.metrics.focus_registry import frame_mean, frame_var, register_focus_measure

_ONE_FOUR_ONE = np.array([1.0, 4.0, 1.0])


def laplacian(stack: np.ndarray) -> np.ndarray:
    """MATLAB ``fspecial('laplacian', 0.2)`` response: kernel [[1, 4, 1], [4, -20, 4], [1, 4, 1]] / 6.

    Notes
    -----
    fspecial's kernel is 4/(alpha+1) [[a/4, (1-a)/4, a/4], [(1-a)/4, -1, (1-a)/4], ...] with
    alpha = 0.2; it equals ([1, 4, 1]^T [1, 4, 1] - 36 delta) / 6, computed separably.
    """
    return (separable(stack, _ONE_FOUR_ONE, _ONE_FOUR_ONE) - 36.0 * stack) / 6.0


def _lape_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel LAPE response (Delta I)^2."""
    lap = laplacian(stack)
    return lap * lap


@register_focus_measure(
    "LAPE", family="laplacian",
    description="Energy of Laplacian: mean squared response of fspecial('laplacian', 0.2)",
    reference="Subbarao et al. 1993",
    response=_lape_map,
)
def laplacian_energy(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """LAPE: phi = mean((Delta I)^2).

    References
    ----------
    M. Subbarao, T.-S. Choi, A. Nikzad, "Focusing techniques", Optical Engineering
    32(11):2824-2836, 1993. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_lape_map(stack, window_px))


def _lapm_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel LAPM response |L_x| + |L_y|."""
    p = edge_padded(stack)
    c = p[:, 1:-1, 1:-1]
    lx = 2.0 * c - p[:, 1:-1, :-2] - p[:, 1:-1, 2:]
    ly = 2.0 * c - p[:, :-2, 1:-1] - p[:, 2:, 1:-1]
    return np.abs(lx) + np.abs(ly)


@register_focus_measure(
    "LAPM", family="laplacian",
    description="Modified Laplacian: mean of |I * [-1 2 -1]| + |I * [-1 2 -1]^T|",
    reference="Nayar & Nakagawa 1994",
    response=_lapm_map,
)
def modified_laplacian(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """LAPM: phi = mean(|L_x| + |L_y|), L = I * [-1, 2, -1] along x and along y.

    References
    ----------
    S. K. Nayar, Y. Nakagawa, "Shape from focus", IEEE Trans. PAMI 16(8):824-831, 1994.
    Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_lapm_map(stack, window_px))


@register_focus_measure(
    "LAPV", family="laplacian",
    description="Variance of Laplacian: variance of the fspecial('laplacian', 0.2) response",
    reference="Pech-Pacheco et al. 2000",
)
def laplacian_variance(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """LAPV: phi = var(Delta I) (population variance over the image).

    References
    ----------
    J. L. Pech-Pacheco et al., "Diatom autofocusing in brightfield microscopy: a comparative
    study", ICPR 2000. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_var(laplacian(stack))


def _lapd_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel LAPD response |L_x| + |L_y| + |L_d1| + |L_d2|."""
    p = edge_padded(stack)
    c2 = 2.0 * p[:, 1:-1, 1:-1]
    lx = c2 - p[:, 1:-1, :-2] - p[:, 1:-1, 2:]
    ly = c2 - p[:, :-2, 1:-1] - p[:, 2:, 1:-1]
    d1 = (c2 - p[:, :-2, 2:] - p[:, 2:, :-2]) / np.sqrt(2.0)
    d2 = (c2 - p[:, :-2, :-2] - p[:, 2:, 2:]) / np.sqrt(2.0)
    return np.abs(lx) + np.abs(ly) + np.abs(d1) + np.abs(d2)


@register_focus_measure(
    "LAPD", family="laplacian",
    description="Diagonal Laplacian: mean of |L_x| + |L_y| + |L_d1| + |L_d2|, diagonals / sqrt(2)",
    reference="Thelen et al. 2009",
    response=_lapd_map,
)
def diagonal_laplacian(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """LAPD: phi = mean(|L_x| + |L_y| + |L_d1| + |L_d2|).

    Notes
    -----
    L_x, L_y: [-1, 2, -1] along x and y; L_d1, L_d2: the same along the two diagonals,
    divided by sqrt(2) (the diagonal pixel spacing).

    References
    ----------
    A. Thelen, S. Frey, S. Hirsch, P. Hering, "Improvements in shape-from-focus for
    holographic reconstructions with regard to focus operators, neighborhood-size, and
    height value interpolation", IEEE Trans. Image Processing 18(1):151-157, 2009.
    Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_lapd_map(stack, window_px))
