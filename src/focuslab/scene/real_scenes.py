"""Built-in scenes from real RGB + depth photographs (Middlebury 2014, Open3D RGB-D samples).

Each is one layer whose ``H x W`` depth map is the measured (filled) depth. By default the
scene keeps the photograph's own field of view (from its focal length) and its own metric
depths; a given ``subject_distance_m`` scales every depth by one factor (the whole scene
scaled about the camera, which leaves the image unchanged) so that the subject — the median
depth of the centre window :data:`SUBJECT_ROI` — lies at that distance.
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import check_positive
from focuslab.scene.grid import resample_to_grid
from focuslab.scene.registry import register_scene
from focuslab.scene.rgbd import RgbdImage, load_rgbd, middlebury_motorcycle
from focuslab.scene.scene import Layer, Scene

SUBJECT_ROI = (0.4, 0.4, 0.2, 0.2)
"""Subject window ``(x, y, w, h)`` in grid fractions: the centre 20 % x 20 %."""


def _roi_slices(shape, roi=SUBJECT_ROI) -> tuple[slice, slice]:
    h, w = shape
    x, y, rw, rh = roi
    return slice(int(y * h), max(int(y * h) + 1, int((y + rh) * h))), slice(
        int(x * w), max(int(x * w) + 1, int((x + rw) * w))
    )


def rgbd_scene(image: RgbdImage, shape, hfov_deg, subject_distance_m, *, name: str) -> Scene:
    """Turn an :class:`RgbdImage` into a one-layer scene on grid ``shape``.

    Colour is resampled bilinearly with anti-aliasing (linear light); depth and the validity
    mask by nearest neighbour, so no depth is invented between foreground and background.
    """
    rgb = np.clip(resample_to_grid(image.rgb, shape), 0.0, None)
    depth = resample_to_grid(image.depth_m, shape, order=0)
    valid = resample_to_grid(image.valid.astype(np.float32), shape, order=0) > 0.5
    rows, cols = _roi_slices(shape)
    native_subject_m = float(np.median(depth[rows, cols]))
    scale = 1.0
    if subject_distance_m is not None:
        scale = check_positive("subject_distance_m", subject_distance_m) / native_subject_m
        depth = (depth * np.float32(scale)).astype(np.float32)
    native_hfov = image.hfov_deg
    hfov = native_hfov if hfov_deg is None else hfov_deg
    layer = Layer(rgb, np.ones(rgb.shape[:2], dtype=np.float32), depth, name=name)
    meta = {
        "kind": "rgbd",
        "dataset": image.name,
        "subject_roi": SUBJECT_ROI,
        "subject_distance_m": native_subject_m * scale,
        "depth_scale": scale,
        "near_distance_m": float(depth.min()),
        "far_distance_m": float(depth.max()),
        "valid_fraction": float(valid.mean()),
        "native_hfov_deg": native_hfov,
    }
    return Scene((layer,), hfov, name=name, subject_layer=0, metadata=meta)


@register_scene("middlebury", default_hfov_deg=None, default_subject_distance_m=None)
def middlebury_scene(shape, hfov_deg, subject_distance_m, seed):
    """The Middlebury 2014 "motorcycle" (scikit-image): left view + depth from ground-truth disparity.

    Depth ``Z = f B / (d + doffs)`` (f = 994.978 px, B = 193.001 mm, doffs = 31.086 px),
    about 2.1-5.0 m; unknown disparities filled from the nearest valid pixel. Native
    field of view 40.8°. ``seed`` is unused.
    """
    return rgbd_scene(middlebury_motorcycle(), shape, hfov_deg, subject_distance_m, name="middlebury")


@register_scene("rgbd", default_hfov_deg=None, default_subject_distance_m=None)
def real_rgbd_scene(shape, hfov_deg, subject_distance_m, seed, *, dataset="redwood", index=0, data_dir=None):
    """A real RGB-D photograph from the shared data (``dataset`` in redwood, tum, sun, nyu).

    Read from ``<shared data>/rgbd`` (``FOCUSLAB_SHARED_DATA`` or ``../shared/data``);
    ``index`` picks the Redwood frame (0..4). Native field of view ~63°. ``seed`` is unused.
    """
    image = load_rgbd(dataset, index=index, data_dir=data_dir)
    return rgbd_scene(image, shape, hfov_deg, subject_distance_m, name=f"rgbd_{dataset}")
