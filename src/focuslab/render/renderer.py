"""Depth-aware defocus rendering of a :class:`~focuslab.scene.scene.Scene` (DESIGN.md "Physics").

Pipeline, all in linear light on a grid of ``supersample`` samples per pixel pitch:

1. the scene is resolved at ``t_s``; layers are taken farthest first; a layer with a depth map
   is sliced into depth bins uniform in diopters (:mod:`focuslab.render.depth_slicing`);
2. each layer / bin gets its signed blur diameter c from the thin lens
   (:func:`focuslab.optics.coc_diameter_px`, at the bin's mean depth in diopters) and its PSF from the
   :class:`~focuslab.optics.psf_model.PsfModel` (``samples_per_px = supersample``); a
   field-dependent PSF is evaluated on a K x K field grid (:mod:`focuslab.render.field_grid`);
3. premultiplied colour and alpha are resampled from the scene grid onto the supersampled
   sensor grid (:mod:`focuslab.render.resample`: tan-uniform geometry, focus breathing, the
   layer's offset and magnification (``Layer.scale``), antialiased; outside the scene grid its
   edge samples are replicated), over the window (ROI or frame) plus a margin as wide as the
   largest blur radius (plus the fill radius for sliced layers), rounded up to a fast FFT
   size. Light from outside the window is therefore included, a ROI render equals the crop
   of the full-frame render, and its cost grows with the ROI's area (plus margin), not the
   frame's;
4. layers are composited back to front with blurred alpha (:mod:`focuslab.render.compositing`);
   the convolutions are periodic over the window (``padding="circular"``): the wrapped values
   fall in the margin only. With achromatic, field-independent PSFs the colour and alpha
   channels share complex FFTs in pairs, and the whole- and half-pupil kernels share one
   forward transform (:mod:`focuslab.render.plane_blur`);
5. the margin is cropped and each ``supersample x supersample`` block is averaged: the box of
   one pixel pitch (pixel integration, part of the system MTF).

Dual pixel: the left and right sub-images use the half-pupil PSFs of ``psf.kernel_pair`` for
colour and the *whole-pupil* blurred alpha for occlusion. Both halves then see one occlusion
geometry and, by induction over eq. (1) of :mod:`~focuslab.render.compositing`,
left + right = irradiance exactly when the half PSFs add up to the whole one (ideal
response); with angular vignetting the sub-images carry only the collected fraction. (Using
each half's own blurred alpha would break this sum at every depth edge, which phase-detect
AF and the sensor's dual-pixel model rely on; the layered model's occlusion is a whole-aperture
approximation either way.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from focuslab.errors import check_finite, check_positive
from focuslab.optics.focus import coc_diameter_px, coc_per_diopter_um, focus_distance_m
from focuslab.optics.lens import LensSpec
from focuslab.optics.psf_model import PsfModel
from focuslab.render.compositing import FieldKernels
from focuslab.render.convolution import next_fast_len
from focuslab.render.depth_slicing import depth_bins, fill_behind
from focuslab.render.field_grid import field_nodes
from focuslab.render.kernel_cache import KernelCache, kernel_radius
from focuslab.render.optical_image import OpticalImage
from focuslab.render.plane_blur import blur_plane, over_
from focuslab.render.render_checks import check_render_inputs, resolve_device
from focuslab.render.resample import axis_weights, resample_channels_last
from focuslab.scene.scene import Scene


@dataclass(frozen=True)
class PlaneEntry:
    """One depth plane to composite: a whole layer or one depth bin of a layer."""

    layer_index: int
    depth_m: float
    bin_index: int | None  # None: the whole (fronto-parallel) layer


@dataclass(frozen=True)
class PreparedScene:
    """A scene resolved at one time and sliced into depth planes (reused across a focal stack)."""

    scene: Scene
    layers: list
    bins: dict  # layer index -> H x W bin map
    entries: list


def prepare_scene(
    scene: Scene,
    lens: LensSpec,
    *,
    sensor_distances_mm,
    pixel_pitch_um: float,
    t_s: float,
    depth_bin_step_px: float,
    max_depth_bins: int,
) -> PreparedScene:
    """Resolve ``scene`` at ``t_s`` and slice it into depth planes, farthest first.

    Depth-map layers are binned for the steepest blur slope A s / pitch among the sensor
    distances, so one slicing serves every lens position of a focal stack.
    """
    resolved = scene.at(float(t_s))
    layers = resolved.layers_back_to_front()
    slope = float(np.max(coc_per_diopter_um(lens, np.asarray(sensor_distances_mm, dtype=float)))) / pixel_pitch_um
    bins, entries = {}, []
    for li, layer in enumerate(layers):
        if np.ndim(layer.depth_m) == 0:
            entries.append(PlaneEntry(li, float(layer.depth_m), None))
            continue
        index, depths = depth_bins(
            layer.depth_m,
            layer.alpha,
            blur_px_per_diopter=slope,
            bin_step_px=depth_bin_step_px,
            max_bins=max_depth_bins,
        )
        bins[li] = index
        present = np.unique(index[layer.alpha > 0]) if (layer.alpha > 0).any() else np.array([], int)
        entries.extend(PlaneEntry(li, float(depths[k]), int(k)) for k in present)
    return PreparedScene(resolved, layers, bins, entries)


def bin_fill_radii(entries: list, radii: list[int]) -> list[int]:
    """Fill radius of each depth bin (0 for whole layers), in samples.

    A bin's filled colour is seen through the blurred edges of the nearer bins of its layer
    (up to their blur radius r_j away) after being spread by its own blur r_k, so it is
    filled from own pixels up to R_k = r_k + max_{j nearer} r_j + 1 away; a window then needs
    a margin of max(r_k + R_k) for its render to equal the crop of the full frame.
    """
    out = []
    for i, e in enumerate(entries):
        if e.bin_index is None:
            out.append(0)
            continue
        nearer = [radii[j] for j, o in enumerate(entries) if o.layer_index == e.layer_index and j > i]
        out.append(radii[i] + max(nearer, default=0) + 1)
    return out


def _layer_tensors(layer, bin_map, rows, cols, device, cache: dict) -> tuple:
    """Radiance (h, w, C), alpha (h, w, 1) and bin map (h, w, 1) of a layer's window, on the device (cached)."""
    key = (id(layer), rows.start, rows.stop, cols.start, cols.stop)
    if key not in cache:
        ys, xs = slice(rows.start, rows.stop), slice(cols.start, cols.stop)
        tensors = [
            torch.from_numpy(np.ascontiguousarray(layer.radiance[ys, xs])),
            torch.from_numpy(np.ascontiguousarray(layer.alpha[ys, xs]))[..., None],
            None if bin_map is None else torch.from_numpy(np.ascontiguousarray(bin_map[ys, xs]))[..., None],
        ]
        cache.clear()  # bins of one layer come one after another: keep only the latest window
        cache[key] = tuple(None if t is None else t.to(device) for t in tensors)
    return cache[key]


