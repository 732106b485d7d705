"""ISO 12233:2023 e-SFR (slanted-edge spatial frequency response), Burns' method.

Public API: :func:`measure_sfr` -> :class:`SfrResult`, :func:`find_single_edge_roi`,
:func:`decode` (linearisation), :data:`WINDOWS`, :data:`ENCODINGS`. numpy/scipy only.
"""

from focuslab.metrics.sfr.find_edge import find_single_edge_roi
from focuslab.metrics.sfr.linearize import ENCODINGS, decode
from focuslab.metrics.sfr.measure import CHANNELS, LUMINANCE_WEIGHTS, measure_sfr
from focuslab.metrics.sfr.result import SfrResult
from focuslab.metrics.sfr.windows import WINDOWS

__all__ = [
    "CHANNELS", "ENCODINGS", "LUMINANCE_WEIGHTS", "WINDOWS", "SfrResult",
    "decode", "find_single_edge_roi", "measure_sfr",
]
