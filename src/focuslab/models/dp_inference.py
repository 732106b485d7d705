"""The inference form of ``dp-defocus``: the same network, re-laid for PyTorch's eager CPU runtime.

A trained :class:`~focuslab.models.dp_defocus.DPDefocusNet` with the correlation encoder
(:mod:`focuslab.models.dp_correlation`) is ~2.5 M multiply-adds per 64-px crop in ~50 small
PyTorch operations; on one 128-px AF region (4 crops) in eager mode the operations' own cost,
not the arithmetic, sets the latency (1.5-1.7 ms on one core of the 2-core benchmark machine,
``benchmarks/bench_models.py``). :class:`FusedCorrelationDP` computes the same function in
about 20 operations laid out for this runtime: 0.78-0.96 ms, 1.7-1.9x faster in the same runs
(docs/learned_models.md). The other networks get the same treatment of their per-frame
encoder (:func:`with_fused_encoder`: ``temporal``'s correlation encoder, 1.7 -> 1.05-1.14 ms;
the plain CNN encoder of ``two-frame`` and ``fusion``, :class:`FusedCNNEncoder`, BatchNorm
folded and channels-last, 1.2-1.3 -> 0.84-0.89 ms). We write it ourselves because the latency is the product's;
``torch.compile`` reaches the like (0.88-0.96 ms) with a C++ compiler and ~10 s of compilation
(:mod:`focuslab.export.compiled`). What it does:

* **BatchNorm folded** into the convolution before it (inference: running statistics), as
  deployment tools do (``torch.ao.quantization.fuse_modules``, onnxruntime's graph
  optimizer); the folding is done in float64 and rounded once.
* **Row binning folded into the first convolution**: binning ``r`` rows (a mean) and a
  ``3 x 3`` convolution of vertical stride ``s`` is exactly one ``3r x 3`` convolution of
  stride ``(s r, 1)``, padding ``(r, 1)``, its taps repeated ``r`` times and divided by ``r``.
* **Both views in one batch element**: the left and right views go through the siamese
  convolutions together (the first with the view's weights on its own input channel, the
  second as two groups), so the features come out channels-last as ``[f_L | f_R]``.
* **The correlation volume as one batched matrix product**: per row, ``f_L^T f_R`` over the
  zero-padded row is ``W x (W + 2S)``; its ``2S + 1`` diagonals are the shifts, read through
  one strided view and summed over column pairs straight into the volume; the energy channel
  is one product of the squared features with a ones vector over both columns of a pair.
* **Constant factors folded** into the next layer's weights: the means over channels and
  over column pairs become sums, the head's output scale and log-variance shift are in its
  last layer.
* **Channels-last** convolutions throughout (oneDNN's blocked kernels, no layout copies).

The numbers agree with the training form to float32 rounding (tests/models/test_dp_inference.py:
max abs difference < 1e-4 DoF on the shipped weights and on random networks of three
correlation layouts; the closed-loop figures of docs/learned_af.md came out the same).
Training, export (ONNX / Core ML) and the registry keep the training form;
:func:`inference_form` is what :mod:`focuslab.models.predict` (``dp_defocus``,
``dp_defocus_map``, ``TemporalTracker``) and ``measure_latency``'s ``"torch"`` runtime run.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.nn import functional as F

from focuslab.models.dp_defocus import OUTPUT_SCALE_DOF, DPDefocusNet


def fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight and bias of ``bn(conv(x))`` as one convolution (BatchNorm with its running
    statistics), computed in float64."""
    with torch.no_grad():
        scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
        weight = conv.weight.double() * scale.view(-1, 1, 1, 1)
        bias = bn.bias.double() - bn.running_mean.double() * scale
        if conv.bias is not None:
            bias = bias + conv.bias.double() * scale
    return weight, bias


def _pair(v) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, int) else (int(v[0]), int(v[1]))


