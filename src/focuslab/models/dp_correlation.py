"""A dual-pixel encoder built on a horizontal correlation volume (``dp-defocus`` ``arch="correlation"``).

Near focus a dual-pixel disparity is a small fraction of a pixel (phone_main with the Pixel 4
response: ~0.05 px per depth of focus, docs/learned_models.md), far below what a plain CNN with
global pooling reads reliably (the first shipped ``dp-defocus`` had a mean error of ~0.9 DoF
within 3 DoF of focus). Phase-detection AF reads it from the correlation of the two views over
a range of horizontal shifts; stereo networks build the same *cost volume* from learned
features and regress the disparity from it (Kendall et al., "End-to-end learning of geometry
and context for deep stereo regression", ICCV 2017; Punnappurath & Brown, "Reflection
removal using a dual-pixel sensor" and Garg et al., ICCV 2019, use the DP pair the same way).

This encoder:

1. computes ``features`` channels from each view with the same two 3 x 3 convolutions, the
   second with a vertical stride of 2 (siamese: the two views are alike but for the disparity
   and the mirrored blur; the disparity is horizontal, so the rows can be halved at once);
2. correlates them over the horizontal shifts ``s = -S..S`` (``S = max_shift_px``),
   ``C_s(y, x) = mean_c f_L(c, y, x) f_R(c, y, x + s)`` (zero outside the crop), and adds the
   features' energy ``mean_c (f_L^2 + f_R^2) / 2`` as a normalizer channel;
3. pools the ``2S + 2`` channels over pairs of columns (to ``H/2 x W/2``), runs four conv
   blocks (the last three halving the resolution) and global average pooling, and appends
   the crop-mean of the volume itself
   (the crop's correlation curve, what a phase detector fits a parabola to).

The sub-pixel shift is in the shape of the curve around its peak (``C_1 - C_-1`` is odd in
the shift), the blur in its width; the head regresses the defocus from both. Everything is
convolutions, slices and means: it exports to ONNX and Core ML as the plain encoder does.
"""

from __future__ import annotations

import itertools

import torch
from torch import nn


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
    """

    def __init__(self, features: int = 8, max_shift_px: int = 8, widths: tuple[int, ...] = (24, 32, 48, 64)) -> None:
        from focuslab.models.dp_defocus import conv_block

        super().__init__()
        if len(widths) != 4:
            raise ValueError(f"widths: four conv blocks, got {widths!r}")
        self.max_shift_px = int(max_shift_px)
        if self.max_shift_px < 1:
            raise ValueError(f"max_shift_px must be >= 1, got {max_shift_px!r}")
        self.siamese = nn.Sequential(
            conv_block(1, features, 1),
            nn.Conv2d(features, features, 3, stride=(2, 1), padding=1, bias=True),
        )
        n_vol = 2 * self.max_shift_px + 2
        layers = [nn.AvgPool2d((1, 2)), conv_block(n_vol, widths[0], 1)]
        layers += [conv_block(a, b, 2) for a, b in itertools.pairwise(widths)]
        self.aggregate = nn.Sequential(*layers)
        self.out_features = widths[-1] + n_vol

    def volume(self, x: torch.Tensor) -> torch.Tensor:
        """The ``B x (2S + 2) x H/2 x W`` correlation volume and energy channel of an input batch."""
        b = x.shape[0]
        f = self.siamese(torch.cat([x[:, 0:1], x[:, 1:2]], dim=0))
        fl, fr = f[:b], f[b:]
        s, w = self.max_shift_px, x.shape[-1]
        fr_pad = nn.functional.pad(fr, (s, s))
        chans = [(fl * fr_pad[..., k : k + w]).mean(dim=1, keepdim=True) for k in range(2 * s + 1)]
        chans.append(0.5 * (fl * fl + fr * fr).mean(dim=1, keepdim=True))
        return torch.cat(chans, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = self.volume(x)
        return torch.cat([self.aggregate(v).mean(dim=(2, 3)), v.mean(dim=(2, 3))], dim=1)
