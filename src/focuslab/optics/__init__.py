"""Optics: the lens, thin-lens focus geometry, PSF models and their analytic MTFs."""

from focuslab.optics.focus import (
    coc_diameter_px,
    coc_diameter_um,
    coc_max_um,
    coc_per_diopter_um,
    depth_of_field_m,
    focus_distance_from_displacement_m,
    focus_distance_m,
    focus_error_dof,
    hyperfocal_distance_m,
    lens_displacement_um,
    magnification,
    sensor_distance_mm,
)
from focuslab.optics.lens import LensSpec

__all__ = [
    "LensSpec",
    "coc_diameter_px",
    "coc_diameter_um",
    "coc_max_um",
    "coc_per_diopter_um",
    "depth_of_field_m",
    "focus_distance_from_displacement_m",
    "focus_distance_m",
    "focus_error_dof",
    "hyperfocal_distance_m",
    "lens_displacement_um",
    "magnification",
    "sensor_distance_mm",
]
