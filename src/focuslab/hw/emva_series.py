"""An EMVA 1288 measurement series on disk: a folder of dark and flat-field frames + ``series.json``.

Layout (format ``focuslab.emva_series/1``)::

    series.json  {"format": "focuslab.emva_series/1",
                  "frames": [{"file": "flat_000_a.png", "kind": "flat", "exposure_s": 0.001,
                              "irradiance_photons_per_pixel": 123.4}, ...],
                  "black_level_dn": 64, "cfa": "RGGB", "bit_depth": 10}

* ``kind`` is ``"dark"`` (no light) or ``"flat"`` (homogeneous illumination);
* ``exposure_s`` (seconds) is required; ``irradiance_photons_per_pixel`` (mean photons
  reaching one pixel during the exposure, EMVA 1288 R4.0 Sec. 2.1 ``mu_p``) is optional,
  but given for every flat or for none (it is what the quantum efficiency needs);
* ``cfa`` is a Bayer pattern (``"RGGB"``, ``"BGGR"``, ``"GRBG"``, ``"GBRG"``) or ``"mono"``
  (default; raw files bring their own), ``bit_depth`` the ADC resolution (default: the
  file's; raw files: from the white level), ``black_level_dn`` is informational.

Frames are 16-bit PNG/TIFF (read exactly, through OpenCV), ``.npy`` ``uint16`` arrays, or
camera raw files (through rawpy). Frames of equal ``(kind, exposure_s, irradiance)`` form one
*step*. The EMVA 1288 photon-transfer method needs a pair of frames per step (R4.0 Sec. 6.6:
mean and variance from two frames), a dark step at every flat exposure time (the dark
reference of that step), and enough steps to reach saturation (the standard recommends at
least 50; this reader refuses fewer than :data:`MIN_FLAT_STEPS`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from focuslab.errors import InputFileError, InvalidParameterError

SERIES_FORMAT = "focuslab.emva_series/1"
SERIES_FILE = "series.json"
FRAME_KINDS = ("dark", "flat")
CFA_NAMES = ("mono", "RGGB", "BGGR", "GRBG", "GBRG")
#: Fewest frames per step: the temporal variance comes from the difference of two frames.
MIN_FRAMES_PER_STEP = 2
#: Fewest flat steps accepted (the standard recommends >= 50 equally spaced steps).
MIN_FLAT_STEPS = 6
_RAW_SUFFIXES = (".dng", ".nef", ".cr2", ".cr3", ".arw", ".orf", ".rw2", ".raf", ".pef", ".srw")
_IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".pgm")


@dataclass(frozen=True)
class StepKey:
    """One measurement step: frame kind, exposure time (s) and photons per pixel (None if not given)."""

    kind: str
    exposure_s: float
    irradiance_photons_per_pixel: float | None = None


@dataclass(frozen=True)
class SeriesFrame:
    """One frame entry of ``series.json`` (``file`` relative to the series folder)."""

    file: str
    step: StepKey


@dataclass(frozen=True)
class EmvaSeries:
    """A validated series manifest (frames are read later, one at a time)."""

    root: Path
    frames: tuple[SeriesFrame, ...]
    cfa: str
    bit_depth: int | None
    black_level_dn: float | None

    def steps(self) -> dict[StepKey, list[SeriesFrame]]:
        """Frames grouped by step, darks first, then by exposure and irradiance."""
        out: dict[StepKey, list[SeriesFrame]] = {}
        for f in self.frames:
            out.setdefault(f.step, []).append(f)

        def order(k: StepKey) -> tuple:
            return (k.kind != "dark", k.exposure_s, k.irradiance_photons_per_pixel or 0.0)

        return {k: out[k] for k in sorted(out, key=order)}

    @property
    def has_irradiance(self) -> bool:
        """True when every flat frame gives ``irradiance_photons_per_pixel``."""
        return all(f.step.irradiance_photons_per_pixel is not None for f in self.frames if f.step.kind == "flat")


def _number(entry: dict, key: str, where: str, *, required: bool) -> float | None:
    if key not in entry or entry[key] is None:
        if required:
            raise InvalidParameterError(f"{where} has no {key!r}; give every frame its {key} (seconds)")
        return None
    v = entry[key]
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise InvalidParameterError(f"{where}: {key} must be a number, got {v!r}")
    if not math.isfinite(v) or v < 0:
        raise InvalidParameterError(f"{where}: {key} must be finite and >= 0, got {v!r}")
    return float(v)


def read_series(path: str | os.PathLike) -> EmvaSeries:
    """Read and validate ``path/series.json`` (see the module notes for the layout).

    Raises
    ------
    InputFileError
        Missing folder, manifest or frame file; unreadable or malformed JSON; wrong format.
    InvalidParameterError
        Unknown kind or CFA, missing or negative exposure, a step with fewer than two frames,
        a flat exposure without darks, irradiance on only some flats, too few flat steps.
    """
    root = Path(path)
    if not root.is_dir():
        raise InputFileError(f"series folder {str(root)!r} does not exist; give a folder holding {SERIES_FILE}")
    manifest = root / SERIES_FILE
    if not manifest.is_file():
        raise InputFileError(f"{str(root)!r} has no {SERIES_FILE}; write one (format {SERIES_FORMAT})")
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"cannot read {str(manifest)!r} as JSON ({exc}); fix the file") from None
    if not isinstance(doc, dict) or doc.get("format") != SERIES_FORMAT:
        got = doc.get("format") if isinstance(doc, dict) else type(doc).__name__
        raise InputFileError(f"{str(manifest)!r} has format {got!r}; expected {SERIES_FORMAT!r}")
    entries = doc.get("frames")
    if not isinstance(entries, list) or not entries:
        raise InputFileError(f"{str(manifest)!r} lists no frames; add a 'frames' list")
    cfa = doc.get("cfa", "mono")
    if cfa not in CFA_NAMES:
        raise InvalidParameterError(f"unknown cfa {cfa!r} in {SERIES_FILE}; use one of {', '.join(CFA_NAMES)}")
    bits = doc.get("bit_depth")
    if bits is not None and (isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 16):
        raise InvalidParameterError(f"bit_depth must be an integer in 1..16, got {bits!r}")
    black = _number(doc, "black_level_dn", SERIES_FILE, required=False)
    frames = []
    for i, e in enumerate(entries):
        where = f"frame {i} of {SERIES_FILE}"
        if not isinstance(e, dict) or not isinstance(e.get("file"), str) or not e["file"]:
            raise InvalidParameterError(f"{where} needs a 'file' name")
        kind = e.get("kind")
        if kind not in FRAME_KINDS:
            raise InvalidParameterError(f"{where} ({e['file']}) has unknown kind {kind!r}; use 'dark' or 'flat'")
        t = _number(e, "exposure_s", f"{where} ({e['file']})", required=True)
        ph = _number(e, "irradiance_photons_per_pixel", f"{where} ({e['file']})", required=False)
        if kind == "dark":
            ph = None
        if not (root / e["file"]).is_file():
            raise InputFileError(f"frame file {str(root / e['file'])!r} listed in {SERIES_FILE} does not exist")
        frames.append(SeriesFrame(e["file"], StepKey(kind, t, ph)))
    series = EmvaSeries(root=root, frames=tuple(frames), cfa=cfa, bit_depth=bits, black_level_dn=black)
    check_series_plan(series.steps())
    return series


def check_series_plan(steps: dict[StepKey, list]) -> None:
    """Check the step structure the EMVA 1288 evaluation needs; raise InvalidParameterError if not met."""
    flats = [k for k in steps if k.kind == "flat"]
    dark_t = {k.exposure_s for k in steps if k.kind == "dark"}
    given = [k.irradiance_photons_per_pixel is not None for k in flats]
    if any(given) and not all(given):
        raise InvalidParameterError(
            "irradiance_photons_per_pixel is given for some flat frames only; give it for every flat or none"
        )
    for k, fr in steps.items():
        if len(fr) < MIN_FRAMES_PER_STEP:
            what = "dark" if k.kind == "dark" else f"flat ({k.irradiance_photons_per_pixel} photons/pixel)"
            raise InvalidParameterError(
                f"too few frames: the {what} step at exposure {k.exposure_s:g} s has {len(fr)}; "
                f"EMVA 1288 needs >= {MIN_FRAMES_PER_STEP} frames per step (a pair)"
            )
    if len(flats) < MIN_FLAT_STEPS:
        raise InvalidParameterError(
            f"too few flat steps: {len(flats)}; EMVA 1288 needs >= {MIN_FLAT_STEPS} (50 recommended) "
            "from dark to saturation"
        )
    missing = sorted({k.exposure_s for k in flats} - dark_t)
    if missing:
        raise InvalidParameterError(
            f"no dark frames at exposure {missing[0]:g} s; add >= 2 dark frames at every flat exposure time"
        )


@dataclass(frozen=True, eq=False)
class LoadedFrame:
    """A frame's samples (``uint16`` H x W) with what the file says about itself."""

    data: np.ndarray
    white_level_dn: int
    cfa: str | None
    black_level_dn: float | None


