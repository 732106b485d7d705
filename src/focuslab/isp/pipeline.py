"""The minimal ISP: raw frame -> display (or linear) RGB image."""

from __future__ import annotations

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.isp.black_level import raw_to_linear
from focuslab.isp.color_correction import apply_ccm
from focuslab.isp.demosaic import demosaic as demosaic_mosaic
from focuslab.isp.srgb import srgb_encode
from focuslab.isp.white_balance import apply_white_balance, grey_world_gains
from focuslab.sensor.raw import RawFrame


def process_raw(
    raw: RawFrame,
    *,
    wb_gains: tuple[float, float, float] | None = None,
    ccm: np.ndarray | None = None,
    demosaic: str = "Malvar2004",
    encode_srgb: bool = True,
) -> np.ndarray:
    """Black level -> white balance -> demosaic -> colour matrix -> clip -> sRGB.

    Parameters
    ----------
    raw
        The raw frame.
    wb_gains
        ``(g_R, g_G, g_B)``; None = the frame's ``metadata["as_shot_wb_gains"]`` when it has
        them, else the grey-world estimate of the mosaic (saturated pixels excluded).
    ccm
        3 x 3 colour correction matrix with rows summing to 1; None = the frame's
        ``metadata["camera_to_srgb_ccm"]`` when present, else identity (simulated sensors
        use their own primaries as RGB).
    demosaic
        Demosaicing method name (:func:`focuslab.isp.demosaic.demosaic_names`).
    encode_srgb
        Apply the sRGB transfer curve (display-referred output); False returns linear RGB.

    Returns
    -------
    numpy.ndarray
        ``H x W x 3`` float32 in [0, 1]. A mono frame gives three equal channels.

    Raises
    ------
    InvalidParameterError, UnknownNameError
        On a bad argument (see the steps' functions).

    Notes
    -----
    White balance runs on the mosaic, before demosaicing, as in a camera pipeline; the
    result is clipped to [0, 1] after the colour matrix (highlights beyond white clip).
    """
    if not isinstance(raw, RawFrame):
        raise InvalidParameterError(f"raw must be a RawFrame, got {type(raw).__name__}")
    linear = raw_to_linear(raw)
    if raw.cfa == "mono":
        rgb = np.repeat(linear[..., None], 3, axis=2)
    else:
        if wb_gains is None:
            wb_gains = raw.metadata.get("as_shot_wb_gains")
        if wb_gains is None:
            wb_gains = grey_world_gains(linear, cfa=raw.cfa, saturation=1.0)
        balanced = apply_white_balance(linear, wb_gains, cfa=raw.cfa)
        rgb = demosaic_mosaic(balanced, raw.cfa, method=demosaic)
    if ccm is None:
        ccm = raw.metadata.get("camera_to_srgb_ccm")
    if ccm is not None:
        rgb = apply_ccm(rgb, ccm)
    rgb = np.clip(rgb, 0.0, 1.0).astype(np.float32, copy=False)
    return srgb_encode(rgb) if encode_srgb else rgb
