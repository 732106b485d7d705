"""Miscellaneous focus measures (family MIS of Pertuz et al. 2013): ACMO, BREN, CONT, CURV, HELM, SFIL, SFRQ, VOLA.

All frames of an ``N x H x W`` stack at once.
"""

from __future__ import annotations

import numpy as np

from focuslab.metrics.focus_filters import box_mean, separable
from focuslab.metrics.focus_gradient import gaussian_gradient
from focuslab.metrics.focus_registry import frame_mean, register_focus_measure


@register_focus_measure(
    "ACMO", family="miscellaneous",
    description="Absolute central moment: mean |I - mu| (first absolute moment of the histogram)",
    reference="Shirvaikar 2004",
)
def absolute_central_moment(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """ACMO: phi = sum_k |k - mu| p_k = mean(|I - mu|).

    Notes
    -----
    ``fmeasure`` builds the 256-bin histogram p_k of the image in 8-bit codes (and subtracts
    255 times the 8-bit mean, a scaling slip); the moment of the histogram of the exact grey
    levels is the mean absolute deviation, computed here without quantising.

    References
    ----------
    M. V. Shirvaikar, "An optimal measure for camera focus and exposure", Proc. 36th
    Southeastern Symposium on System Theory, pp. 472-475, 2004. Pertuz et al. 2013,
    Table 1 and Appendix A.
    """
    mu = stack.mean(axis=(-2, -1), keepdims=True)
    return frame_mean(np.abs(stack - mu))


def _bren_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel BREN response max(D_h^2, D_v^2)."""
    dx = stack[:, :, 2:] - stack[:, :, :-2]
    dy = stack[:, 2:, :] - stack[:, :-2, :]
    return np.maximum(dx[:, :-2, :] ** 2, dy[:, :, :-2] ** 2)


@register_focus_measure(
    "BREN", family="miscellaneous",
    description="Brenner: mean of max(squared x and y differences two pixels apart)",
    reference="Brenner et al. 1976 (as in Santos et al. 1997)",
    response=_bren_map,
)
def brenner(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """BREN: phi = mean(max(D_h^2, D_v^2)), D_h = I(x+2, y) - I(x, y), D_v = I(x, y+2) - I(x, y).

    Notes
    -----
    Over the (H-2) x (W-2) pixels where both differences exist. ``fmeasure`` takes the
    signed max of D_h and D_v before squaring; the max of the squares is used here (the
    larger of the two squared differences, as in Santos et al. 1997).

    References
    ----------
    J. F. Brenner et al., "An automated microscope for cytologic research", J. Histochem.
    Cytochem. 24(1):100-111, 1976. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_bren_map(stack, window_px))


def _cont_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel CONT response (interior pixels)."""
    h, w = stack.shape[-2:]
    c = stack[:, 1:-1, 1:-1]
    total = np.zeros_like(c)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                total += np.abs(stack[:, 1 + dy : h - 1 + dy, 1 + dx : w - 1 + dx] - c)
    return total


@register_focus_measure(
    "CONT", family="miscellaneous",
    description="Image contrast: mean over pixels of sum of |I(neighbour) - I| over the 8-neighbourhood",
    reference="Nanda & Cutler 2001",
    response=_cont_map,
)
def image_contrast(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """CONT: phi = mean_{x,y} sum_{(i,j) in 3x3} |I(x+i, y+j) - I(x, y)|.

    Notes
    -----
    Over the interior pixels whose 3x3 neighbourhood lies inside the frame (``nlfilter``
    pads with zeros, which adds a false edge along the border).

    References
    ----------
    H. Nanda, R. Cutler, "Practical calibrations for a real-time digital omnidirectional
    camera", CVPR 2001 technical sketches. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_cont_map(stack, window_px))


def _curv_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel CURV response |p0| + |p1| + |p2| + |p3|."""
    ones = np.ones(3)
    first = np.array([-1.0, 0.0, 1.0])
    second = np.array([1.0, -2.0, 1.0])
    p0 = separable(stack, first, ones)
    p1 = separable(stack, ones, first)
    p2 = separable(stack, second, ones)
    p3 = separable(stack, ones, second)
    return (np.abs(p0) + np.abs(p1) + np.abs(p2) + np.abs(p3)) / 6.0


@register_focus_measure(
    "CURV", family="miscellaneous",
    description="Image curvature: mean of |p0| + |p1| + |p2| + |p3| of the local quadratic fit",
    reference="Helmli & Scherer 2001",
    response=_curv_map,
)
def image_curvature(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """CURV: phi = mean(|p0| + |p1| + |p2| + |p3|) of f(x, y) = a + p0 x + p1 y + p2 x^2 + p3 y^2.

    Notes
    -----
    Least-squares fit over each 3x3 neighbourhood (x, y in {-1, 0, 1}, replicated borders):
    p0 = (M1 * I)/6, p1 = (M1^T * I)/6 with M1 = [-1 0 1] summed over three rows, and
    p2 = (M2 * I)/6, p3 = (M2^T * I)/6 with M2 = [1 -2 1] summed over three rows
    (p2 = sum(x^2 I)/2 - sum(I)/3 from the normal equations).

    Helmli & Scherer (and ``fmeasure``) fit without the constant term a, which gives
    p2 = 3/10 (M * I) - 1/5 (M^T * I), M = [1 0 1] summed over three rows: p2 and p3 then
    absorb the local mean (a uniform grey level c gives phi = 1.2 c), and the measure follows
    the frame's brightness rather than its sharpness (on the real focal stacks it peaked at the
    wrong end of the sweep). The fit with a constant term is used here, so phi is 0 for a
    uniform image and unchanged by adding a constant. ``fmeasure`` also quantises to 8 bits
    and repeats M where p3 needs M^T; neither is copied.

    References
    ----------
    F. S. Helmli, S. Scherer, "Adaptive shape from focus with an error estimation in light
    microscopy", ISPA 2001, pp. 188-193. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_curv_map(stack, window_px))


