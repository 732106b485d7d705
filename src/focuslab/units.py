"""Unit conversions, and nothing else (DESIGN.md: "Units are in the name").

Lengths: m, mm, um (micrometres), nm. Optical power: diopters (1/m). Spatial frequency:
cycles/pixel internally; lp/mm and LW/PH for reports.
"""

from __future__ import annotations

import numpy as np

MM_PER_M = 1000.0
UM_PER_MM = 1000.0
UM_PER_M = 1.0e6
NM_PER_UM = 1000.0


def m_to_mm(x_m):
    """Metres to millimetres."""
    return np.multiply(x_m, MM_PER_M)


def mm_to_m(x_mm):
    """Millimetres to metres."""
    return np.divide(x_mm, MM_PER_M)


def mm_to_um(x_mm):
    """Millimetres to micrometres."""
    return np.multiply(x_mm, UM_PER_MM)


def um_to_mm(x_um):
    """Micrometres to millimetres."""
    return np.divide(x_um, UM_PER_MM)


def um_to_m(x_um):
    """Micrometres to metres."""
    return np.divide(x_um, UM_PER_M)


def m_to_um(x_m):
    """Metres to micrometres."""
    return np.multiply(x_m, UM_PER_M)


def nm_to_um(x_nm):
    """Nanometres to micrometres."""
    return np.divide(x_nm, NM_PER_UM)


def um_to_px(x_um, pixel_pitch_um):
    """A length on the sensor in micrometres to pixels of pitch ``pixel_pitch_um``."""
    return np.divide(x_um, pixel_pitch_um)


def px_to_um(x_px, pixel_pitch_um):
    """A length on the sensor in pixels to micrometres."""
    return np.multiply(x_px, pixel_pitch_um)


def m_to_diopters(distance_m):
    """Distance in metres to optical power / vergence in diopters (1/m); inf -> 0."""
    with np.errstate(divide="ignore"):
        return np.divide(1.0, distance_m)


def diopters_to_m(power_diopters):
    """Diopters (1/m) to distance in metres; 0 -> inf."""
    with np.errstate(divide="ignore"):
        return np.divide(1.0, power_diopters)


def cycles_per_pixel_to_lp_per_mm(f_cy_px, pixel_pitch_um):
    """Spatial frequency in cycles/pixel to line pairs per millimetre on the sensor."""
    return np.divide(f_cy_px, um_to_mm(pixel_pitch_um))


def lp_per_mm_to_cycles_per_pixel(f_lp_mm, pixel_pitch_um):
    """Line pairs per millimetre on the sensor to cycles/pixel."""
    return np.multiply(f_lp_mm, um_to_mm(pixel_pitch_um))


def cycles_per_pixel_to_lw_per_ph(f_cy_px, picture_height_px):
    """Cycles/pixel to line widths per picture height (2 line widths per cycle)."""
    return np.multiply(f_cy_px, 2.0 * picture_height_px)