def _sources(layer, bin_map, bin_index, rows, cols, device, cache: dict) -> torch.Tensor:
    """Scene-grid channels of one plane, cropped to the resampling window, as (h, w, n) (channels last).

    A whole layer gives [alpha L, alpha]; a depth bin gives [own alpha L, own alpha,
    cover alpha L, cover alpha] (own: its samples; cover: its samples and all nearer ones).
    """
    rad, alpha, bins = _layer_tensors(layer, bin_map, rows, cols, device, cache)
    if bin_index is None:
        return torch.cat([rad * alpha, alpha], 2)
    own = alpha * (bins == bin_index)
    cover = alpha * (bins >= bin_index)
    return torch.cat([rad * own, own, rad * cover, cover], 2)


@dataclass
class SharedPlanes:
    """Resampled planes reused by every lens position of a focal stack without focus breathing.

    ``sensor_distance_mm`` fixes the resampling geometry; ``margin`` and ``fill_radii`` are the
    largest over the stack, so one set of planes serves every position.
    """

    sensor_distance_mm: float
    margin: int
    fill_radii: list
    planes: dict = field(default_factory=dict)


def field_positions(psf: PsfModel, field_grid: int, sensor_shape_px, ss: int, device) -> list:
    """Relative field positions at which the PSF is evaluated (the centre unless field dependent)."""
    if not psf.field_dependent:
        return [(0.0, 0.0)]
    h, w = sensor_shape_px
    return [f for f, _ in field_nodes(field_grid, sensor_shape_px, (0, 0), (h * ss, w * ss), ss, device)]


def plane_blurs(
    prepared: PreparedScene,
    lens: LensSpec,
    s_mm: float,
    pitch_um: float,
    fields: list,
    kinds: tuple,
    cache: KernelCache,
) -> tuple[list[float], list[int]]:
    """Signed blur diameter (px) and largest kernel radius (samples) of every plane at ``s_mm``."""
    cocs, radii = [], []
    for e in prepared.entries:
        coc = float(coc_diameter_px(lens, e.depth_m, s_mm, pitch_um))
        cocs.append(coc)
        radii.append(max(kernel_radius(cache.get(coc, f, kind)) for f in fields for kind in kinds))
    return cocs, radii


