"""Fits of module qualification: through-focus peak of one edge, best-focus surfaces over the field.

Through-focus peak. The SFR at a reference frequency of a defocused edge falls off on both
sides of best focus; near the peak it is close to a Gaussian in the lens position, so the
peak is the vertex of a parabola fitted to ln(SFR) at the samples above half the maximum
around the largest sample, refitted on a window symmetric about that first vertex (the
"through-focus MTF curve" peak of active alignment and of ISO 12233-based module tests;
sub-step resolution). A peak at the first or last sample is out
of the series' range and gives NaN.

Best-focus surfaces. With x, y in mm from the sensor centre, the best-focus lens position of a
meridional (M) and a sagittal (S) edge is modelled (docs/hw_qualification.md; the model of
:mod:`focuslab.hw.module_model`, eq. 5) as

    z_M(x, y) = z0 + g_x x + g_y y + k_M ((x - x0)^2 + (y - y0)^2)
    z_S(x, y) = z0 + g_x x + g_y y + k_S ((x - x0)^2 + (y - y0)^2)

a plane (the apparent tilt, shared by M and S: tilting the sensor moves both foci alike)
plus one paraboloid per direction centred on the optical axis (x0, y0) (field curvature
(k_M + k_S) / 2 and astigmatism k_M - k_S). A shift of the axis alone changes the linear
terms by -2 k (x0, y0), by *different* amounts for M and S; a tilt changes both alike. So
the decenter is identified by the astigmatism: x0 = -(b_M - b_S) / (2 (k_M - k_S)) from two
independent paraboloid fits (b the x-slopes), then refined with all seven parameters by
robust (soft-L1) nonlinear least squares. Without astigmatism the decenter is not
observable from focus alone and is reported as unknown.

An edge whose normal is at angle theta from the radial direction peaks at
cos^2(theta) z_M + sin^2(theta) z_S, not at z_M: along the normal n the astigmatic pupil
wavefront W_M rho_r^2 + W_S rho_t^2 has the curvature W_M cos^2 + W_S sin^2, and the OTF
along n is flattest (the MTF peaks) where the added defocus cancels it (second moments of the
geometric PSF give the same). Chart squares slanted 5 degrees, and any decenter (which turns
the radial directions), make theta non-zero, so the final fit uses this mixture when the
edge normals are given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from focuslab.errors import InvalidParameterError

#: Smallest astigmatism (|k_M - k_S| R^2, um of best-focus split at the frame corner) with
#: which the decenter is estimated.
MIN_ASTIGMATISM_UM = 3.0


def through_focus_peak(positions_um, values) -> tuple[float, float]:
    """(peak position um, peak value) of a through-focus curve; (NaN, max) when out of range.

    Parameters
    ----------
    positions_um
        Lens positions, increasing.
    values
        The sharpness figure (e.g. SFR at the reference frequency) at each position; NaN for
        frames where the edge was not measured.
    """
    z = np.asarray(positions_um, float)
    v = np.asarray(values, float)
    ok = np.isfinite(v) & (v > 0)
    if ok.sum() < 3:
        return math.nan, float(np.nanmax(v)) if np.any(np.isfinite(v)) else math.nan
    z, v = z[ok], v[ok]
    i = int(np.argmax(v))
    if i == 0 or i == len(v) - 1:
        return math.nan, float(v[i])
    lo, hi = i, i
    while lo > 0 and v[lo - 1] >= 0.5 * v[i]:
        lo -= 1
    while hi < len(v) - 1 and v[hi + 1] >= 0.5 * v[i]:
        hi += 1
    if hi - lo < 2:
        lo, hi = i - 1, i + 1
    first = _log_parabola_vertex(z[lo:hi + 1], v[lo:hi + 1], z[i])
    if first is None:
        return math.nan, float(v[i])
    # refit on a window symmetric about the first estimate (an asymmetric window biases the
    # vertex when the curve is not exactly Gaussian)
    half = min(first[0] - z[lo], z[hi] - first[0])
    sel = np.abs(z - first[0]) <= half + 1e-9
    second = _log_parabola_vertex(z[sel], v[sel], z[i]) if sel.sum() >= 3 else None
    peak, value = second if second is not None else first
    if not z[lo] <= peak <= z[hi]:
        return math.nan, float(v[i])
    return float(peak), float(value)


def _log_parabola_vertex(z: np.ndarray, v: np.ndarray, z_ref: float) -> tuple[float, float] | None:
    a, b, c = np.polyfit(z - z_ref, np.log(v), 2)
    if a >= 0:
        return None
    return float(z_ref - b / (2 * a)), float(np.exp(c - b * b / (4 * a)))


@dataclass(frozen=True)
class FocusSurface:
    """Best-focus surface fit (lens um over sensor mm); see the module notes.

    ``decenter_*_mm`` are NaN when the astigmatism is too small to tell decenter from tilt.
    """

    z0_um: float
    slope_x_um_per_mm: float
    slope_y_um_per_mm: float
    k_meridional_um_per_mm2: float
    k_sagittal_um_per_mm2: float
    decenter_x_mm: float
    decenter_y_mm: float
    rms_residual_um: float
    n_meridional: int
    n_sagittal: int

    @property
    def apparent_tilt_deg(self) -> tuple[float, float]:
        """Tilt of the sensor relative to the image surface: the best-focus lens position
        falls by tan(t) um per um across the sensor (model eq. 5), so t = atan(-slope)."""
        return (math.degrees(math.atan(-self.slope_x_um_per_mm / 1000.0)),
                math.degrees(math.atan(-self.slope_y_um_per_mm / 1000.0)))

    def predict_um(self, x_mm, y_mm, direction: str) -> np.ndarray:
        k = self.k_meridional_um_per_mm2 if direction == "meridional" else self.k_sagittal_um_per_mm2
        x0 = 0.0 if math.isnan(self.decenter_x_mm) else self.decenter_x_mm
        y0 = 0.0 if math.isnan(self.decenter_y_mm) else self.decenter_y_mm
        x, y = np.asarray(x_mm, float), np.asarray(y_mm, float)
        plane = self.z0_um + self.slope_x_um_per_mm * x + self.slope_y_um_per_mm * y
        return plane + k * ((x - x0) ** 2 + (y - y0) ** 2)


def _paraboloid(x, y, z) -> np.ndarray:
    a = np.column_stack([np.ones_like(x), x, y, x * x + y * y])
    return np.linalg.lstsq(a, z, rcond=None)[0]


def fit_focus_surface(x_mm, y_mm, best_um, is_meridional, *, half_diagonal_mm: float,
                      normal_xy=None) -> FocusSurface:
    """Fit the M/S best-focus surfaces of the module notes to per-edge best-focus positions.

    Parameters
    ----------
    x_mm, y_mm
        Edge positions, mm from the sensor centre.
    best_um
        Best-focus lens position of each edge, um (NaN edges are ignored).
    is_meridional
        True for meridional edges, False for sagittal ones.
    half_diagonal_mm
        R, to judge whether the astigmatism (|k_M - k_S| R^2) allows a decenter estimate.
    normal_xy
        Optional ``(n, 2)`` edge normals. An edge whose normal makes the angle theta with the
        radial direction (from the fitted axis) peaks at cos^2(theta) z_M + sin^2(theta) z_S:
        the defocus its MTF sees is the pupil wavefront's quadratic form along the normal,
        W_M cos^2 + W_S sin^2 (notes). With normals, the final fit uses this mixture instead
        of labelling each edge purely M or S (edges a few degrees off radial, or off radial
        because the axis is decentred, otherwise bias the astigmatism and the decenter).

    Raises
    ------
    InvalidParameterError
        Fewer than 5 usable edges of each direction.
    """
    x, y, z = (np.asarray(v, float) for v in (x_mm, y_mm, best_um))
    m = np.asarray(is_meridional, bool)
    ok = np.isfinite(z)
    x, y, z, m = x[ok], y[ok], z[ok], m[ok]
    normals = None if normal_xy is None else np.asarray(normal_xy, float).reshape(-1, 2)[ok]
    if m.sum() < 5 or (~m).sum() < 5:
        raise InvalidParameterError(
            f"need at least 5 meridional and 5 sagittal edges with a through-focus peak, got {int(m.sum())} and "
            f"{int((~m).sum())}; widen the lens range of the series so every zone peaks inside it"
        )
    pm, ps = _paraboloid(x[m], y[m], z[m]), _paraboloid(x[~m], y[~m], z[~m])
    dk = pm[3] - ps[3]
    observable = abs(dk) * half_diagonal_mm ** 2 >= MIN_ASTIGMATISM_UM
    x0 = -(pm[1] - ps[1]) / (2 * dk) if observable else 0.0
    y0 = -(pm[2] - ps[2]) / (2 * dk) if observable else 0.0
    gx, gy = 0.5 * (pm[1] + ps[1]) + (pm[3] + ps[3]) * x0, 0.5 * (pm[2] + ps[2]) + (pm[3] + ps[3]) * y0

    def residual(p):
        z0, sx, sy, km, ks, cx, cy = p
        if normals is None:
            k = np.where(m, km, ks)
        else:
            rx, ry = x - cx, y - cy
            rr = np.hypot(rx, ry)
            cos2 = np.where(rr > 1e-9, (normals[:, 0] * rx + normals[:, 1] * ry) ** 2 / np.maximum(rr, 1e-9) ** 2,
                            m.astype(float))
            k = km * cos2 + ks * (1.0 - cos2)
        return z0 + sx * x + sy * y + k * ((x - cx) ** 2 + (y - cy) ** 2) - z

    z00 = 0.5 * (pm[0] + ps[0]) - 0.5 * (pm[3] + ps[3]) * (x0 * x0 + y0 * y0)
    p0 = np.array([z00, gx, gy, pm[3], ps[3], x0, y0])
    if observable:
        scale = max(float(np.median(np.abs(residual(p0)))), 0.1)
        p = least_squares(residual, p0, loss="soft_l1", f_scale=2.0 * scale).x
    else:  # decenter fixed at 0: linear fit of z0, slopes and the two curvatures
        a = np.column_stack([np.ones_like(x), x, y, np.where(m, x * x + y * y, 0.0), np.where(m, 0.0, x * x + y * y)])
        sol = np.linalg.lstsq(a, z, rcond=None)[0]
        p = np.array([*sol, math.nan, math.nan])
    res = residual(np.nan_to_num(p))
    return FocusSurface(float(p[0]), float(p[1]), float(p[2]), float(p[3]), float(p[4]), float(p[5]), float(p[6]),
                        float(np.sqrt(np.mean(res ** 2))), int(m.sum()), int((~m).sum()))
