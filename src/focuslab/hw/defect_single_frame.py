"""Single-frame (dynamic) defect detection: hot/stuck pixels in one ordinary scene frame.

Without dark and flat frames, a defect shows only as a pixel that disagrees with all of its
same-colour neighbours. This is the dynamic defect-pixel correction of camera ISPs: a pixel
is flagged when it is brighter than the *largest* of its 8 nearest same-plane neighbours
(hot, or stuck high) or darker than the *smallest* (dead, or stuck low) by more than
``k_sigma`` times the local noise *and* by more than the spread (max - min) of those
neighbours. Comparing with the extreme neighbour, not the mean, keeps edges and lines from
being flagged (real image detail blurred by the lens spans more than one pixel, so it raises
some same-colour neighbour with it); the spread condition keeps sharp texture (twigs,
glints on water) from being flagged: a defect stands out of its neighbourhood by more than
the neighbourhood varies. In a smooth area the spread of 8 normal samples is about 2.8
sigma, so there the noise condition decides.

The noise is measured on the frame itself, as a function of the signal level (shot noise
grows with it): the residual ``x - median(8 neighbours)`` is binned by the neighbours'
median into 24 quantile bins, the robust sigma of each bin
(:func:`~focuslab.hw.defect_planes.robust_sigma`) is interpolated at every pixel's level.
Texture widens the residual in busy bins, which only makes the detector more cautious there.

References
----------
Ramanath et al., "Color image processing pipeline", IEEE Signal Processing Magazine 22(1),
2005 (defect correction ahead of demosaicking); EMVA Standard 1288, Release 4.0 (2021),
Sec. 8 (defect pixels).
"""

from __future__ import annotations

import numpy as np

from focuslab.errors import check_positive
from focuslab.hw.defect_detect import DefectCode, DefectResult, PlaneThresholds, finish_result
from focuslab.hw.defect_planes import check_cfa, check_mosaic, neighbour_stack, plane_slices, robust_sigma

#: Default threshold of the single-frame detector, noise sigmas.
SINGLE_FRAME_K_SIGMA = 6.0
_LEVEL_BINS = 24


def noise_vs_level(level: np.ndarray, residual: np.ndarray, *, n_bins: int = _LEVEL_BINS,
                   floor: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Robust noise sigma of ``residual`` in quantile bins of ``level``: (bin centres, sigmas)."""
    lv = level.ravel()
    rv = residual.ravel()
    edges = np.unique(np.quantile(lv, np.linspace(0.0, 1.0, n_bins + 1)))
    if edges.size < 2:
        return np.array([float(lv[0])]), np.array([max(robust_sigma(rv), floor)])
    idx = np.clip(np.searchsorted(edges, lv, side="right") - 1, 0, edges.size - 2)
    centres, sigmas = [], []
    for b in range(edges.size - 1):
        sel = idx == b
        if np.count_nonzero(sel) < 16:
            continue
        centres.append(float(np.median(lv[sel])))
        sigmas.append(max(robust_sigma(rv[sel]), floor))
    return np.asarray(centres), np.asarray(sigmas)


def detect_single_frame(frame_dn: np.ndarray, *, cfa: str, k_sigma: float = SINGLE_FRAME_K_SIGMA,
                        noise_floor_dn: float = 0.5) -> DefectResult:
    """Hot/stuck-high and dead/stuck-low pixels of one raw scene frame.

    Parameters
    ----------
    frame_dn
        Raw mosaic ``H x W``, DN.
    cfa
        Pattern of the mosaic (``"RGGB"``... or ``"mono"``).
    k_sigma
        Threshold, noise sigmas above the brightest (below the darkest) same-colour
        neighbour (> 0). The default 6 is stricter than the static detector's 5: a scene
        frame has one sample per pixel and its texture makes the residual less normal.
    noise_floor_dn
        Lower bound of the noise sigma, DN (quantization of integer data, 1/sqrt(12) ~ 0.3).

    Returns
    -------
    DefectResult
        ``method="single_frame"``; bright outliers are coded HOT (hot or stuck high), dark
        outliers DEAD (dead or stuck low): one frame cannot tell stuck from hot or dead.
    """
    check_cfa(cfa)
    k = check_positive("k_sigma", k_sigma)
    floor = check_positive("noise_floor_dn", noise_floor_dn)
    x = check_mosaic("frame", frame_dn)
    types = np.zeros(x.shape, dtype=np.uint8)
    planes = []
    for name, sl in plane_slices(cfa):
        p = x[sl]
        nb = neighbour_stack(p)
        med = np.median(nb, axis=0)
        centres, sigmas = noise_vs_level(med, p - med, floor=floor)
        sigma = np.interp(med, centres, sigmas)
        hi, lo = nb.max(axis=0), nb.min(axis=0)
        threshold = np.maximum(k * sigma, hi - lo)
        hot = p - hi > threshold
        dark = lo - p > threshold
        t = np.zeros(p.shape, dtype=np.uint8)
        t[dark] = DefectCode.DEAD
        t[hot] = DefectCode.HOT
        types[sl] = t
        planes.append(PlaneThresholds(plane=name, dark_sigma_dn=float(np.median(sigma)), gain_sigma=None,
                                      hot_threshold_dn=float(k * np.median(sigma)), dead_threshold_gain=None,
                                      flat_level_dn=None))
    notes = ("single frame: hot = hot or stuck high, dead = dead or stuck low",)
    return finish_result(types, cfa=cfa, k_sigma=k, method="single_frame", planes=tuple(planes), notes=notes)
