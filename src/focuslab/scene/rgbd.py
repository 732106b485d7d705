"""Real RGB + depth photographs: Open3D's RGB-D samples and the Middlebury 2014 motorcycle.

The RGB-D samples (Redwood, TUM, SUN RGB-D, NYU Depth v2) are read in place from the
project's shared data folder (``<data>/rgbd``; see :func:`shared_data_dir`); the Middlebury
"motorcycle" pair ships inside scikit-image. Colour is decoded from sRGB to linear light,
depth to metres; invalid depth (no return, out of range) is filled with the depth of the
nearest valid pixel (Euclidean distance in pixels, ties broken by scipy's
``distance_transform_edt``) and reported in :attr:`RgbdImage.valid`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from focuslab.errors import InputFileError, UnknownNameError, check_positive
from focuslab.scene.grid import check_int
from focuslab.scene.photos import load_srgb8, srgb_to_linear

MIDDLEBURY_MOTORCYCLE = {"focal_length_px": 994.978, "baseline_mm": 193.001, "doffs_px": 31.086}
"""Calibration of scikit-image's (quarter-size) Middlebury 2014 motorcycle pair (calib.txt / 4)."""

NYU_RAW_INVALID = 2047
"""Raw Kinect v1 disparity code meaning 'no measurement'."""

# dataset -> (colour file, depth file, focal length of the colour camera in px at 640 wide)
_RGBD_FILES = {
    "redwood": ("color/{index:05d}.jpg", "depth/{index:05d}.png", 525.0),
    "tum": ("other_formats/TUM_color.png", "other_formats/TUM_depth.png", 525.0),
    "sun": ("other_formats/SUN_color.jpg", "other_formats/SUN_depth.png", 525.0),
    "nyu": ("other_formats/NYU_color.ppm", "other_formats/NYU_depth.pgm", 518.857901),
}
_REDWOOD_FRAMES = 5


@dataclass(frozen=True, eq=False)
class RgbdImage:
    """A registered colour + depth photograph.

    Attributes
    ----------
    rgb
        ``H x W x 3`` float32 linear RGB in [0, 1] (1.0 = sRGB code 255).
    depth_m
        ``H x W`` float32 depth along the optical axis, metres, > 0 everywhere (invalid
        pixels filled from their nearest valid neighbour).
    valid
        ``H x W`` bool, True where the sensor measured a depth.
    focal_length_px
        Focal length of the colour camera in pixels of this image (pinhole model).
    name
        Dataset label.
    """

    rgb: np.ndarray
    depth_m: np.ndarray
    valid: np.ndarray
    focal_length_px: float
    name: str

    @property
    def hfov_deg(self) -> float:
        """Horizontal field of view of the pinhole camera, degrees: ``2 atan(W / 2f)``."""
        return float(np.degrees(2.0 * np.arctan(self.rgb.shape[1] / (2.0 * self.focal_length_px))))