def _plane(
    prepared: PreparedScene, index: int, first, size, geometry: dict, fill_radius: int, device, layer_cache: dict
) -> torch.Tensor:
    """Premultiplied colour and alpha of plane ``index`` on the window, stacked and transposed (1, C + 1, x, y)."""
    e = prepared.entries[index]
    layer = prepared.layers[e.layer_index]
    h_s, w_s = prepared.scene.shape
    rows = axis_weights(
        first[0],
        size[0],
        scene_samples=h_s,
        offset_deg=layer.offset_deg[1],
        scale=layer.scale,
        scale_center_deg=layer.scale_center_deg[1],
        sensor_px=geometry["sensor_shape_px"][0],
        **geometry["axis"],
    )
    cols = axis_weights(
        first[1],
        size[1],
        scene_samples=w_s,
        offset_deg=layer.offset_deg[0],
        scale=layer.scale,
        scale_center_deg=layer.scale_center_deg[0],
        sensor_px=geometry["sensor_shape_px"][1],
        **geometry["axis"],
    )
    sources = _sources(layer, prepared.bins.get(e.layer_index), e.bin_index, rows, cols, device, layer_cache)
    src = resample_channels_last(sources, rows, cols).permute(2, 0, 1)[None]  # (1, n, x, y) view
    c = prepared.scene.channels
    if e.bin_index is None:
        return src
    alpha = src[:, 2 * c + 1 : 2 * c + 2]
    filled = fill_behind(src[:, :c], src[:, c : c + 1], src[:, c + 1 : 2 * c + 1], alpha, radius=fill_radius)
    return torch.cat([filled, alpha], 1)


def render_prepared(
    prepared: PreparedScene,
    lens: LensSpec,
    *,
    sensor_distance_mm: float,
    pixel_pitch_um: float,
    sensor_shape_px: tuple[int, int],
    psf: PsfModel,
    roi: tuple[int, int, int, int],
    supersample: int,
    dual_pixel: bool,
    device: torch.device,
    field_grid: int,
    cache: KernelCache | None = None,
    shared: SharedPlanes | None = None,
) -> tuple[torch.Tensor, ...]:
    """Render a prepared scene over ``roi`` (validated); returns ``(irr, left, right)`` (1, C, h, w).

    With ``shared`` the planes are resampled with its geometry and margin, once, and reused.
    """
    s_mm, pitch, ss = float(sensor_distance_mm), float(pixel_pitch_um), int(supersample)
    rx, ry, rw, rh = roi
    cache = cache or KernelCache(psf, ss, device, prepared.scene.channels)
    fields = field_positions(psf, field_grid, sensor_shape_px, ss, device)
    kinds = ("whole", "left", "right") if dual_pixel else ("whole",)
    cocs, radii = plane_blurs(prepared, lens, s_mm, pitch, fields, kinds, cache)
    fill_radii = bin_fill_radii(prepared.entries, radii)
    margin = max((r + fr for r, fr in zip(radii, fill_radii, strict=True)), default=0)
    if shared is not None:
        margin, fill_radii = shared.margin, shared.fill_radii
    first = (ry * ss - margin, rx * ss - margin)
    # windows of a fast FFT size (the extra samples go to the far margin and are cropped)
    size = (next_fast_len(rh * ss + 2 * margin), next_fast_len(rw * ss + 2 * margin))
    nodes = None
    if psf.field_dependent:  # weights in the transposed (x, y) layout used below
        nodes = [(f, w.transpose(2, 3)) for f, w in field_nodes(field_grid, sensor_shape_px, first, size, ss, device)]
    scene = prepared.scene
    geometry = {
        "sensor_shape_px": sensor_shape_px,
        "axis": {
            "supersample": ss,
            "pixel_pitch_um": pitch,
            "sensor_distance_mm": s_mm if shared is None else shared.sensor_distance_mm,
            "tan_per_sample": 2.0 * math.tan(math.radians(scene.hfov_deg) / 2.0) / scene.shape[1],
        },
    }
    outs, layer_cache = dict.fromkeys(kinds), {}
    for i, coc in enumerate(cocs):
        if shared is not None and i in shared.planes:
            plane = shared.planes[i]
        else:
            plane = _plane(prepared, i, first, size, geometry, fill_radii[i], device, layer_cache)
            if shared is not None:
                shared.planes[i] = plane

        def psf_for(kind, coc=coc):
            if nodes is None:
                return cache.get(coc, (0.0, 0.0), kind).transpose(-1, -2)
            kernels = tuple(cache.get(coc, f, kind).transpose(-1, -2) for f, _ in nodes)
            return FieldKernels(tuple(w for _, w in nodes), kernels)

        blurred = blur_plane(plane, scene.channels, psf_for, kinds)
        for kind in kinds:
            outs[kind] = over_(outs[kind], blurred, kind, scene.channels)
    result = []
    for kind in kinds:
        if outs[kind] is None:  # nothing covered: a black image
            outs[kind] = torch.zeros((1, scene.channels, size[1], size[0]), device=device)
        img = outs[kind][:, :, margin : margin + rw * ss, margin : margin + rh * ss]
        img = F.avg_pool2d(img, ss) if ss > 1 else img
        result.append(img.transpose(2, 3))
    return tuple(result)


