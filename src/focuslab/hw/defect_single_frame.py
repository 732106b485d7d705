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
median into 24 equal-count bins, the robust sigma of each bin
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
from focuslab.hw.defect_planes import check_cfa, check_mosaic, neighbour_stack, plane_slices, robust_sigma
from focuslab.hw.defect_result import DefectCode, DefectResult, PlaneThresholds, finish_result

#: Default threshold of the single-frame detector, noise sigmas.
SINGLE_FRAME_K_SIGMA = 8.0
_LEVEL_BINS = 24


def noise_vs_level(level: np.ndarray, residual: np.ndarray, activity: np.ndarray | None = None, *,
                   n_bins: int = _LEVEL_BINS, smooth_fraction: float = 0.3, floor: float = 0.5,
                   max_samples: int = 20000) -> tuple[np.ndarray, np.ndarray]:
    """Robust noise sigma of ``residual`` in equal-count bins of ``level``: (bin centres, sigmas).

    Each bin holds ``1/n_bins`` of the pixels sorted by level. With ``activity`` (the spread
    of each pixel's neighbours) only the ``smooth_fraction`` least active pixels of the bin
    are used: the noise is measured where the scene is flat, as in Foi et al., "Practical
    Poissonian-Gaussian noise modeling and fitting for single-image raw-data", IEEE TIP 17(10),
    2008. Selecting on the neighbours barely biases the residual's own noise (the pixel is
    not one of its neighbours). The sigma is :func:`~focuslab.hw.defect_planes.robust_sigma`
    of at most ``max_samples`` residuals (a regular stride: deterministic); the centre is
    the bin's median level.
    """
    lv = level.ravel()
    rv = residual.ravel()
    av = None if activity is None else activity.ravel()
    order = np.argsort(lv, kind="stable")
    centres, sigmas = [], []
    for chunk in np.array_split(order, max(1, min(n_bins, lv.size // 16))):
        if chunk.size == 0:
            continue
        centres.append(float(lv[chunk[chunk.size // 2]]))
        if av is not None and chunk.size >= 16:
            a = av[chunk]
            chunk = chunk[a <= np.quantile(a, smooth_fraction)]
        stride = max(1, chunk.size // max_samples)
        sigmas.append(max(robust_sigma(rv[chunk[::stride]]), floor))
    return np.asarray(centres), np.asarray(sigmas)


def detect_single_frame(frame_dn: np.ndarray, *, cfa: str, k_sigma: float = SINGLE_FRAME_K_SIGMA,
                        spread_factor: float = 1.0, noise_floor_dn: float = 0.5) -> DefectResult:
    """Hot/stuck-high and dead/stuck-low pixels of one raw scene frame.

    Parameters
    ----------
    frame_dn
        Raw mosaic ``H x W``, DN.
    cfa
        Pattern of the mosaic (``"RGGB"``... or ``"mono"``).
    k_sigma
        Threshold, noise sigmas above the brightest (below the darkest) same-colour
        neighbour (> 0). The default 8 is stricter than the static detector's 5: a scene
        frame's residual is not normal (grass blades and glints make a long tail); on the real
        Blackmagic raw, k = 6 / 8 / 10 flag 3.1 / 1.7 / 1.0 per 10 000 pixels of the busy
        lower half, while hot pixels of 10 % of the range or more are still found.
    spread_factor
        The excess over the extreme neighbour must also exceed this times the neighbours'
        spread (max - min); >= 0 (0 turns the texture guard off).
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
    beta = check_positive("spread_factor", spread_factor, allow_zero=True)
    x = check_mosaic("frame", frame_dn)
    types = np.zeros(x.shape, dtype=np.uint8)
    planes = []
    for name, sl in plane_slices(cfa):
        p = x[sl].astype(np.float32)  # half the memory of the 8-neighbour stack
        nb = neighbour_stack(p)
        part = np.partition(nb, (0, 3, 4, 7), axis=0)
        med = 0.5 * (part[3] + part[4])  # median of the 8 neighbours
        hi, lo = part[-1], part[0]
        centres, sigmas = noise_vs_level(med, p - med, hi - lo, floor=floor)
        sigma = np.interp(med, centres, sigmas)
        threshold = np.maximum(k * sigma, beta * (hi - lo))
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
