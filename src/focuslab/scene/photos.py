"""Real photographs bundled with scikit-image, decoded to linear light on a scene grid.

Only the images that ship inside the installed ``skimage/data`` folder are used (no
download ever happens). They are 8-bit sRGB-encoded; :func:`srgb_to_linear` undoes the
IEC 61966-2-1 transfer function before any resampling, so averages are taken in linear
light.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from focuslab.errors import InputFileError, UnknownNameError
from focuslab.scene.grid import check_shape, resample_to_grid

# name -> file inside skimage/data (all bundled with the scikit-image wheel)
_PHOTO_FILES = {
    "astronaut": "astronaut.png",
    "brick": "brick.png",
    "camera": "camera.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "coins": "coins.png",
    "grass": "grass.png",
    "gravel": "gravel.png",
    "hubble_deep_field": "hubble_deep_field.jpg",
    "moon": "moon.png",
    "page": "page.png",
    "retina": "retina.jpg",
    "rocket": "rocket.jpg",
    "text": "text.png",
}

REC709_LUMA = (0.2126, 0.7152, 0.0722)
"""Relative luminance weights of linear Rec. 709 / sRGB primaries (ITU-R BT.709-6, item 3.3)."""


def srgb_to_linear(encoded) -> np.ndarray:
    """sRGB-encoded values in [0, 1] to linear light (the inverse sRGB transfer function).

    Parameters
    ----------
    encoded
        Array of encoded values ``V`` in [0, 1] (any shape).

    Returns
    -------
    numpy.ndarray
        Linear values ``L`` in [0, 1], float32 for float32 input, float64 otherwise.

    Notes
    -----
    IEC 61966-2-1:1999, section 5.2 (inverse of eq. 5.2/5.3)::

        L = V / 12.92                      for V <= 0.04045
        L = ((V + 0.055) / 1.055) ** 2.4   otherwise
    """
    v = np.asarray(encoded)
    dtype = np.float32 if v.dtype == np.float32 else np.float64
    v = v.astype(np.float64)
    lin = np.where(v <= 0.04045, v / 12.92, ((np.maximum(v, 0.04045) + 0.055) / 1.055) ** 2.4)
    return lin.astype(dtype)


def linear_to_srgb(linear) -> np.ndarray:
    """Linear light in [0, 1] to sRGB-encoded values (IEC 61966-2-1:1999, section 5.2).

    ``V = 12.92 L`` for ``L <= 0.0031308``, else ``V = 1.055 L^(1/2.4) - 0.055``.
    """
    x = np.asarray(linear)
    dtype = np.float32 if x.dtype == np.float32 else np.float64
    x = x.astype(np.float64)
    enc = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.maximum(x, 0.0031308) ** (1 / 2.4) - 0.055)
    return enc.astype(dtype)


def photo_names() -> list[str]:
    """Names accepted by :func:`photo`, sorted."""
    return sorted(_PHOTO_FILES)


def photo_path(name: str) -> Path:
    """Path of the bundled scikit-image file behind photograph ``name``.

    Raises
    ------
    UnknownNameError
        When ``name`` is not one of :func:`photo_names`.
    InputFileError
        When the installed scikit-image lacks the file.
    """
    if name not in _PHOTO_FILES:
        raise UnknownNameError(f"photo {name!r} unknown; use one of {', '.join(photo_names())}")
    import skimage.data

    path = Path(skimage.data.__file__).parent / _PHOTO_FILES[name]
    if not path.is_file():
        raise InputFileError(
            f"scikit-image's bundled image {path} is missing; reinstall scikit-image "
            "(pip install -U scikit-image)"
        )
    return path


def load_srgb8(path: Path) -> np.ndarray:
    """Read an 8-bit image file as ``H x W x 3`` uint8 (grey is replicated, alpha dropped)."""
    try:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
    except OSError as exc:
        raise InputFileError(f"cannot read image {path}: {exc}; check the file") from None
    return rgb


def photo(name: str, shape=None, *, grey: bool = False) -> np.ndarray:
    """A bundled real photograph as relative linear radiance on an ``(H, W)`` grid.

    Parameters
    ----------
    name
        One of :func:`photo_names` (``"astronaut"``, ``"camera"``, ``"chelsea"``,
        ``"coffee"``, ``"rocket"``, ...).
    shape
        Target grid ``(H, W)``; ``None`` keeps the native size. The image is centre-cropped
        to the target aspect ratio and resampled (anti-aliased) in linear light.
    grey
        Return ``H x W`` relative luminance ``Y = 0.2126 R + 0.7152 G + 0.0722 B``
        (BT.709) instead of ``H x W x 3``.

    Returns
    -------
    numpy.ndarray
        float32 ``H x W x 3`` (greyscale sources replicated to three channels) or
        ``H x W``; values in [0, 1] where 1.0 (sRGB code 255) is taken as the white
        diffuser.
    """
    rgb8 = load_srgb8(photo_path(name))
    lin = srgb_to_linear(rgb8.astype(np.float32) / np.float32(255.0))
    if grey:
        lin = (lin @ np.asarray(REC709_LUMA, dtype=np.float32)).astype(np.float32)
    if shape is None:
        return lin
    out = resample_to_grid(lin, check_shape(shape))
    return np.clip(out, 0.0, 1.0)
