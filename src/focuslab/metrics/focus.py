"""Focus-measure operators (sharpness of an image or ROI), numpy/scipy only.

Each operator is registered under the acronym of Pertuz, Puig & Garcia (2013), "Analysis of
focus measure operators for shape-from-focus", Pattern Recognition 46(5):1415-1432, whose
public ``fmeasure`` code defines the families (gradient, Laplacian, statistics, ...). Larger
is sharper for every operator here. Operators take a 2-D float image (linear light) and
return a scalar; :func:`focus_curve` evaluates one over a focal stack.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import ndimage

from focuslab.errors import InvalidParameterError
from focuslab.registry import Registry

FocusOperator = Callable[[np.ndarray], float]
_OPERATORS: Registry[FocusOperator] = Registry("focus measure")
_DESCRIPTIONS: dict[str, str] = {}


def register_focus_measure(name: str, description: str):
    """Decorator registering a focus operator under ``name``; refuses duplicates."""
    add = _OPERATORS.register(name)

    def deco(fn: FocusOperator) -> FocusOperator:
        add(fn)
        _DESCRIPTIONS[name] = description
        return fn

    return deco


def focus_measure_names() -> list[str]:
    """Registered operator acronyms."""
    return _OPERATORS.names()


def describe_focus_measure(name: str) -> str:
    """One-line description of operator ``name``."""
    _OPERATORS.get(name)
    return _DESCRIPTIONS[name]


@register_focus_measure("TENG", "Tenengrad: mean squared Sobel gradient magnitude (Krotkov 1987)")
def tenengrad(image: np.ndarray) -> float:
    gx = ndimage.sobel(image, axis=1, mode="reflect")
    gy = ndimage.sobel(image, axis=0, mode="reflect")
    return float(np.mean(gx * gx + gy * gy))


@register_focus_measure("GRAE", "Energy of gradient: mean of squared first differences (Subbarao 1993)")
def gradient_energy(image: np.ndarray) -> float:
    dx = np.diff(image, axis=1)[:-1, :]
    dy = np.diff(image, axis=0)[:, :-1]
    return float(np.mean(dx * dx + dy * dy))


@register_focus_measure("BREN", "Brenner: mean squared difference two pixels apart (Brenner 1976)")
def brenner(image: np.ndarray) -> float:
    dx = image[:, 2:] - image[:, :-2]
    dy = image[2:, :] - image[:-2, :]
    return float(np.mean(np.maximum(dx[:-2, :] ** 2, dy[:, :-2] ** 2)))


@register_focus_measure("LAPE", "Energy of Laplacian (Subbarao 1993)")
def laplacian_energy(image: np.ndarray) -> float:
    lap = ndimage.laplace(image, mode="reflect")
    return float(np.mean(lap * lap))


@register_focus_measure("LAPV", "Variance of Laplacian (Pech-Pacheco 2000)")
def laplacian_variance(image: np.ndarray) -> float:
    return float(np.var(ndimage.laplace(image, mode="reflect")))


@register_focus_measure("LAPM", "Modified Laplacian: mean |d2/dx2| + |d2/dy2| (Nayar 1994)")
def modified_laplacian(image: np.ndarray) -> float:
    k = np.array([-1.0, 2.0, -1.0])
    lx = ndimage.correlate1d(image, k, axis=1, mode="reflect")
    ly = ndimage.correlate1d(image, k, axis=0, mode="reflect")
    return float(np.mean(np.abs(lx) + np.abs(ly)))


@register_focus_measure("GLVN", "Normalized grey-level variance: variance / mean (Santos 1997)")
def normalized_variance(image: np.ndarray) -> float:
    mean = float(np.mean(image))
    if mean <= 0:
        return 0.0
    return float(np.var(image) / mean)


def _prepare(image: np.ndarray, roi: Sequence[int] | None) -> np.ndarray:
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 3:
        img = img.mean(axis=2)
    if img.ndim != 2:
        raise InvalidParameterError(f"focus measures need an H x W or H x W x C image, got shape {img.shape}")
    if roi is not None:
        x, y, w, h = (int(v) for v in roi)
        if w < 3 or h < 3 or x < 0 or y < 0 or x + w > img.shape[1] or y + h > img.shape[0]:
            raise InvalidParameterError(
                f"ROI {tuple(roi)} is not a region of at least 3x3 inside the "
                f"{img.shape[1]}x{img.shape[0]} image; give (x, y, w, h) within the frame"
            )
        img = img[y : y + h, x : x + w]
    if not np.all(np.isfinite(img)):
        raise InvalidParameterError("image contains NaN or inf; clean it before measuring focus")
    return img


def focus_measure(image: np.ndarray, method: str = "TENG", *, roi: Sequence[int] | None = None) -> float:
    """Focus measure ``method`` of ``image`` (or its ROI ``(x, y, w, h)``); larger is sharper.

    Colour images are averaged over channels first.
    """
    return _OPERATORS.get(method)(_prepare(image, roi))


def focus_curve(
    stack: Sequence[np.ndarray] | np.ndarray, method: str = "TENG", *, roi: Sequence[int] | None = None
) -> np.ndarray:
    """Focus measure of every frame of a focal stack (``N x H x W[ x C]``), float64 ``(N,)``."""
    op = _OPERATORS.get(method)
    return np.array([op(_prepare(frame, roi)) for frame in stack], dtype=float)


def peak_position(positions: Sequence[float], curve: Sequence[float]) -> float:
    """Sub-sample position of a focus curve's maximum by a parabola through the top 3 points.

    Standard refinement of contrast-AF peaks (e.g. Kehtarnavaz & Oh 2003); at an end of the
    sweep the end position is returned.
    """
    p = np.asarray(positions, dtype=float)
    c = np.asarray(curve, dtype=float)
    if p.shape != c.shape or p.size < 1:
        raise InvalidParameterError("positions and curve must be non-empty and of equal length")
    i = int(np.argmax(c))
    if i == 0 or i == p.size - 1:
        return float(p[i])
    x0, x1, x2 = p[i - 1 : i + 2]
    y0, y1, y2 = c[i - 1 : i + 2]
    denom = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denom
    b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / denom
    if a >= 0:
        return float(p[i])
    return float(np.clip(-b / (2 * a), x0, x2))
