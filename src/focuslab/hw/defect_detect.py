"""Static defect-pixel detection from averaged dark and flat-field frames, per CFA plane.

Definitions (the codes of the defect map, :class:`DefectCode`)
--------------------------------------------------------------
hot
    Too bright in the dark: the dark level exceeds the local reference by more than
    ``k_sigma`` robust sigmas (excess dark current or offset).
dead
    Too little response to light: the pixel's relative response in the flat,
    ``g = (flat - dark) / reference``, is below ``1 - k_sigma * sigma_g`` (from "weak" to no
    response at all; a pixel with zero response whose dark level is normal is dead).
stuck
    Does not respond (``|flat - dark| <= stuck_response_fraction`` of the local response)
    *and* sits at an abnormal level in the dark (off the local dark reference by more than
    ``k_sigma`` sigmas, high or low): a pixel frozen at one value, whatever the light. A pixel
    stuck within ``k_sigma`` sigmas of the normal dark level cannot be told from a dead one
    and is reported dead, unless the per-frame variances are given
    (:func:`~focuslab.hw.defect_frame_stats.frame_stats`): a pixel that did not change at all
    in any dark or flat frame is frozen, hence stuck.
bright
    Over-responsive: ``g > 1 + k_sigma * sigma_g`` (gain defect, not dark current).

Each pixel has one type; precedence stuck > hot > dead > bright. Pixels that belong to a
couplet or cluster (:mod:`focuslab.hw.defect_clusters`) carry the :data:`CLUSTER_FLAG` bit
on top of their type in the ``uint8`` map.

Thresholds from the frames' own statistics
------------------------------------------
Each plane is compared with the median of its 24 same-plane neighbours (5 x 5 plane window,
centre excluded, :func:`~focuslab.hw.defect_planes.neighbour_median`): a high-pass residual
that ignores shading, vignetting and any smooth illumination. Pixels near a defect then get
their reference again from their valid neighbours only (flagged ones left out; the 15 x 15
plane window near clusters, :func:`~focuslab.hw.defect_planes.masked_neighbour_median`), up
to eight passes, so a cluster does not hide its own centre (solid blocks up to 14 x 14 plane
pixels are found whole). The residual's spread
is a robust sigma (:func:`~focuslab.hw.defect_planes.robust_sigma`) in tiles of 32 x 32
plane pixels, so it contains everything that is *not* a defect: the fixed pattern (DSNU,
PRNU) and the temporal noise left in the average of ``n`` frames (sigma / sqrt(n)); a pixel
is a defect when it is an outlier against that spread.
With ``k_sigma = 5`` the one-sided false-alarm probability of a normal residual is
``Q(5) = 2.9e-7`` per test and pixel (about 3.4 pixels of a 12 MP frame per test, 1e-6 of
the pixels over all four tests), far below the 1e-4 (0.01 %) budget, while keeping the
detection limit at 5 sigma. A floor of the quantization noise of the mean,
``1 / sqrt(12 n)`` DN, keeps the threshold finite on noiseless data.

References
----------
EMVA Standard 1288, Release 4.0 (2021), Sec. 8 (DSNU/PRNU images, defect pixels and their
logarithmic histograms); Rousseeuw & Croux, "Alternatives to the median absolute deviation",
JASA 88 (1993) (the MAD's 1.4826 factor).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from focuslab.errors import InvalidParameterError, check_positive
from focuslab.hw.defect_planes import (
    check_cfa,
    check_mosaic,
    masked_neighbour_median,
    neighbour_median,
    plane_slices,
    tile_robust_sigma,
)
from focuslab.hw.defect_result import DefectCode, DefectResult, PlaneThresholds, finish_result

#: Default detection threshold in robust sigmas (see the module notes for the false-alarm rate).
DEFAULT_K_SIGMA = 5.0
#: Passes that re-measure the reference of pixels near defects without the defects.
_REFINE_PASSES = 8
#: Half-size of the window of the refinement's reference, plane pixels (15 x 15).
_REFINE_RADIUS_PX = 7
#: Fewest dark + flat frames for "no change in any frame" (frozen) to mark a pixel stuck.
_MIN_FRAMES_FROZEN = 8


def _types(r_dark: np.ndarray | None, s_dark: np.ndarray | None, signal: np.ndarray | None,
           ref: np.ndarray | None, s_gain: np.ndarray | None, frozen: np.ndarray | None, *, k: float,
           flat_level: float, stuck_response_fraction: float) -> np.ndarray:
    """Type codes from the residuals (elementwise: works on whole planes and on pixel subsets)."""
    shape = (r_dark if r_dark is not None else signal).shape
    types = np.zeros(shape, dtype=np.uint8)
    hot = stuck = dead = bright = np.zeros(shape, dtype=bool)
    if r_dark is not None:
        hot = r_dark > k * s_dark
    if signal is not None:
        safe = np.maximum(ref, 1e-3 * flat_level)
        g1 = signal / safe - 1.0
        dead = g1 < -k * s_gain
        bright = g1 > k * s_gain
        if r_dark is not None:
            off = np.abs(r_dark) > k * s_dark
            if frozen is not None:
                off |= frozen
            stuck = (np.abs(signal) <= stuck_response_fraction * safe) & off
    types[bright] = DefectCode.BRIGHT
    types[dead] = DefectCode.DEAD
    types[hot] = DefectCode.HOT
    types[stuck] = DefectCode.STUCK
    return types


def _refined_reference(plane: np.ndarray, bad: np.ndarray, ys: np.ndarray, xs: np.ndarray,
                       first: np.ndarray) -> np.ndarray:
    """Reference of the pixels ``(ys, xs)`` near defects, from their valid neighbours only.

    Near a cluster (3 or more flagged pixels among the 24 of the 5 x 5 plane window) the median
    of the valid pixels of the 15 x 15 window: a cluster's undetected inner pixels are outvoted
    there. Elsewhere (near singlets) the valid pixels of the 5 x 5 window: the wide window is
    biased where the shading curves, at the corners of a vignetted flat.
    """
    near = ndimage.convolve(bad.astype(np.int16), np.ones((5, 5), dtype=np.int16), mode="mirror")[ys, xs]
    near = near - bad[ys, xs]
    wide = near >= 3
    ref = masked_neighbour_median(plane, bad, ys, xs, fallback=first)
    if np.any(wide):
        ref[wide] = masked_neighbour_median(plane, bad, ys[wide], xs[wide], radius_px=_REFINE_RADIUS_PX,
                                            fallback=first[wide])
    return ref


def _classify_plane(dark: np.ndarray | None, flat: np.ndarray | None, frozen: np.ndarray | None, *, k: float,
                    n_dark: int, n_flat: int, black_level_dn: float, stuck_response_fraction: float,
                    name: str) -> tuple[np.ndarray, PlaneThresholds]:
    r_dark = s_dark = signal = ref_flat = s_gain = None
    sd_med = sg_med = None
    flat_level = 1.0
    if dark is not None:
        ref_dark = neighbour_median(dark)
        r_dark = dark - ref_dark
        s_dark = tile_robust_sigma(r_dark, floor=1.0 / math.sqrt(12.0 * n_dark))
        sd_med = float(np.median(s_dark))
    if flat is not None:
        signal = flat - (dark if dark is not None else black_level_dn)
        ref_flat = neighbour_median(signal)
        flat_level = float(np.median(ref_flat))
        if not flat_level > 0:
            raise InvalidParameterError(
                f"flat frames have no signal above {'the dark frames' if dark is not None else 'the black level'} "
                f"in plane {name} (median {flat_level:.3g} DN); give illuminated flat-field frames"
            )
        gain = signal / np.maximum(ref_flat, 1e-3 * flat_level)
        floor = 1.0 / math.sqrt(12.0 * n_flat) / flat_level
        s_gain = tile_robust_sigma(gain - 1.0, floor=floor)
        sg_med = float(np.median(s_gain))
    opts = {"k": k, "flat_level": flat_level, "stuck_response_fraction": stuck_response_fraction}
    types = _types(r_dark, s_dark, signal, ref_flat, s_gain, frozen, **opts)
    # refine: pixels near defects get their reference again from their *valid* neighbours, so
    # a defect blob up to ~12 x 12 plane pixels does not hide its centre
    for _ in range(_REFINE_PASSES):
        bad = types != 0
        if not np.any(bad):
            break
        ys, xs = np.nonzero(ndimage.binary_dilation(bad, structure=np.ones((5, 5), dtype=bool)))
        sub = (ys, xs)
        new = _types(
            None if dark is None else dark[sub] - _refined_reference(dark, bad, ys, xs, ref_dark[sub]),
            None if dark is None else s_dark[sub],
            None if flat is None else signal[sub],
            None if flat is None else _refined_reference(signal, bad, ys, xs, ref_flat[sub]),
            None if flat is None else s_gain[sub],
            None if frozen is None else frozen[sub], **opts,
        )
        changed = np.any(new != types[sub])
        types[sub] = new
        if not changed:
            break
    th = PlaneThresholds(
        plane=name, dark_sigma_dn=sd_med, gain_sigma=sg_med,
        hot_threshold_dn=None if sd_med is None else k * sd_med,
        dead_threshold_gain=None if sg_med is None else 1.0 - k * sg_med,
        flat_level_dn=None if flat is None else flat_level,
    )
    return types, th


def detect_defects(
    dark_dn: np.ndarray | None = None,
    flat_dn: np.ndarray | None = None,
    *,
    cfa: str = "mono",
    n_dark_frames: int = 1,
    n_flat_frames: int = 1,
    k_sigma: float = DEFAULT_K_SIGMA,
    black_level_dn: float = 0.0,
    white_level_dn: float | None = None,
    stuck_response_fraction: float = 0.1,
    dark_var_dn2: np.ndarray | None = None,
    flat_var_dn2: np.ndarray | None = None,
) -> DefectResult:
    """Hot, dead, stuck, bright pixels and their clusters from averaged dark and flat frames.

    Parameters
    ----------
    dark_dn, flat_dn
        Averaged dark and flat-field raw mosaics, DN (``H x W``, black level included); at
        least one. Dark alone finds hot pixels; flat alone dead/bright pixels (measured
        above ``black_level_dn``); both find all four types and tell stuck pixels apart.
    cfa
        Pattern of the mosaic (``"RGGB"``... or ``"mono"``): statistics per same-colour plane.
    n_dark_frames, n_flat_frames
        Frames in each average (sets the quantization floor of the noise, ``1/sqrt(12 n)``).
    k_sigma
        Threshold in robust sigmas (> 0); the default 5 is explained in the module notes.
    black_level_dn
        Used only for a flat without a dark.
    white_level_dn
        When given, flats with more than 1 % of the pixels at or above it are refused
        (a saturated flat hides dead pixels).
    stuck_response_fraction
        A pixel whose ``|flat - dark|`` is at most this fraction of its neighbours' response
        does not respond (stuck or dead); in (0, 1).
    dark_var_dn2, flat_var_dn2
        Optional per-pixel temporal variances of the averaged frames
        (:func:`~focuslab.hw.defect_frame_stats.frame_stats`).
        With both, a non-responding pixel whose value did not change at all in any dark or
        flat frame is *frozen*: stuck even at the normal dark level, where the levels alone
        would call it dead. Used only with at least 8 frames in all (a dead pixel of a sensor
        with read noise near 0.5 DN repeats one value over a few frames by chance).

    Returns
    -------
    DefectResult

    Raises
    ------
    InvalidParameterError
        No frame, frames of different shapes, non-finite values, a flat without signal or a
        saturated flat, or a parameter out of range.
    """
    if dark_dn is None and flat_dn is None:
        raise InvalidParameterError("give a dark frame, a flat frame or both to detect defect pixels")
    check_cfa(cfa)
    k = check_positive("k_sigma", k_sigma)
    if not 0.0 < stuck_response_fraction < 1.0:
        raise InvalidParameterError(f"stuck_response_fraction must be in (0, 1), got {stuck_response_fraction!r}")
    for nm, n in (("n_dark_frames", n_dark_frames), ("n_flat_frames", n_flat_frames)):
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise InvalidParameterError(f"{nm} must be an integer >= 1, got {n!r}")
    dark = None if dark_dn is None else check_mosaic("dark frame", dark_dn)
    flat = None if flat_dn is None else check_mosaic("flat frame", flat_dn)
    if dark is not None and flat is not None and dark.shape != flat.shape:
        raise InvalidParameterError(
            f"dark frame {dark.shape[1]}x{dark.shape[0]} and flat frame {flat.shape[1]}x{flat.shape[0]} differ in "
            "size; give frames from the same sensor mode"
        )
    if flat is not None and white_level_dn is not None:
        sat = float(np.mean(flat >= white_level_dn))
        if sat > 0.01:
            raise InvalidParameterError(
                f"the flat frame is saturated ({100 * sat:.1f} % of pixels at the white level {white_level_dn:g} DN); "
                "use flats at about 50 % of saturation"
            )
    shape = (dark if dark is not None else flat).shape
    frozen = None
    if dark is not None and flat is not None and dark_var_dn2 is not None and flat_var_dn2 is not None:
        for nm, v in (("dark_var_dn2", dark_var_dn2), ("flat_var_dn2", flat_var_dn2)):
            if np.shape(v) != shape:
                raise InvalidParameterError(f"{nm} has shape {np.shape(v)}, the frames {shape}")
        if n_dark_frames + n_flat_frames >= _MIN_FRAMES_FROZEN:
            frozen = (np.asarray(dark_var_dn2) == 0) & (np.asarray(flat_var_dn2) == 0)
    types = np.zeros(shape, dtype=np.uint8)
    planes = []
    for name, sl in plane_slices(cfa):
        t, th = _classify_plane(
            None if dark is None else dark[sl], None if flat is None else flat[sl],
            None if frozen is None else frozen[sl], k=k,
            n_dark=int(n_dark_frames), n_flat=int(n_flat_frames), black_level_dn=float(black_level_dn),
            stuck_response_fraction=float(stuck_response_fraction), name=name,
        )
        types[sl] = t
        planes.append(th)
    return finish_result(types, cfa=cfa, k_sigma=k, method="dark_flat", planes=tuple(planes),
                         n_dark_frames=int(n_dark_frames) if dark is not None else 0,
                         n_flat_frames=int(n_flat_frames) if flat is not None else 0)
