"""Validation of the renderer's arguments, and the choice of torch device."""

from __future__ import annotations

import numpy as np
import torch

from focuslab.errors import InvalidParameterError, check_positive
from focuslab.optics.lens import LensSpec
from focuslab.optics.psf_model import PsfModel
from focuslab.scene.scene import Scene


def resolve_device(device) -> torch.device:
    """``None`` -> cpu; ``"auto"`` -> cuda when available; otherwise that device (must exist)."""
    if device is None:
        return torch.device("cpu")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise InvalidParameterError(f"device {device!r} is not a torch device; use 'cpu', 'cuda' or 'auto'") from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise InvalidParameterError("device 'cuda' was asked for but CUDA is not available; use 'cpu' or 'auto'")
    return dev


def check_render_inputs(scene, lens, psf, sensor_shape_px, pixel_pitch_um, supersample, roi, field_grid):
    """Raise :class:`InvalidParameterError` on a bad argument; return ``((H, W), (x, y, w, h))``.

    The window is the ROI, or the whole sensor when ``roi`` is ``None``.
    """
    if not isinstance(scene, Scene):
        raise InvalidParameterError(f"scene must be a focuslab Scene, got {type(scene).__name__}")
    if not isinstance(lens, LensSpec):
        raise InvalidParameterError(f"lens must be a LensSpec, got {type(lens).__name__}")
    if not isinstance(psf, PsfModel):
        raise InvalidParameterError(f"psf must implement focuslab.optics.psf_model.PsfModel, got {type(psf).__name__}")
    check_positive("pixel_pitch_um", pixel_pitch_um)
    shape = tuple(int(v) for v in np.ravel(sensor_shape_px))
    if len(shape) != 2 or min(shape) < 1 or tuple(np.ravel(sensor_shape_px)) != shape:
        raise InvalidParameterError(f"sensor_shape_px must be (H, W) positive integers, got {sensor_shape_px!r}")
    if int(supersample) != supersample or supersample < 1:
        raise InvalidParameterError(f"supersample must be a positive integer, got {supersample!r}")
    if int(field_grid) != field_grid or field_grid < 1:
        raise InvalidParameterError(f"field_grid must be a positive integer, got {field_grid!r}")
    if roi is None:
        return shape, (0, 0, shape[1], shape[0])
    if len(roi) != 4 or any(int(v) != v for v in roi):
        raise InvalidParameterError(f"roi must be (x, y, w, h) integers in pixels, got {roi!r}")
    x, y, w, h = (int(v) for v in roi)
    if w < 1 or h < 1 or x < 0 or y < 0 or x + w > shape[1] or y + h > shape[0]:
        raise InvalidParameterError(
            f"roi {roi!r} is not inside the {shape[1]} x {shape[0]} sensor; give (x, y, w, h) with "
            "w, h >= 1, x + w <= width and y + h <= height"
        )
    return shape, (x, y, w, h)
