"""Small scenes and camera settings shared by the render tests."""

from __future__ import annotations

import math

import numpy as np

from focuslab.optics import LensSpec, sensor_distance_mm
from focuslab.scene.scene import Layer, Scene

LENS = LensSpec(focal_length_mm=4.0, f_number=2.0)  # A = 2 mm
PITCH_UM = 1.0
FOCUS_1M_MM = sensor_distance_mm(4.0, 1.0)  # s = 4.016... mm; c(0.5 m) = A s (2 - 1)/m = 8.03 um


def coc_px(depth_m: float, s_mm: float = FOCUS_1M_MM) -> float:
    """Expected signed blur diameter, DESIGN.md eq. c = A s (1/u - 1/u_f), in pixels."""
    a_mm = LENS.aperture_diameter_mm
    return a_mm * s_mm * (1.0 / (depth_m * 1000.0) - (1.0 / 4.0 - 1.0 / s_mm)) * 1000.0 / PITCH_UM


def matched_hfov_deg(width_px: int, s_mm: float = FOCUS_1M_MM) -> float:
    """hfov for which one scene sample per sensor sample exactly covers a W-pixel sensor."""
    return 2.0 * math.degrees(math.atan(width_px * PITCH_UM * 1e-3 / (2.0 * s_mm)))


def disc(shape, centre, radius):
    """Boolean disc mask on an (H, W) grid, centre (x, y) and radius in samples."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (xx + 0.5 - centre[0]) ** 2 + (yy + 0.5 - centre[1]) ** 2 <= radius**2


def two_plane_scene(shape, *, fg_radiance=1.0, bg_radiance=1.0, fg_m=0.5, bg_m=2.0, hfov_deg=None, c=1):
    """A uniform background plane and a foreground disc of radius H/4 at the centre.

    The default field of view gives one scene sample per sensor pixel.
    """
    h, w = shape
    hfov_deg = matched_hfov_deg(w) if hfov_deg is None else hfov_deg
    fg_alpha = disc(shape, (w / 2, h / 2), h / 4).astype(np.float32)
    bg = Layer(np.full((h, w, c), bg_radiance, np.float32), np.ones((h, w), np.float32), bg_m, name="bg")
    fg = Layer(np.full((h, w, c), fg_radiance, np.float32), fg_alpha, fg_m, name="fg")
    return Scene((fg, bg), hfov_deg)


def depth_map_scene(shape, *, fg_radiance=1.0, bg_radiance=1.0, fg_m=0.5, bg_m=2.0, hfov_deg=None):
    """The two-plane scene as ONE layer with a two-valued depth map."""
    h, w = shape
    hfov_deg = matched_hfov_deg(w) if hfov_deg is None else hfov_deg
    inside = disc(shape, (w / 2, h / 2), h / 4)
    rad = np.where(inside, fg_radiance, bg_radiance).astype(np.float32)[..., None]
    depth = np.where(inside, fg_m, bg_m).astype(np.float32)
    return Scene((Layer(rad, np.ones((h, w), np.float32), depth, name="rgbd"),), hfov_deg)
