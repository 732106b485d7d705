"""Demosaicing of Bayer mosaics, methods by name (colour-demosaicing implementations).

Registered methods (``demosaic_names()``):

* ``"bilinear"`` - bilinear interpolation of each colour plane;
* ``"Malvar2004"`` (default) - gradient-corrected linear interpolation, Malvar, He and Cutler,
  "High-quality linear interpolation for demosaicing of Bayer-patterned color images",
  ICASSP 2004;
* ``"Menon2007"`` - directional filtering with a posteriori decision (DDFAPD), Menon,
  Andriani and Calvagno, "Demosaicing with directional filtering and a posteriori
  decision", IEEE TIP 16(1), 2007.

All four Bayer phases (RGGB, BGGR, GRBG, GBRG) are supported.
"""

from __future__ import annotations

from collections.abc import Callable

import colour_demosaicing
import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.registry import Registry
from focuslab.sensor.cfa import check_bayer

#: Border padding (pixels, even) added before demosaicing and removed after.
_PAD_PX = 8

_DEMOSAIC: Registry[Callable[[np.ndarray, str], np.ndarray]] = Registry("demosaic method")


def register_demosaic(name: str):
    """Decorator adding a demosaicing function ``f(mosaic, pattern) -> H x W x 3`` (no duplicates)."""
    return _DEMOSAIC.register(name)


def demosaic_names() -> list[str]:
    """Names of the registered demosaicing methods."""
    return _DEMOSAIC.names()


@register_demosaic("bilinear")
def _bilinear(mosaic: np.ndarray, pattern: str) -> np.ndarray:
    return colour_demosaicing.demosaicing_CFA_Bayer_bilinear(mosaic, pattern)


@register_demosaic("Malvar2004")
def _malvar2004(mosaic: np.ndarray, pattern: str) -> np.ndarray:
    return colour_demosaicing.demosaicing_CFA_Bayer_Malvar2004(mosaic, pattern)


@register_demosaic("Menon2007")
def _menon2007(mosaic: np.ndarray, pattern: str) -> np.ndarray:
    return colour_demosaicing.demosaicing_CFA_Bayer_Menon2007(mosaic, pattern)


def demosaic(mosaic: np.ndarray, cfa: str, *, method: str = "Malvar2004") -> np.ndarray:
    """Full-resolution RGB from a Bayer mosaic.

    Parameters
    ----------
    mosaic
        ``H x W`` linear mosaic (e.g. black-subtracted, white-balanced), finite, H, W >= 2.
    cfa
        Bayer pattern string of the mosaic's top-left 2x2 block.
    method
        A name from :func:`demosaic_names`.

    Returns
    -------
    numpy.ndarray
        ``H x W x 3`` (R, G, B); float32 for a float32 input, else float64. Not clipped
        (Malvar's correction terms can overshoot slightly at edges).

    Raises
    ------
    UnknownNameError
        When ``method`` is not registered (the message lists the names).
    InvalidParameterError
        On a bad CFA string, a non-2-D or too small mosaic, or NaN/inf values.
    """
    method_fn = _DEMOSAIC.get(method)
    check_bayer(cfa)
    arr = np.asarray(mosaic)
    if arr.ndim != 2 or min(arr.shape) < 2:
        raise InvalidParameterError(f"mosaic must be an H x W array with H, W >= 2, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError("mosaic contains NaN or inf; demosaic needs finite values")
    dt = np.float32 if arr.dtype == np.float32 else np.float64
    # Even-width mirror padding without edge repetition keeps every pixel's CFA colour
    # (index -k mirrors to +k, same parity), so the methods see a consistent mosaic at the
    # border instead of their own boundary handling, which mixes colours there.
    padded = np.pad(arr.astype(np.float64), _PAD_PX, mode="reflect")
    rgb = method_fn(padded, cfa)[_PAD_PX:-_PAD_PX, _PAD_PX:-_PAD_PX]
    return np.ascontiguousarray(rgb, dtype=dt)
