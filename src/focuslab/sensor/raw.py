"""`RawFrame`: what a sensor readout (simulated or read from a DNG) hands to the ISP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from focuslab.errors import InvalidParameterError, check_finite, check_positive
from focuslab.sensor.cfa import cfa_at_offset, cfa_masks
from focuslab.sensor.spec import CFA_PATTERNS


def _readonly_uint16(name: str, arr: Any) -> np.ndarray:
    if not isinstance(arr, np.ndarray) or arr.dtype != np.uint16 or arr.ndim != 2:
        got = f"{arr.dtype} array of shape {arr.shape}" if isinstance(arr, np.ndarray) else type(arr).__name__
        raise InvalidParameterError(f"RawFrame.{name} must be a 2-D uint16 array, got {got}")
    view = arr.view()
    view.flags.writeable = False
    return view


@dataclass(frozen=True, eq=False)
class RawFrame:
    """A raw mosaic frame with the metadata needed to interpret its digital numbers.

    Parameters
    ----------
    data
        ``uint16`` array ``H x W``, digital numbers (DN) including the black level. Stored as a
        read-only view.
    black_level_dn
        Digital value of zero signal, DN.
    white_level_dn
        Largest valid digital value (saturation), DN; above ``black_level_dn``.
    cfa
        Pattern string of the top-left 2x2 block of *this* array (``"RGGB"``, ``"BGGR"``,
        ``"GRBG"``, ``"GBRG"`` or ``"mono"``); for a ROI capture it is the sensor's pattern
        shifted to the ROI origin.
    exposure_s
        Exposure time, seconds (>= 0).
    roi
        ``(x, y, w, h)`` of this array on the sensor, pixels (``(0, 0, W, H)`` for a full
        frame). ``w, h`` equal the data's width and height.
    left, right
        Dual-pixel sub-images (``uint16`` ``H x W``, same black and white level), or None.
    metadata
        Free key/value information (e.g. ``"as_shot_wb_gains"`` from a DNG); read-only.

    Raises
    ------
    InvalidParameterError
        On a wrong dtype or shape, a bad CFA string, black >= white, or a ROI that does not
        match the data.
    """

    data: np.ndarray
    black_level_dn: float
    white_level_dn: float
    cfa: str
    exposure_s: float
    roi: tuple[int, int, int, int]
    left: np.ndarray | None = None
    right: np.ndarray | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        data = _readonly_uint16("data", self.data)
        object.__setattr__(self, "data", data)
        black = check_positive("black_level_dn", self.black_level_dn, allow_zero=True)
        white = check_finite("white_level_dn", self.white_level_dn)
        if black >= white:
            raise InvalidParameterError(
                f"black_level_dn {black} must be below white_level_dn {white}; check the raw metadata"
            )
        if self.cfa not in CFA_PATTERNS:
            raise InvalidParameterError(f"unknown cfa {self.cfa!r}; use one of {', '.join(CFA_PATTERNS)}")
        check_positive("exposure_s", self.exposure_s, allow_zero=True)
        roi = tuple(int(v) for v in self.roi)
        if len(roi) != 4 or roi[0] < 0 or roi[1] < 0 or (roi[3], roi[2]) != data.shape:
            raise InvalidParameterError(
                f"RawFrame.roi {self.roi!r} must be (x, y, w, h) with x, y >= 0 and (w, h) equal to "
                f"the data's width and height {data.shape[1]} x {data.shape[0]}"
            )
        object.__setattr__(self, "roi", roi)
        if (self.left is None) != (self.right is None):
            raise InvalidParameterError("RawFrame needs both left and right dual-pixel images, or neither")
        for name in ("left", "right"):
            sub = getattr(self, name)
            if sub is not None:
                sub = _readonly_uint16(name, sub)
                if sub.shape != data.shape:
                    raise InvalidParameterError(
                        f"RawFrame.{name} has shape {sub.shape}, expected the data's {data.shape}"
                    )
                object.__setattr__(self, name, sub)
        object.__setattr__(self, "metadata", MappingProxyType(dict(self.metadata)))

    @property
    def shape_px(self) -> tuple[int, int]:
        """``(H, W)`` of the data."""
        return (int(self.data.shape[0]), int(self.data.shape[1]))

    @property
    def has_dual_pixel(self) -> bool:
        """True when the frame carries left/right dual-pixel sub-images."""
        return self.left is not None

    def _normalize(self, arr: np.ndarray) -> np.ndarray:
        scale = np.float32(1.0 / (float(self.white_level_dn) - float(self.black_level_dn)))
        return (arr.astype(np.float32) - np.float32(self.black_level_dn)) * scale

    def normalized(self) -> np.ndarray:
        """Linear signal in [~0, 1]: ``(data - black) / (white - black)``, float32 ``H x W``.

        Not clipped: read noise makes dark pixels slightly negative, and keeping them keeps
        the mean of a dark region unbiased.
        """
        return self._normalize(self.data)

    def normalized_pair(self) -> tuple[np.ndarray, np.ndarray]:
        """Left and right dual-pixel images normalised like :meth:`normalized`.

        Raises
        ------
        InvalidParameterError
            When the frame has no dual-pixel data.
        """
        if self.left is None or self.right is None:
            raise InvalidParameterError(
                "this RawFrame has no dual-pixel data; expose a dual-pixel sensor with "
                "left_photons and right_photons"
            )
        return self._normalize(self.left), self._normalize(self.right)

    def crop(self, roi: tuple[int, int, int, int]) -> RawFrame:
        """The frame restricted to ``roi = (x, y, w, h)`` given in *this frame's* pixels.

        The result's ``roi`` is in sensor coordinates (offset by this frame's origin) and its
        ``cfa`` is shifted to the new origin; the arrays are views, not copies.

        Raises
        ------
        InvalidParameterError
            When the ROI does not fit inside the frame.
        """
        try:
            x, y, w, h = (int(v) for v in roi)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"roi must be (x, y, w, h) in pixels, got {roi!r}") from None
        hh, ww = self.shape_px
        if x < 0 or y < 0 or w < 1 or h < 1 or x + w > ww or y + h > hh:
            raise InvalidParameterError(f"crop roi {roi!r} does not fit the {ww}x{hh} frame")
        sl = (slice(y, y + h), slice(x, x + w))
        return RawFrame(
            data=self.data[sl],
            black_level_dn=self.black_level_dn,
            white_level_dn=self.white_level_dn,
            cfa=cfa_at_offset(self.cfa, x, y),
            exposure_s=self.exposure_s,
            roi=(self.roi[0] + x, self.roi[1] + y, w, h),
            left=None if self.left is None else self.left[sl],
            right=None if self.right is None else self.right[sl],
            metadata=self.metadata,
        )

    def channel_masks(self) -> np.ndarray:
        """Boolean masks of the R, G, B pixels, ``H x W x 3`` (mono: all True)."""
        return cfa_masks(self.cfa, self.shape_px)
