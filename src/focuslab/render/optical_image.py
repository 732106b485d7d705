"""The optical image: relative irradiance on the sensor, the output of rendering."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from focuslab.errors import InvalidParameterError


@dataclass(frozen=True, eq=False)
class OpticalImage:
    """Relative irradiance on the sensor plane, before the sensor model.

    Parameters
    ----------
    irradiance
        ``H x W x C`` float32, relative: a white diffuser (radiance 1.0) in focus renders as
        1.0 (lens transmission and the cos^4 / f-number photometry are applied by
        :mod:`focuslab.sensor.photometry`). ``H x W`` is the ROI's size when ``roi`` is set.
    left, right
        Dual-pixel sub-images (same shape) or ``None``; ``left + right == irradiance`` for an
        ideal dual-pixel response.
    roi
        ``(x, y, w, h)`` of the rendered window on the sensor, pixels, or ``None`` (full frame).
    sensor_distance_mm
        Lens-to-sensor distance used, millimetres.
    pixel_pitch_um
        Pixel pitch, micrometres.
    focus_distance_m
        Distance the lens was focused at (thin lens), metres (``inf`` at s = f).
    """

    irradiance: np.ndarray
    left: np.ndarray | None
    right: np.ndarray | None
    roi: tuple[int, int, int, int] | None
    sensor_distance_mm: float
    pixel_pitch_um: float
    focus_distance_m: float

    def __post_init__(self) -> None:
        irr = np.asarray(self.irradiance)
        if irr.ndim != 3 or irr.dtype != np.float32:
            raise InvalidParameterError(
                f"OpticalImage.irradiance must be H x W x C float32, got {irr.shape} {irr.dtype}"
            )
        if (self.left is None) != (self.right is None):
            raise InvalidParameterError("OpticalImage needs both left and right sub-images, or neither")
        for name in ("left", "right"):
            sub = getattr(self, name)
            if sub is not None and np.shape(sub) != irr.shape:
                raise InvalidParameterError(
                    f"OpticalImage.{name} shape {np.shape(sub)} != irradiance shape {irr.shape}"
                )

    @property
    def shape(self) -> tuple[int, int]:
        """Image size ``(H, W)`` in pixels."""
        return self.irradiance.shape[:2]
