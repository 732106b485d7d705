"""The Pixel 4 dual-pixel calibration data of Xin et al. (ICCV 2021): file layout and loaders.

Read in place from ``../shared/data/dual_pixel/pixel4/calibration``: a 6 x 8 grid of measured
61 x 61 left/right blur kernels (``blur_kernels_{left,right}.npy``, each view normalised to
sum 1; kernel 8 r + c is the 168-px patch (r, c) of the central 1008 x 1344 crop of the
2016 x 1512 frame) and the views' response to a white sheet (vignetting). The fit that uses
them is :mod:`focuslab.optics.dp_calibration`.

References
----------
.. [1] S. Xin et al., "Defocus map estimation and deblurring from a single dual-pixel image",
       ICCV 2021.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from focuslab.errors import InputFileError, InvalidParameterError

#: Pixel 4 DP frame, rows x columns (Xin et al. [1]).
PIXEL4_IMAGE_SHAPE_PX = (1512, 2016)
#: Black level of the 14-bit Pixel 4 DP data, DN.
PIXEL4_BLACK_LEVEL_DN = 1024
#: Kernel grid, rows x columns, tiling the central 1008 x 1344 crop in 168-px patches.
PIXEL4_KERNEL_GRID = (6, 8)
PIXEL4_PATCH_PX = 168
KERNEL_FILES = ("blur_kernels_left.npy", "blur_kernels_right.npy")
WHITE_SHEET_FILES = ("white_sheet_left.png", "white_sheet_right.png")


@dataclass(frozen=True)
class DualPixelKernelGrid:
    """Measured DP kernels on a grid of field positions.

    Attributes
    ----------
    left, right
        ``(N, k, k)`` float64 kernels, row-major over the grid, each normalised as measured.
    field_xy
        ``(N, 2)`` relative field position of each kernel (offset from the optical centre /
        half-diagonal; 1 = frame corner).
    grid_shape
        (rows, columns) of the grid; N = rows x columns.
    """

    left: np.ndarray
    right: np.ndarray
    field_xy: np.ndarray
    grid_shape: tuple[int, int]


@dataclass(frozen=True)
class VignettingMaps:
    """White-sheet response of the two DP views, DN above black level, ``(H, W)`` float64 each."""

    left: np.ndarray
    right: np.ndarray


def patch_grid_field_xy(grid_shape, *, patch_px: int, image_shape_px) -> np.ndarray:
    """Relative field positions of the centres of a grid of patches tiling the frame's central crop.

    Parameters
    ----------
    grid_shape
        (rows, columns) of patches.
    patch_px
        Patch side, pixels.
    image_shape_px
        Frame (rows, columns), pixels.

    Returns
    -------
    numpy.ndarray
        ``(rows x columns, 2)`` field (x, y), row-major, rows = +y.

    Notes
    -----
    Assumes the optical centre is the frame centre ((W - 1) / 2, (H - 1) / 2) and divides by
    the half-diagonal sqrt(W^2 + H^2) / 2 (1260 px for 2016 x 1512). The grid is centred, as
    in Xin et al.'s code (crop offset = (size - grid x patch) // 2).
    """
    rows, cols = (int(v) for v in grid_shape)
    h, w = (int(v) for v in image_shape_px)
    oy = (h - rows * patch_px) // 2
    ox = (w - cols * patch_px) // 2
    cy = oy + patch_px * np.arange(rows) + (patch_px - 1) / 2.0 - (h - 1) / 2.0
    cx = ox + patch_px * np.arange(cols) + (patch_px - 1) / 2.0 - (w - 1) / 2.0
    half_diag = math.hypot(w, h) / 2.0
    yy, xx = np.meshgrid(cy, cx, indexing="ij")
    return np.stack([xx.ravel(), yy.ravel()], axis=-1) / half_diag


def _need_file(folder: Path, name: str) -> Path:
    path = Path(folder) / name
    if not path.is_file():
        raise InputFileError(f"{path} is missing; point to the Pixel 4 'calibration' folder of Xin et al. 2021")
    return path


def load_pixel4_dp_kernels(folder) -> DualPixelKernelGrid:
    """Read the Pixel 4 left/right blur-kernel grids of Xin et al. 2021 [1].

    Parameters
    ----------
    folder
        The ``calibration`` folder holding ``blur_kernels_left.npy`` and
        ``blur_kernels_right.npy`` (each ``(48, 61, 61)`` float32, kernel i = row 8 r + c of the
        6 x 8 grid, each summing to 1).

    Returns
    -------
    DualPixelKernelGrid
        Kernels as float64, unchanged; field positions from :func:`patch_grid_field_xy` with the
        168-px patches of the central 1008 x 1344 crop of the 2016 x 1512 frame.

    Raises
    ------
    InputFileError
        A file is missing, unreadable, or not a (48, k, k) array of finite non-negative values.
    """
    views = []
    n = PIXEL4_KERNEL_GRID[0] * PIXEL4_KERNEL_GRID[1]
    for name in KERNEL_FILES:
        path = _need_file(folder, name)
        try:
            k = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputFileError(f"{path} is not a readable .npy array ({exc}); restore the original file") from None
        if k.ndim != 3 or k.shape[0] != n or k.shape[1] != k.shape[2] or not np.all(np.isfinite(k)) or k.min() < 0:
            raise InputFileError(f"{path} must hold {n} finite non-negative square kernels, got shape {k.shape}")
        views.append(k.astype(np.float64))
    if views[0].shape != views[1].shape:
        raise InputFileError(f"left and right kernels differ in shape: {views[0].shape} vs {views[1].shape}")
    fxy = patch_grid_field_xy(PIXEL4_KERNEL_GRID, patch_px=PIXEL4_PATCH_PX, image_shape_px=PIXEL4_IMAGE_SHAPE_PX)
    return DualPixelKernelGrid(views[0], views[1], fxy, PIXEL4_KERNEL_GRID)


def load_pixel4_vignetting(folder) -> VignettingMaps:
    """Read the Pixel 4 white-sheet images of the left and right DP views [1].

    Parameters
    ----------
    folder
        The ``calibration`` folder holding ``white_sheet_left.png`` / ``white_sheet_right.png``
        (16-bit PNG, 1512 x 2016, 14-bit values with black level 1024).

    Returns
    -------
    VignettingMaps
        DN above black level (clipped at 0), float64.

    Raises
    ------
    InputFileError
        A file is missing, not a decodable image, or not a 1512 x 2016 single-channel image.
    """
    import imageio.v3 as iio  # image decoding only; the calibration itself is numpy/scipy

    maps = []
    for name in WHITE_SHEET_FILES:
        path = _need_file(folder, name)
        try:
            img = np.asarray(iio.imread(path, plugin="pillow"))
        except Exception as exc:  # decoders raise many types for corrupt files
            raise InputFileError(f"{path} is not a readable image ({type(exc).__name__}); restore it") from None
        if img.shape != PIXEL4_IMAGE_SHAPE_PX:
            raise InputFileError(f"{path} must be a {PIXEL4_IMAGE_SHAPE_PX} single-channel image, got {img.shape}")
        maps.append(np.maximum(img.astype(np.float64) - PIXEL4_BLACK_LEVEL_DN, 0.0))
    return VignettingMaps(maps[0], maps[1])


def vignetting_lr_ratio(maps: VignettingMaps, field_xy, *, window_px: int = PIXEL4_PATCH_PX) -> np.ndarray:
    """White-sheet ratio left / right (mean DN in a square window) at relative field positions.

    Parameters
    ----------
    maps
        The two white-sheet responses.
    field_xy
        ``(N, 2)`` relative field positions (same convention as :func:`patch_grid_field_xy`).
    window_px
        Window side, pixels (default: the kernel patch).

    Returns
    -------
    numpy.ndarray
        ``(N,)`` ratios; > 1 where the left photodiodes collect more light.

    Raises
    ------
    InvalidParameterError
        A window lies wholly outside the frame, or holds no light in a view.
    """
    h, w = maps.left.shape
    half_diag = math.hypot(w, h) / 2.0
    fxy = np.asarray(field_xy, dtype=float).reshape(-1, 2)
    half = (int(window_px) - 1) / 2.0
    out = np.empty(len(fxy))
    for i, (fx, fy) in enumerate(fxy):
        x0 = max(round(fx * half_diag + (w - 1) / 2.0 - half), 0)
        y0 = max(round(fy * half_diag + (h - 1) / 2.0 - half), 0)
        sl = (slice(y0, y0 + int(window_px)), slice(x0, x0 + int(window_px)))
        lv, rv = maps.left[sl], maps.right[sl]
        if lv.size == 0 or rv.sum() <= 0.0:
            raise InvalidParameterError(f"field position ({fx:g}, {fy:g}) has no lit {window_px}-px window in frame")
        out[i] = lv.mean() / rv.mean()
    return out
