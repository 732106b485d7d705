"""Blurring one resampled depth plane for every image kind, and compositing it in place.

A plane is the ``(1, C + 1, X, Y)`` stack of its premultiplied colour (C channels) and its
coverage on the supersampled window. :func:`blur_plane` blurs it with the whole-pupil PSF
(colour and coverage) and, for dual-pixel renders, the half-pupil PSFs (colour), choosing:

* **packed FFT** (achromatic PSFs, the common case): the channels ride in pairs as real and
  imaginary parts of complex images, and one forward transform serves the whole-pupil and
  both half-pupil kernels (:func:`focuslab.render.convolution.periodic_convolve_pairs`); a
  field-dependent PSF's blend of node PSFs is summed in the frequency domain, one inverse
  transform per kind (:func:`focuslab.render.convolution.periodic_blend_pairs`). The results
  stay packed (strided views), and :func:`over_` reads them without unpacking;
* **general** (per-channel PSFs): :func:`focuslab.render.compositing.blur`.

Both return channel *groups* ``[(first_channel, tensor (1, n, X, Y)), ...]`` per kind,
plus the blurred coverage; :func:`over_` applies eq. (1) of
:mod:`focuslab.render.compositing`, ``out <- blur(P) + (1 - blur(alpha)) out``, in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from focuslab.render.compositing import FieldKernels, blur, blur_premultiplied
from focuslab.render.convolution import periodic_blend_pairs, periodic_convolve_pairs


@dataclass(frozen=True)
class BlurredPlane:
    """A plane blurred for each kind: ``groups[kind]`` (colour channel groups) and ``alpha``.

    ``alpha`` is the whole-pupil blurred coverage, ``(1, 1, X, Y)`` or ``(1, C, X, Y)`` for a
    per-channel PSF; every kind is composited with it (dual-pixel occlusion, see
    :mod:`focuslab.render.renderer`).
    """

    groups: dict
    alpha: torch.Tensor


def _achromatic(psf) -> bool:
    return isinstance(psf, torch.Tensor) and (psf.ndim == 2 or psf.shape[0] == 1)


def _same_maps(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _achromatic_field(psf) -> bool:
    return isinstance(psf, FieldKernels) and not psf.normalize and all(_achromatic(k) for k in psf.kernels)


def blur_plane(plane: torch.Tensor, channels: int, psf_for, kinds: tuple) -> BlurredPlane:
    """Blur ``plane`` (``(1, C + 1, X, Y)``, periodic) with ``psf_for(kind)`` for every kind.

    ``psf_for(kind)`` returns a kernel (``(k, k)`` / ``(C, k, k)`` tensor) or a
    :class:`~focuslab.render.compositing.FieldKernels`.
    """
    c = channels
    psfs = {kind: psf_for(kind) for kind in kinds}
    views = None
    if all(_achromatic(p) for p in psfs.values()):
        views = periodic_convolve_pairs(plane, [psfs[kind] for kind in kinds])
    elif all(_achromatic_field(p) for p in psfs.values()):
        weights = psfs["whole"].weights
        if all(_same_maps(p.weights, weights) for p in psfs.values()):
            views = periodic_blend_pairs(plane, weights, [psfs[kind].kernels for kind in kinds])
    if views is not None:
        groups = {kind: [(2 * j, v[:, j]) for j in range(v.shape[1])] for kind, v in zip(kinds, views, strict=True)}
        whole = views[0]
        return BlurredPlane(groups, whole[:, c // 2, c % 2 : c % 2 + 1])
    premult, alpha = plane[:, :c], plane[:, c:]
    bp, ba = blur_premultiplied(premult, alpha, psfs["whole"], padding="circular")
    groups = {"whole": [(0, bp)]}
    for kind in kinds[1:]:
        groups[kind] = [(0, blur(premult, psfs[kind], padding="circular"))]
    return BlurredPlane(groups, ba)


def over_(out: torch.Tensor | None, blurred: BlurredPlane, kind: str, channels: int) -> torch.Tensor:
    """Eq. (1) in place: ``out <- blur_kind(P) + (1 - blur(alpha)) out``; ``None``: nothing behind.

    Returns ``out`` (a new ``(1, C, X, Y)`` tensor when ``out`` is ``None``).
    """
    groups = blurred.groups[kind]
    if out is None:
        t0 = groups[0][1]
        out = torch.empty((1, channels, *t0.shape[2:]), dtype=t0.dtype, device=t0.device)
        for s, t in groups:
            n = min(t.shape[1], channels - s)
            if n > 0:
                out[:, s : s + n].copy_(t[:, :n])
        return out
    out.addcmul_(out, blurred.alpha, value=-1.0)
    for s, t in groups:
        n = min(t.shape[1], channels - s)
        if n > 0:
            out[:, s : s + n].add_(t[:, :n])
    return out
