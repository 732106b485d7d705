"""Truth for an AF region: the distance of the subject the region shows (simulator only).

The visible surface is sampled at up to ``samples`` x ``samples`` stream-pixel centres of the
region, with the renderer's geometry (:mod:`focuslab.render.resample`: a pixel x px from the
optical centre looks along tan(theta) = x p / s; a layer shifted by ``offset_deg`` and
magnified by ``scale`` about ``c`` shows there its point tan(c) + (tan(theta - dx) - tan(c)) / m).
At each sample the nearest layer with coverage alpha >= 0.5 is the visible surface.

Dominant subject. The sampled surface depths are grouped in diopters: sorted by 1/u, a gap of
more than ``gap_dof`` depths of focus between neighbours starts a new group. The answer is the
median depth of the *nearest* group covering at least ``min_coverage`` (30 %) of the region, or
of the largest group when none does. So a single surface (a fronto-parallel subject, a tilted
plane, a photograph's continuous depth) gives its median depth, and a region straddling a near
and a far subject (the ``depth-edge`` suites) gives the near subject when it fills 30 % of it
— the nearest-subject priority of phone AF.
"""

from __future__ import annotations

import math

import numpy as np

from focuslab.camera.camera import Camera
from focuslab.optics.focus import coc_per_diopter_um
from focuslab.scene.scene import Scene
from focuslab.units import um_to_mm


def _axis_index(edges_tan: np.ndarray, offset_deg: float, scale: float, centre_deg: float, n: int, tps: float):
    tan_layer = np.tan(np.arctan(edges_tan) - math.radians(offset_deg))
    if scale != 1.0:
        tc = math.tan(math.radians(centre_deg))
        tan_layer = tc + (tan_layer - tc) / scale
    u = tan_layer / tps + n / 2.0
    return np.clip(np.floor(u).astype(np.int64), 0, n - 1)


def visible_depths_m(
    camera: Camera,
    scene: Scene,
    roi: tuple[int, int, int, int],
    *,
    t_s: float,
    displacement_um: float,
    samples: int = 32,
) -> np.ndarray:
    """Depths (m) of the visible surface at sample points of ``roi`` (stream pixels), 1-D.

    Points where no layer covers at least half the pixel are left out.
    """
    stream = camera.stream_sensor
    hs, ws = stream.shape_px
    x, y, w, h = roi
    s_mm = camera.sensor_distance_mm(displacement_um)
    pitch_mm = float(um_to_mm(stream.pixel_pitch_um))
    nx, ny = min(int(samples), w), min(int(samples), h)
    px = x + (np.arange(nx) + 0.5) * w / nx - ws / 2.0
    py = y + (np.arange(ny) + 0.5) * h / ny - hs / 2.0
    tan_x, tan_y = px * pitch_mm / s_mm, py * pitch_mm / s_mm
    resolved = scene.at(float(t_s))
    gh, gw = resolved.shape
    tps = 2.0 * math.tan(math.radians(resolved.hfov_deg) / 2.0) / gw
    out = np.full((ny, nx), np.nan)
    for lay in sorted(resolved.layers, key=lambda la: la.min_depth_m):  # front to back
        cols = _axis_index(tan_x, lay.offset_deg[0], lay.scale, lay.scale_center_deg[0], gw, tps)
        rows = _axis_index(tan_y, lay.offset_deg[1], lay.scale, lay.scale_center_deg[1], gh, tps)
        alpha = lay.alpha[rows[:, None], cols[None, :]]
        if np.ndim(lay.depth_m) == 0:
            depth = np.full((ny, nx), float(lay.depth_m))
        else:
            depth = lay.depth_m[rows[:, None], cols[None, :]].astype(float)
        take = np.isnan(out) & (alpha >= 0.5)
        out[take] = depth[take]
    return out[np.isfinite(out)]


def dominant_distance_m(
    depths_m: np.ndarray, *, diopters_per_dof: float, gap_dof: float = 1.0, min_coverage: float = 0.3
) -> float | None:
    """Distance of the region's subject from sampled surface depths (see the module notes).

    Parameters
    ----------
    depths_m
        Visible-surface depths at the region's sample points, metres.
    diopters_per_dof
        One depth of focus in object diopters (c_max / (A s) with A the aperture, s the
        lens-to-sensor distance; :func:`focuslab.optics.focus.coc_per_diopter_um`).
    gap_dof
        Gap (depths of focus) that separates two subjects.
    min_coverage
        Fraction of the region the nearest subject must cover to win.

    Returns
    -------
    float or None
        Metres; None when there is no sample.
    """
    d = np.asarray(depths_m, dtype=float)
    if d.size == 0:
        return None
    v = np.sort(1.0 / d)[::-1]  # diopters, nearest first
    cuts = np.flatnonzero(-np.diff(v) > gap_dof * diopters_per_dof) + 1
    groups = np.split(v, cuts)
    for g in groups:
        if g.size >= min_coverage * v.size:
            return float(1.0 / np.median(g))
    largest = max(groups, key=len)
    return float(1.0 / np.median(largest))


def region_subject_distance_m(
    camera: Camera,
    scene: Scene,
    roi: tuple[int, int, int, int],
    *,
    t_s: float,
    displacement_um: float,
    min_coverage: float = 0.3,
) -> float | None:
    """The distance (m) AF should focus at for ``roi`` at time ``t_s`` (see the module notes)."""
    depths = visible_depths_m(camera, scene, roi, t_s=t_s, displacement_um=displacement_um)
    s_mm = camera.sensor_distance_mm(displacement_um)
    per_diopter_um = float(coc_per_diopter_um(camera.lens, s_mm))
    return dominant_distance_m(depths, diopters_per_dof=camera.coc_max_um / per_diopter_um, min_coverage=min_coverage)
