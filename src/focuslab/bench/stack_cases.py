"""Benchmark cases that replay a focal-stack folder (``focuslab bench --stack DIR``).

A stack becomes one suite, ``stack:<folder name>``, with three AF regions of a quarter of
the frame's width and height: the centre, the top and the bottom (on a sweep over a scene
receding upwards, such as a table top, the bottom is near and the top far). The folder is
checked first, so a bad folder fails in one line before anything runs: it must hold images,
all of one size, and when it has a ``stack.json`` every frame must state its
``lens_position``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from focuslab.bench.suites import AFCase
from focuslab.data.focal_stack import MANIFEST, FocalStack, read_focal_stack
from focuslab.errors import InputFileError

#: The AF regions of a replayed stack: name -> (x, y) of the region's top-left corner in frame fractions.
STACK_REGIONS = {"centre": (0.375, 0.375), "top": (0.375, 0.125), "bottom": (0.375, 0.625)}


def check_stack_folder(path: str | os.PathLike) -> tuple[FocalStack, tuple[int, int]]:
    """Open and validate a focal-stack folder; returns the stack and its frame shape ``(H, W)``.

    Raises
    ------
    InputFileError
        Missing folder or no images; a ``stack.json`` frame without ``lens_position``;
        frames of different sizes.
    """
    root = Path(path)
    man = root / MANIFEST
    if man.is_file():
        try:
            entries = json.loads(man.read_text(encoding="utf-8")).get("frames", [])
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            entries = []  # read_focal_stack reports what is wrong with the manifest
        missing = [i for i, e in enumerate(entries) if isinstance(e, dict) and "lens_position" not in e]
        if missing:
            raise InputFileError(
                f"{man}: frame(s) {', '.join(map(str, missing[:5]))} have no lens_position; "
                "give every frame its lens position (docs/focal_stack_format.md)"
            )
    stack = read_focal_stack(root)
    shapes = {}
    for i in range(len(stack)):
        shapes.setdefault(stack.read(i).shape[:2], i)
    if len(shapes) > 1:
        listed = ", ".join(f"{w}x{h} (frame {i})" for (h, w), i in shapes.items())
        raise InputFileError(f"{root} mixes frame sizes {listed}; a focal stack needs frames of one size")
    if len(stack) < 3:
        raise InputFileError(f"{root} has {len(stack)} frame(s); a focal stack to replay needs at least 3")
    return stack, next(iter(shapes))


def stack_regions(shape: tuple[int, int]) -> dict[str, tuple[int, int, int, int]]:
    """The even-aligned AF regions ``(x, y, w, h)`` of :data:`STACK_REGIONS` on a frame of ``shape``."""
    h, w = shape
    rw, rh = 2 * (w // 8), 2 * (h // 8)
    return {name: (2 * int(fx * w / 2), 2 * int(fy * h / 2), rw, rh) for name, (fx, fy) in STACK_REGIONS.items()}


def stack_suite_cases(path: str | os.PathLike) -> tuple[str, list[AFCase]]:
    """The suite name and cases (one per AF region) replaying the focal-stack folder ``path``."""
    _, shape = check_stack_folder(path)
    root = Path(path).resolve()
    suite = f"stack:{root.name}"
    cases = [
        AFCase(suite=suite, case_id=name, scene=root.name, scene_options=(), subject_distance_m=None,
               illuminance_lux=0.0, camera="replay", roi=roi, start_code=None, seed=0, stack=str(root))
        for name, roi in stack_regions(shape).items()
    ]
    return suite, cases
