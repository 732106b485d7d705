"""Edge location per row and the polynomial edge fit (ISO 12233:2023 clause 6.4, steps 2-5).

The ROI is oriented so that the edge is near vertical: rows are lines along the edge, columns
run across it. For each row the 1-D derivative ``a[x+1] - a[x]`` (located at ``x + 0.5``) is
multiplied by a window and its centroid is the row's edge location. Two passes (Burns 2000,
sfrmat3/5): the first with a window centred on the ROI, then a polynomial fit ``x = P(y)``,
then the window is re-centred on ``P(y)`` for each row and the centroids recomputed and
refitted. The Tukey window is floored at 5 % (``0.95 w + 0.05``) as in sfrmat5 "to make the
edge finding more stable".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.metrics.sfr.windows import centred_window


@dataclass(frozen=True)
class EdgeFit:
    """Fitted edge ``x = P(y)`` in ROI pixel coordinates (0-based pixel centres), oriented ROI.

    Attributes
    ----------
    coefficients
        Polynomial coefficients (numpy ``Polynomial`` convention, lowest order first) in the
        scaled row variable ``t = (y - y_mid) / y_scale``.
    linear_slope
        ``dx/dy`` of the least-squares straight line through the row locations (used for the
        angle, the frequency scaling and the row truncation, as sfrmat5 does).
    locations_px
        Edge location of every row from the second pass, shape ``(rows,)``.
    residual_rms_px
        RMS of ``locations_px - P(y)``.
    y_mid, y_scale
        Row-variable scaling.
    """

    coefficients: np.ndarray
    linear_slope: float
    locations_px: np.ndarray
    residual_rms_px: float
    y_mid: float
    y_scale: float

    def x_at(self, y: np.ndarray | float) -> np.ndarray:
        """Edge column ``P(y)`` at row(s) ``y`` (px)."""
        return np.polynomial.polynomial.polyval((np.asarray(y, dtype=np.float64) - self.y_mid) / self.y_scale,
                                                self.coefficients)


def _row_centroids(deriv: np.ndarray, positions: np.ndarray, weights: np.ndarray) -> np.ndarray:
    wd = deriv * weights
    total = wd.sum(axis=1)
    safe = np.where(np.abs(total) > 0, total, 1.0)
    loc = (wd @ positions) / safe
    return np.where(np.abs(total) > 0, loc, np.nan)


def _fit(rows: np.ndarray, loc: np.ndarray, order: int, y_mid: float, y_scale: float) -> np.ndarray:
    ok = np.isfinite(loc)
    if np.count_nonzero(ok) <= order + 1:
        raise InvalidParameterError("no edge found: too few rows show an edge; choose an ROI across one edge")
    t = (rows[ok] - y_mid) / y_scale
    return np.polynomial.polynomial.polyfit(t, loc[ok], order)


def fit_edge(oriented: np.ndarray, *, rising: bool, poly_order: int, window: str, alpha: float) -> EdgeFit:
    """Locate the edge in every row and fit ``x = P(y)`` (two passes).

    Parameters
    ----------
    oriented
        ``rows x cols`` float64 ROI with the edge crossing every row (near-vertical edge).
    rising
        True when values increase with x (dark on the left); the derivative is negated
        otherwise so that the LSF is positive.
    poly_order
        Order of the edge polynomial (1 = straight line, ISO 12233:2014; 5 = ISO 12233:2023 /
        sfrmat5 default).
    window, alpha
        Window name (``"tukey"`` or ``"hamming"``) and Tukey parameter.

    Returns
    -------
    EdgeFit

    Notes
    -----
    Row centroid (ISO 12233:2023 eq. for the edge location, Burns 2000 eq. 2):
    ``x_c = sum_x (x + 0.5) w(x + 0.5) d(x) / sum_x w(x + 0.5) d(x)`` with
    ``d(x) = a(x + 1) - a(x)``.
    """
    rows, cols = oriented.shape
    deriv = np.diff(oriented, axis=1)
    if not rising:
        deriv = -deriv
    positions = np.arange(cols - 1, dtype=np.float64) + 0.5
    first, last = positions[0], positions[-1]
    floor = 0.05 if window == "tukey" else 0.0

    def weights(centre: np.ndarray | float) -> np.ndarray:
        w = centred_window(positions, centre, first, last, window=window, alpha=alpha)
        return (1.0 - floor) * w + floor

    y = np.arange(rows, dtype=np.float64)
    y_mid = (rows - 1) / 2.0
    y_scale = max(y_mid, 1.0)
    order = int(min(poly_order, max(rows - 2, 1)))

    loc = _row_centroids(deriv, positions, weights((first + last) / 2.0)[None, :])
    coef = _fit(y, loc, order, y_mid, y_scale)
    place = np.polynomial.polynomial.polyval((y - y_mid) / y_scale, coef)
    loc = _row_centroids(deriv, positions, weights(place[:, None]))
    coef = _fit(y, loc, order, y_mid, y_scale)
    line = _fit(y, loc, 1, y_mid, y_scale)
    fitted = np.polynomial.polynomial.polyval((y - y_mid) / y_scale, coef)
    ok = np.isfinite(loc)
    rms = float(np.sqrt(np.mean((loc[ok] - fitted[ok]) ** 2))) if ok.any() else float("nan")
    return EdgeFit(
        coefficients=coef, linear_slope=float(line[1] / y_scale), locations_px=loc, residual_rms_px=rms,
        y_mid=y_mid, y_scale=y_scale,
    )
