"""Resampling the scene grid onto the (supersampled) sensor grid.

Geometry (see :mod:`focuslab.scene.scene`). The scene grid is a pinhole image uniform in
tan(angle): its ``W_s`` columns span 2 tan(hfov / 2) and samples are square, so one scene
sample is ``d = 2 tan(hfov / 2) / W_s`` wide in tan units, and scene column coordinate
``u`` (sample ``j`` covers ``[j, j + 1)``) looks along

    tan(theta) = (u - W_s / 2) d.                                           (1)

A sensor point ``x_px`` pixels right of the optical centre (the sensor centre), with the
lens-to-sensor distance ``s``, looks along tan(theta) = x_px * pitch / s            (2)

so refocusing changes the magnification (focus breathing is included). A layer shifted by
``offset_deg = (dx, dy)`` is seen at angle theta - dx. A layer magnified by ``scale`` m about
the centre angle c (:mod:`focuslab.scene.scene`) shows there its point at

    tan(theta_layer) = tan(c) + (tan(theta - dx) - tan(c)) / m,                 (3)

a magnification of the pinhole image plane; alpha, colour and depth-bin masks all go through
the same operator. Rows work the same way with the vertical centre ``H_s / 2``.

Filtering. Each output sample is the interval between its two edges mapped through (2) and
(1), ``[a, b]`` in scene-sample units. The output is the mean of the piecewise-constant scene
over ``[c - w / 2, c + w / 2]`` with ``c = (a + b) / 2`` and ``w = max(b - a, 1)``: an area
average (antialiased) when minifying, and exactly linear interpolation at ``c`` when
magnifying (a unit box over piecewise-constant samples is the tent of bilinear interpolation),
so the two regimes join continuously; a scale m simply changes ``b - a`` by 1 / m. Outside
the scene grid the edge sample is replicated. The operator is separable: rows then columns,
each a short weighted gather of ``taps`` whole rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from focuslab.units import um_to_mm


@dataclass(frozen=True)
class AxisWeights:
    """Sparse resampling operator along one axis: ``out[i] = sum_t w[i, t] in[index[i, t]]``."""

    index: np.ndarray  # (n_out, taps) int64, into the (cropped) input axis
    weight: np.ndarray  # (n_out, taps) float64, rows sum to 1
    start: int  # first input sample used (the input may be cropped to [start, stop))
    stop: int


def axis_weights(
    first_sub: int,
    n_sub: int,
    *,
    supersample: int,
    sensor_px: int,
    pixel_pitch_um: float,
    sensor_distance_mm: float,
    scene_samples: int,
    tan_per_sample: float,
    offset_deg: float,
    scale: float = 1.0,
    scale_center_deg: float = 0.0,
) -> AxisWeights:
    """Resampling weights for ``n_sub`` supersampled sensor samples starting at ``first_sub``.

    Parameters
    ----------
    first_sub, n_sub
        Supersampled sensor indices ``first_sub .. first_sub + n_sub - 1`` (may extend past
        the sensor for a blur margin).
    supersample
        Samples per pixel pitch.
    sensor_px
        Sensor size along this axis in pixels (the optical centre is at ``sensor_px / 2``).
    pixel_pitch_um, sensor_distance_mm
        Pitch and lens-to-sensor distance of eq. (2).
    scene_samples, tan_per_sample
        Scene size along this axis and the tan(angle) width of one scene sample (eq. 1).
    offset_deg
        The layer's shift along this axis, degrees.
    scale, scale_center_deg
        The layer's magnification (> 0) and its centre along this axis (degrees, the layer's
        own coordinates), eq. (3).
    """
    edges_px = (first_sub + np.arange(n_sub + 1, dtype=np.float64)) / supersample - sensor_px / 2.0
    tan_sensor = edges_px * um_to_mm(pixel_pitch_um) / sensor_distance_mm
    tan_layer = np.tan(np.arctan(tan_sensor) - math.radians(offset_deg))
    if scale != 1.0:
        tan_centre = math.tan(math.radians(scale_center_deg))
        tan_layer = tan_centre + (tan_layer - tan_centre) / scale  # eq. (3)
    u = tan_layer / tan_per_sample + scene_samples / 2.0
    centre = 0.5 * (u[1:] + u[:-1])
    width = np.maximum(u[1:] - u[:-1], 1.0)
    lo, hi = centre - width / 2.0, centre + width / 2.0
    first = np.floor(lo).astype(np.int64)
    taps = int(np.max(np.floor(hi).astype(np.int64) - first)) + 1
    j = first[:, None] + np.arange(taps)[None, :]
    overlap = np.clip(np.minimum(hi[:, None], j + 1.0) - np.maximum(lo[:, None], j), 0.0, None)
    weight = overlap / (hi - lo)[:, None]
    keep = np.max(weight, axis=0) > 1e-12  # drop taps that never contribute (exact grid matches)
    index, weight = np.clip(j, 0, scene_samples - 1)[:, keep], weight[:, keep]
    start, stop = int(index.min()), int(index.max()) + 1
    return AxisWeights(index=index - start, weight=weight, start=start, stop=stop)


def _gather_rows(images: torch.Tensor, weights: AxisWeights) -> torch.Tensor:
    """Resample ``images`` (``(n_in, ...)``, cropped to ``[start, stop)``) along its first axis.

    ``out[i] = sum_t w[i, t] images[index[i, t]]`` as one weighted gather-sum over whole rows
    (``torch.nn.functional.embedding_bag`` with per-sample weights, mode "sum"): about 3x
    faster on CPU than a gather and a multiply-add per tap.
    """
    n = weights.index.shape[0]
    if weights.index.shape[1] == 1 and np.all(weights.weight == 1.0):
        first = int(weights.index[0, 0])
        if np.array_equal(weights.index[:, 0], np.arange(first, first + n)):
            return images.narrow(0, first, n)  # the grids coincide: a plain crop
    index = torch.from_numpy(weights.index).to(images.device)
    weight = torch.from_numpy(weights.weight).to(device=images.device, dtype=images.dtype)
    rest = images.shape[1:]
    flat = images.reshape(images.shape[0], -1)
    return F.embedding_bag(index, flat, per_sample_weights=weight, mode="sum").reshape(n, *rest)


def resample_channels_last(images: torch.Tensor, rows: AxisWeights, cols: AxisWeights) -> torch.Tensor:
    """Resample ``(H_s, W_s, n)`` scene samples (cropped to the weights' windows) to ``(W_out, H_out, n)``.

    Rows first (a gather of whole rows), then one transposing copy of the intermediate,
    then columns (again whole rows). The result comes out with the x axis first, the layout
    the renderer works in.
    """
    out = _gather_rows(images, rows)  # (H_out, W_s, n)
    return _gather_rows(out.transpose(0, 1).contiguous(), cols)  # (W_out, H_out, n)


def resample(images: torch.Tensor, rows: AxisWeights, cols: AxisWeights, *, transposed: bool = False):
    """Resample ``(B, C, H_s, W_s)`` scene samples (cropped to the weights' windows) to the sensor.

    Returns ``(B, C, H_out, W_out)``, or with ``transposed=True`` ``(B, C, W_out, H_out)``
    (the renderer's layout); the result is a view of a channels-last tensor (not contiguous).
    """
    b, c = images.shape[:2]
    x = images.permute(2, 3, 0, 1).reshape(images.shape[2], images.shape[3], b * c)
    out = resample_channels_last(x, rows, cols).reshape(len(cols.index), len(rows.index), b, c)
    out = out.permute(2, 3, 0, 1)  # (B, C, W_out, H_out)
    return out if transposed else out.transpose(2, 3)
