"""Reading and writing image files with their bit depth intact.

16-bit PNG (mono and RGB) is the frame format of focal-stack folders. Pillow cannot write
16-bit RGB PNG, so focuslab reads and writes images through OpenCV, which keeps 8/16-bit
integer data exactly; channel order is converted to RGB here so callers never see BGR.
Every write is atomic (:mod:`focuslab.files`).
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.files import atomic_path

#: File suffixes read as images (lower case).
IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".webp")


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as stored: ``uint8``/``uint16``, ``H x W`` or ``H x W x 3`` (RGB).

    Alpha channels are dropped. Raises :class:`InputFileError` for a missing, unreadable or
    corrupt file.
    """
    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"image file {str(p)!r} does not exist; check the path")
    data = np.fromfile(p, dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise InputFileError(
            f"cannot decode {str(p)!r} as an image (corrupt or unsupported format); "
            f"use PNG, TIFF or JPEG"
        )
    if img.ndim == 3:
        if img.shape[2] == 4:
            img = img[..., :3]
        if img.shape[2] == 3:
            img = img[..., ::-1]
        elif img.shape[2] == 1:
            img = img[..., 0]
        img = np.ascontiguousarray(img)
    if img.dtype not in (np.uint8, np.uint16):
        if img.dtype == np.float32 or img.dtype == np.float64:
            return img.astype(np.float32)
        raise InputFileError(f"{str(p)!r} has unsupported sample type {img.dtype}; use 8- or 16-bit")
    return img


def write_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write a ``uint8`` or ``uint16`` image (``H x W`` or ``H x W x 3`` RGB) as PNG, atomically."""
    img = np.asarray(image)
    if img.dtype not in (np.uint8, np.uint16):
        raise InvalidParameterError(
            f"write_png needs uint8 or uint16 data, got {img.dtype}; quantize first"
        )
    if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] in (1, 3))):
        raise InvalidParameterError(f"write_png needs H x W or H x W x 3, got shape {img.shape}")
    if img.ndim == 3 and img.shape[2] == 3:
        img = img[..., ::-1]
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(img), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise InvalidParameterError(f"could not encode image of shape {img.shape} as PNG")
    with atomic_path(path) as tmp:
        buf.tofile(tmp)
    return Path(path)