def image_to_numpy(t: torch.Tensor) -> np.ndarray:
    """First image of a ``(B, C, H, W)`` tensor as an ``H x W x C`` float32 numpy array."""
    return np.ascontiguousarray(t[0].permute(1, 2, 0).to("cpu", torch.float32).numpy())


def render_optical_image(
    scene: Scene,
    lens: LensSpec,
    *,
    sensor_distance_mm: float,
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
) -> OpticalImage:
    """Render the relative irradiance a lens forms of a layered scene on the sensor.

    Parameters
    ----------
    scene
        Layers of relative linear radiance + alpha at depths (:class:`~focuslab.scene.scene.Scene`).
    lens
        Thin lens (focal length, f-number).
    sensor_distance_mm
        Lens-to-sensor distance s (>= f); sets focus and magnification.
    pixel_pitch_um
        Pixel pitch, micrometres.
    sensor_shape_px
        Sensor ``(H, W)`` in pixels; the optical axis meets its centre.
    psf
        A :class:`~focuslab.optics.psf_model.PsfModel`.
    roi
        ``(x, y, w, h)`` window to render (cost proportional to its area), or ``None``.
    supersample
        Samples per pixel pitch; each pixel averages ``supersample^2`` samples.
    dual_pixel
        Also render the left / right sub-images.
    t_s
        Time at which moving layers are resolved, seconds.
    device
        ``None`` (cpu), ``"cpu"``, ``"cuda"`` or ``"auto"``.
    field_grid
        K of the K x K grid of PSFs for a field-dependent PSF model.
    depth_bin_step_px, max_depth_bins
        Depth-map slicing: largest blur change between bins (pixels), and the bin cap.

    Returns
    -------
    OpticalImage
        ``irradiance`` ``h x w x C`` float32 (ROI size when ``roi`` is given).

    Raises
    ------
    InvalidParameterError
        Wrong types, shapes, a ROI outside the sensor, s < f, an unavailable device.

    Notes
    -----
    See the module docstring; layers are composited with
    out <- blur(alpha L) + (1 - blur(alpha)) out, farthest first. Layers are ordered by their
    nearest covered depth; interpenetrating layers are not split against each other.
    """
    shape, window = check_render_inputs(scene, lens, psf, sensor_shape_px, pixel_pitch_um, supersample, roi, field_grid)
    s_mm = check_positive("sensor_distance_mm", sensor_distance_mm)
    check_finite("t_s", t_s)
    focus_m = float(focus_distance_m(lens.focal_length_mm, s_mm))
    dev = resolve_device(device)
    prepared = prepare_scene(
        scene,
        lens,
        sensor_distances_mm=[s_mm],
        pixel_pitch_um=pixel_pitch_um,
        t_s=t_s,
        depth_bin_step_px=depth_bin_step_px,
        max_depth_bins=max_depth_bins,
    )
    with torch.no_grad():
        images = render_prepared(
            prepared,
            lens,
            sensor_distance_mm=s_mm,
            pixel_pitch_um=pixel_pitch_um,
            sensor_shape_px=shape,
            psf=psf,
            roi=window,
            supersample=int(supersample),
            dual_pixel=dual_pixel,
            device=dev,
            field_grid=int(field_grid),
        )
    arrays = [image_to_numpy(t) for t in images]
    return OpticalImage(
        irradiance=arrays[0],
        left=arrays[1] if dual_pixel else None,
        right=arrays[2] if dual_pixel else None,
        roi=None if roi is None else window,
        sensor_distance_mm=s_mm,
        pixel_pitch_um=float(pixel_pitch_um),
        focus_distance_m=focus_m,
    )
