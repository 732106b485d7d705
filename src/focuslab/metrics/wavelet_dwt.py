"""Daubechies wavelet filters and the separable 2-D discrete wavelet transform of frame stacks.

numpy only (PyWavelets is not a dependency). The filters are built from Daubechies'
construction (spectral factorisation of the half-band polynomial), so any order is
available; the focus measures use ``db6`` (12 taps) as Pertuz's ``fmeasure`` does.

The transform works on the last two axes of an ``N x H x W`` stack (all frames at once). Each
axis is extended by half-sample symmetry (MATLAB's default ``dwtmode('sym')``) far enough
that the orthonormal filter bank reconstructs the frame exactly, so that the reconstructed
sub-bands of one level add up to the frame:

    x = A_1 + H_1 + V_1 + D_1.
"""

from __future__ import annotations

from functools import lru_cache
from math import comb

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.metrics.focus_filters import valid_correlate


@lru_cache(maxsize=16)
def daubechies_lowpass(order: int) -> np.ndarray:
    """Low-pass (scaling) filter of the Daubechies wavelet ``db<order>``, ``2*order`` taps.

    Parameters
    ----------
    order
        Number of vanishing moments N (1 = Haar, 6 = db6), 1 to 20.

    Returns
    -------
    numpy.ndarray
        float64 ``(2N,)``, sum sqrt(2), unit norm, orthogonal to its own even shifts, in the
        order of Daubechies' Table 6.1 (first tap h_0 of the minimum-phase factor).

    Raises
    ------
    InvalidParameterError
        For an order outside 1..20 (the root finding loses accuracy beyond).

    Notes
    -----
    |m0(w)|^2 = cos^{2N}(w/2) P(sin^2(w/2)) with P(y) = sum_{k<N} C(N-1+k, k) y^k
    (Daubechies 1992, eq. 6.1.11). Each root y_i of P gives the pair z, 1/z solving
    (2 - z - 1/z)/4 = y_i; the roots inside the unit circle form the minimum-phase factor, so
    H(z) ∝ (1 + z)^N prod_i (z - z_i), scaled to sum sqrt(2).

    References
    ----------
    I. Daubechies, *Ten Lectures on Wavelets*, SIAM 1992, sec. 6.1 and Table 6.1.
    """
    if not isinstance(order, (int, np.integer)) or not 1 <= order <= 20:
        raise InvalidParameterError(f"Daubechies order must be an integer 1..20, got {order!r}")
    n = int(order)
    # P(y) coefficients, highest degree first for numpy.roots
    p = [comb(n - 1 + k, k) for k in range(n)][::-1]
    zeros = []
    for y in np.roots(p) if n > 1 else []:
        # z^2 - (2 - 4y) z + 1 = 0; keep the root inside the unit circle
        b = 2.0 - 4.0 * y
        disc = np.sqrt(b * b - 4.0 + 0j)
        z1, z2 = (b + disc) / 2.0, (b - disc) / 2.0
        zeros.append(z1 if abs(z1) < 1 else z2)
    poly = np.array([1.0 + 0j])
    for _ in range(n):
        poly = np.convolve(poly, [1.0, 1.0])
    for z in zeros:
        poly = np.convolve(poly, [1.0, -z])
    h = np.real(poly)
    h = h * (np.sqrt(2.0) / h.sum())
    return h


def highpass_from_lowpass(h: np.ndarray) -> np.ndarray:
    """Quadrature-mirror high-pass filter g_k = (-1)^k h_{L-1-k} of an orthonormal low-pass."""
    h = np.asarray(h, dtype=float)
    sign = np.where(np.arange(h.size) % 2 == 0, 1.0, -1.0)
    return sign * h[::-1]


def _take(x: np.ndarray, axis: int, sl: slice) -> np.ndarray:
    idx = [slice(None)] * x.ndim
    idx[axis] = sl
    return x[tuple(idx)]


def _analysis(x: np.ndarray, f: np.ndarray, axis: int) -> np.ndarray:
    """Coefficients c_k = sum_j f_j x_{2k+j} over every k whose support lies in ``x``.

    Polyphase: c = (x_even correlated with f_even) + (x_odd correlated with f_odd).
    """
    k = (x.shape[axis] - f.size) // 2 + 1
    even = valid_correlate(_take(x, axis, slice(0, None, 2)), f[0::2], axis)
    odd = valid_correlate(_take(x, axis, slice(1, None, 2)), f[1::2], axis)
    return _take(even, axis, slice(0, k)) + _take(odd, axis, slice(0, k))