def read_frame(path: str | os.PathLike, *, bit_depth: int | None = None) -> LoadedFrame:
    """Read one frame as ``uint16`` without any scaling.

    Parameters
    ----------
    path
        16-bit PNG/TIFF/PGM, ``.npy`` (integer array), or a camera raw file.
    bit_depth
        ADC bits declared by the series; samples above ``2**bit_depth - 1`` are refused.

    Raises
    ------
    InputFileError
        Missing, unreadable or unsupported file; 8-bit or float samples (EMVA 1288 needs
        the sensor's raw digital numbers); NaN; values above the declared bit depth;
        not a 2-D (single-channel) frame.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    cfa = black = None
    if suffix in _RAW_SUFFIXES:
        from focuslab.isp import read_dng

        raw = read_dng(p)
        data, white, cfa, black = np.asarray(raw.data), int(raw.white_level_dn), raw.cfa, raw.black_level_dn
    elif suffix == ".npy":
        try:
            data = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputFileError(f"cannot read {str(p)!r} as a .npy array ({exc})") from None
        white = 65535
    elif suffix in _IMAGE_SUFFIXES:
        from focuslab.data.image_files import read_image

        data, white = read_image(p), 65535
    else:
        raise InputFileError(
            f"{str(p)!r}: unsupported frame type {suffix or '(none)'}; use 16-bit PNG/TIFF, .npy or raw"
        )
    if data.ndim != 2:
        raise InputFileError(f"{str(p)!r} has shape {data.shape}; EMVA frames are single-channel H x W raw data")
    if data.dtype.kind == "f":
        if not np.all(np.isfinite(data)):
            raise InputFileError(f"{str(p)!r} contains NaN or inf samples; frames must hold raw digital numbers")
        raise InputFileError(f"{str(p)!r} holds float samples; save the raw digital numbers as 16-bit integers")
    if data.dtype == np.uint8:
        raise InputFileError(
            f"{str(p)!r} is 8-bit: wrong bit depth for EMVA 1288; save the sensor's raw values as 16-bit PNG/TIFF"
        )
    if data.dtype.kind not in "ui":
        raise InputFileError(f"{str(p)!r} has unsupported sample type {data.dtype}; use uint16")
    if bit_depth is not None:
        white = (1 << bit_depth) - 1
    if data.size and (int(data.max()) > white or int(data.min()) < 0):
        raise InputFileError(
            f"{str(p)!r} has values up to {int(data.max())}, beyond the {bit_depth}-bit range: wrong bit depth; "
            "fix bit_depth in series.json"
        )
    return LoadedFrame(np.ascontiguousarray(data, dtype=np.uint16), white, cfa, black)


def iter_series_frames(series: EmvaSeries) -> Iterator[tuple[StepKey, LoadedFrame]]:
    """Yield ``(step, frame)`` one frame at a time, step by step, checking every frame's size."""
    shape = None
    for key, frames in series.steps().items():
        for f in frames:
            lf = read_frame(series.root / f.file, bit_depth=series.bit_depth)
            if shape is None:
                shape = lf.data.shape
            elif lf.data.shape != shape:
                raise InputFileError(
                    f"mismatched frame sizes: {f.file} is {lf.data.shape[1]}x{lf.data.shape[0]}, "
                    f"the series is {shape[1]}x{shape[0]}; all frames must have the same size"
                )
            yield key, lf
