"""Slicing a layer with a depth map into depth bins, without halos behind occluders.

A layer whose depth varies (a tilted plane, an RGB-D photograph) is cut into bins uniform in
diopters, because the blur diameter is linear in diopters (DESIGN.md eq. c = A s (1/u - 1/u_f)):
with ``n = ceil(A s |D_near - D_far| / (pitch * step))`` bins (capped at ``max_bins``) the blur
changes by at most ``step`` pixels from one bin to the next. Bin index grows towards the
camera (bin 0 is the farthest).

Halo-free slicing. If bin k had coverage only on its own pixels, the pixels of nearer bins
(which it lies behind) would be holes in it; blurring the nearer bin then leaves a dark rim
where neither covers. So bin k is given coverage over its own pixels *and* over the pixels of
all nearer bins (it continues behind them), and nearer bins keep coverage only on their own
pixels. Colour under the extension is filled from bin k's own pixels by normalized
convolution with a box of radius R (the bin's blur radius + 1 sample, so every value that
can be blurred into view is filled from nearby pixels), falling back to the occluder's own
colour where no pixel of bin k lies within R:

    L_fill = (box_R(alpha_k L) + tau alpha_c L) / (box_R(alpha_k) + tau alpha_c)      (1)

with ``alpha_k`` the bin's own coverage, ``alpha_c`` its extended coverage and
``tau = 1e-3`` (one thousandth of one pixel's weight). Fill (1) is a convex combination of
layer colours, so a layer of uniform colour stays exactly uniform, and it is local (support
R), so a region of interest rendered with a margin equals the crop of the full frame.

References
----------
.. [1] H. Knutsson, C.-F. Westin, "Normalized and differential convolution", CVPR 1993.
.. [2] J. Shade, S. Gortler, L. He, R. Szeliski, "Layered depth images", SIGGRAPH 1998.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from focuslab.errors import InvalidParameterError

#: Weight of the occluder's own colour in the fill, relative to one pixel of the bin, eq. (1).
FILL_TAU = 1e-3


def depth_bins(
    depth_m: np.ndarray,
    alpha: np.ndarray,
    *,
    blur_px_per_diopter: float,
    bin_step_px: float = 1.0,
    max_bins: int = 48,
) -> tuple[np.ndarray, np.ndarray]:
    """Assign every sample of a depth map to a bin uniform in diopters.

    Parameters
    ----------
    depth_m
        ``H x W`` depth map, metres (> 0).
    alpha
        ``H x W`` coverage; only covered samples set the depth range.
    blur_px_per_diopter
        |dc / dD| in pixels per diopter (A * s / pitch).
    bin_step_px
        Largest blur-diameter change between neighbouring bins, pixels.
    max_bins
        Cap on the number of bins.

    Returns
    -------
    (bin_index, bin_depth_m)
        ``H x W`` int64 bin of each sample (0 = farthest) and each bin's representative depth
        (the coverage-weighted mean of its samples in diopters; the bin's centre when it
        holds no covered sample), metres.
    """
    if not bin_step_px > 0 or not math.isfinite(bin_step_px):
        raise InvalidParameterError(f"depth_bin_step_px must be > 0, got {bin_step_px}")
    if int(max_bins) < 1:
        raise InvalidParameterError(f"max_depth_bins must be >= 1, got {max_bins}")
    diopters = 1.0 / np.asarray(depth_m, dtype=np.float64)
    covered = np.asarray(alpha) > 0
    sel = diopters[covered] if covered.any() else diopters.ravel()
    d_far, d_near = float(sel.min()), float(sel.max())
    span = d_near - d_far
    n = int(np.clip(math.ceil(abs(blur_px_per_diopter) * span / bin_step_px - 1e-9), 1, int(max_bins)))
    if span <= 0:
        return np.zeros(diopters.shape, dtype=np.int64), np.array([1.0 / d_far])
    index = np.clip(np.floor((diopters - d_far) / span * n), 0, n - 1).astype(np.int64)
    weight = np.where(covered, np.asarray(alpha, dtype=np.float64), 0.0)
    total = np.bincount(index.ravel(), weights=weight.ravel(), minlength=n)
    moment = np.bincount(index.ravel(), weights=(weight * diopters).ravel(), minlength=n)
    centres = d_far + (np.arange(n) + 0.5) * span / n
    mean = np.where(total > 0, moment / np.where(total > 0, total, 1.0), centres)
    return index, 1.0 / mean


def _box_sum(x: torch.Tensor, radius: int, dim: int) -> torch.Tensor:
    """Sum over a window of ``2 radius + 1`` samples along ``dim``, truncated at the borders.

    With the running sum S (S[0] = 0, S[j] = x[0] + ... + x[j - 1]) padded by ``radius``
    zeros in front and ``radius + 1`` copies of S[n] behind, the window sum at i is
    P[i + 2 radius + 1] - P[i]: two slices, no gather.
    """
    n = x.shape[dim]
    cs = torch.cumsum(x, dim)
    edge = cs.narrow(dim, n - 1, 1)
    front = torch.zeros_like(edge).expand(*[radius + 1 if d == dim else -1 for d in range(x.ndim)])
    back = edge.expand(*[radius + 1 if d == dim else -1 for d in range(x.ndim)])
    padded = torch.cat([front, cs, back], dim)  # P: radius + 1 zeros (incl. S[0]), S[1..n], radius + 1 x S[n]
    return padded.narrow(dim, 2 * radius + 1, n) - padded.narrow(dim, 0, n)


def fill_behind(
    own_premultiplied: torch.Tensor,
    own_alpha: torch.Tensor,
    cover_premultiplied: torch.Tensor,
    cover_alpha: torch.Tensor,
    *,
    radius: int,
) -> torch.Tensor:
    """Premultiplied colour of a depth bin extended behind nearer bins, eq. (1).

    Parameters
    ----------
    own_premultiplied, own_alpha
        ``(B, C, H, W)`` and ``(B, 1, H, W)``: the bin's own pixels.
    cover_premultiplied, cover_alpha
        The same over the bin's own pixels and those of all nearer bins.
    radius
        Fill radius R in samples.

    Returns
    -------
    torch.Tensor
        ``(B, C, H, W)`` premultiplied colour whose coverage is ``cover_alpha``.
    """
    x = torch.cat([own_premultiplied, own_alpha], 1).to(torch.float64)
    s = _box_sum(_box_sum(x, radius, 2), radius, 3)
    c = own_premultiplied.shape[1]
    num = s[:, :c] + FILL_TAU * cover_premultiplied.to(torch.float64)
    den = s[:, c:] + FILL_TAU * cover_alpha.to(torch.float64)
    colour = torch.where(den > 0, num / torch.where(den > 0, den, 1.0), 0.0).to(own_premultiplied.dtype)
    behind = torch.clamp(cover_alpha - own_alpha, min=0.0)
    return own_premultiplied + behind * colour
