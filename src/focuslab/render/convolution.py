"""2-D convolution of ``B x C x H x W`` image tensors with a PSF: direct or by FFT.

A PSF is a true convolution kernel (not a correlation): a kernel whose mass lies at +x moves
light towards +x. Kernels are ``(kh, kw)`` (the same PSF for every channel) or ``(C, kh, kw)``
(one PSF per channel), odd sizes, centred on ``(kh // 2, kw // 2)``; they may be numpy arrays
or tensors and are moved to the input's device and dtype.

Small kernels are summed directly as ``kh * kw`` weighted shifted copies of the padded image
(cost ~ k^2 per pixel; faster on CPU than ``conv2d`` with one input channel); kernels with
more than :data:`DIRECT_MAX_TAPS` taps along an axis use the FFT (cost ~ log N per pixel,
independent of k), which is what makes blur diameters of tens of pixels affordable.

Padding. The output has the input's size. Outside the image the input is extended by zeros
(``padding="zeros"``: light from outside the frame is absent, so flux near the border leaks
out), by replicating the edge rows and columns (``padding="replicate"``: the scene is assumed
to continue like its border), or periodically (``padding="circular"``: the image wraps
around; flux is conserved exactly). For zeros / replicate both methods pad explicitly by
``(kh // 2, kw // 2)`` and the FFT is taken over at least the padded size, so there is no
wrap-around and FFT equals direct to float rounding. The renderer uses ``"circular"`` on
windows that carry a blur margin at least as wide as the kernel radius: the wrapped values
then land only in the margin, which is cropped, and the FFT needs no padding at all.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from focuslab.errors import InvalidParameterError

#: Kernels with more taps than this along either axis are convolved through the FFT.
DIRECT_MAX_TAPS = 3

_PADDINGS = ("zeros", "replicate", "circular")
_METHODS = ("auto", "direct", "fft")


def check_images(images: torch.Tensor, what: str = "images") -> None:
    """Raise :class:`InvalidParameterError` unless ``images`` is a floating ``(B, C, H, W)`` tensor."""
    if not isinstance(images, torch.Tensor):
        raise InvalidParameterError(f"{what} must be a torch.Tensor (B, C, H, W), got {type(images).__name__}")
    if images.ndim != 4:
        raise InvalidParameterError(f"{what}: expected (B, C, H, W), got {tuple(images.shape)}")
    if not images.is_floating_point():
        raise InvalidParameterError(f"{what} must be floating point, got {images.dtype}")


def as_kernel(kernel, images: torch.Tensor) -> torch.Tensor:
    """``kernel`` as a ``(Ck, kh, kw)`` tensor on ``images``' device and dtype (Ck = 1 or C)."""
    k = kernel if isinstance(kernel, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(kernel))
    k = k.to(device=images.device, dtype=images.dtype)
    if k.ndim == 2:
        k = k[None]
    channels = images.shape[1]
    if k.ndim != 3 or k.shape[0] not in (1, channels):
        raise InvalidParameterError(
            f"kernel: expected (kh, kw) or ({channels}, kh, kw) for {channels}-channel images, "
            f"got {tuple(np.shape(kernel))}"
        )
    if k.shape[1] % 2 == 0 or k.shape[2] % 2 == 0:
        raise InvalidParameterError(f"kernel sizes must be odd (centred PSF), got {tuple(k.shape[1:])}")
    return k


def next_fast_len(n: int) -> int:
    """Smallest integer >= ``n`` of the form 2^a 3^b 5^c with c <= 1 (a fast FFT size)."""
    m = max(int(n), 1)
    while True:
        r = m
        for p in (2, 3):
            while r % p == 0:
                r //= p
        if r in (1, 5):
            return m
        m += 1


def _pad(images: torch.Tensor, ph: int, pw: int, padding: str) -> torch.Tensor:
    if ph == 0 and pw == 0:
        return images
    if padding == "circular":
        h, w = images.shape[2:]
        rows = torch.arange(-ph, h + ph, device=images.device) % h
        cols = torch.arange(-pw, w + pw, device=images.device) % w
        return images.index_select(2, rows).index_select(3, cols)  # any pad size, unlike F.pad
    mode = "constant" if padding == "zeros" else "replicate"
    return F.pad(images, (pw, pw, ph, ph), mode=mode)


