"""Through-focus series folders: frames of a chart at known lens positions.

Format ``focuslab.module_series/1``: a folder with one 16-bit (or 8-bit) grey PNG/TIFF per
frame and a ``series.json``::

    {
      "format": "focuslab.module_series/1",
      "frames": [{"file": "frame_000.png", "lens_position_um": 24.9}, ...],
      "pixel_pitch_um": 8.82,             # required for tilt / decenter in physical units
      "black_level_dn": 16,               # optional, default 0
      "white_level_dn": 1023,             # optional, default the file type's maximum
      "decenter_tilt_deg_per_mm": 0.5,    # optional: the lens design's image tilt per mm of decenter
      "truth": {...}                      # optional: the simulated build (focuslab hw simulate-module)
    }

``lens_position_um`` is the lens displacement from its infinity position (or any fixed
origin), um; frames may be listed in any order. Every file is written atomically.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from focuslab.data.image_files import read_image, write_png
from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.files import ensure_dir, write_json_atomic
from focuslab.hw.qualify import normalize_raw

SERIES_FORMAT = "focuslab.module_series/1"
MANIFEST = "series.json"


@dataclass(frozen=True)
class ModuleSeries:
    """A loaded series: normalised frames (full scale 1.0, black removed) and their metadata."""

    frames: tuple[np.ndarray, ...]
    lens_positions_um: np.ndarray
    pixel_pitch_um: float | None
    decenter_tilt_deg_per_mm: float
    truth: dict[str, Any] | None = None
    files: tuple[str, ...] = field(default=())


def write_series(out_dir: str | os.PathLike, frames, lens_positions_um, *, pixel_pitch_um: float,
                 black_level_dn: float, white_level_dn: float, decenter_tilt_deg_per_mm: float = 0.0,
                 truth: dict[str, Any] | None = None) -> Path:
    """Write ``frames`` (``uint16`` grey) as a series folder; returns the manifest path."""
    root = ensure_dir(out_dir)
    entries = []
    for i, (frame, pos) in enumerate(zip(frames, lens_positions_um, strict=True)):
        name = f"frame_{i:03d}.png"
        write_png(root / name, np.asarray(frame, dtype=np.uint16))
        entries.append({"file": name, "lens_position_um": round(float(pos), 4)})
    manifest: dict[str, Any] = {
        "format": SERIES_FORMAT, "frames": entries, "pixel_pitch_um": float(pixel_pitch_um),
        "black_level_dn": float(black_level_dn), "white_level_dn": float(white_level_dn),
        "decenter_tilt_deg_per_mm": float(decenter_tilt_deg_per_mm),
    }
    if truth is not None:
        manifest["truth"] = truth
    return write_json_atomic(root / MANIFEST, manifest)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputFileError(f"{what} must be a finite number, got {value!r}; fix {MANIFEST}")
    return float(value)


def read_series(path: str | os.PathLike) -> ModuleSeries:
    """Load a series folder (module notes).

    Raises
    ------
    InputFileError
        Missing folder or manifest, bad JSON, wrong format, a frame without a file or a
        ``lens_position_um``, unreadable or colour frames.
    """
    root = Path(path)
    if not root.is_dir():
        raise InputFileError(f"series folder {str(root)!r} does not exist; give a folder with {MANIFEST}")
    man_path = root / MANIFEST
    if not man_path.is_file():
        raise InputFileError(
            f"{str(root)!r} has no {MANIFEST}; write one (format {SERIES_FORMAT}, docs/hw_qualification.md)")
    try:
        man = json.loads(man_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputFileError(f"cannot read {str(man_path)!r} as JSON ({exc}); fix the file") from None
    if not isinstance(man, dict) or man.get("format") != SERIES_FORMAT:
        got = man.get("format") if isinstance(man, dict) else None
        raise InputFileError(f"{str(man_path)!r}: format must be {SERIES_FORMAT!r}, got {got!r}")
    entries = man.get("frames")
    if not isinstance(entries, list) or not entries:
        raise InputFileError(f"{str(man_path)!r}: 'frames' must be a non-empty list of {{file, lens_position_um}}")
    black = _number(man.get("black_level_dn", 0.0), "black_level_dn")
    white = man.get("white_level_dn")
    white = None if white is None else _number(white, "white_level_dn")
    pitch = man.get("pixel_pitch_um")
    pitch = None if pitch is None else _number(pitch, "pixel_pitch_um")
    frames, positions, files = [], [], []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or not isinstance(e.get("file"), str):
            raise InputFileError(f"{str(man_path)!r}: frame {i} has no 'file'")
        if "lens_position_um" not in e:
            raise InputFileError(f"{str(man_path)!r}: frame {i} ({e['file']!r}) has no lens_position_um; add it")
        positions.append(_number(e["lens_position_um"], f"frame {i} lens_position_um"))
        img = read_image(root / e["file"])
        if img.ndim != 2:
            raise InputFileError(f"{e['file']!r} is not a grey image (shape {img.shape}); store raw mono frames")
        try:
            frames.append(normalize_raw(img, black_level_dn=black, white_level_dn=white))
        except InvalidParameterError as exc:
            raise InputFileError(f"{str(man_path)!r}: {exc}") from None
        files.append(e["file"])
    return ModuleSeries(tuple(frames), np.asarray(positions), pitch,
                        _number(man.get("decenter_tilt_deg_per_mm", 0.0), "decenter_tilt_deg_per_mm"),
                        man.get("truth") if isinstance(man.get("truth"), dict) else None, tuple(files))
