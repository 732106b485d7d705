"""Frames for defect detection from files: 16-bit PNG/TIFF mosaics, camera raws, EMVA series folders.

A frame is a single-channel raw mosaic: a 16-bit PNG/TIFF or a ``uint16`` ``.npy`` array (the
CFA pattern and black level are given by the caller, default mono and 0), or a camera raw read
with :func:`focuslab.isp.read_dng` (pattern and levels from the file). 8-bit and RGB images are
refused: they have been through an ISP (tone curve, demosaicking, often defect correction) and
no longer show the sensor.

The series folder is the EMVA series format of issue 6: ``series.json`` =
``{"format": "focuslab.emva_series/1", "frames": [{"file", "kind": "dark"|"flat",
"exposure_s", ...}], "black_level_dn"?, "cfa"?}``. Only what defect detection needs is read
here (the full reader is :mod:`focuslab.hw.emva_series`): among the flat exposures whose
signal is 20-80 % of the brightest flat's, the one with the most frames (a series' DSNU/PRNU
step; EMVA 1288 measures PRNU at 50 % of saturation), ties broken by the nearest to 50 %;
and the darks of the exposure nearest to it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.hw.defect_frame_stats import FrameStats, frame_stats
from focuslab.hw.defect_planes import check_cfa

SERIES_FORMAT = "focuslab.emva_series/1"


@dataclass(frozen=True, eq=False)
class RawInput:
    """One raw mosaic read from a file, with what its numbers mean."""

    data: np.ndarray
    cfa: str
    black_level_dn: float
    white_level_dn: float
    source: str


def read_raw_input(path: str | os.PathLike, *, cfa: str | None = None, black_level_dn: float | None = None) -> RawInput:
    """Read a raw mosaic (16-bit PNG/TIFF, or a camera raw) for defect work.

    ``cfa`` and ``black_level_dn`` apply to image files (defaults ``"mono"`` and 0); a camera
    raw brings its own, and a ``cfa`` that contradicts it is refused.

    Raises
    ------
    InputFileError
        Missing or unreadable file, 8-bit or RGB image, or a raw whose CFA differs from ``cfa``.
    """
    from focuslab.data.image_files import read_image
    from focuslab.data.measure_input import RAW_SUFFIXES

    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"frame file {str(p)!r} does not exist; check the path")
    if p.suffix.lower() in RAW_SUFFIXES:
        from focuslab.isp.dng import read_dng

        raw = read_dng(p)
        if cfa is not None and cfa != raw.cfa:
            raise InputFileError(f"{str(p)!r} has CFA {raw.cfa}, not the {cfa} given; drop --cfa for raw files")
        return RawInput(np.asarray(raw.data), raw.cfa, float(raw.black_level_dn), float(raw.white_level_dn), str(p))
    if p.suffix.lower() == ".npy":
        try:
            img = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputFileError(f"cannot read {str(p)!r} as a .npy array ({exc})") from None
    else:
        img = read_image(p)
    if img.ndim != 2:
        raise InputFileError(
            f"{str(p)!r} has shape {img.shape} (RGB?); defect detection needs single-channel raw mosaics"
        )
    if img.dtype != np.uint16:
        bits = img.dtype.itemsize * 8
        raise InputFileError(
            f"{str(p)!r} is {bits}-bit; defect detection needs 16-bit PNG/TIFF raw mosaics or camera raw files"
        )
    return RawInput(img, check_cfa(cfa or "mono"), float(black_level_dn or 0.0), 65535.0, str(p))


def average_inputs(paths: Sequence[str | os.PathLike], *, kind: str, cfa: str | None = None,
                   black_level_dn: float | None = None) -> tuple[FrameStats, RawInput]:
    """Mean and temporal variance of the frames in ``paths`` (streamed), and the first frame read.

    Raises
    ------
    InputFileError
        A file problem (see :func:`read_raw_input`), or frames of different CFA/levels.
    InvalidParameterError
        Frames of different sizes, or no path.
    """
    if not paths:
        raise InvalidParameterError(f"no {kind} frame given")
    first: list[RawInput] = []

    def frames():
        for path in paths:
            f = read_raw_input(path, cfa=cfa, black_level_dn=black_level_dn)
            if not first:
                first.append(f)
            elif f.data.shape != first[0].data.shape:
                raise InvalidParameterError(
                    f"{kind} frame {f.source!r} is {f.data.shape[1]}x{f.data.shape[0]} but {first[0].source!r} is "
                    f"{first[0].data.shape[1]}x{first[0].data.shape[0]}; all frames must be the same size"
                )
            elif f.cfa != first[0].cfa or f.white_level_dn != first[0].white_level_dn:
                raise InputFileError(
                    f"{kind} frame {f.source!r} has another CFA or white level than {first[0].source!r}"
                )
            yield f.data

    stats = frame_stats(frames(), name=f"{kind} frames")
    return stats, first[0]


@dataclass(frozen=True)
class SeriesSelection:
    """The frames of a series folder chosen for defect detection."""

    darks: tuple[Path, ...]
    flats: tuple[Path, ...]
    cfa: str
    black_level_dn: float | None
    exposure_s: float | None
    bit_depth: int | None = None


def _series_frames(folder: Path) -> tuple[list[dict], dict]:
    meta_path = folder / "series.json"
    if not folder.is_dir():
        raise InputFileError(f"series folder {str(folder)!r} does not exist; check the path")
    if not meta_path.is_file():
        raise InputFileError(f"{str(folder)!r} has no series.json; it is not an EMVA series folder")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"cannot read {str(meta_path)!r} as JSON ({exc}); fix or regenerate it") from None
    if not isinstance(meta, dict) or meta.get("format") != SERIES_FORMAT:
        raise InputFileError(f"{str(meta_path)!r} is not a {SERIES_FORMAT} file (its \"format\" field)")
    frames = meta.get("frames")
    if not isinstance(frames, list) or not frames:
        raise InputFileError(f"{str(meta_path)!r} lists no frames")
    for i, fr in enumerate(frames):
        if not isinstance(fr, dict) or not isinstance(fr.get("file"), str) or fr.get("kind") not in ("dark", "flat"):
            raise InputFileError(f"{str(meta_path)!r}: frame {i} needs a \"file\" and a \"kind\" of dark or flat")
        exp = fr.get("exposure_s")
        if isinstance(exp, bool) or not isinstance(exp, int | float) or not np.isfinite(exp) or exp < 0:
            raise InputFileError(f"{str(meta_path)!r}: frame {i} ({fr['file']}) has no valid exposure_s")
    return frames, meta


def _mean_of(path: Path, cfa: str | None) -> float:
    return float(np.mean(read_raw_input(path, cfa=cfa).data))


def select_series(folder: str | os.PathLike) -> SeriesSelection:
    """Darks and flats of an EMVA series folder for defect detection (see the module notes).

    Raises
    ------
    InputFileError
        No series.json, an invalid one, a missing frame file, or no dark and no flat frame.
    """
    root = Path(folder)
    frames, meta = _series_frames(root)
    cfa = meta.get("cfa")
    if cfa is not None:
        try:
            check_cfa(cfa)
        except InvalidParameterError as exc:
            raise InputFileError(f"{str(root / 'series.json')!r}: {exc}") from None
    black = meta.get("black_level_dn")
    black = float(black) if isinstance(black, int | float) and not isinstance(black, bool) else None
    darks: dict[float, list[Path]] = {}
    flats: dict[float, list[Path]] = {}
    for fr in frames:
        (darks if fr["kind"] == "dark" else flats).setdefault(float(fr["exposure_s"]), []).append(root / fr["file"])
    if not darks and not flats:
        raise InputFileError(f"{str(root)!r}: the series has no dark and no flat frame")
    exposure = None
    chosen_flats: list[Path] = []
    if flats:
        dark_level = _mean_of(next(iter(darks.values()))[0], cfa) if darks else (black or 0.0)
        levels = {t: _mean_of(paths[0], cfa) - dark_level for t, paths in flats.items()}
        top = max(levels.values())
        mid = [t for t in levels if 0.2 * top <= levels[t] <= 0.8 * top] or list(levels)
        # the most frames among the mid-range exposures (the series' spatial step), then nearest 50 %
        exposure = max(mid, key=lambda t: (len(flats[t]), -abs(levels[t] - 0.5 * top)))
        chosen_flats = flats[exposure]
    chosen_darks: list[Path] = []
    if darks:
        t_dark = min(darks, key=lambda t: abs(t - exposure)) if exposure is not None else max(darks)
        chosen_darks = darks[t_dark]
        exposure = exposure if exposure is not None else t_dark
    bits = meta.get("bit_depth")
    if bits is not None and (isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 16):
        raise InputFileError(f"{str(root / 'series.json')!r}: bit_depth must be an integer in 1..16, got {bits!r}")
    return SeriesSelection(tuple(chosen_darks), tuple(chosen_flats), cfa or "mono", black, exposure, bits)


def check_bit_depth(mean_frame_dn: np.ndarray, bit_depth: int | None, *, kind: str) -> None:
    """Refuse frames whose values exceed the declared ADC range ``2**bit_depth - 1``.

    Raises
    ------
    InputFileError
        When the largest value is above the range: the frames are scaled (e.g. 12-bit data
        shifted to 16 bits) or the declared bit depth is wrong.
    """
    if bit_depth is None:
        return
    top = float(np.max(mean_frame_dn))
    if top > (1 << bit_depth) - 1:
        raise InputFileError(
            f"{kind} frames reach {top:.0f} DN, above the {bit_depth}-bit range of the series "
            f"({(1 << bit_depth) - 1} DN); fix bit_depth in series.json or give unscaled frames"
        )