def _direct(images: torch.Tensor, k: torch.Tensor, padding: str) -> torch.Tensor:
    h, w = images.shape[2:]
    kh, kw = k.shape[1:]
    x = _pad(images, kh // 2, kw // 2, padding)
    weights = k.permute(1, 2, 0)[..., None, None]  # (kh, kw, Ck, 1, 1): broadcasts over B, C
    out = None
    for i in range(kh):
        for j in range(kw):
            term = x[:, :, kh - 1 - i : kh - 1 - i + h, kw - 1 - j : kw - 1 - j + w] * weights[i, j]
            out = term if out is None else out + term
    return out


def _wrapped(k: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """``(Ck, kh, kw)`` kernel placed periodically on an ``h x w`` grid, its centre at ``(0, 0)``."""
    kh, kw = k.shape[1:]
    rows = (torch.arange(kh, device=k.device) - kh // 2) % h
    cols = (torch.arange(kw, device=k.device) - kw // 2) % w
    kp = torch.zeros((k.shape[0], h, w), dtype=k.dtype, device=k.device)
    kp[:, rows[:, None], cols[None, :]] = k
    return kp


def _kernel_spectrum(k: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Full ``(1, h, w)`` DFT of a real ``(1, kh, kw)`` kernel centred at ``(0, 0)`` on the periodic grid.

    From the half spectrum of ``rfft2`` and Hermitian symmetry, K[u, v] = conj(K[-u, -v])
    (real input), which is cheaper than a complex transform of the real kernel.
    """
    half = torch.fft.rfft2(_wrapped(k, h, w))
    n_half = half.shape[-1]
    full = torch.empty((k.shape[0], h, w), dtype=half.dtype, device=half.device)
    full[..., :n_half] = half
    tail = w - n_half
    if tail > 0:
        rows = (-torch.arange(h, device=k.device)) % h
        full[..., n_half:] = half[:, rows, 1 : tail + 1].flip(-1).conj()
    return full


def _complex_pairs(images: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W)`` real -> ``(B, ceil(C / 2), H, W)`` complex: channel 2j + 1 rides as imaginary part.

    A channels-last tensor (``images.permute(0, 2, 3, 1)`` contiguous) with an even channel
    count already interleaves each pair as a complex number: it is viewed, not copied.
    """
    b, c, h, w = images.shape
    last = images.permute(0, 2, 3, 1)
    if c % 2 == 0 and last.is_contiguous() and images.dtype in (torch.float32, torch.float64):
        return torch.view_as_complex(last.reshape(b, h, w, c // 2, 2)).permute(0, 3, 1, 2)
    re, im = images[:, 0::2], images[:, 1::2]
    if im.shape[1] < re.shape[1]:
        im = torch.cat([im, torch.zeros_like(re[:, -1:])], 1)
    return torch.complex(re, im)


def periodic_convolve_pairs(images: torch.Tensor, kernels) -> list[torch.Tensor]:
    """:func:`periodic_convolve_many` without unpacking: per kernel a ``(B, P, 2, H, W)`` view.

    Channel ``c`` of the result is ``out[:, c // 2, c % 2]`` (``P = ceil(C / 2)``; when C is
    odd the last slot holds zeros). The views are strided (real and imaginary parts of one
    complex tensor), so reading them costs no copy.
    """
    h, w = images.shape[2:]
    ks = [as_kernel(k, images) for k in kernels]
    for k in ks:
        if k.shape[0] != 1 or k.shape[1] > h or k.shape[2] > w:
            raise InvalidParameterError(
                f"periodic convolution needs achromatic kernels no larger than the {h} x {w} images, got "
                f"{tuple(k.shape)}"
            )
    spectra, out = None, []
    for n, k in enumerate(ks):
        if k.shape[1] == 1 and k.shape[2] == 1:  # a delta: scale the (packed) images
            y = _complex_pairs(images) * k[0, 0, 0]
        else:
            if spectra is None:
                spectra = torch.fft.fft2(_complex_pairs(images))
            kf = _kernel_spectrum(k, h, w)
            last = all(kk.shape[1] * kk.shape[2] == 1 for kk in ks[n + 1 :])
            y = torch.fft.ifft2(spectra.mul_(kf) if last else spectra * kf)
        out.append(torch.view_as_real(y).permute(0, 1, 4, 2, 3))
    return out


def periodic_blend_pairs(images: torch.Tensor, weights, kernel_sets) -> list[torch.Tensor]:
    """Periodic spatially varying blur ``sum_n conv(w_n images, k_n)`` for several kernel sets, packed.

    Parameters
    ----------
    images
        ``(B, C, H, W)`` real floating tensor (one period).
    weights
        Per node a ``(1, 1, H, W)`` weight map ``w_n``.
    kernel_sets
        Sequence of kernel sets; each set holds one achromatic centred kernel per node.

    Returns
    -------
    list of torch.Tensor
        Per set a ``(B, P, 2, H, W)`` view as :func:`periodic_convolve_pairs` returns.

    Notes
    -----
    The blend of eq. (2) of :mod:`focuslab.render.compositing` is linear, so its terms are
    summed in the frequency domain: ``ifft2(sum_n fft2(w_n x) K_n)``. Each node costs one
    forward transform (shared by every kernel set: whole and half pupils) and each set one
    inverse, instead of one forward and one inverse per node and set (the piecewise
    interpolated PSF model of Nagy & O'Leary, SIAM J. Sci. Comput. 19(4), 1998, eq. 2.3).
    """
    h, w = images.shape[2:]
    sets = [[as_kernel(k, images) for k in ks] for ks in kernel_sets]
    for ks in sets:
        if len(ks) != len(weights):
            raise InvalidParameterError(f"periodic_blend_pairs: {len(ks)} kernels for {len(weights)} weight maps")
        for k in ks:
            if k.shape[0] != 1 or k.shape[1] > h or k.shape[2] > w:
                raise InvalidParameterError(
                    f"periodic convolution needs achromatic kernels no larger than the {h} x {w} images, got "
                    f"{tuple(k.shape)}"
                )
    acc = [None] * len(sets)
    for n, wn in enumerate(weights):
        spectra = torch.fft.fft2(_complex_pairs(images * wn))
        for j, ks in enumerate(sets):
            term = spectra * _kernel_spectrum(ks[n], h, w)
            acc[j] = term if acc[j] is None else acc[j].add_(term)
    return [torch.view_as_real(torch.fft.ifft2(a)).permute(0, 1, 4, 2, 3) for a in acc]


def periodic_convolve_many(images: torch.Tensor, kernels) -> list[torch.Tensor]:
    """Periodic convolution of every channel of ``images`` with each of several achromatic kernels.

    Parameters
    ----------
    images
        ``(B, C, H, W)`` real floating tensor, treated as one period of a periodic image.
    kernels
        Sequence of ``(kh, kw)`` or ``(1, kh, kw)`` centred PSFs (odd sizes, ``kh <= H``,
        ``kw <= W``), numpy or torch.

    Returns
    -------
    list of torch.Tensor
        ``(B, C, H, W)`` per kernel, in order; the same as ``convolve2d(images, k,
        padding="circular")`` to float rounding.

    Raises
    ------
    InvalidParameterError
        A per-channel (chromatic) kernel, or one larger than the images.

    Notes
    -----
    A real image and a real kernel have Hermitian spectra, so two real channels a and b can
    share one complex transform: ``ifft2(fft2(a + i b) K) = a * k + i (b * k)`` (linearity of
    the DFT with a real kernel; Press et al., *Numerical Recipes*, 3rd ed., sec. 12.3.2,
    "FFT of two real functions simultaneously"). Channels are packed in pairs, the forward
    transforms are shared by all kernels, and each kernel costs one inverse complex
    transform per pair. On CPU (MKL) this is about twice as fast as ``rfft2`` / ``irfft2``,
    whose two-dimensional complex-to-real inverse is about three times slower than the
    forward transform.
    """
    c = images.shape[1]
    return [v.flatten(1, 2)[:, :c] for v in periodic_convolve_pairs(images, kernels)]


def _fft(images: torch.Tensor, k: torch.Tensor, padding: str) -> torch.Tensor:
    h, w = images.shape[2:]
    kh, kw = k.shape[1:]
    if padding == "circular" and kh <= h and kw <= w:
        # periodic convolution: transform at the image size, kernel centre moved to (0, 0)
        if k.shape[0] == 1:
            return periodic_convolve_many(images, [k])[0]
        return torch.fft.irfft2(torch.fft.rfft2(images) * torch.fft.rfft2(_wrapped(k, h, w)), s=(h, w))
    x = _pad(images, kh // 2, kw // 2, padding)
    nh, nw = next_fast_len(x.shape[2]), next_fast_len(x.shape[3])
    xf = torch.fft.rfft2(x, s=(nh, nw))
    kf = torch.fft.rfft2(k, s=(nh, nw))  # (Ck, nh, nw//2+1) broadcasts over B and C
    y = torch.fft.irfft2(xf * kf, s=(nh, nw))
    return y[:, :, kh - 1 : kh - 1 + h, kw - 1 : kw - 1 + w]


def convolve2d(images: torch.Tensor, kernel, *, padding: str = "zeros", method: str = "auto") -> torch.Tensor:
    """Convolve every channel of ``images`` with a centred PSF; output has the input's size.

    Parameters
    ----------
    images
        ``(B, C, H, W)`` floating tensor (CPU or CUDA).
    kernel
        ``(kh, kw)`` PSF for all channels or ``(C, kh, kw)`` one per channel; odd sizes,
        centred; numpy or torch (moved to ``images``' device and dtype).
    padding
        ``"zeros"``, ``"replicate"`` or ``"circular"`` (see the module docstring).
    method
        ``"direct"``, ``"fft"``, or ``"auto"``: FFT when the kernel has more than
        :data:`DIRECT_MAX_TAPS` taps along an axis.

    Returns
    -------
    torch.Tensor
        ``(B, C, H, W)``, same dtype and device as ``images``.

    Raises
    ------
    InvalidParameterError
        Wrong shapes, even kernel sizes, or an unknown ``padding`` / ``method``.

    Notes
    -----
    out[y, x] = sum_{i, j} in_pad[y - i, x - j] k[i + kh//2, j + kw//2] (discrete convolution).
    The FFT path uses the convolution theorem, conv = irfft2(rfft2(in_pad) rfft2(k)), over a
    3-smooth transform size >= the padded size; the valid part starts at (kh - 1, kw - 1).

    References
    ----------
    .. [1] A. V. Oppenheim, R. W. Schafer, *Discrete-Time Signal Processing*, 3rd ed.,
           sec. 8.7 (linear convolution with the DFT).
    """
    check_images(images)
    if padding not in _PADDINGS:
        raise InvalidParameterError(f"padding {padding!r} is unknown; use one of {_PADDINGS}")
    if method not in _METHODS:
        raise InvalidParameterError(f"method {method!r} is unknown; use one of {_METHODS}")
    k = as_kernel(kernel, images)
    if method == "auto":
        method = "fft" if max(k.shape[1:]) > DIRECT_MAX_TAPS else "direct"
    if k.shape[1] == 1 and k.shape[2] == 1:
        return images * k[:, None]  # a delta (or per-channel gain): nothing to spread
    return _fft(images, k, padding) if method == "fft" else _direct(images, k, padding)


class Convolve2d(nn.Module):
    """Module form of :func:`convolve2d` with a fixed kernel (stored as a buffer)."""

    def __init__(self, kernel, *, padding: str = "zeros", method: str = "auto") -> None:
        super().__init__()
        k = kernel if isinstance(kernel, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(kernel))
        self.register_buffer("kernel", k.clone())
        self.padding = padding
        self.method = method

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Convolve ``images`` (``(B, C, H, W)``) with the stored kernel."""
        return convolve2d(images, self.kernel, padding=self.padding, method=self.method)
