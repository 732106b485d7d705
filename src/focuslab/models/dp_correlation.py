"""A dual-pixel encoder built on a horizontal correlation volume (``dp-defocus`` ``arch="correlation"``).

Near focus a dual-pixel disparity is a small fraction of a pixel (phone_main with the Pixel 4
response: ~0.05 px per depth of focus, docs/learned_models.md), hard for a plain CNN with
global pooling to read: trained on the same data and schedule (``configs/train/dp_defocus.yaml``,
8000 steps), the ``arch="cnn"`` encoder's held-out mean error within 3 DoF of focus is 0.78 DoF
(0.80 after 20000 steps), this encoder's 0.68. Phase-detection AF reads it from the
correlation of the two views over a range of horizontal shifts; stereo networks build the same
*cost volume* from learned features and regress the disparity from it (Kendall et al.,
"End-to-end learning of geometry and context for deep stereo regression", ICCV 2017;
Punnappurath & Brown, "Reflection removal using a dual-pixel sensor" and Garg et al., ICCV
2019, use the DP pair the same way).

This encoder:

1. bins ``row_bin`` rows of each view (a mean, as a phase-detect readout bins its PD rows) and
   computes ``features`` channels from it with the same two 3 x 3 convolutions, one of them
   with a vertical stride of 2 (siamese: the two views are alike but for the disparity and the
   mirrored blur; the disparity is horizontal, so the rows can be reduced at once);
2. correlates them over the horizontal shifts ``s = -S..S`` (``S = max_shift_px``),
   ``C_s(y, x) = mean_c f_L(c, y, x) f_R(c, y, x + s)`` (zero outside the crop), and adds the
   features' energy ``mean_c (f_L^2 + f_R^2) / 2`` as a normalizer channel;
3. pools the ``2S + 2`` channels over pairs of columns, runs four conv blocks (strides
   ``aggregate_strides``) and global average pooling, and appends the crop-mean of the volume
   itself (the crop's correlation curve, what a phase detector fits a parabola to).

The shipped ``dp-defocus`` uses ``row_bin=2, early_row_stride=True, aggregate_strides=(2, 2, 2, 1)``
(a 64-px crop becomes a 16 x 64 volume, 16 x 32 after the column pooling): 2.5 M multiply-adds
per crop against 10.3 M for the first layout (``row_bin=1``, stride at the second conv,
``(1, 2, 2, 2)``: 32 x 32 after pooling), trained to the same held-out error
(benchmarks/bench_models.py has the latency).

The sub-pixel shift is in the shape of the curve around its peak (``C_1 - C_-1`` is odd in
the shift), the blur in its width; the head regresses the defocus from both. Everything is
convolutions, slices and means: it exports to ONNX and Core ML as the plain encoder does.
"""

from __future__ import annotations

import torch
from torch import nn


class BinMean(nn.Module):
    """Mean over consecutive groups of ``n`` along ``dim`` (2: rows, 3: columns) of ``B x C x H x W``:
    the same numbers as ``nn.AvgPool2d`` with that window and stride, as a reshape and a sum of
    its ``n`` slices (a tenth of the time of PyTorch's CPU average pooling on these small maps,
    where the pooling was a fifth of the encoder's time); exported to ONNX as ``AveragePool``,
    which onnxruntime runs faster than the reshape. The size along ``dim`` must be a multiple
    of ``n``."""

    def __init__(self, dim: int, n: int) -> None:
        super().__init__()
        if dim not in (2, 3):
            raise ValueError(f"dim must be 2 (rows) or 3 (columns), got {dim!r}")
        self.dim, self.n = int(dim), int(n)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.onnx.is_in_onnx_export():  # onnxruntime's AveragePool is the faster one there (0.67 vs 0.89 ms)
            window = (self.n, 1) if self.dim == 2 else (1, self.n)
            return nn.functional.avg_pool2d(x, window, window)
        v = x.unflatten(self.dim, (-1, self.n))
        out = v.select(self.dim + 1, 0)
        for i in range(1, self.n):
            out = out + v.select(self.dim + 1, i)
        return out * (1.0 / self.n)


class CorrelationEncoder(nn.Module):
    """``B x 3 x H x W`` (:func:`~focuslab.models.dp_defocus.normalize_dp` output; the ``L`` and ``R``
    channels are used) -> ``B x out_features`` (see the module notes).

    Parameters
    ----------
    features
        Channels of the siamese features.
    max_shift_px
        Correlation over shifts ``-S..S`` pixels of the crop (the mosaic's pixels).
    widths
        Channels of the four conv blocks after the volume.
    row_bin
        Rows averaged (binned) before the siamese convolutions, as a phase-detect readout bins
        its PD rows: the disparity is horizontal, and binning cuts the work and the noise.
    early_row_stride
        Halve the rows at the first siamese convolution instead of the second.
    aggregate_strides
        Stride of each of the four conv blocks after the volume.
    """

    def __init__(self, features: int = 8, max_shift_px: int = 8, widths: tuple[int, ...] = (24, 32, 48, 64),
                 row_bin: int = 1, early_row_stride: bool = False,
                 aggregate_strides: tuple[int, ...] = (1, 2, 2, 2)) -> None:
        from focuslab.models.dp_defocus import conv_block

        super().__init__()
        if len(widths) != 4:
            raise ValueError(f"widths: four conv blocks, got {widths!r}")
        if len(aggregate_strides) != 4:
            raise ValueError(f"aggregate_strides: one per conv block, got {aggregate_strides!r}")
        self.max_shift_px = int(max_shift_px)
        if self.max_shift_px < 1:
            raise ValueError(f"max_shift_px must be >= 1, got {max_shift_px!r}")
        self.row_bin = int(row_bin)
        if self.row_bin < 1:
            raise ValueError(f"row_bin must be >= 1, got {row_bin!r}")
        self.bin = BinMean(2, self.row_bin) if self.row_bin > 1 else nn.Identity()
        first, second = ((2, 1), 1) if early_row_stride else (1, (2, 1))
        self.siamese = nn.Sequential(
            conv_block(1, features, first),
            nn.Conv2d(features, features, 3, stride=second, padding=1, bias=True),
        )
        n_vol = 2 * self.max_shift_px + 2
        chans = (n_vol, *widths)
        layers = [BinMean(3, 2)]
        layers += [conv_block(chans[i], chans[i + 1], int(aggregate_strides[i])) for i in range(4)]
        self.aggregate = nn.Sequential(*layers)
        self.out_features = widths[-1] + n_vol

    def volume(self, x: torch.Tensor) -> torch.Tensor:
        """The ``B x (2S + 2) x H / (2 row_bin) x W`` correlation volume and energy channel of an input batch."""
        b = x.shape[0]
        f = self.siamese(self.bin(torch.cat([x[:, 0:1], x[:, 1:2]], dim=0)))
        fl, fr = f[:b], f[b:]
        s = self.max_shift_px
        fr_pad = nn.functional.pad(fr, (s, s))
        # shift k - s: columns k .. k + W of the padded row; the end counted from the right is a
        # constant, so the exported graph has no shape arithmetic
        chans = [(fl * fr_pad[..., k : (k - 2 * s) or None]).mean(dim=1, keepdim=True) for k in range(2 * s + 1)]
        chans.append(0.5 * (fl * fl + fr * fr).mean(dim=1, keepdim=True))
        return torch.cat(chans, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = self.volume(x)
        return torch.cat([self.aggregate(v).mean(dim=(2, 3)), v.mean(dim=(2, 3))], dim=1)
