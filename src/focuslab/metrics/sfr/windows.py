"""Data windows used by the e-SFR: Tukey (ISO 12233:2023 default) and Hamming (ISO 12233:2000/2014).

A window here is centred at an arbitrary position ``centre`` with a half-width ``half_width``
(ISO 12233:2023 uses an asymmetric window centred on the edge or the LSF peak, sfrmat5's
``tukey2``): ``w(x) = shape(|x - centre| / half_width)``, zero beyond ``half_width``.
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.registry import Registry

#: Window shapes ``shape(u, alpha)`` on ``u = |x - centre| / half_width`` in [0, 1], by name.
WINDOWS: Registry = Registry("SFR window")


@WINDOWS.register("tukey")
def tukey_shape(u: np.ndarray, alpha: float) -> np.ndarray:
    """Tukey (tapered cosine): 1 for ``u <= 1 - alpha``, then ``0.5 (1 + cos(pi (u - 1 + alpha) / alpha))``.

    ``alpha = 1`` is the Hann window (ISO 12233:2023 default, sfrmat5 ``defalpha = 1``).
    """
    u = np.clip(np.abs(u), 0.0, 1.0)
    flat = 1.0 - alpha
    taper = 0.5 * (1.0 + np.cos(np.pi * (u - flat) / alpha))
    return np.where(u <= flat, 1.0, taper)


@WINDOWS.register("hamming")
def hamming_shape(u: np.ndarray, alpha: float) -> np.ndarray:
    """Hamming: ``0.54 + 0.46 cos(pi u)`` (ISO 12233:2014 Annex D; sfrmat3 ``ahamming``); alpha unused."""
    u = np.clip(np.abs(u), 0.0, 1.0)
    return 0.54 + 0.46 * np.cos(np.pi * u)


def check_window(window: str, alpha: float) -> None:
    """Raise for an unknown window name or a Tukey ``alpha`` outside (0, 1]."""
    WINDOWS.get(window)
    if not np.isfinite(alpha) or not 0.0 < alpha <= 1.0:
        raise InvalidParameterError(f"tukey_alpha must be in (0, 1] (1 = Hann, ISO 12233:2023), got {alpha!r}")


def centred_window(
    positions: np.ndarray, centre: np.ndarray | float, first: float, last: float, *, window: str, alpha: float
) -> np.ndarray:
    """Window values at ``positions`` for a window centred at ``centre`` spanning ``[first, last]``.

    The half-width is the distance from ``centre`` to the farther end plus one sample, so the
    window covers the whole record on both sides of an off-centre peak (sfrmat5 ``tukey2``,
    sfrmat3 ``ahamming(n, mid)``). ``centre`` may be an array (one window per row, broadcast
    against ``positions``).
    """
    c = np.asarray(centre, dtype=np.float64)
    half = np.maximum(c - first, last - c) + 1.0
    return WINDOWS.get(window)((positions - c) / half, alpha)
