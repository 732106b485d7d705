"""Gradient-based focus measures (family GRA of Pertuz et al. 2013): GDER, GRAE, GRAT, GRAS, TENG, TENV.

Each function takes a float64 ``N x H x W`` stack and returns the ``(N,)`` values. First
differences I_x = I(x+1, y) - I(x, y) and I_y = I(x, y+1) - I(x, y) are taken where both
pixels exist (``fmeasure`` keeps raw grey levels in its last row and column; we drop them).

References
----------
S. Pertuz, D. Puig, M. A. Garcia, "Analysis of focus measure operators for
shape-from-focus", Pattern Recognition 46(5):1415-1432, 2013, Table 1 and Appendix A.
"""

from __future__ import annotations

import numpy as np

from focuslab.metrics.focus_filters import gaussian_derivative_kernels, separable
from focuslab.metrics.focus_registry import frame_mean, frame_var, register_focus_measure

_SOBEL_D = np.array([-1.0, 0.0, 1.0])
_SOBEL_S = np.array([1.0, 2.0, 1.0])


def _differences(stack: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """I_x and I_y on the common (H-1) x (W-1) grid."""
    dx = np.diff(stack, axis=-1)[..., :-1, :]
    dy = np.diff(stack, axis=-2)[..., :, :-1]
    return dx, dy


def sobel_energy(stack: np.ndarray) -> np.ndarray:
    """G_x^2 + G_y^2 of the 3x3 Sobel operator, replicated borders, per pixel."""
    gx = separable(stack, _SOBEL_D, _SOBEL_S)
    gy = separable(stack, _SOBEL_S, _SOBEL_D)
    return gx * gx + gy * gy


def gaussian_gradient(stack: np.ndarray, window_px: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-derivative responses (R_x, R_y) of every frame (see ``gaussian_derivative_kernels``)."""
    d, g = gaussian_derivative_kernels(window_px)
    return separable(stack, d, g), separable(stack, g, d)


def _gder_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel GDER response (R_x^2 + R_y^2)."""
    rx, ry = gaussian_gradient(stack, int(window_px))
    return rx * rx + ry * ry


@register_focus_measure(
    "GDER", family="gradient", window_px=15,
    description="Gaussian derivative: mean of (G_x * I)^2 + (G_y * I)^2, sigma = (window // 2) / 3",
    reference="Geusebroek et al. 2000",
    response=_gder_map,
)
def gaussian_derivative(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """GDER: phi = mean((I * G_x)^2 + (I * G_y)^2).

    Notes
    -----
    G_x, G_y: first derivatives of a Gaussian of sigma = n/3 on a (2n+1)^2 support,
    n = window_px // 2 (``fmeasure`` 2016; 2013 used n/2.5). Normalised to unit ramp response
    (``fmeasure`` divides by the kernel's sum, which is zero).

    References
    ----------
    J.-M. Geusebroek, F. Cornelissen, A. Smeulders, H. Geerts, "Robust autofocusing in
    microscopy", Cytometry 39(1):1-9, 2000. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_gder_map(stack, window_px))


def _grae_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel GRAE response (I_x^2 + I_y^2)."""
    dx, dy = _differences(stack)
    return dx * dx + dy * dy


@register_focus_measure(
    "GRAE", family="gradient",
    description="Energy of gradient: mean of squared first differences I_x^2 + I_y^2",
    reference="Subbarao et al. 1993",
    response=_grae_map,
)
def gradient_energy(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """GRAE: phi = mean(I_x^2 + I_y^2).

    References
    ----------
    M. Subbarao, T.-S. Choi, A. Nikzad, "Focusing techniques", Optical Engineering
    32(11):2824-2836, 1993. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_grae_map(stack, window_px))


def _grat_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel GRAT response max(|I_x|, |I_y|)."""
    dx, dy = _differences(stack)
    return np.maximum(np.abs(dx), np.abs(dy))


@register_focus_measure(
    "GRAT", family="gradient",
    description="Thresholded absolute gradient: mean of max(|I_x|, |I_y|) (threshold 0)",
    reference="Santos et al. 1997",
    response=_grat_map,
)
def thresholded_gradient(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """GRAT: phi = mean(max(|I_x|, |I_y|)) over pixels where it is >= T, T = 0.

    Notes
    -----
    With ``fmeasure``'s threshold T = 0 every pixel counts; the mean is over all pixels
    (``fmeasure`` 2016).

    References
    ----------
    A. Santos et al., "Evaluation of autofocus functions in molecular cytogenetic analysis",
    Journal of Microscopy 188(3):264-272, 1997. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_grat_map(stack, window_px))


def _gras_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel GRAS response I_x^2."""
    dx = np.diff(stack, axis=-1)
    return dx * dx


@register_focus_measure(
    "GRAS", family="gradient",
    description="Squared gradient: mean of squared horizontal first differences I_x^2",
    reference="Eskicioglu & Fisher 1995",
    response=_gras_map,
)
def squared_gradient(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """GRAS: phi = mean(I_x^2) (horizontal differences only, as ``fmeasure``).

    References
    ----------
    A. M. Eskicioglu, P. S. Fisher, "Image quality measures and their performance", IEEE
    Trans. Communications 43(12):2959-2965, 1995. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_gras_map(stack, window_px))


def _teng_map(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """Per-pixel TENG response (Sobel G_x^2 + G_y^2)."""
    return sobel_energy(stack)


@register_focus_measure(
    "TENG", family="gradient",
    description="Tenengrad: mean squared Sobel gradient magnitude",
    reference="Krotkov 1987",
    response=_teng_map,
)
def tenengrad(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """TENG: phi = mean(G_x^2 + G_y^2), G = 3x3 Sobel responses, replicated borders.

    References
    ----------
    E. Krotkov, "Focusing", International Journal of Computer Vision 1(3):223-237, 1987.
    Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_mean(_teng_map(stack, window_px))


@register_focus_measure(
    "TENV", family="gradient",
    description="Tenengrad variance: variance of the squared Sobel gradient magnitude",
    reference="Pech-Pacheco et al. 2000",
)
def tenengrad_variance(stack: np.ndarray, window_px: int | None) -> np.ndarray:
    """TENV: phi = var(G_x^2 + G_y^2) (population variance over the image).

    References
    ----------
    J. L. Pech-Pacheco, G. Cristobal, J. Chamorro-Martinez, J. Fernandez-Valdivia,
    "Diatom autofocusing in brightfield microscopy: a comparative study", ICPR 2000,
    vol. 3, pp. 314-317. Pertuz et al. 2013, Table 1 and Appendix A.
    """
    return frame_var(sobel_energy(stack))
