"""Learning-to-Autofocus offline metrics: errors in focal-slice units (Herrmann et al., CVPR 2020, sec. 6).

A prediction is the index of the slice the method would focus on; its error is
``|predicted - true|`` in slices. Over all predictions: the mean absolute error (MAE), the
root-mean-square error (RMSE) and the fraction within 0, 1, 2 and 4 slices (LtA's "= 0",
"<= 1", "<= 2", "<= 4" accuracies). Predictions are rounded to the nearest slice and clipped
to the stack, as a method can only choose a slice.
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError

#: Tolerances (slices) of the "within" fractions.
WITHIN_SLICES = (0, 1, 2, 4)


def slice_metrics(predicted, true, *, slices: int | None = None) -> dict:
    """MAE, RMSE and the fractions within 0/1/2/4 slices of slice predictions.

    Parameters
    ----------
    predicted, true
        Equal-length sequences of slice indices (predictions may be fractional: they are
        rounded; with ``slices`` they are clipped to ``[0, slices - 1]``).
    slices
        Slices in the stack (None: no clipping).

    Returns
    -------
    dict
        ``{"n", "mae", "rmse", "within_0", "within_1", "within_2", "within_4"}`` (slice units
        and fractions in [0, 1]).

    Raises
    ------
    InvalidParameterError
        Empty or unequal inputs, or non-finite values.

    Examples
    --------
    >>> m = slice_metrics([3, 5, 9], [3, 4, 5])
    >>> round(m["mae"], 4), m["within_0"], m["within_1"], m["within_4"]
    (1.6667, 0.3333333333333333, 0.6666666666666666, 1.0)
    """
    p = np.asarray(predicted, dtype=np.float64).ravel()
    t = np.asarray(true, dtype=np.float64).ravel()
    if p.size == 0 or p.size != t.size:
        raise InvalidParameterError(f"need equal, non-empty predictions and truths, got {p.size} and {t.size}")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(t))):
        raise InvalidParameterError("slice predictions and truths must be finite")
    p = np.rint(p)
    if slices is not None:
        p = np.clip(p, 0, int(slices) - 1)
    err = np.abs(p - np.rint(t))
    out = {"n": int(err.size), "mae": float(err.mean()), "rmse": float(np.sqrt(np.mean(err**2)))}
    for k in WITHIN_SLICES:
        out[f"within_{k}"] = float(np.mean(err <= k))
    return out


def defocus_to_slice(diopters, slice_index: int, defocus_dof: float, diopters_per_dof: float) -> float:
    """The (fractional) slice whose focus matches a defocus predicted at slice ``slice_index``.

    The subject's focus is ``D = D_k + d * diopters_per_dof`` (d in DoF, positive = nearer =
    more diopters); on slices spaced evenly in diopters its index is ``(D - D_0) / (D_1 - D_0)``.
    """
    dpt = np.asarray(diopters, dtype=np.float64)
    step = float(dpt[1] - dpt[0])
    target = float(dpt[int(slice_index)]) + float(defocus_dof) * float(diopters_per_dof)
    return (target - float(dpt[0])) / step
