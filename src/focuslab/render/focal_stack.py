"""Rendering one scene at many lens positions (a focal stack)."""

from __future__ import annotations

import numpy as np
import torch

from focuslab.errors import InvalidParameterError, check_finite, check_positive
from focuslab.optics.focus import focus_distance_m
from focuslab.optics.lens import LensSpec
from focuslab.optics.psf_model import PsfModel
from focuslab.render.kernel_cache import KernelCache
from focuslab.render.optical_image import OpticalImage
from focuslab.render.render_checks import check_render_inputs, resolve_device
from focuslab.render.renderer import (
    SharedPlanes,
    bin_fill_radii,
    field_positions,
    image_to_numpy,
    plane_blurs,
    prepare_scene,
    render_prepared,
)
from focuslab.scene.scene import Scene


def render_focal_stack(
    scene: Scene,
    lens: LensSpec,
    *,
    sensor_distances_mm,
    pixel_pitch_um: float,
    sensor_shape_px: tuple[int, int],
    psf: PsfModel,
    roi=None,
    supersample: int = 2,
    dual_pixel: bool = False,
    t_s: float = 0.0,
    device=None,
    field_grid: int = 3,
    depth_bin_step_px: float = 1.0,
    max_depth_bins: int = 48,
    focus_breathing: bool = True,
) -> list[OpticalImage]:
    """Render ``scene`` once per lens-to-sensor distance; one :class:`OpticalImage` each.

    Parameters
    ----------
    sensor_distances_mm
        Sequence of lens-to-sensor distances s (mm, each >= f), in the order wanted.
    focus_breathing
        ``True`` (default): each frame has its own magnification (the sensor looks along
        tan(theta) = x pitch / s), exactly as :func:`render_optical_image`. ``False``: the
        scene is resampled once, with the geometry of the mean sensor distance, and the same
        planes are reused for every lens position (only the blur changes): faster, and the
        choice when a stack must be registered pixel to pixel.
    others
        As :func:`focuslab.render.render_optical_image`.

    Returns
    -------
    list of OpticalImage
        In the order of ``sensor_distances_mm``.

    Notes
    -----
    The scene is resolved at ``t_s`` and sliced into depth planes once (depth-map layers are
    binned for the largest s, whose blur-per-diopter slope A s / pitch is the steepest), and
    PSF kernels are cached across positions. With focus breathing the resampling onto the
    sensor (a cheap separable gather) is redone per position because the magnification
    s / u changes with s, and with flat layers each frame equals
    :func:`render_optical_image` at that distance. Without it, the resampled (and, for
    depth-map layers, filled) planes are computed once over a window whose margin is the
    largest any position needs, and reused.
    """
    distances = np.atleast_1d(np.asarray(sensor_distances_mm, dtype=float))
    if distances.ndim != 1 or distances.size == 0:
        raise InvalidParameterError("sensor_distances_mm must be a non-empty 1-D sequence of distances (mm)")
    for s in distances:
        check_positive("sensor_distances_mm entry", s)
    check_finite("t_s", t_s)
    focus = [float(focus_distance_m(lens.focal_length_mm, s)) for s in distances]
    shape, window = check_render_inputs(scene, lens, psf, sensor_shape_px, pixel_pitch_um, supersample, roi, field_grid)
    dev = resolve_device(device)
    prepared = prepare_scene(
        scene,
        lens,
        sensor_distances_mm=distances,
        pixel_pitch_um=pixel_pitch_um,
        t_s=t_s,
        depth_bin_step_px=depth_bin_step_px,
        max_depth_bins=max_depth_bins,
    )
    cache = KernelCache(psf, int(supersample), dev, scene.channels)
    shared = None
    if not focus_breathing:
        shared = _shared_planes(
            prepared,
            lens,
            distances,
            pixel_pitch_um,
            psf,
            cache,
            dual_pixel,
            shape,
            int(supersample),
            int(field_grid),
            dev,
        )
    frames = []
    with torch.no_grad():
        for s, f_m in zip(distances, focus, strict=True):
            images = render_prepared(
                prepared,
                lens,
                sensor_distance_mm=float(s),
                pixel_pitch_um=pixel_pitch_um,
                sensor_shape_px=shape,
                psf=psf,
                roi=window,
                supersample=int(supersample),
                dual_pixel=dual_pixel,
                device=dev,
                field_grid=int(field_grid),
                cache=cache,
                shared=shared,
            )
            arrays = [image_to_numpy(t) for t in images]
            frames.append(
                OpticalImage(
                    irradiance=arrays[0],
                    left=arrays[1] if dual_pixel else None,
                    right=arrays[2] if dual_pixel else None,
                    roi=None if roi is None else window,
                    sensor_distance_mm=float(s),
                    pixel_pitch_um=float(pixel_pitch_um),
                    focus_distance_m=f_m,
                )
            )
    return frames


def _shared_planes(prepared, lens, distances, pitch_um, psf, cache, dual_pixel, shape, ss, field_grid, device):
    """Margin and fill radii large enough for every position; geometry of the mean distance."""
    fields = field_positions(psf, field_grid, shape, ss, device)
    kinds = ("whole", "left", "right") if dual_pixel else ("whole",)
    per_position = [plane_blurs(prepared, lens, float(s), pitch_um, fields, kinds, cache)[1] for s in distances]
    radii = [max(rs) for rs in zip(*per_position, strict=True)]
    fill = bin_fill_radii(prepared.entries, radii)
    margin = max((r + f for r, f in zip(radii, fill, strict=True)), default=0)
    return SharedPlanes(float(np.mean(distances)), margin, fill)
