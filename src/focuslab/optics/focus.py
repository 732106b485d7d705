"""Thin-lens focus geometry: sensor distance, circle of confusion, depth of field.

All functions are vectorised over numpy arrays and follow DESIGN.md "Physics": a thin lens of
focal length f and aperture A = f / N, the sensor at distance s behind it, focused at u_f with
1/f = 1/u_f + 1/s. An object at distance u is imaged with the *signed* blur-circle diameter

    c = A * s * (1/u - 1/u_f)                                  (1)

Sign convention: ``c > 0`` when the object is *nearer* than the focus plane (its image forms
behind the sensor; the lens is back-focused relative to the object), ``c < 0`` when it is
farther (front-focused). Blur is linear in defocus in diopters with slope A*s.

References
----------
.. [1] E. Hecht, *Optics*, 5th ed., sec. 5.2 (thin-lens equation).
.. [2] S. F. Ray, *Applied Photographic Optics*, 3rd ed., ch. 6 (depth of field,
       hyperfocal distance).
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.optics.lens import LensSpec
from focuslab.units import m_to_mm, mm_to_m, mm_to_um, um_to_mm

#: Default permissible circle of confusion, in pixel pitches (DESIGN.md).
DEFAULT_COC_MAX_PX = 2.0


def _as_mm(distance_m) -> np.ndarray:
    return np.asarray(m_to_mm(np.asarray(distance_m, dtype=float)), dtype=float)


def _check_beyond_focal_length(distance_mm: np.ndarray, focal_length_mm: float, what: str):
    if np.any(np.isnan(distance_mm)):
        raise InvalidParameterError(f"{what} contains NaN; give distances in metres")
    if np.any(distance_mm <= focal_length_mm):
        nearest = float(np.min(distance_mm)) / 1000.0
        raise InvalidParameterError(
            f"{what} {nearest:g} m is nearer than the focal length {focal_length_mm:g} mm: "
            "no real image forms; use a distance beyond the focal length"
        )


def sensor_distance_mm(focal_length_mm: float, focus_distance_m):
    """Lens-to-sensor distance s (mm) that focuses the lens at ``focus_distance_m``.

    s = 1 / (1/f - 1/u_f) (thin-lens equation [1]); ``inf`` focus gives s = f.
    """
    u = _as_mm(focus_distance_m)
    _check_beyond_focal_length(u, focal_length_mm, "focus distance")
    with np.errstate(divide="ignore"):
        out = 1.0 / (1.0 / focal_length_mm - 1.0 / u)
    return out if out.ndim else float(out)


def focus_distance_m(focal_length_mm: float, sensor_distance_mm_):
    """Distance (m) the lens is focused at when the sensor is ``sensor_distance_mm_`` behind it.

    u_f = 1 / (1/f - 1/s); s = f gives ``inf``. Raises when s < f (no real focus).
    """
    s = np.asarray(sensor_distance_mm_, dtype=float)
    if np.any(~np.isfinite(s)) or np.any(s < focal_length_mm * (1 - 1e-12)):
        raise InvalidParameterError(
            f"sensor distance {float(np.min(s)):g} mm is shorter than the focal length "
            f"{focal_length_mm:g} mm: the lens cannot focus beyond infinity; use s >= f"
        )
    with np.errstate(divide="ignore"):
        inv = 1.0 / focal_length_mm - 1.0 / s
        u_mm = np.where(inv <= 0, np.inf, 1.0 / np.where(inv <= 0, 1.0, inv))
    out = mm_to_m(u_mm)
    return out if np.ndim(out) else float(out)


def lens_displacement_um(focal_length_mm: float, focus_distance_m_):
    """Lens travel d = s - f (um) from the infinity position needed to focus at a distance."""
    d = mm_to_um(np.asarray(sensor_distance_mm(focal_length_mm, focus_distance_m_)) - focal_length_mm)
    return d if np.ndim(d) else float(d)


def focus_distance_from_displacement_m(focal_length_mm: float, displacement_um):
    """Focus distance (m) for lens displacement ``displacement_um`` from the infinity position."""
    return focus_distance_m(focal_length_mm, focal_length_mm + um_to_mm(displacement_um))


def coc_diameter_um(lens: LensSpec, object_distance_m, sensor_distance_mm_):
    """Signed blur-circle diameter c (um) of an object, eq. (1).

    Parameters
    ----------
    lens
        The lens (focal length and f-number).
    object_distance_m
        Object distance u, metres (``inf`` allowed); must exceed f.
    sensor_distance_mm_
        Lens-to-sensor distance s, millimetres (>= f).

    Notes
    -----
    Using 1/u_f = 1/f - 1/s, c = A (s/u - s/f + 1), which stays finite for s = f (infinity
    focus). Positive c: object nearer than the focus plane.
    """
    u = _as_mm(object_distance_m)
    _check_beyond_focal_length(u, lens.focal_length_mm, "object distance")
    s = np.asarray(sensor_distance_mm_, dtype=float)
    focus_distance_m(lens.focal_length_mm, s)  # validates s >= f
    f = lens.focal_length_mm
    with np.errstate(divide="ignore"):
        inv_u = np.where(np.isinf(u), 0.0, 1.0 / np.where(np.isinf(u), 1.0, u))
    c_mm = lens.aperture_diameter_mm * (s * inv_u - s / f + 1.0)
    out = mm_to_um(c_mm)
    return out if np.ndim(out) else float(out)


def coc_diameter_px(lens: LensSpec, object_distance_m, sensor_distance_mm_, pixel_pitch_um: float):
    """Signed blur-circle diameter in pixels of pitch ``pixel_pitch_um``."""
    return np.divide(coc_diameter_um(lens, object_distance_m, sensor_distance_mm_), pixel_pitch_um)


def coc_per_diopter_um(lens: LensSpec, sensor_distance_mm_):
    """Slope dc / d(1/u) = A * s of eq. (1), in micrometres per diopter."""
    return lens.aperture_diameter_mm * np.asarray(sensor_distance_mm_, dtype=float)


def coc_max_um(pixel_pitch_um: float, coc_max_px: float = DEFAULT_COC_MAX_PX) -> float:
    """Permissible circle of confusion c_max = ``coc_max_px`` pixel pitches (DESIGN.md), um."""
    return float(coc_max_px) * float(pixel_pitch_um)


def focus_error_dof(coc_um, coc_max_um_: float):
    """Focus error in depth-of-focus units, |c| / c_max; "in focus" means <= 1 (DESIGN.md)."""
    return np.abs(coc_um) / coc_max_um_


def hyperfocal_distance_m(lens: LensSpec, coc_max_um_: float) -> float:
    """Hyperfocal distance H = f^2 / (N c_max) + f, metres [2]."""
    f = lens.focal_length_mm
    return float(mm_to_m(f * f / (lens.f_number * um_to_mm(coc_max_um_)) + f))


def depth_of_field_m(lens: LensSpec, focus_distance_m_, coc_max_um_: float):
    """Near and far limits (m) of acceptable sharpness when focused at ``focus_distance_m_``.

    Exact thin-lens forms consistent with eq. (1) [2]::

        near = u_f (H - f) / (H + u_f - 2 f),   far = u_f (H - f) / (H - u_f)  (inf if u_f >= H)

    Returns
    -------
    (near_m, far_m)
    """
    f = lens.focal_length_mm
    u = _as_mm(focus_distance_m_)
    _check_beyond_focal_length(u, f, "focus distance")
    h = m_to_mm(hyperfocal_distance_m(lens, coc_max_um_))
    with np.errstate(divide="ignore", invalid="ignore"):
        near = np.where(np.isinf(u), h - f, u * (h - f) / (h + u - 2 * f))
        far = np.where(u >= h, np.inf, u * (h - f) / (h - u))
    near, far = mm_to_m(near), mm_to_m(far)
    if np.ndim(near) == 0:
        return float(near), float(far)
    return near, far


def magnification(lens: LensSpec, object_distance_m, sensor_distance_mm_):
    """Lateral magnification s / u of an object at ``object_distance_m`` (0 at infinity)."""
    u = _as_mm(object_distance_m)
    with np.errstate(divide="ignore"):
        m = np.where(np.isinf(u), 0.0, np.asarray(sensor_distance_mm_, float) / u)
    return m if np.ndim(m) else float(m)