def _synthesis(c: np.ndarray, f: np.ndarray, axis: int) -> np.ndarray:
    """Signal y_n = sum_k c_k f_{n-2k} (adjoint of :func:`_analysis`), aligned at index 0.

    Polyphase: y_{2m} = (c convolved with f_even)_m, y_{2m+1} = (c convolved with f_odd)_m,
    full convolutions (length 2 (K - 1) + L for an even filter length L).
    """
    half = f.size // 2
    widths = [(0, 0)] * c.ndim
    widths[axis] = (half - 1, half - 1)
    padded = np.pad(c, widths)
    even = valid_correlate(padded, f[0::2][::-1], axis)
    odd = valid_correlate(padded, f[1::2][::-1], axis)
    shape = list(even.shape)
    shape[axis] *= 2
    out = np.empty(shape, dtype=even.dtype)
    idx = [slice(None)] * c.ndim
    idx[axis] = slice(0, None, 2)
    out[tuple(idx)] = even
    idx[axis] = slice(1, None, 2)
    out[tuple(idx)] = odd
    return out


def _split2(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> dict[str, np.ndarray]:
    """One 2-D analysis level: ``a`` (lo-lo), ``h`` (hi along y), ``v`` (hi along x), ``d``."""
    xl = _analysis(x, lo, -1)
    xh = _analysis(x, hi, -1)
    return {
        "a": _analysis(xl, lo, -2),
        "h": _analysis(xl, hi, -2),
        "v": _analysis(xh, lo, -2),
        "d": _analysis(xh, hi, -2),
    }


def _merge2(c: np.ndarray, fy: np.ndarray, fx: np.ndarray) -> np.ndarray:
    return _synthesis(_synthesis(c, fy, -2), fx, -1)


def wavelet_subbands(stack: np.ndarray, *, order: int = 6, levels: int = 1) -> dict[str, np.ndarray]:
    """Reconstructed sub-bands of a 2-D DWT of every frame, each the size of the frame.

    Parameters
    ----------
    stack
        float64 ``N x H x W``.
    order
        Daubechies order (6 = db6, as Pertuz's ``fmeasure``).
    levels
        Decomposition depth (1 to 4).

    Returns
    -------
    dict
        ``"h"``, ``"v"``, ``"d"``: level-1 detail images (horizontal, vertical, diagonal: high
        pass along y, along x, along both), and ``"a1"`` .. ``"a<levels>"``: the approximation
        of each level reconstructed to full size (MATLAB's ``wrcoef2(type, C, S, w, n)``).
        Every array is ``N x H x W``; a1 + h + v + d equals the frame to rounding.

    Notes
    -----
    Orthonormal filter bank (Mallat 1989): analysis c_k = sum_j h_j x_{2k+j}, synthesis
    x_n = sum_k c_k h_{n-2k} + sum_k d_k g_{n-2k}. Frames are extended by half-sample
    symmetry by the support of the level-n filter chain, (2^n - 1)(L - 1) + 1 samples rounded
    up to a multiple of 2^n (so the decimation phase is the same for every depth), on each
    side, so every kept sample is reconstructed from complete filter supports. A_1 is
    obtained as x - H - V - D (perfect reconstruction).
    """
    if not 1 <= levels <= 4:
        raise InvalidParameterError(f"wavelet levels must be 1..4, got {levels}")
    lo = daubechies_lowpass(order)
    hi = highpass_from_lowpass(lo)
    height, width = stack.shape[-2:]
    step = 2**levels
    # support of the level-n synthesis chain, rounded up to keep the decimation phase fixed
    pad = -(-((step - 1) * (lo.size - 1) + 1) // step) * step
    x = np.pad(stack, ((0, 0), (pad, pad), (pad, pad)), mode="symmetric")
    crop = (slice(None), slice(pad, pad + height), slice(pad, pad + width))
    bands = _split2(x, lo, hi)
    out = {
        "h": _merge2(bands["h"], hi, lo)[crop],
        "v": _merge2(bands["v"], lo, hi)[crop],
        "d": _merge2(bands["d"], hi, hi)[crop],
    }
    out["a1"] = stack - out["h"] - out["v"] - out["d"]
    approx = bands["a"]
    for level in range(2, levels + 1):
        approx = _analysis(_analysis(approx, lo, -1), lo, -2)
        rec = approx
        for _ in range(level):
            rec = _merge2(rec, lo, lo)
        out[f"a{level}"] = rec[crop]
    return out
