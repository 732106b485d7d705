"""Focal-stack folders: the exchange format between simulation, capture, AF replay and metrics.

A focal-stack folder holds one image per lens position plus ``stack.json``::

    {"format": "focuslab.focal_stack/1",
     "camera": {"focal_length_mm": 4.38, "f_number": 1.73, "pixel_pitch_um": 1.4,
                "black_level_dn": 64, "white_level_dn": 1023, "cfa": "RGGB", ...},
     "frames": [{"file": "frame_000.png", "lens_position": 0, "focus_distance_m": 1.2,
                 "exposure_s": 0.01, "left": "frame_000_left.png",
                 "right": "frame_000_right.png"}, ...],   # focus_distance_m null = infinity
     "ground_truth": {"subject_distance_m": 0.8}
                  or {"regions": [{"roi": [x, y, w, h], "subject_distance_m": 0.8}]}}

Frames may be mono or RGB, raw DN (with ``black_level_dn``/``white_level_dn``/``cfa`` in
"camera") or processed. The reader also accepts folders of real captures: any image files,
with lens positions in ``stack.json`` or, when there is none, the file order (natural sort)
as the lens position. The full specification is docs/focal_stack_format.md.

Writing is atomic per file and ``stack.json`` is written last, so a folder with a
``stack.json`` is always complete; :class:`FocalStackWriter` records progress so an
interrupted job resumes where it stopped.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from focuslab.data.image_files import IMAGE_SUFFIXES, read_image, write_png
from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.files import ensure_dir, write_json_atomic

FORMAT = "focuslab.focal_stack/1"
MANIFEST = "stack.json"
_PROGRESS = ".stack.progress.json"


@dataclass(frozen=True)
class StackFrame:
    """One frame of a focal stack: file names (relative to the folder) and lens state."""

    file: str
    lens_position: float
    focus_distance_m: float | None = None
    exposure_s: float | None = None
    left: str | None = None
    right: str | None = None
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class FocalStack:
    """A focal-stack folder, read lazily (frames are loaded on demand)."""

    root: Path
    frames: tuple[StackFrame, ...]
    camera: dict = field(default_factory=dict)
    ground_truth: dict | None = None

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def lens_positions(self) -> np.ndarray:
        """Lens position of each frame (float64, in frame order)."""
        return np.array([f.lens_position for f in self.frames], dtype=float)

    @property
    def has_dual_pixel(self) -> bool:
        """Whether every frame has left/right sub-images."""
        return all(f.left and f.right for f in self.frames)

    def nearest_index(self, lens_position: float) -> int:
        """Index of the frame whose lens position is nearest ``lens_position``."""
        return int(np.argmin(np.abs(self.lens_positions - float(lens_position))))

    def read(self, index: int, view: str = "image") -> np.ndarray:
        """Frame ``index`` as stored (``uint8``/``uint16``); ``view`` is image, left or right."""
        if not 0 <= index < len(self.frames):
            raise InvalidParameterError(f"frame index {index} outside 0..{len(self.frames) - 1}")
        fr = self.frames[index]
        name = {"image": fr.file, "left": fr.left, "right": fr.right}.get(view, "?")
        if name == "?":
            raise InvalidParameterError(f"view must be 'image', 'left' or 'right', got {view!r}")
        if name is None:
            raise InputFileError(f"frame {index} of {self.root} has no {view} sub-image (not dual-pixel)")
        return read_image(self.root / name)

    def read_linear(self, index: int, view: str = "image") -> np.ndarray:
        """Frame ``index`` as float32 with the black level removed (DN above black).

        Raw frames (``black_level_dn`` in ``camera``) lose their black level; for dual-pixel
        sub-images each carries its own black level. Processed frames are returned as float32
        values unchanged.
        """
        img = self.read(index, view).astype(np.float32)
        black = self.camera.get("black_level_dn")
        if black is not None:
            img = np.maximum(img - np.float32(black), 0.0)
        return img

    def subject_distance_m(self, roi: Sequence[int] | None = None) -> float | None:
        """Ground-truth subject distance for the whole frame or the region containing ``roi``."""
        gt = self.ground_truth or {}
        if "subject_distance_m" in gt and roi is None:
            return float(gt["subject_distance_m"])
        for region in gt.get("regions", []):
            if roi is None or list(region["roi"]) == list(roi):
                return float(region["subject_distance_m"])
        return float(gt["subject_distance_m"]) if "subject_distance_m" in gt else None


def _natural_key(name: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", name)]


def _number(value: Any, what: str, where: Path) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputFileError(f"{where}: {what} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise InputFileError(f"{where}: {what} must be finite, got {value!r}")
    return v


def _focus_distance(entry: dict, i: int, where: Path) -> float | None:
    """``focus_distance_m``: absent -> unknown (None); JSON null -> infinity."""
    if "focus_distance_m" not in entry:
        return None
    if entry["focus_distance_m"] is None:
        return math.inf
    return _number(entry["focus_distance_m"], f"frame {i} focus_distance_m", where)


def _frames_from_manifest(root: Path, manifest: dict, where: Path) -> list[StackFrame]:
    entries = manifest.get("frames")
    if not isinstance(entries, list) or not entries:
        raise InputFileError(f"{where}: 'frames' must be a non-empty list of {{'file': ...}} entries")
    frames = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or "file" not in e:
            raise InputFileError(f"{where}: frame {i} needs a 'file' entry")
        for key in ("file", "left", "right"):
            if e.get(key) is not None and not (root / str(e[key])).is_file():
                raise InputFileError(f"{where}: frame {i} names {e[key]!r}, which is not in {root}")
        known = {"file", "lens_position", "focus_distance_m", "exposure_s", "left", "right"}
        frames.append(
            StackFrame(
                file=str(e["file"]),
                lens_position=_number(e.get("lens_position", i), f"frame {i} lens_position", where),
                focus_distance_m=_focus_distance(e, i, where),
                exposure_s=(
                    None if e.get("exposure_s") is None else _number(e["exposure_s"], "exposure_s", where)
                ),
                left=None if e.get("left") is None else str(e["left"]),
                right=None if e.get("right") is None else str(e["right"]),
                extra={k: v for k, v in e.items() if k not in known},
            )
        )
    return frames


def read_focal_stack(path: str | os.PathLike) -> FocalStack:
    """Open a focal-stack folder (focuslab format or a plain folder of real captures).

    Raises
    ------
    InputFileError
        The folder is missing, has no images, or ``stack.json`` is corrupt / names missing files.
    """
    root = Path(path)
    if not root.is_dir():
        raise InputFileError(f"focal-stack folder {str(root)!r} does not exist; check the path")
    man_path = root / MANIFEST
    if man_path.is_file():
        try:
            manifest = json.loads(man_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputFileError(f"{man_path} is not valid JSON ({exc}); fix or delete it") from None
        if not isinstance(manifest, dict):
            raise InputFileError(f"{man_path} must hold a JSON object")
        fmt = manifest.get("format", FORMAT)
        if fmt != FORMAT:
            raise InputFileError(f"{man_path}: unsupported format {fmt!r}; this reader knows {FORMAT!r}")
        frames = _frames_from_manifest(root, manifest, man_path)
        camera = manifest.get("camera") or {}
        if not isinstance(camera, dict):
            raise InputFileError(f"{man_path}: 'camera' must be an object")
        gt = manifest.get("ground_truth")
        if gt is not None and not isinstance(gt, dict):
            raise InputFileError(f"{man_path}: 'ground_truth' must be an object")
        return FocalStack(root=root, frames=tuple(frames), camera=dict(camera), ground_truth=gt)
    files = sorted(
        (p.name for p in root.iterdir()
         if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")),
        key=_natural_key,
    )
    if not files:
        raise InputFileError(
            f"{root} has neither {MANIFEST} nor image files; give a focal-stack folder "
            f"(see docs/focal_stack_format.md)"
        )
    frames = [StackFrame(file=name, lens_position=float(i)) for i, name in enumerate(files)]
    return FocalStack(root=root, frames=tuple(frames))


class FocalStackWriter:
    """Write a focal-stack folder frame by frame, resumably.

    Each frame's images are written atomically and recorded in a hidden progress file;
    :meth:`finish` writes ``stack.json`` (atomically, last). Re-opening a writer on the same
    folder with ``resume=True`` keeps the frames already done (:meth:`done`), so an
    interrupted job continues where it stopped.
    """

    def __init__(self, out_dir: str | os.PathLike, *, camera: dict, resume: bool = False):
        self.root = ensure_dir(out_dir)
        self.camera = dict(camera)
        self._entries: dict[int, dict] = {}
        prog = self.root / _PROGRESS
        if resume and prog.is_file():
            try:
                saved = json.loads(prog.read_text(encoding="utf-8"))
                if saved.get("camera") == json.loads(json.dumps(self.camera)):
                    self._entries = {int(k): v for k, v in saved.get("frames", {}).items()
                                     if (self.root / v["file"]).is_file()}
            except (json.JSONDecodeError, KeyError, TypeError, ValueError):
                self._entries = {}

    def done(self, index: int) -> bool:
        """Whether frame ``index`` was already written (by this or an interrupted run)."""
        return index in self._entries

    def add(
        self,
        index: int,
        image: np.ndarray,
        *,
        lens_position: float,
        focus_distance_m: float | None = None,
        exposure_s: float | None = None,
        left: np.ndarray | None = None,
        right: np.ndarray | None = None,
        extra: dict | None = None,
    ) -> None:
        """Write frame ``index`` (uint16/uint8 images) and record it."""
        entry: dict[str, Any] = {"file": f"frame_{index:03d}.png", "lens_position": lens_position}
        if focus_distance_m is not None:
            # JSON has no infinity: focus at infinity is written as null (see the format doc)
            entry["focus_distance_m"] = focus_distance_m if math.isfinite(focus_distance_m) else None
        if exposure_s is not None:
            entry["exposure_s"] = exposure_s
        if (left is None) != (right is None):
            raise InvalidParameterError("give both left and right sub-images, or neither")
        if left is not None:
            entry["left"] = f"frame_{index:03d}_left.png"
            entry["right"] = f"frame_{index:03d}_right.png"
            write_png(self.root / entry["left"], left)
            write_png(self.root / entry["right"], right)
        if extra:
            entry.update(extra)
        write_png(self.root / entry["file"], image)
        self._entries[index] = entry
        write_json_atomic(
            self.root / _PROGRESS,
            {"camera": self.camera, "frames": {str(k): v for k, v in self._entries.items()}},
        )

    def finish(self, *, ground_truth: dict | None = None, metadata: dict | None = None) -> Path:
        """Write ``stack.json`` (frames in index order) and remove the progress file."""
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "camera": self.camera,
            "frames": [self._entries[k] for k in sorted(self._entries)],
        }
        if ground_truth is not None:
            manifest["ground_truth"] = ground_truth
        if metadata:
            manifest["metadata"] = metadata
        path = write_json_atomic(self.root / MANIFEST, manifest)
        (self.root / _PROGRESS).unlink(missing_ok=True)
        return path
