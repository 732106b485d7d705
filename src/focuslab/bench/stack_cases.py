"""Benchmark cases that replay a focal-stack folder (``focuslab bench --stack DIR``).

A stack becomes one suite, ``stack:<folder name>``, with three AF regions of 1/8 of the
frame's width and height, centred on the frame's vertical midline: at the centre, at 20 %
from the top and at 20 % from the bottom (on a sweep over a scene receding upwards, such as
a table top, the bottom is near and the top far). The folder is
checked first (:class:`focuslab.af.replay.ReplayStack`), so a bad folder fails in one line
before anything runs: it must hold images, all of one size, each at its own lens position,
and in a ``stack.json`` every frame must state its ``lens_position`` when any does.
"""

from __future__ import annotations

import os
from pathlib import Path

from focuslab.af.regions import STACK_REGIONS, stack_regions  # noqa: F401  (re-exported)
from focuslab.bench.af_case import AFCase
from focuslab.errors import InputFileError


def check_stack_folder(path: str | os.PathLike):
    """Open and validate a focal-stack folder for replay; returns the loaded ``ReplayStack``.

    Raises
    ------
    InputFileError
        Missing folder or no images, frames of different sizes, missing or repeated lens
        positions, unreadable images, fewer than 3 frames.
    """
    from focuslab.af.replay import ReplayStack

    rs = ReplayStack(path)
    if len(rs) < 3:
        raise InputFileError(f"{path} has {len(rs)} frame(s); a focal stack to replay needs at least 3")
    return rs


def stack_suite_cases(path: str | os.PathLike) -> tuple[str, list[AFCase]]:
    """The suite name and cases (one per AF region) replaying the focal-stack folder ``path``."""
    shape = check_stack_folder(path).frame_shape_px
    root = Path(path).resolve()
    suite = f"stack:{root.name}"
    cases = [
        AFCase(suite=suite, case_id=name, scene=root.name, scene_options=(), subject_distance_m=None,
               illuminance_lux=0.0, camera="replay", roi=roi, start_code=None, seed=0, stack=str(root))
        for name, roi in stack_regions(shape).items()
    ]
    return suite, cases