def shared_data_dir() -> Path:
    """The project's real-data folder: ``$FOCUSLAB_SHARED_DATA``, else ``../shared/data``.

    ``../shared/data`` is taken relative to the checkout (the folder holding ``src/``).
    """
    env = os.environ.get("FOCUSLAB_SHARED_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3].parent / "shared" / "data"


def _rgbd_root(data_dir) -> Path:
    base = Path(data_dir) if data_dir is not None else shared_data_dir()
    root = base / "rgbd"
    if not root.is_dir():
        raise InputFileError(
            f"RGB-D data folder {root} not found; put the shared data there or set "
            "FOCUSLAB_SHARED_DATA to the folder that holds rgbd/"
        )
    return root


def fill_invalid_depth(depth_m: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Replace invalid depths by the depth of the nearest valid pixel.

    Parameters
    ----------
    depth_m
        ``H x W`` depth, metres (values at invalid pixels are ignored).
    valid
        ``H x W`` bool mask of measured pixels.

    Returns
    -------
    numpy.ndarray
        float32 ``H x W`` copy with every invalid pixel set to the value of the valid pixel
        at the smallest Euclidean distance (scipy ``distance_transform_edt`` indices).

    Raises
    ------
    InputFileError
        When no pixel is valid.
    """
    valid = np.asarray(valid, dtype=bool)
    if not valid.any():
        raise InputFileError("the depth map has no valid pixel; check the file and its depth encoding")
    depth = np.asarray(depth_m, dtype=np.float32)
    if valid.all():
        return depth.copy()
    idx = ndimage.distance_transform_edt(~valid, return_distances=False, return_indices=True)
    return depth[idx[0], idx[1]].astype(np.float32)


def nyu_raw_to_depth_m(raw) -> tuple[np.ndarray, np.ndarray]:
    """NYU Depth v2 raw Kinect v1 codes to metres: ``z = 351.3 / (1092.5 - raw)``.

    Returns ``(depth_m, valid)``; code 2047 and codes that would give a non-positive or
    farther-than-10 m depth are invalid (depth 0 there). Constants: the NYU Depth v2
    toolbox's ``depth_rel2depth_abs`` (Silberman et al., ECCV 2012).
    """
    r = np.asarray(raw, dtype=np.float64)
    with np.errstate(divide="ignore"):
        z = 351.3 / (1092.5 - r)
    valid = (r != NYU_RAW_INVALID) & (z > 0) & (z <= 10.0)
    return np.where(valid, z, 0.0).astype(np.float32), valid


def sun_raw_to_depth_m(raw) -> tuple[np.ndarray, np.ndarray]:
    """SUN RGB-D 16-bit PNG codes to metres: rotate ``(d >> 3) | (d << 13)``, then mm.

    Returns ``(depth_m, valid)``; 0 is invalid (Song, Lichtenberg, Xiao, CVPR 2015, toolbox
    ``read3dPoints``).
    """
    d = np.asarray(raw).astype(np.uint16)
    mm = (d >> np.uint16(3)) | (d << np.uint16(13))
    valid = mm > 0
    return (mm.astype(np.float64) / 1000.0).astype(np.float32), valid


def disparity_to_depth_m(disparity_px, *, focal_length_px: float, baseline_mm: float, doffs_px: float):
    """Stereo disparity to depth: ``Z = f B / (d + doffs)`` (Middlebury 2014 ``readme``).

    Returns ``(depth_m, valid)`` with invalid (non-finite or ``d + doffs <= 0``) pixels 0.
    """
    d = np.asarray(disparity_px, dtype=np.float64)
    f = check_positive("focal_length_px", focal_length_px)
    b = check_positive("baseline_mm", baseline_mm)
    den = d + float(doffs_px)
    valid = np.isfinite(d) & (den > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_mm = np.where(valid, f * b / np.where(valid, den, 1.0), 0.0)
    return (z_mm / 1000.0).astype(np.float32), valid


def _read_pgm16(path: Path) -> np.ndarray:
    """16-bit binary PGM with automatic byte order (the Open3D NYU sample is little-endian)."""
    data = path.read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P5" or int(fields[3]) <= 255:
        raise InputFileError(f"{path} is not a 16-bit binary PGM; check the file")
    w, h = int(fields[1]), int(fields[2])
    body = data[pos + 1 : pos + 1 + 2 * w * h]
    if len(body) != 2 * w * h:
        raise InputFileError(f"{path} is truncated ({len(body)} of {2 * w * h} bytes); check the file")
    big = np.frombuffer(body, dtype=">u2").reshape(h, w)
    little = np.frombuffer(body, dtype="<u2").reshape(h, w)
    # Kinect raw codes are 11-bit: the byte order that keeps them <= 2047 is the right one.
    return (little if big.max() > NYU_RAW_INVALID >= little.max() else big).astype(np.uint16)


def rgbd_datasets() -> list[str]:
    """Names accepted by :func:`load_rgbd`."""
    return sorted(_RGBD_FILES)


def load_rgbd(dataset: str, *, index: int = 0, data_dir=None) -> RgbdImage:
    """Load one real RGB-D sample from ``<data>/rgbd`` and decode depth to metres.

    Parameters
    ----------
    dataset
        ``"redwood"`` (5 frames, ``index`` 0..4), ``"tum"``, ``"sun"`` or ``"nyu"``.
    index
        Frame of the Redwood sequence (must be 0 for the others).
    data_dir
        Folder holding ``rgbd/``; default :func:`shared_data_dir`.

    Returns
    -------
    RgbdImage
        640 x 480 linear RGB, filled metric depth, validity mask, focal length.

    Raises
    ------
    UnknownNameError, InvalidParameterError, InputFileError

    Notes
    -----
    Depth encodings (as documented with the data): Redwood uint16 millimetres; TUM uint16
    ``value / 5000`` metres; SUN RGB-D rotated millimetres (:func:`sun_raw_to_depth_m`);
    NYU raw Kinect codes (:func:`nyu_raw_to_depth_m`). 0 is "no depth" in the first three.
    Focal lengths are the nominal PrimeSense/Kinect colour-camera value 525 px (TUM's
    published default) and NYU's calibrated 518.86 px. NYU raw depth is not registered to
    the colour camera (offsets of a few pixels); it is used as is.
    """
    if dataset not in _RGBD_FILES:
        raise UnknownNameError(f"RGB-D dataset {dataset!r} unknown; use one of {', '.join(rgbd_datasets())}")
    n_frames = _REDWOOD_FRAMES if dataset == "redwood" else 1
    index = check_int(f"index for {dataset!r}", index, 0, n_frames - 1)
    root = _rgbd_root(data_dir)
    colour_rel, depth_rel, focal_px = _RGBD_FILES[dataset]
    colour_path, depth_path = root / colour_rel.format(index=index), root / depth_rel.format(index=index)
    for p in (colour_path, depth_path):
        if not p.is_file():
            raise InputFileError(f"RGB-D file {p} is missing; check the shared data folder")
    rgb = srgb_to_linear(load_srgb8(colour_path).astype(np.float32) / np.float32(255.0))
    if dataset == "nyu":
        depth, valid = nyu_raw_to_depth_m(_read_pgm16(depth_path))
    else:
        try:
            with Image.open(depth_path) as im:
                raw = np.asarray(im).astype(np.uint16)
        except OSError as exc:
            raise InputFileError(f"cannot read depth image {depth_path}: {exc}; check the file") from None
        if dataset == "sun":
            depth, valid = sun_raw_to_depth_m(raw)
        else:
            scale = 1000.0 if dataset == "redwood" else 5000.0
            depth, valid = (raw / scale).astype(np.float32), raw > 0
    if depth.shape != rgb.shape[:2]:
        raise InputFileError(
            f"{depth_path} is {depth.shape}, colour image is {rgb.shape[:2]}; check the files"
        )
    return RgbdImage(rgb, fill_invalid_depth(depth, valid), valid, focal_px, dataset)


def middlebury_motorcycle() -> RgbdImage:
    """The Middlebury 2014 "motorcycle" left view with depth from its ground-truth disparity.

    Returns
    -------
    RgbdImage
        500 x 741 linear RGB; depth ``Z = f B / (d + doffs)`` with f = 994.978 px,
        B = 193.001 mm, doffs = 31.086 px (scikit-image's quarter-size pair); pixels of
        unknown disparity (inf) are filled from the nearest valid one.

    References
    ----------
    D. Scharstein et al., "High-resolution stereo datasets with subpixel-accurate ground
    truth", GCPR 2014 (dataset page: depth formula ``Z = baseline * f / (d + doffs)``).
    """
    import skimage.data

    left, _right, disp = skimage.data.stereo_motorcycle()
    depth, valid = disparity_to_depth_m(disp, **MIDDLEBURY_MOTORCYCLE)
    rgb = srgb_to_linear(np.asarray(left, dtype=np.float32) / np.float32(255.0))
    return RgbdImage(
        rgb, fill_invalid_depth(depth, valid), valid, MIDDLEBURY_MOTORCYCLE["focal_length_px"], "middlebury"
    )
