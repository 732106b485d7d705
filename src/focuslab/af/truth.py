"""`Truth`: what really happened at one AF frame, known to the backend and hidden from policies."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Truth:
    """What really happened at one frame (hidden from the policies).

    Attributes
    ----------
    best_code
        Real-valued code that focuses the AF region's subject (replay: the lens position of
        the region's sharpest frame, interpolated).
    focus_error_dof
        Focus error of the subject with the lens where it truly was, depth-of-focus units
        (|c| / c_max); None when unknown (replay without optics or focus distances).
    lens_code_true
        Where the lens really was, in code units (replay: the frame's lens position).
    subject_distance_m
        The region's subject distance, metres (None when unknown).
    focus_error_frames
        Replay: |index of the frame shown - index of the sharpest frame| (frames, real-valued);
        None for the simulator.
    """

    best_code: float
    focus_error_dof: float | None
    lens_code_true: float
    subject_distance_m: float | None = None
    focus_error_frames: float | None = None
