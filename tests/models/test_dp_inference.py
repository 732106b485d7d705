"""The inference form of dp-defocus computes the training form's function (to float32 rounding)
on every correlation layout, on the shipped weights, and follows the weights when they change."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from focuslab.models import load_model
from focuslab.models.dp_cascade import FarCascade
from focuslab.models.dp_defocus import DPDefocusNet, DPEncoder, normalize_dp
from focuslab.models.dp_inference import (
    FusedCNNEncoder,
    FusedCorrelationDP,
    FusedCorrelationEncoder,
    fold_conv_bn,
    inference_form,
)
from focuslab.models.predict import TemporalTracker, dp_defocus, dp_defocus_map, pool
from focuslab.models.temporal import TemporalNet

LAYOUTS = [
    # the shipped layout
    dict(widths=(24, 32, 48, 64), max_shift_px=8, features=8, row_bin=2, early_row_stride=True,
         aggregate_strides=(2, 2, 2, 1)),
    # the first correlation layout (no binning, row stride at the second convolution)
    dict(widths=(24, 32, 48, 64), max_shift_px=8, features=8, row_bin=1, early_row_stride=False,
         aggregate_strides=(1, 2, 2, 2)),
    # other sizes: 4-row binning, a narrow search, few features
    dict(widths=(8, 12, 16, 20), max_shift_px=3, features=4, row_bin=4, early_row_stride=False,
         aggregate_strides=(1, 1, 2, 1)),
]


def _randomize_bn(net: nn.Module, seed: int) -> None:
    """Non-trivial BatchNorm statistics and affine terms, so that folding them is tested."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.randn(n, generator=g) * 0.5)
                m.running_var.copy_(torch.rand(n, generator=g) * 2 + 0.2)
                m.weight.copy_(torch.randn(n, generator=g) * 0.5 + 1)
                m.bias.copy_(torch.randn(n, generator=g) * 0.3)


def _net(seed: int = 0, **layout) -> DPDefocusNet:
    torch.manual_seed(seed)
    net = DPDefocusNet(arch="correlation", **layout)
    _randomize_bn(net, seed)
    return net.eval()


def _pair_input(batch: int = 4, size: int = 64, shift: int = 2, seed: int = 0) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    base = rng.random((batch, size, size + 2 * shift)).astype(np.float32) + 0.2
    size_x = base.shape[-1] - 2 * shift
    left = torch.from_numpy(base[..., shift : shift + size_x].copy())
    right = torch.from_numpy(base[..., :size_x].copy())
    return normalize_dp(left, right)


