"""Load an image file for measurement (SFR, charts, focus measures, acutance).

Measurement code (``focuslab.metrics``) takes arrays; this module turns a file into one,
keeping track of what the numbers mean:

* 8/16-bit PNG, TIFF, JPEG, BMP: values divided by the format's full scale (255 or 65535),
  ``linear=False`` (the file is assumed *encoded*; the metric's ``encoding`` argument says
  how to linearise it).
* camera raw (DNG and the other formats LibRaw reads, through rawpy): black level removed and
  divided by (white - black), ``linear=True``. ``raw_mode`` chooses what is measured:
  ``"demosaic"`` (bilinear demosaic to RGB, no white balance or colour matrix: linear camera
  RGB), ``"mosaic"`` (the whole CFA mosaic as one grey image), or one CFA plane at half
  resolution: ``"cfa:R"``, ``"cfa:G"`` (the first green of the 2x2 pattern in reading
  order), ``"cfa:G2"`` (the second green), ``"cfa:B"``.

Measuring a CFA plane is what ISO 12233 recommends for raw captures (no demosaicing
artefacts); its pixel pitch is twice the sensor's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from focuslab.data.image_files import IMAGE_SUFFIXES, read_image
from focuslab.errors import InputFileError, InvalidParameterError

#: File suffixes read through rawpy (lower case).
RAW_SUFFIXES = (".dng", ".nef", ".cr2", ".cr3", ".arw", ".orf", ".rw2", ".raf", ".pef", ".srw")
RAW_MODES = ("demosaic", "mosaic", "cfa:R", "cfa:G", "cfa:G2", "cfa:B")


@dataclass(frozen=True, eq=False)
class MeasurementImage:
    """An image ready for measurement.

    Attributes
    ----------
    data
        float64, ``H x W`` or ``H x W x 3`` (RGB), normalised so that the file's full scale
        (or the raw white level above black) is 1.0.
    linear
        True for raw data (linear in exposure); False for encoded files.
    bit_depth
        Bits per sample of the source (8 or 16 for files; the raw container's for raw).
    is_raw
        Whether the source was a camera raw file.
    cfa
        The raw CFA pattern (``"RGGB"``...), None for ordinary images.
    sample_pitch_factor
        Sampling pitch in sensor pixels (2 for a CFA plane, else 1).
    clipped_fraction
        Fraction of samples at or above full scale (clipping indicator).
    source
        The file path.
    """

    data: np.ndarray
    linear: bool
    bit_depth: int
    is_raw: bool
    cfa: str | None
    sample_pitch_factor: int
    clipped_fraction: float
    source: str


def cfa_plane(mosaic: np.ndarray, cfa: str, which: str) -> np.ndarray:
    """One colour plane (``R``, ``G``, ``G2``, ``B``) of a Bayer mosaic at half resolution."""
    cells = ((0, 0), (0, 1), (1, 0), (1, 1))  # the 2x2 pattern in reading order
    positions = [cell for colour, cell in zip(cfa, cells, strict=True) if colour == which[0]]
    if not positions:
        raise InvalidParameterError(f"CFA {cfa} has no {which} pixels; choose one of cfa:R, cfa:G, cfa:G2, cfa:B")
    if which == "G2":
        if len(positions) < 2:
            raise InvalidParameterError(f"CFA {cfa} has a single green; use cfa:G")
        pos = positions[1]
    else:
        pos = positions[0]
    return mosaic[pos[0] :: 2, pos[1] :: 2]


def load_measurement_image(path: str | os.PathLike, *, raw_mode: str = "demosaic") -> MeasurementImage:
    """Read ``path`` as a :class:`MeasurementImage` (see the module notes).

    Raises
    ------
    InputFileError
        Missing, unreadable, corrupt or unsupported file.
    InvalidParameterError
        Unknown ``raw_mode``.
    """
    if raw_mode not in RAW_MODES:
        raise InvalidParameterError(f"raw_mode must be one of {', '.join(RAW_MODES)}, got {raw_mode!r}")
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"image file {str(p)!r} does not exist; check the path")
    suffix = p.suffix.lower()
    if suffix in RAW_SUFFIXES:
        return _load_raw(p, raw_mode)
    if suffix not in IMAGE_SUFFIXES:
        raise InputFileError(
            f"{str(p)!r}: unsupported file type {suffix or '(none)'}; use PNG, TIFF, JPEG or a camera raw (DNG)"
        )
    img = read_image(p)
    if img.dtype == np.uint8:
        scale, bits = 255.0, 8
    elif img.dtype == np.uint16:
        scale, bits = 65535.0, 16
    else:  # float TIFF: taken as already normalised
        scale, bits = 1.0, 32
    data = img.astype(np.float64) / scale
    if not np.all(np.isfinite(data)):
        raise InputFileError(f"{str(p)!r} contains NaN or inf samples; it cannot be measured")
    return MeasurementImage(
        data=data, linear=False, bit_depth=bits, is_raw=False, cfa=None, sample_pitch_factor=1,
        clipped_fraction=float(np.mean(data >= 1.0)), source=str(p),
    )


def _load_raw(p: Path, raw_mode: str) -> MeasurementImage:
    from focuslab.isp import demosaic, read_dng

    raw = read_dng(p)
    black, white = float(raw.black_level_dn), float(raw.white_level_dn)
    if white <= black:
        raise InputFileError(f"{str(p)!r}: white level {white} is not above black level {black}")
    norm = (raw.data.astype(np.float64) - black) / (white - black)
    clipped = float(np.mean(raw.data >= white))
    bits = int(np.ceil(np.log2(white + 1)))
    factor = 1
    if raw_mode == "mosaic":
        data = norm
    elif raw_mode == "demosaic":
        if raw.cfa not in ("RGGB", "BGGR", "GRBG", "GBRG"):
            raise InputFileError(f"{str(p)!r}: CFA {raw.cfa!r} is not a Bayer pattern; use raw_mode='mosaic'")
        data = demosaic(norm, raw.cfa, method="bilinear").astype(np.float64)
    else:
        data = cfa_plane(norm, raw.cfa, raw_mode.split(":", 1)[1])
        factor = 2
    return MeasurementImage(
        data=np.ascontiguousarray(data), linear=True, bit_depth=bits, is_raw=True, cfa=raw.cfa,
        sample_pitch_factor=factor, clipped_fraction=clipped, source=str(p),
    )