def _helm_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel HELM ratio max(U/I, I/U)."""
    u = box_mean(stack, int(window_px))
    hi = np.maximum(u, stack)
    lo = np.minimum(u, stack)
    ratio = np.ones_like(stack)
    np.divide(hi, lo, out=ratio, where=lo > 0)
    return ratio


@register_focus_measure(
    "HELM", family="miscellaneous", window_px=15, non_negative=True,
    description="Helmli's mean method: mean of max(U/I, I/U), U = w x w local mean (w = 15)",
    reference="Helmli & Scherer 2001",
    response=_helm_map,
)
def helmli_mean(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """HELM: phi = mean(R), R = U/I where U > I, else I/U; U = w x w mean (replicated borders).

    Notes
    -----
    R >= 1, and R = 1 where U or I is zero (``fmeasure`` sets U/I = 1 where I = 0). A
    uniform image gives phi = 1, the minimum.

    References
    ----------
    F. S. Helmli, S. Scherer, "Adaptive shape from focus with an error estimation in light
    microscopy", ISPA 2001, pp. 188-193. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_helm_map(stack, window_px))


def _sfil_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel SFIL response (largest directional derivative)."""
    rx, ry = gaussian_gradient(stack, int(window_px))
    diag = np.maximum(np.abs(rx + ry), np.abs(rx - ry)) / np.sqrt(2.0)
    return np.maximum(np.maximum(np.abs(rx), np.abs(ry)), diag)


@register_focus_measure(
    "SFIL", family="miscellaneous", window_px=15,
    description="Steerable filters: mean of the maximum Gaussian-derivative response over 8 directions",
    reference="Minhas et al. 2009",
    response=_sfil_map,
)
def steerable_filters(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """SFIL: phi = mean(max_theta R_theta), R_theta = cos(theta) R_x + sin(theta) R_y.

    Notes
    -----
    theta = 0, 45, ..., 315 degrees; R_x, R_y as GDER (sigma = (w // 2) / 3, w = 15).
    ``fmeasure`` overwrites its 270-degree response with the 315-degree one (7 directions);
    all 8 are used here. Over opposite directions the maximum is the absolute value, so
    phi = mean(max(|R_x|, |R_y|, |R_x + R_y| / sqrt(2), |R_x - R_y| / sqrt(2))).

    References
    ----------
    R. Minhas, A. A. Mohammed, Q. M. J. Wu, M. A. Sid-Ahmed, "3D shape from focus and depth
    map computation using steerable filters", ICIAR 2009, pp. 573-583. Pertuz et al. 2013,
    Table 1 and Appendix A.
    """
    return frame_mean(_sfil_map(stack, window_px))


def _sfrq_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel SFRQ response sqrt(I_x^2 + I_y^2)."""
    dx = np.diff(stack, axis=-1)[:, :-1, :]
    dy = np.diff(stack, axis=-2)[:, :, :-1]
    return np.sqrt(dx * dx + dy * dy)


@register_focus_measure(
    "SFRQ", family="miscellaneous",
    description="Spatial frequency: mean gradient magnitude sqrt(I_x^2 + I_y^2) of first differences",
    reference="Eskicioglu & Fisher 1995",
    response=_sfrq_map,
)
def spatial_frequency(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """SFRQ: phi = mean(sqrt(I_x^2 + I_y^2)), first differences on the (H-1) x (W-1) grid.

    References
    ----------
    A. M. Eskicioglu, P. S. Fisher, "Image quality measures and their performance", IEEE
    Trans. Communications 43(12):2959-2965, 1995. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_sfrq_map(stack, window_px))


@register_focus_measure(
    "VOLA", family="miscellaneous",
    description="Vollath's autocorrelation F4: mean of I(y) (I(y+1) - I(y+2)) along y",
    reference="Vollath 1987 (as in Santos et al. 1997)",
)
def vollath_autocorrelation(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """VOLA: phi = mean(I(x, y) I(x, y+1)) - mean(I(x, y) I(x, y+2)), over the (H-2) x W rows.

    Notes
    -----
    Vollath's F4 = R(1) - R(2) of the autocorrelation along one axis (rows, as ``fmeasure``).
    A uniform image gives 0.

    References
    ----------
    D. Vollath, "Automatic focusing by correlative methods", Journal of Microscopy
    147(3):279-288, 1987. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    i0 = stack[:, :-2, :]
    return frame_mean(i0 * (stack[:, 1:-1, :] - stack[:, 2:, :]))


