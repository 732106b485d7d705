"""The K x K grid of field positions used to render a field-dependent PSF.

Nodes sit on a regular grid spanning the sensor, corners included: node (i, j) is at
``x_i = (i / (K - 1) - 1/2) W`` and ``y_j = (j / (K - 1) - 1/2) H`` pixels from the optical
centre (K = 1: the centre only). Its relative field position (the PsfModel's ``field_xy``)
is ``(x_i, y_j) / (sqrt(W^2 + H^2) / 2)``, so the frame corners are at radius 1.

Each node's weight is the separable tent (bilinear interpolation) function of the sample
position; in the blur margin outside the frame the two outermost nodes' weights are
extrapolated linearly (one may exceed 1, the other go negative) so that the weights stay
linear across the frame edge instead of kinking there. The weights sum to 1 everywhere.
With the blend ``blur(x) = sum_n conv(w_n x, psf_n)`` (Nagy & O'Leary 1998, eq. 2.3) energy
is conserved exactly (each convolution preserves the flux of ``w_n x``), and a uniform field
stays uniform up to a term of order sigma * (change of PSF width between nodes) / node
spacing, which vanishes when the PSF does not vary.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def node_positions_px(k: int, size_px: int) -> np.ndarray:
    """Node coordinates along one axis, pixels from the optical centre."""
    if k == 1:
        return np.zeros(1)
    return (np.arange(k) / (k - 1) - 0.5) * size_px


def tent_weights(k: int, first_sub: int, n_sub: int, supersample: int, size_px: int) -> np.ndarray:
    """``(k, n_sub)`` bilinear weights of the nodes at supersampled sample centres."""
    x = (first_sub + np.arange(n_sub) + 0.5) / supersample - size_px / 2.0
    if k == 1:
        return np.ones((1, n_sub))
    step = size_px / (k - 1)
    t = (x + size_px / 2.0) / step  # node coordinate: 0 at the first node, k - 1 at the last
    i = np.clip(np.floor(t), 0, k - 2).astype(np.int64)
    f = t - i  # < 0 or > 1 in the margin outside the sensor: linear extrapolation
    w = np.zeros((k, n_sub))
    cols = np.arange(n_sub)
    w[i, cols] = 1.0 - f
    w[i + 1, cols] += f
    return w


def field_nodes(
    k: int,
    sensor_shape_px: tuple[int, int],
    first_sub: tuple[int, int],
    n_sub: tuple[int, int],
    supersample: int,
    device: torch.device,
) -> list[tuple[tuple[float, float], torch.Tensor]]:
    """Nodes with a non-zero weight in a region: ``[(field_xy, weight (1, 1, ny, nx)), ...]``.

    ``first_sub`` / ``n_sub`` are the region's first supersampled (row, column) and its size.
    """
    h, w = sensor_shape_px
    half_diag = math.hypot(w, h) / 2.0
    wy = tent_weights(k, first_sub[0], n_sub[0], supersample, h)
    wx = tent_weights(k, first_sub[1], n_sub[1], supersample, w)
    ny, nx = node_positions_px(k, h), node_positions_px(k, w)
    nodes = []
    for j in range(k):
        if not wy[j].any():
            continue
        for i in range(k):
            if not wx[i].any():
                continue
            weight = torch.from_numpy(np.outer(wy[j], wx[i]).astype(np.float32)).to(device)
            nodes.append(((float(nx[i] / half_diag), float(ny[j] / half_diag)), weight[None, None]))
    return nodes
