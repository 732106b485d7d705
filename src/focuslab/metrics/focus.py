"""Focus-measure operators (sharpness of an image, an ROI, or every frame of a focal stack).

The 28 operators of Pertuz, Puig & Garcia (2013), "Analysis of focus measure operators for
shape-from-focus", Pattern Recognition 46(5):1415-1432, as in their public MATLAB
``fmeasure`` code, plus GLVM from its 2016 version, registered under their acronyms in six
families:

========== ==================================================
gradient   GDER GRAE GRAS GRAT TENG TENV
laplacian  LAPD LAPE LAPM LAPV
wavelet    WAVR WAVS WAVV
statistics GLLV GLVA GLVM GLVN HISE HISR
dct        DCTE DCTR
misc.      ACMO BREN CONT CURV HELM SFIL SFRQ VOLA
========== ==================================================

Larger is sharper for every operator. Images are numpy ``H x W`` or ``H x W x C`` (channel
last; colour is averaged to grey), linear light; :func:`focus_curve` evaluates an operator on
every frame of an ``N x H x W[ x C]`` stack with array operations over all frames at once
(in chunks that bound memory), not a Python loop per frame; :func:`focus_map` gives the
per-pixel focus of every frame (shape from focus). Each operator's equation,
deviations from ``fmeasure`` and original reference are in its docstring (modules
``focus_gradient``, ``focus_laplacian``, ``focus_wavelet``, ``focus_statistics``,
``focus_dct``, ``focus_misc``) and in docs/focus_measures.md.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.metrics import (  # noqa: F401  (importing registers the operators)
    focus_dct,
    focus_gradient,
    focus_laplacian,
    focus_misc,
    focus_statistics,
    focus_wavelet,
)
from focuslab.metrics.focus_filters import box_mean
from focuslab.metrics.focus_registry import FAMILIES, FOCUS_MEASURES, FocusMeasureSpec

#: Pixels per chunk of frames processed together by :func:`focus_curve` (bounds memory).
CHUNK_PIXELS = 1 << 16


def focus_measure_names() -> list[str]:
    """Registered operator acronyms, sorted."""
    return FOCUS_MEASURES.names()


def focus_measure_spec(name: str) -> FocusMeasureSpec:
    """Registry entry of operator ``name`` (family, description, reference, default window)."""
    return FOCUS_MEASURES.get(name)


def describe_focus_measure(name: str) -> str:
    """One-line description of operator ``name``, with its family and original reference."""
    spec = FOCUS_MEASURES.get(name)
    window = f"; window {spec.window_px} px" if spec.window_px else ""
    return f"{spec.description} [{spec.family}; {spec.reference}{window}]"


def focus_measure_families() -> dict[str, list[str]]:
    """Operator acronyms of each family of Pertuz et al. (2013), in family order."""
    out: dict[str, list[str]] = {f: [] for f in FAMILIES}
    for name in focus_measure_names():
        out[FOCUS_MEASURES.get(name).family].append(name)
    return out


def _check_roi(roi: Sequence[int], height: int, width: int) -> tuple[int, int, int, int]:
    try:
        x, y, w, h = (int(v) for v in roi)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"ROI must be four integers (x, y, w, h), got {roi!r}") from None
    if w < 3 or h < 3 or x < 0 or y < 0 or x + w > width or y + h > height:
        raise InvalidParameterError(
            f"ROI {tuple(roi)} is not a region of at least 3x3 inside the "
            f"{width}x{height} image; give (x, y, w, h) within the frame"
        )
    return x, y, w, h


def _grey_frames(frames: np.ndarray, roi: Sequence[int] | None) -> np.ndarray:
    """``N x H x W[ x C]`` -> float64 ``N x h x w`` grey, ROI-cropped and finite."""
    arr = np.asarray(frames)
    if arr.dtype.kind not in "biuf":
        raise InvalidParameterError(f"focus measures need a numeric image, got dtype {arr.dtype}")
    if arr.ndim == 4:
        arr = arr.mean(axis=3)
    if arr.ndim != 3:
        raise InvalidParameterError(
            f"focus measures need H x W or H x W x C images, got frames of shape {arr.shape[1:]}"
        )
    if roi is not None:
        x, y, w, h = _check_roi(roi, arr.shape[1], arr.shape[2])
        arr = arr[:, y : y + h, x : x + w]
    if arr.shape[1] < 3 or arr.shape[2] < 3:
        size = f"{arr.shape[2]}x{arr.shape[1]}"
        raise InvalidParameterError(f"image {size} is too small; focus measures need 3x3 pixels or more")
    arr = np.asarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise InvalidParameterError("image contains NaN or inf; clean it before measuring focus")
    return arr


def _resolve_window(spec: FocusMeasureSpec, window_px: int | None, height: int, width: int) -> int | None:
    if window_px is None:
        if spec.family == "dct" and spec.window_px > min(height, width):
            raise InvalidParameterError(
                f"{spec.name} needs an image of at least {spec.window_px}x{spec.window_px} for its default window; "
                f"use a larger ROI or a smaller window_px"
            )
        return spec.window_px
    if spec.window_px is None:
        windowed = [n for n in focus_measure_names() if FOCUS_MEASURES.get(n).window_px]
        raise InvalidParameterError(
            f"{spec.name} uses no local window; leave window_px unset (windowed: {', '.join(windowed)})"
        )
    if isinstance(window_px, bool) or not isinstance(window_px, (int, np.integer)):
        raise InvalidParameterError(f"window_px must be an integer number of pixels, got {window_px!r}")
    lowest = 2 if spec.name == "DCTE" else 3
    if window_px < lowest:
        raise InvalidParameterError(f"window_px for {spec.name} must be >= {lowest}, got {window_px}")
    if spec.family == "dct" and window_px > min(height, width):
        raise InvalidParameterError(
            f"window_px {window_px} of {spec.name} exceeds the {width}x{height} image; use a smaller window or ROI"
        )
    return int(window_px)


def _evaluate(spec: FocusMeasureSpec, grey: np.ndarray, window_px: int | None) -> np.ndarray:
    window = _resolve_window(spec, window_px, grey.shape[1], grey.shape[2])
    if spec.non_negative and np.any(grey < 0):
        raise InvalidParameterError(
            f"{spec.name} divides by grey levels and needs a non-negative (linear-light) image; "
            "remove the offset or use another measure"
        )
    return np.asarray(spec.function(grey, window), dtype=np.float64)


def focus_measure(
    image: np.ndarray, method: str = "TENG", *, roi: Sequence[int] | None = None, window_px: int | None = None
) -> float:
    """Focus measure ``method`` of ``image`` (or of its ROI); larger is sharper.

    Parameters
    ----------
    image
        ``H x W`` or ``H x W x C`` numeric array (channel last; channels are averaged to
        grey), linear light.
    method
        Acronym of Pertuz et al. (2013), see :func:`focus_measure_names`.
    roi
        ``(x, y, w, h)`` in pixels (x = column of the left edge, y = row of the top edge); at
        least 3 x 3 and inside the image. None = the whole image.
    window_px
        Local window size, pixels, for the operators that use one (GDER, SFIL, GLLV, GLVM,
        HELM: default 15; DCTE, DCTR: default 8, ``fmeasure``'s defaults). None = the default.

    Returns
    -------
    float
        The focus value.

    Raises
    ------
    UnknownNameError
        For an unknown ``method`` (the message lists the valid ones).
    InvalidParameterError
        For a wrong shape, an ROI outside the image, NaN/inf pixels, a window for an operator
        without one, or a negative image given to a ratio operator (GLVN, HELM, DCTE, DCTR,
        WAVR).
    """
    spec = FOCUS_MEASURES.get(method)
    arr = np.asarray(image)
    if arr.ndim not in (2, 3):
        raise InvalidParameterError(f"focus measures need an H x W or H x W x C image, got shape {arr.shape}")
    return float(_evaluate(spec, _grey_frames(arr[None], roi), window_px)[0])


def focus_curve(
    stack: Sequence[np.ndarray] | np.ndarray,
    method: str = "TENG",
    *,
    roi: Sequence[int] | None = None,
    window_px: int | None = None,
) -> np.ndarray:
    """Focus measure of every frame of a focal stack, computed over all frames at once.

    Parameters
    ----------
    stack
        ``N x H x W`` (grey) or ``N x H x W x C`` array, or a sequence of N frames of equal
        shape. Axis 0 is always the frame axis.
    method, roi, window_px
        As :func:`focus_measure` (the same ROI in every frame).

    Returns
    -------
    numpy.ndarray
        float64 ``(N,)``; element i equals ``focus_measure(stack[i], method, ...)``.

    Notes
    -----
    Frames are processed in chunks of about ``CHUNK_PIXELS`` pixels; within a chunk every
    operation acts on the whole ``n x H x W`` block.
    """
    spec = FOCUS_MEASURES.get(method)
    if isinstance(stack, np.ndarray):
        frames = stack
        if frames.ndim not in (3, 4):
            raise InvalidParameterError(f"a focal stack is N x H x W or N x H x W x C, got shape {frames.shape}")
    else:
        frames = list(stack)
        shapes = {np.shape(f) for f in frames}
        if len(shapes) > 1:
            raise InvalidParameterError(f"frames of a focal stack must share one shape, got {sorted(shapes)}")
    n = len(frames)
    if n == 0:
        return np.zeros(0)
    frame_pixels = int(np.prod(np.shape(frames[0])[:2]))
    step = max(1, CHUNK_PIXELS // max(frame_pixels, 1))
    out = []
    for start in range(0, n, step):
        chunk = frames[start : start + step]
        chunk = chunk if isinstance(chunk, np.ndarray) else np.stack(chunk)
        out.append(_evaluate(spec, _grey_frames(chunk, roi), window_px))
    return np.concatenate(out)


def focus_map_names() -> list[str]:
    """Operators with a per-pixel response, usable by :func:`focus_map`."""
    return [n for n in focus_measure_names() if FOCUS_MEASURES.get(n).response is not None]


def focus_map(
    stack: Sequence[np.ndarray] | np.ndarray,
    method: str = "LAPM",
    *,
    window_px: int | None = None,
    smooth_px: int = 15,
) -> np.ndarray:
    """Per-pixel focus of every frame (shape from focus): the operator's response, locally averaged.

    Parameters
    ----------
    stack
        ``N x H x W`` or ``N x H x W x C`` array, or a sequence of N frames of equal shape
        (a single image: ``image[None]``).
    method
        An operator that is the mean of a per-pixel response (:func:`focus_map_names`).
    window_px
        The operator's own window (as :func:`focus_measure`).
    smooth_px
        Side of the box over which the response is averaged around each pixel, pixels
        (``fmeasure``'s local mode: ``imfilter(response, fspecial('average', w), 'replicate')``,
        w = 15).

    Returns
    -------
    numpy.ndarray
        float64 ``N x H x W``; ``np.argmax(result, axis=0)`` is the sharpest frame of each
        pixel. Responses smaller than the frame (differences, windows inside the frame) are
        centred and their edges replicated to the frame size before averaging.

    Raises
    ------
    InvalidParameterError
        For an operator without a per-pixel response (the message lists those with one), a
        bad ``smooth_px``, or the errors of :func:`focus_curve`.
    """
    spec = FOCUS_MEASURES.get(method)
    if spec.response is None:
        raise InvalidParameterError(
            f"{spec.name} has no per-pixel form; focus_map takes one of {', '.join(focus_map_names())}"
        )
    if isinstance(smooth_px, bool) or not isinstance(smooth_px, (int, np.integer)) or smooth_px < 1:
        raise InvalidParameterError(f"smooth_px must be an integer >= 1, got {smooth_px!r}")
    frames = stack if isinstance(stack, np.ndarray) else np.stack(list(stack))
    if frames.ndim not in (3, 4):
        raise InvalidParameterError(f"a focal stack is N x H x W or N x H x W x C, got shape {frames.shape}")
    grey = _grey_frames(frames, None)
    window = _resolve_window(spec, window_px, grey.shape[1], grey.shape[2])
    if spec.non_negative and np.any(grey < 0):
        raise InvalidParameterError(
            f"{spec.name} divides by grey levels and needs a non-negative (linear-light) image; "
            "remove the offset or use another measure"
        )
    height, width = grey.shape[1:]
    out = np.empty(grey.shape, dtype=np.float64)
    step = max(1, CHUNK_PIXELS // (height * width))
    for start in range(0, grey.shape[0], step):
        resp = np.asarray(spec.response(grey[start : start + step], window), dtype=np.float64)
        dh, dw = height - resp.shape[1], width - resp.shape[2]
        resp = np.pad(resp, ((0, 0), (dh // 2, dh - dh // 2), (dw // 2, dw - dw // 2)), mode="edge")
        out[start : start + step] = box_mean(resp, int(smooth_px))
    return out


def peak_position(positions: Sequence[float], curve: Sequence[float]) -> float:
    """Sub-sample position of a focus curve's maximum by a parabola through the top 3 points.

    Standard refinement of contrast-AF peaks (e.g. Kehtarnavaz & Oh 2003); at an end of the
    sweep the end position is returned.
    """
    p = np.asarray(positions, dtype=float)
    c = np.asarray(curve, dtype=float)
    if p.shape != c.shape or p.size < 1:
        raise InvalidParameterError("positions and curve must be non-empty and of equal length")
    i = int(np.argmax(c))
    if i == 0 or i == p.size - 1:
        return float(p[i])
    x0, x1, x2 = p[i - 1 : i + 2]
    y0, y1, y2 = c[i - 1 : i + 2]
    denom = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denom
    b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / denom
    if a >= 0:
        return float(p[i])
    return float(np.clip(-b / (2 * a), x0, x2))