def test_fold_conv_bn_is_the_pair():
    torch.manual_seed(1)
    block = nn.Sequential(nn.Conv2d(5, 7, 3, padding=1, bias=True), nn.BatchNorm2d(7)).eval()
    _randomize_bn(block, 1)
    w, b = fold_conv_bn(block[0], block[1])
    x = torch.randn(2, 5, 9, 11)
    with torch.no_grad():
        ref = block(x)
    assert w.dtype == b.dtype == torch.float64
    got = nn.functional.conv2d(x, w.float(), b.float(), padding=1)
    assert torch.allclose(got, ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("layout", LAYOUTS, ids=["shipped", "unbinned", "small"])
def test_same_function_as_the_training_form(layout):
    net = _net(3, **layout)
    fused = FusedCorrelationDP(net)
    x = _pair_input(batch=5)
    with torch.no_grad():
        ref = net(x)
        got = fused(x)
    assert ref.abs().max() > 0.1  # the comparison is not of two zeros
    torch.testing.assert_close(got, ref, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("size", [32, 96, 128])
def test_other_crop_sizes(size):
    net = _net(13, **LAYOUTS[0])
    fused = FusedCorrelationDP(net)
    x = _pair_input(batch=3, size=size, seed=size)
    with torch.no_grad():
        torch.testing.assert_close(fused(x), net(x), atol=1e-4, rtol=1e-4)


def test_float64_form_matches_to_float64_rounding():
    net = _net(4, **LAYOUTS[0]).double()
    fused = inference_form(net)
    assert fused.encoder.w1.dtype == torch.float64
    x = _pair_input().double()
    with torch.no_grad():
        torch.testing.assert_close(fused(x), net(x), atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("weights", [None, "pixel4"])
def test_shipped_weights(weights):
    net = load_model("dp-defocus", weights)
    fused = inference_form(net)
    assert isinstance(fused, FusedCorrelationDP)
    for shift in (0, 1, 4):
        x = _pair_input(shift=shift, seed=shift)
        with torch.no_grad():
            diff = (fused(x) - net(x)).abs().max().item()
        assert diff < 1e-4


def test_inference_form_is_kept_and_follows_the_weights():
    net = _net(5, **LAYOUTS[0])
    first = inference_form(net)
    assert inference_form(net) is first
    x = _pair_input()
    # an in-place update (what an optimizer step does)
    with torch.no_grad():
        net.head.net[2].bias.add_(0.5)
    second = inference_form(net)
    assert second is not first
    with torch.no_grad():
        torch.testing.assert_close(second(x), net(x), atol=1e-4, rtol=1e-4)
    # load_state_dict copies into the same tensors
    other = _net(6, **LAYOUTS[0])
    net.load_state_dict(other.state_dict())
    third = inference_form(net)
    assert third is not second
    with torch.no_grad():
        torch.testing.assert_close(third(x), other(x), atol=1e-4, rtol=1e-4)
    # a BatchNorm statistic changed in place
    with torch.no_grad():
        net.encoder.aggregate[1][1].running_mean.add_(1.0)
    fourth = inference_form(net)
    assert fourth is not third
    with torch.no_grad():
        torch.testing.assert_close(fourth(x), net(x), atol=1e-4, rtol=1e-4)
    # nothing is registered on the network (its state dict is unchanged)
    assert set(net.state_dict()) == set(other.state_dict())


def test_what_keeps_its_own_form():
    net = _net(7, **LAYOUTS[0])
    net.train()
    assert inference_form(net) is net  # BatchNorm on batch statistics
    other = nn.Linear(3, 2)
    assert inference_form(other) is other
    with pytest.raises(TypeError, match="correlation"):
        FusedCorrelationDP(DPDefocusNet(arch="cnn").eval())


def test_cnn_dp_defocus_gets_its_encoder_fused():
    torch.manual_seed(14)
    cnn = DPDefocusNet(arch="cnn").eval()
    _randomize_bn(cnn, 14)
    fused = inference_form(cnn)
    assert fused is not cnn and isinstance(fused.encoder, FusedCNNEncoder) and fused.head is cnn.head
    assert isinstance(cnn.encoder, DPEncoder)  # the network itself is untouched
    x = _pair_input()
    with torch.no_grad():
        torch.testing.assert_close(fused(x), cnn(x), atol=1e-4, rtol=1e-4)
    assert set(cnn.state_dict()) == set(DPDefocusNet(arch="cnn").state_dict())


def test_far_cascade_runs_both_networks_fused():
    near, far = _net(8, **LAYOUTS[0]), _net(9, **LAYOUTS[0])
    cascade = FarCascade(near, far, far_above_dof=0.0)  # every crop re-read by the far network
    fast = inference_form(cascade)
    assert isinstance(fast, FarCascade)
    assert isinstance(fast.near, FusedCorrelationDP) and isinstance(fast.far, FusedCorrelationDP)
    assert inference_form(cascade) is fast
    x = _pair_input()
    with torch.no_grad():
        torch.testing.assert_close(fast(x), cascade(x), atol=1e-4, rtol=1e-4)
    # a cascade of networks without an inference form (stand-ins) is itself
    class StandIn(nn.Module):
        crop_px = 64

        def forward(self, x):
            return torch.zeros(x.shape[0], 2)

    plain = FarCascade(StandIn(), StandIn())
    assert inference_form(plain) is plain


def test_predict_reads_the_same_through_the_inference_form():
    net = load_model("dp-defocus")
    rng = np.random.default_rng(2)
    base = rng.random((128, 136)).astype(np.float32) * 0.3 + 0.1
    left, right = base[:, 4:-4].copy(), base[:, :-8].copy()
    d, s = dp_defocus(net, left, right, coarse_above_dof=None)
    from focuslab.models.predict import _pair_tiles

    lt, rt, _ = _pair_tiles(net, left, right, 16)
    with torch.no_grad():
        d_ref, s_ref = pool(net(normalize_dp(lt, rt)))
    assert abs(d - d_ref) < 1e-4 and abs(s - s_ref) < 1e-4
    centres, dm, sm = dp_defocus_map(net, left, right)
    assert len(dm) == len(centres) == 9 and np.all(np.isfinite(dm)) and np.all(sm > 0)


def test_bad_input_is_refused():
    fused = FusedCorrelationDP(_net(10, **LAYOUTS[0]))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        fused(torch.zeros(2, 2, 64, 64))
    with pytest.raises(ValueError, match="row_bin"):
        fused(torch.zeros(2, 3, 63, 64))


def test_latency_times_the_inference_form(monkeypatch):
    from focuslab.export import measure_latency

    calls = {"fused": 0}
    forward = FusedCorrelationDP.forward

    def counting(self, x):
        calls["fused"] += 1
        return forward(self, x)

    monkeypatch.setattr(FusedCorrelationDP, "forward", counting)
    net = _net(11, **LAYOUTS[0])
    x = _pair_input()
    fast = measure_latency(net, x, 1, repeats=5, warmup=1)
    assert calls["fused"] == 6 and fast.runtime == "torch"
    assert fast.parameters == sum(p.numel() for p in net.parameters())
    slow = measure_latency(net, x, 1, runtime="torch-unfused", repeats=5, warmup=1)
    assert calls["fused"] == 6 and slow.runtime == "torch-unfused"


def _run_steps(net, xs, moves):
    h = torch.zeros(xs[0].shape[0], net.hidden)
    outs = []
    with torch.no_grad():
        for x, m in zip(xs, moves, strict=True):
            out, h = net(x, m, h)
            outs.append(out)
    return torch.stack(outs), h


@pytest.mark.parametrize("shipped", [False, True], ids=["random", "shipped"])
def test_temporal_steps_the_same(shipped):
    if shipped:
        net = load_model("temporal")
    else:
        torch.manual_seed(12)
        net = TemporalNet(arch="correlation", **LAYOUTS[0])
        _randomize_bn(net, 12)
        net.eval()
    fused = inference_form(net)
    assert isinstance(fused, TemporalNet) and fused is not net and inference_form(net) is fused
    assert fused.cell is net.cell and fused.head is net.head and fused.encoder is not net.encoder
    xs = [_pair_input(shift=k % 3, seed=k) for k in range(4)]
    g = torch.Generator().manual_seed(3)
    moves = [torch.cat([torch.randn(4, 1, generator=g), torch.ones(4, 1)], dim=1) for _ in xs]
    ref, h_ref = _run_steps(net, xs, moves)
    got, h_got = _run_steps(fused, xs, moves)
    assert ref.abs().max() > 0.1
    torch.testing.assert_close(got, ref, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(h_got, h_ref, atol=1e-5, rtol=1e-4)


def test_temporal_tracker_runs_the_inference_form(monkeypatch):
    net = load_model("temporal")
    calls = {"n": 0}
    features = FusedCorrelationEncoder.features

    def counting(self, x):
        calls["n"] += 1
        return features(self, x)

    monkeypatch.setattr(FusedCorrelationEncoder, "features", counting)
    rng = np.random.default_rng(4)
    base = rng.random((128, 132)).astype(np.float32) * 0.3 + 0.1
    tracker = TemporalTracker(net)
    d1 = [tracker.step(base[:, 2:-2], base[:, :-4], 300 + 5 * i, 10.0) for i in range(3)]
    assert calls["n"] == 3
    # the same readings as the training form, frame by frame
    monkeypatch.setattr("focuslab.models.predict.inference_form", lambda m: m)
    tracker = TemporalTracker(net)
    d0 = [tracker.step(base[:, 2:-2], base[:, :-4], 300 + 5 * i, 10.0) for i in range(3)]
    assert np.allclose(np.array(d1), np.array(d0), atol=1e-4)


@pytest.mark.parametrize("name", ["two-frame", "fusion"])
def test_cnn_networks_shipped_weights(name):
    from focuslab.models import example_inputs

    net = load_model(name)
    fused = inference_form(net)
    assert type(fused) is type(net) and isinstance(fused.encoder, FusedCNNEncoder)
    assert inference_form(net) is fused
    g = torch.Generator().manual_seed(5)
    ins = tuple(torch.randn(t.shape, generator=g) for t in example_inputs(name, batch=4))
    with torch.no_grad():
        ref = net(*ins)
        got = fused(*ins)
    assert ref.abs().max() > 0.1
    torch.testing.assert_close(got, ref, atol=1e-4, rtol=1e-4)
