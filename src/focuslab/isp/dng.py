"""Read a real raw file (DNG and the other LibRaw formats) into a :class:`RawFrame`."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from focuslab.errors import InputFileError
from focuslab.sensor.raw import RawFrame


def _cfa_string(colors: np.ndarray, color_desc: bytes) -> str:
    letters = color_desc.decode("ascii", errors="replace")
    try:
        pattern = "".join(letters[int(i)] for i in colors[:2, :2].ravel())
    except IndexError:
        pattern = "?"
    return pattern


def read_dng(path: str | os.PathLike) -> RawFrame:
    """Read the Bayer mosaic and its metadata from a DNG (or other LibRaw-readable raw).

    Parameters
    ----------
    path
        Raw file path.

    Returns
    -------
    RawFrame
        ``data``: the visible (active) area as ``uint16``, after LibRaw's linearisation table
        if the file has one. ``black_level_dn``: the mean of the per-channel black levels
        (all channels' values are in ``metadata["black_level_per_channel_dn"]``).
        ``white_level_dn``: LibRaw's white level. ``cfa``: pattern string of the visible
        area's top-left 2x2 block, from LibRaw's colour indices and ``color_desc`` (its
        second green ``G`` of ``"RGBG"`` maps to ``G``). ``exposure_s``: the recorded shutter
        time, 0.0 when the file has none. ``roi``: ``(0, 0, W, H)``. ``metadata``:
        ``as_shot_wb_gains`` ``(R/G, 1, B/G)`` when the camera recorded them,
        ``camera_to_srgb_ccm`` (3 x 3, rows sum to 1) when the file provides it, ``path``.

    Raises
    ------
    InputFileError
        When the file is missing, unreadable, corrupt, or not a Bayer (2x2 RGB CFA) raw.
    """
    import rawpy

    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"raw file {str(p)!r} does not exist; check the path")
    try:
        with rawpy.imread(str(p)) as raw:
            data = np.array(raw.raw_image_visible, dtype=np.uint16, copy=True)
            colors = np.array(raw.raw_colors_visible[:2, :2])
            cfa = _cfa_string(colors, raw.color_desc)
            blacks = [float(b) for b in raw.black_level_per_channel]
            white = float(raw.white_level)
            wb = [float(v) for v in raw.camera_whitebalance]
            cmatrix = np.array(raw.color_matrix, dtype=np.float64)
            other = getattr(raw, "other", None)
            shutter = float(getattr(other, "shutter_speed", 0.0) or 0.0) if other is not None else 0.0
    except (rawpy.LibRawError, OSError, ValueError) as exc:
        raise InputFileError(
            f"cannot read raw file {str(p)!r} ({type(exc).__name__}: {exc}); is it a valid DNG/raw file?"
        ) from None
    if cfa not in ("RGGB", "BGGR", "GRBG", "GBRG"):
        raise InputFileError(
            f"raw file {str(p)!r} has CFA {cfa!r}, not a 2x2 Bayer pattern; only Bayer raws are supported"
        )
    metadata: dict[str, object] = {"path": str(p), "black_level_per_channel_dn": tuple(blacks)}
    if wb[1] > 0 and wb[0] > 0 and wb[2] > 0:
        metadata["as_shot_wb_gains"] = (wb[0] / wb[1], 1.0, wb[2] / wb[1])
    ccm = cmatrix[:3, :3] if cmatrix.shape[0] >= 3 and cmatrix.shape[1] >= 3 else np.zeros((3, 3))
    if np.all(np.isfinite(ccm)) and np.allclose(ccm.sum(axis=1), 1.0, atol=1e-3):
        metadata["camera_to_srgb_ccm"] = tuple(map(tuple, ccm.tolist()))
    return RawFrame(
        data=data,
        black_level_dn=float(np.mean(blacks)),
        white_level_dn=white,
        cfa=cfa,
        exposure_s=max(shutter, 0.0),
        roi=(0, 0, data.shape[1], data.shape[0]),
        metadata=metadata,
    )
