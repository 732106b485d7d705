"""3 x 3 colour correction matrix (camera RGB -> output RGB)."""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError


def check_ccm(ccm, *, atol: float = 1e-3) -> np.ndarray:
    """Validate a colour correction matrix: finite 3 x 3 with every row summing to 1.

    Rows summing to 1 map white (1, 1, 1) onto white, so the CCM corrects colour without
    undoing the white balance.

    Raises
    ------
    InvalidParameterError
        On a wrong shape, non-finite entries, or a row whose sum differs from 1 by > ``atol``.
    """
    m = np.asarray(ccm, dtype=np.float64)
    if m.shape != (3, 3):
        raise InvalidParameterError(f"ccm must be a 3 x 3 matrix, got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise InvalidParameterError("ccm contains NaN or inf")
    sums = m.sum(axis=1)
    if np.any(np.abs(sums - 1.0) > atol):
        raise InvalidParameterError(
            f"ccm rows sum to {np.round(sums, 4).tolist()}; each row must sum to 1 to preserve white "
            "(divide each row by its sum)"
        )
    return m


def apply_ccm(rgb: np.ndarray, ccm) -> np.ndarray:
    """Apply ``out[..., i] = sum_j ccm[i, j] * rgb[..., j]`` to an ``H x W x 3`` linear image.

    Parameters
    ----------
    rgb
        Linear ``... x 3`` image (white-balanced camera RGB).
    ccm
        3 x 3 matrix whose rows sum to 1 (:func:`check_ccm`).

    Returns
    -------
    numpy.ndarray
        Same shape; float32 for float32 input, else float64. Not clipped.

    Raises
    ------
    InvalidParameterError
        On a bad matrix or an input whose last axis is not 3.
    """
    m = check_ccm(ccm)
    arr = np.asarray(rgb)
    if arr.ndim < 1 or arr.shape[-1] != 3:
        raise InvalidParameterError(f"rgb must have 3 channels on the last axis, got shape {arr.shape}")
    dt = arr.dtype if arr.dtype == np.float32 else np.float64
    return np.einsum("...j,ij->...i", arr.astype(dt, copy=False), m.astype(dt))