class FusedCorrelationEncoder(nn.Module):
    """The correlation encoder's inference form: ``forward(x)`` (``x`` =
    :func:`~focuslab.models.dp_defocus.normalize_dp` output ``B x 3 x H x W``) -> ``(a, v)``, the
    aggregation features ``B x widths[-1]`` and the volume's crop mean times ``1 / vol_scale``
    (``B x (2S + 2)``; the training encoder's output is ``cat([a, v * vol_scale])``, see
    :meth:`features`, and a consumer that is linear in ``v`` folds ``vol_scale`` into its weights).
    Computed in ``dtype`` from ``enc``'s weights as they are now (module notes). The weights are
    plain tensor attributes, not parameters or buffers (an attribute lookup through
    ``nn.Module`` costs ~50 us per forward here): the module has no state dict and ``.to()`` does
    not move it; build another for another dtype."""

    #: The tensor attributes (converted to ``dtype`` together).
    _TENSORS = ("w1", "b1", "w2", "b2", "ones", "vol_scale")

    def __init__(self, enc: nn.Module, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        from focuslab.models.dp_correlation import CorrelationEncoder

        if not isinstance(enc, CorrelationEncoder):
            raise TypeError(f"the inference form takes the correlation encoder, got {type(enc).__name__}")
        self.shift = int(enc.max_shift_px)
        self.row_bin = int(enc.row_bin)
        first, second = enc.siamese[0][0], enc.siamese[1]
        nf = int(first.out_channels)
        self.features_per_view = nf
        r = self.row_bin
        sy1, sx1 = _pair(first.stride)
        if sx1 != 1 or _pair(first.padding) != (1, 1) or _pair(first.kernel_size) != (3, 3):
            raise TypeError("the inference form takes the correlation encoder's 3 x 3 siamese convolutions")
        w1, b1 = fold_conv_bn(first, enc.siamese[0][1])
        w1 = w1.repeat_interleave(r, dim=2) / r  # nf x 1 x 3r x 3: the row binning folded in
        f64 = torch.float64  # the folding is done in float64, then rounded once to dtype
        self.stride1, self.pad1 = (sy1 * r, 1), (r, 1)
        # left view -> channels :F, right -> F: (zeros between: as two groups, but with two input
        # channels the channels-last weight is unambiguous and the convolution answers
        # channels-last, what the next one and the correlation want)
        wide = torch.zeros(2 * nf, 2, 3 * r, 3, dtype=f64)
        wide[:nf, 0:1] = w1
        wide[nf:, 1:2] = w1
        self.w1 = wide.contiguous(memory_format=torch.channels_last)
        self.b1 = torch.cat([b1, b1])
        w2 = second.weight.detach().double()
        self.stride2 = _pair(second.stride)
        self.w2 = torch.cat([w2, w2]).contiguous(memory_format=torch.channels_last)
        self.b2 = torch.cat([second.bias.detach(), second.bias.detach()]).double()
        n_vol = 2 * self.shift + 2
        # the training form's volume: channel means (1/nf), energy 0.5/nf, then a column-pair mean (1/2);
        # here sums, the factors moved into the first aggregation convolution (and the consumer of v)
        vol_scale = torch.full((n_vol,), 0.5 / nf, dtype=f64)
        vol_scale[-1] = 0.25 / nf
        self.vol_scale = vol_scale
        agg_w, agg_b, self.agg_strides = [], [], []
        for i, block in enumerate(list(enc.aggregate)[1:]):
            w, b = fold_conv_bn(block[0], block[1])
            if i == 0:
                w = w * vol_scale.view(1, -1, 1, 1)
            agg_w.append(w.contiguous(memory_format=torch.channels_last))
            agg_b.append(b)
            self.agg_strides.append(_pair(block[0].stride))
        self.ones = torch.ones(4 * nf, dtype=f64)
        for name in self._TENSORS:
            setattr(self, name, getattr(self, name).to(dtype))
        self.agg_w = [t.to(dtype) for t in agg_w]
        self.agg_b = [t.to(dtype) for t in agg_b]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"dp-defocus input: expected (B, 3, H, W), got {tuple(x.shape)}")
        if x.shape[2] % self.row_bin:
            raise ValueError(f"dp-defocus input: height {x.shape[2]} is not a multiple of row_bin {self.row_bin}")
        b, s, nf = x.shape[0], self.shift, self.features_per_view
        f = F.relu_(F.conv2d(x[:, :2], self.w1, self.b1, self.stride1, self.pad1))
        f = F.conv2d(f, self.w2, self.b2, self.stride2, 1, 1, 2)  # siamese: two groups
        h, w = int(f.shape[2]), int(f.shape[3])
        if w % 2:
            raise ValueError(f"dp-defocus input: width {x.shape[3]} gives an odd feature width {w}; give an even width")
        fc = f.permute(0, 2, 3, 1)  # B x H x W x 2F, [f_L | f_R]
        if not fc.is_contiguous():
            fc = fc.contiguous()
        wp = w + 2 * s
        fcp = F.pad(fc, (0, 0, s, s))
        fl = fcp[:, :, s : s + w, :nf].reshape(b * h, w, nf)
        fr = fcp[:, :, :, nf:].reshape(b * h, wp, nf).transpose(1, 2)
        full = torch.bmm(fl, fr)  # (B H) x W x (W + 2S): entry (x, x + k) is the shift k - S
        corr = full.as_strided((b, h, w, 2 * s + 1), (h * w * wp, w * wp, wp + 1, 1))
        # the volume, summed over column pairs: 2S + 1 shifts and the energy (one product with ones
        # over both columns' channels)
        vol = torch.empty((b, h, w // 2, 2 * s + 2), dtype=x.dtype)
        torch.add(corr[:, :, 0::2], corr[:, :, 1::2], out=vol[..., : 2 * s + 1])
        vol[..., 2 * s + 1] = torch.matmul((fc * fc).view(b, h, w // 2, 4 * nf), self.ones)
        g = vol.permute(0, 3, 1, 2)  # channels-last view
        for weight, bias, stride in zip(self.agg_w, self.agg_b, self.agg_strides, strict=True):
            g = F.relu_(F.conv2d(g, weight, bias, stride, 1))
        return g.mean(dim=(2, 3)), vol.reshape(b, -1, vol.shape[-1]).mean(dim=1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The training encoder's output ``B x out_features``."""
        a, v = self(x)
        return torch.cat([a, v * self.vol_scale], dim=1)


class FusedCorrelationDP(nn.Module):
    """``forward(x)``: as :class:`~focuslab.models.dp_defocus.DPDefocusNet` (``x`` =
    :func:`~focuslab.models.dp_defocus.normalize_dp` output ``B x 3 x H x W`` -> ``B x 2``),
    computed in ``dtype`` from ``net``'s weights as they are now (module notes): the
    :class:`FusedCorrelationEncoder` and the head with the volume's scale, the output scale and
    the log-variance shift folded into its weights. ``net`` must use ``arch="correlation"``; the
    copy does not follow later changes to ``net`` (see :func:`inference_form`)."""

    _TENSORS = ("head_wa", "head_wv", "head_b1", "head_w2", "head_b2")

    def __init__(self, net: DPDefocusNet, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        from focuslab.models.dp_correlation import CorrelationEncoder

        if not isinstance(net.encoder, CorrelationEncoder):
            raise TypeError(f"the inference form takes a correlation dp-defocus network, got arch={net.arch!r}")
        self.crop_px, self.arch = int(net.crop_px), "correlation-fused"
        self.encoder = FusedCorrelationEncoder(net.encoder, dtype)
        f64 = torch.float64
        vol_scale = self.encoder.vol_scale.to(f64)
        n_vol = vol_scale.numel()
        l1, l2 = net.head.net[0], net.head.net[2]
        w = l1.weight.detach().to(f64, copy=True)
        n_agg = w.shape[1] - n_vol
        w[:, n_agg:] *= vol_scale
        self.head_wa = w[:, :n_agg].T.contiguous()
        self.head_wv = w[:, n_agg:].T.contiguous()
        self.head_b1 = l1.bias.detach().to(f64, copy=True)
        out_scale = torch.tensor([OUTPUT_SCALE_DOF, 1.0], dtype=f64)
        self.head_w2 = (l2.weight.detach().double() * out_scale.view(2, 1)).contiguous()
        shift = torch.tensor([0.0, 2.0 * math.log(OUTPUT_SCALE_DOF)], dtype=f64)
        self.head_b2 = l2.bias.detach().double() * out_scale + shift
        for name in self._TENSORS:
            setattr(self, name, getattr(self, name).to(dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, v = self.encoder(x)
        hidden = torch.addmm(self.head_b1, a, self.head_wa)
        hidden = F.relu_(hidden.addmm_(v, self.head_wv))
        return F.linear(hidden, self.head_w2, self.head_b2)


class FusedCNNEncoder(nn.Module):
    """The plain CNN encoder's (:class:`~focuslab.models.dp_defocus.DPEncoder`) inference form:
    ``forward(x)`` -> its ``B x out_features`` output, BatchNorm folded into each convolution,
    channels-last weights (so every convolution answers channels-last). Plain tensor attributes
    (see :class:`FusedCorrelationEncoder`)."""

    def __init__(self, enc: nn.Module, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        from focuslab.models.dp_defocus import DPEncoder

        if not isinstance(enc, DPEncoder):
            raise TypeError(f"the inference form takes the CNN encoder, got {type(enc).__name__}")
        self.layers = []
        for block in enc.features:
            w, b = fold_conv_bn(block[0], block[1])
            conv = block[0]
            self.layers.append((w.to(dtype).contiguous(memory_format=torch.channels_last), b.to(dtype),
                                _pair(conv.stride), _pair(conv.padding)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = x
        for weight, bias, stride, padding in self.layers:
            g = F.relu_(F.conv2d(g, weight, bias, stride, padding))
        return g.mean(dim=(2, 3))


class _CorrelationFeatures(nn.Module):
    """:class:`FusedCorrelationEncoder` answering the training encoder's output (its ``features``)."""

    def __init__(self, enc: nn.Module, dtype: torch.dtype) -> None:
        super().__init__()
        self.fused = FusedCorrelationEncoder(enc, dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fused.features(x)


def fused_encoder(enc: nn.Module, dtype: torch.dtype = torch.float32) -> nn.Module | None:
    """The inference form of a per-frame encoder (``forward(x)`` -> the same features), or None
    for an encoder it does not know (:func:`fused_encoder_kind`)."""
    kind = fused_encoder_kind(enc)
    if kind is None:
        return None
    return (_CorrelationFeatures if kind == "correlation" else FusedCNNEncoder)(enc, dtype)


def with_fused_encoder(net: nn.Module, dtype: torch.dtype = torch.float32) -> nn.Module:
    """A shallow copy of ``net`` whose ``encoder`` is its inference form (:func:`fused_encoder`):
    ``net``'s own ``forward`` and other layers (heads, recurrent cell, depth branch), shared with
    ``net``. Used for ``temporal``, ``two-frame``, ``fusion`` and a ``cnn`` ``dp-defocus``."""
    enc = fused_encoder(net.encoder, dtype)
    if enc is None:
        raise TypeError(f"no inference form for the encoder {type(net.encoder).__name__}")
    new = copy.copy(net)
    new.__dict__.pop("_inference_cache", None)
    new._modules = dict(net._modules)
    new._modules["encoder"] = enc.eval()
    return new


def fused_encoder_kind(enc: nn.Module) -> str | None:
    """``"correlation"``, ``"cnn"`` or None: which inference form :func:`fused_encoder` gives ``enc``."""
    from focuslab.models.dp_correlation import CorrelationEncoder
    from focuslab.models.dp_defocus import DPEncoder

    return "correlation" if isinstance(enc, CorrelationEncoder) else "cnn" if isinstance(enc, DPEncoder) else None


def _stamp(tensors: tuple[torch.Tensor, ...]) -> tuple:
    # inference tensors (made under torch.inference_mode) keep no version counter
    return tuple((-1 if t.is_inference() else t._version, t.data_ptr(), t.dtype) for t in tensors)


def inference_form(model: nn.Module) -> nn.Module:
    """What :mod:`focuslab.models.predict` runs for ``model``: a correlation ``dp-defocus``
    network in eval mode -> its :class:`FusedCorrelationDP` (built once and kept on the model;
    built again when the model's weights change in place, e.g. by an optimizer step or
    ``load_state_dict``, or it moves to another dtype / device; a parameter replaced by a new
    object is not seen: call ``inference_form`` on a freshly loaded model instead); a
    :class:`~focuslab.models.dp_cascade.FarCascade` -> the cascade of its networks' inference
    forms; a ``temporal``, ``two-frame``, ``fusion`` or ``cnn`` ``dp-defocus`` network ->
    :func:`with_fused_encoder` (kept the same way); anything else (training mode, other models,
    stand-ins, a network off the CPU) -> ``model`` itself."""
    form = getattr(model, "inference_form", None)
    if callable(form):
        return form()
    from focuslab.models.fusion import FusionNet
    from focuslab.models.temporal import TemporalNet
    from focuslab.models.two_frame import TwoFrameNet

    if isinstance(model, DPDefocusNet) and model.arch == "correlation":
        kind = FusedCorrelationDP
    elif isinstance(model, (DPDefocusNet, TemporalNet, TwoFrameNet, FusionNet)):
        kind = with_fused_encoder
    else:
        return model
    if model.training or fused_encoder_kind(model.encoder) is None:
        return model
    cached = model.__dict__.get("_inference_cache")
    if cached is not None and cached[0] == _stamp(cached[1]):
        return cached[2]
    tensors = tuple(model.parameters()) + tuple(model.buffers())
    if not tensors or tensors[0].device.type != "cpu":
        return model
    fused = kind(model, tensors[0].dtype)
    fused.eval()
    model.__dict__["_inference_cache"] = (_stamp(tensors), tensors, fused)
    return fused
