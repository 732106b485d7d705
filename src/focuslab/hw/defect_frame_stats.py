"""Per-pixel mean and temporal variance of a stack of frames, streamed (one pass, three frames in memory)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from focuslab.errors import InvalidParameterError


@dataclass(frozen=True, eq=False)
class FrameStats:
    """Per-pixel mean and temporal variance of ``n`` equally shaped frames (DN, DN^2)."""

    mean_dn: np.ndarray
    var_dn2: np.ndarray | None
    n_frames: int


def frame_stats(frames: Iterable[np.ndarray], *, name: str = "frames") -> FrameStats:
    """Mean and unbiased temporal variance of frames, streamed (memory of three frames).

    Sums are taken relative to the first frame (a shifted-data variance: no cancellation for
    large values with small noise), so a pixel with the same value in every frame has a variance
    of exactly 0. ``var_dn2`` is None for a single frame.

    Raises
    ------
    InvalidParameterError
        On no frame, or frames of different shapes (the message gives both shapes).
    """
    first: np.ndarray | None = None
    total = total_sq = None
    n = 0
    for f in frames:
        arr = np.asarray(f, dtype=np.float64)
        if first is None:
            first = arr.copy()
            total = np.zeros(arr.shape)
            total_sq = np.zeros(arr.shape)
        elif arr.shape != first.shape:
            raise InvalidParameterError(
                f"{name}: frame {n + 1} has shape {arr.shape}, frame 1 has {first.shape}; all frames must be the "
                "same size"
            )
        d = arr - first
        total += d
        total_sq += d * d
        n += 1
    if first is None:
        raise InvalidParameterError(f"{name}: no frame given")
    mean = first + total / n
    var = None if n < 2 else np.maximum(total_sq - total * total / n, 0.0) / (n - 1)
    return FrameStats(mean_dn=mean, var_dn2=var, n_frames=n)


def mean_frame(frames: Iterable[np.ndarray], *, name: str = "frames") -> tuple[np.ndarray, int]:
    """Average of equally shaped frames, streamed; returns (mean, n). See :func:`frame_stats`."""
    st = frame_stats(frames, name=name)
    return st.mean_dn, st.n_frames
