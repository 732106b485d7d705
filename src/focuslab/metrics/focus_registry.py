"""Registry of focus-measure operators: one entry per Pertuz acronym, with its family and source.

Operator modules (``focus_gradient``, ``focus_laplacian``, ``focus_wavelet``,
``focus_statistics``, ``focus_dct``, ``focus_misc``) register their functions here with
:func:`register_focus_measure`; :mod:`focuslab.metrics.focus` is the public interface.

Every registered function takes a float64 ``N x H x W`` stack of grey frames (already cropped
to the ROI, finite, and non-negative when the operator asks for it) and the local window size
in pixels (``None`` for operators without one), and returns the ``(N,)`` focus values,
computed for all frames at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.registry import Registry

#: Families of Pertuz, Puig & Garcia (2013), Table 1.
FAMILIES = ("gradient", "laplacian", "wavelet", "statistics", "dct", "miscellaneous")

StackOperator = Callable[[np.ndarray, "int | None"], np.ndarray]


@dataclass(frozen=True)
class FocusMeasureSpec:
    """What the registry knows about one operator.

    Attributes
    ----------
    name
        Acronym of Pertuz et al. (2013) (``"TENG"``).
    family
        One of :data:`FAMILIES`.
    description
        One line: what it computes.
    reference
        The original paper (author year) as cited in Pertuz et al. (2013), Table 1.
    function
        ``function(stack, window_px) -> (N,)`` on a float64 ``N x H x W`` stack.
    window_px
        Default local window size in pixels (``fmeasure``'s default); None when the operator
        uses no window.
    non_negative
        True when the operator divides by grey levels (ratios) and needs a non-negative
        (linear-light) image.
    min_size_px
        Smallest frame (or ROI) side the operator accepts, pixels.
    response
        For operators that are the mean of a per-pixel response: ``response(stack, window_px)``
        giving that response (``N x h x w``, possibly smaller than the frame by the filter's
        support), used by :func:`focuslab.metrics.focus.focus_map`; None otherwise.
    """

    name: str
    family: str
    description: str
    reference: str
    function: StackOperator
    window_px: int | None = None
    non_negative: bool = False
    min_size_px: int = 3
    response: StackOperator | None = None


FOCUS_MEASURES: Registry[FocusMeasureSpec] = Registry("focus measure")


def register_focus_measure(
    name: str,
    *,
    family: str,
    description: str,
    reference: str,
    window_px: int | None = None,
    non_negative: bool = False,
    min_size_px: int = 3,
    response: StackOperator | None = None,
) -> Callable[[StackOperator], StackOperator]:
    """Decorator registering a stack operator under ``name``; refuses duplicates and unknown families."""
    if family not in FAMILIES:
        raise InvalidParameterError(f"focus-measure family {family!r} is not one of {', '.join(FAMILIES)}")
    add = FOCUS_MEASURES.register(name)

    def deco(fn: StackOperator) -> StackOperator:
        add(
            FocusMeasureSpec(
                name=name, family=family, description=description, reference=reference, function=fn,
                window_px=window_px, non_negative=non_negative, min_size_px=min_size_px, response=response,
            )
        )
        return fn

    return deco


def frame_mean(a: np.ndarray) -> np.ndarray:
    """Mean over the last two axes (one value per frame)."""
    return a.mean(axis=(-2, -1))


def frame_var(a: np.ndarray) -> np.ndarray:
    """Population variance over the last two axes (one value per frame)."""
    return a.var(axis=(-2, -1))


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, 0 where den is 0 (a ratio of two zero energies is no focus)."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.zeros(np.broadcast(num, den).shape)
    np.divide(num, den, out=out, where=den != 0)
    return out
