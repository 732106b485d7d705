"""focuslab.models: registry, seeded construction, forward passes (shapes, dtype, no NaN), the
normalization invariances, weight files, and the numpy prediction API."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from focuslab.errors import InputFileError, InvalidParameterError, UnknownNameError
from focuslab.models import build_model, example_inputs, load_model, model_names
from focuslab.models import predict as P
from focuslab.models.dp_defocus import normalize_dp, phase_mean
from focuslab.models.fusion import normalize_fusion
from focuslab.models.registry import n_parameters, save_weights


def test_the_four_networks_are_registered():
    assert model_names() == ["dp-defocus", "two-frame", "fusion", "temporal"]
    with pytest.raises(UnknownNameError, match="valid names: dp-defocus, fusion, temporal, two-frame"):
        build_model("resnet50")


@pytest.mark.parametrize("name", ["dp-defocus", "two-frame", "fusion", "temporal"])
def test_forward_shapes_dtype_and_no_nan(name):
    torch.manual_seed(0)
    model = build_model(name).eval()
    inputs = tuple(torch.randn_like(t) for t in example_inputs(name, batch=3))
    with torch.no_grad():
        out = model(*inputs)
    if name == "temporal":
        out, h = out
        assert h.shape == inputs[2].shape and torch.isfinite(h).all()
    assert out.shape == (3, 2) and out.dtype == torch.float32 and torch.isfinite(out).all()
    assert n_parameters(model) <= 200_000


def test_build_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(5)
    before = torch.random.get_rng_state()
    a, b, c = build_model("dp-defocus", seed=3), build_model("dp-defocus", seed=3), build_model("dp-defocus", seed=4)
    assert torch.equal(torch.random.get_rng_state(), before)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)
    with pytest.raises(InvalidParameterError, match="bad overrides"):
        build_model("dp-defocus", depth=3)


def test_phase_mean_is_the_per_colour_plane_mean_of_a_mosaic():
    rng = np.random.default_rng(1)
    x = rng.uniform(0.1, 1.0, (2, 8, 6))
    pm = phase_mean(torch.from_numpy(x)).numpy()
    for py in (0, 1):
        for px in (0, 1):
            want = x[:, py::2, px::2].mean(axis=(1, 2))
            np.testing.assert_allclose(pm[:, py::2, px::2], np.broadcast_to(want[:, None, None], (2, 4, 3)))


def test_dp_normalization_ignores_exposure_white_balance_and_lr_gain():
    """Scaling the views (exposure), each Bayer plane (white balance) or one view (DP vignetting
    gain) does not change the network's input."""
    rng = np.random.default_rng(2)
    left = torch.from_numpy(rng.uniform(0.05, 0.3, (2, 16, 16)).astype(np.float32))
    right = torch.from_numpy(rng.uniform(0.05, 0.3, (2, 16, 16)).astype(np.float32))
    gains = torch.ones(16, 16)
    gains[0::2, 0::2], gains[1::2, 1::2] = 2.1, 1.6  # R and B planes of an RGGB mosaic
    x0 = normalize_dp(left, right)
    x1 = normalize_dp(3.0 * left * gains, 0.7 * 3.0 * right * gains)
    assert x0.shape == (2, 3, 16, 16)
    torch.testing.assert_close(x1, x0, atol=2e-5, rtol=1e-4)
    torch.testing.assert_close(x0[:, 2], x0[:, 0] - x0[:, 1])


def test_fusion_features_of_a_known_depth():
    """Zones at 0.5 m (2 D), one without a return; code 512; 10 codes per DoF."""
    d = torch.full((1, 3, 3), 0.5)
    d[0, 0, 0] = float("nan")
    s = torch.full((1, 3, 3), 0.01)
    z = normalize_fusion(d, s, torch.tensor([512.0]), torch.tensor([10.0]))[0]
    want = [0.2, 0.2, 0.2, 0.004, 8 / 9, 0.5, 1.0, 0.2, 0.5, 8 / 9]
    np.testing.assert_allclose(z.numpy(), want, rtol=1e-5)
    z0 = normalize_fusion(torch.full((1, 2, 2), float("nan")), torch.full((1, 2, 2), float("nan")),
                          torch.tensor([512.0]), torch.tensor([10.0]))[0]  # fmt: skip
    assert torch.isfinite(z0).all() and z0[4] == 0 and z0[0] == 0


def test_weights_round_trip_and_bad_files(tmp_path):
    model = build_model("fusion", seed=1, widths=(8, 8, 8, 8, 8), crop_px=32).eval()
    path = save_weights(tmp_path / "w.pt", model, {"name": "fusion", "overrides": {"widths": [8] * 5, "crop_px": 32}})
    back = load_model("fusion", path)
    x = tuple(torch.randn_like(t) for t in model_example(back))
    with torch.no_grad():
        torch.testing.assert_close(back(*x), model(*x), rtol=0, atol=0)
    assert not back.training and back.crop_px == 32
    with pytest.raises(InputFileError, match="does not exist"):
        load_model("fusion", tmp_path / "none.pt")
    (tmp_path / "bad.pt").write_bytes(b"not a torch file")
    with pytest.raises(InputFileError, match="corrupt"):
        load_model("fusion", tmp_path / "bad.pt")
    with pytest.raises(InputFileError, match="holds model 'fusion', not 'temporal'"):
        load_model("temporal", path)
    torch.save({"state_dict": {}, "metadata": {"name": "fusion"}}, tmp_path / "empty.pt")
    with pytest.raises(InputFileError, match="does not fit"):
        load_model("fusion", tmp_path / "empty.pt")


def model_example(model):
    from focuslab.models.registry import model_spec

    return model_spec(model.model_name).example(model, 2)


def test_tiles_cover_the_region_and_pooling_is_inverse_variance():
    assert P.tile_origins((64, 64), 64) == [(0, 0)]
    o = P.tile_origins((100, 150), 64)
    assert o == [(0, 0), (0, 43), (0, 86), (36, 0), (36, 43), (36, 86)]
    assert len(P.tile_origins((1000, 1000), 64, max_tiles=16)) <= 16
    out = torch.tensor([[1.0, math.log(1.0)], [3.0, math.log(4.0)]])
    d, s = P.pool(out)
    w = np.array([1.0, 0.25])
    mean = (w * [1, 3]).sum() / w.sum()
    assert d == pytest.approx(mean)
    assert s == pytest.approx(math.sqrt(1 / w.sum() + (w * (np.array([1, 3]) - mean) ** 2).sum() / w.sum()))
    small = np.arange(12.0 * 10).reshape(12, 10)
    assert P.crops(small, 16, [(0, 0)]).shape == (1, 16, 16)


def test_predict_functions_match_the_network():
    rng = np.random.default_rng(3)
    dp = build_model("dp-defocus", seed=2).eval()
    left, right = rng.uniform(0.1, 0.3, (2, 64, 64)).astype(np.float32)
    with torch.no_grad():
        o = dp(normalize_dp(torch.from_numpy(left)[None], torch.from_numpy(right)[None]))[0]
    d, s = P.dp_defocus(dp, left, right)
    assert d == pytest.approx(float(o[0]), abs=1e-5) and s == pytest.approx(math.exp(0.5 * float(o[1])), rel=1e-4)
    tf = build_model("two-frame", seed=2).eval()
    d1, _ = P.two_frame_defocus(tf, left, right, 300, 340, 20.0)
    d1b, _ = P.two_frame_defocus(tf, left, right, 300, 340, 10.0)
    from focuslab.models.two_frame import normalize_two_frame

    x, mv = normalize_two_frame(torch.from_numpy(left)[None], torch.from_numpy(right)[None], torch.tensor([300.0]),
                                torch.tensor([340.0]), torch.tensor([20.0]))  # fmt: skip
    with torch.no_grad():
        d0 = float(tf(x, mv)[0, 0])
    assert d1 == pytest.approx(d0 - 2.0, abs=1e-5) and d1b != pytest.approx(d1)
    fu = build_model("fusion", seed=2).eval()
    d, s = P.fusion_defocus(fu, left, right, np.full((4, 4), 0.8), np.full((4, 4), 0.02), 400, 15.0)
    assert math.isfinite(d) and s > 0
    tr = P.TemporalTracker(build_model("temporal", seed=2).eval())
    first = tr.step(left, right, 400, 15.0)
    second = tr.step(left, right, 410, 15.0)
    tr.reset()
    assert tr.step(left, right, 400, 15.0) == pytest.approx(first) and second != pytest.approx(first)
    centres, dmap, smap = P.dp_defocus_map(dp, np.tile(left, (2, 3)), np.tile(right, (2, 3)), stride_px=32)
    assert centres.shape == (3 * 5, 2) and dmap.shape == smap.shape == (15,) and (smap > 0).all()
    assert dmap[0] == pytest.approx(float(o[0]), abs=1e-5)
    zones, zsig = np.full((4, 4), 0.8), np.full((4, 4), 0.02)
    fc, fd, fs = P.fusion_defocus_map(fu, np.tile(left, (2, 2)), np.tile(right, (2, 2)), zones, zsig, 400, 15.0)
    assert fc.shape == (9, 2) and fd.shape == fs.shape == (9,) and (fs > 0).all()
    assert fd[0] == pytest.approx(d, abs=1e-5) and fd[8] == pytest.approx(d, abs=1e-5)  # the same crop, tiled
    with pytest.raises(InvalidParameterError, match="2-D grids"):
        P.fusion_defocus_map(fu, left, right, np.full(4, 0.8), np.full(4, 0.02), 400, 15.0)
    # two-frame crops: each crop's defocus at frame 1, as two_frame_defocus reads a lone crop
    tc, td, ts = P.two_frame_defocus_map(tf, np.tile(left, (2, 2)), np.tile(right, (2, 2)), 300, 340, 20.0)
    assert tc.shape == (9, 2) and td.shape == ts.shape == (9,) and (ts > 0).all()
    assert td[0] == pytest.approx(d1, abs=1e-5) and td[8] == pytest.approx(d1, abs=1e-5)
    with pytest.raises(InvalidParameterError, match="image0 and image1 differ"):
        P.two_frame_defocus_map(tf, left, right[:32], 300, 340, 20.0)
    with pytest.raises(InvalidParameterError, match="codes_per_dof"):
        P.two_frame_defocus_map(tf, left, right, 300, 340, 0.0)


class SaturatingMatcher(torch.nn.Module):
    """A stand-in DP network that saturates, like the shipped one whose correlation has a fixed
    search range: it finds the horizontal shift of R against L by correlation and reads ``gain``
    DoF per pixel of shift, clipped to +-``max_shift`` px (sigma 0.5)."""

    def __init__(self, crop_px: int = 64, max_shift: int = 6, gain: float = 2.0) -> None:
        super().__init__()
        self.crop_px, self.max_shift, self.gain = crop_px, max_shift, gain
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        left, right = x[:, 0], x[:, 1]
        left, right = left - left.mean(dim=(1, 2), keepdim=True), right - right.mean(dim=(1, 2), keepdim=True)
        m = 16
        shifts = range(-m, m + 1)
        score = torch.stack([(left[:, :, m:-m] * torch.roll(right, -k, dims=2)[:, :, m:-m]).mean(dim=(1, 2))
                             for k in shifts], dim=1)  # fmt: skip
        best = torch.tensor(list(shifts), dtype=torch.float32)[score.argmax(dim=1)]
        best = best.clamp(-self.max_shift, self.max_shift)
        return torch.stack([self.gain * best, torch.full_like(best, math.log(0.25))], dim=1)


@pytest.mark.parametrize(("shift_px", "coarse"), [(4, False), (10, True), (-10, True)])
def test_large_defocus_is_read_again_binned_beyond_the_search_range(shift_px, coarse):
    """A shift beyond the network's search range saturates its reading (6 px -> 12 DoF); binned
    2 x 2 the shift halves and falls inside it, and twice the binned reading is the truth. A
    reading below the threshold is the one-scale reading (one call of the network)."""
    rng = np.random.default_rng(5)
    base = rng.uniform(0.1, 1.0, (128, 160)).astype(np.float32)
    base = (base + np.roll(base, 1, axis=1)) / 2  # a little correlated, so that binning keeps the texture
    left = np.ascontiguousarray(base[:, 16:144])
    right = np.ascontiguousarray(np.roll(base, shift_px, axis=1)[:, 16:144])
    net = SaturatingMatcher()
    d, s = P.dp_defocus(net, left, right, coarse_above_dof=10.0)
    assert d == pytest.approx(2.0 * shift_px, abs=1e-6) and net.calls == (2 if coarse else 1)
    assert s == pytest.approx(1.0 if coarse else 0.25, rel=0.01)  # 4 crops pooled; binned: 1 crop, twice its sigma
    d1, _ = P.dp_defocus(SaturatingMatcher(), left, right, coarse_above_dof=None)
    assert abs(d1) == pytest.approx(12.0 if coarse else 2.0 * abs(shift_px))
    small = SaturatingMatcher(crop_px=96)  # a region under two crops a side: one scale only
    assert P.dp_defocus(small, left, right, coarse_above_dof=10.0)[0] == pytest.approx(d1) and small.calls == 1


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((np.zeros((64, 64)), np.zeros((64, 60))), "differ in shape"),
        ((np.full((64, 64), np.nan), np.zeros((64, 64))), "NaN"),
        ((np.zeros(64), np.zeros(64)), "2-D image"),
    ],
)
def test_predict_bad_input(args, match):
    with pytest.raises(InvalidParameterError, match=match):
        P.dp_defocus(build_model("dp-defocus"), *args)


def test_predict_bad_lens_state():
    m = build_model("two-frame")
    with pytest.raises(InvalidParameterError, match="codes_per_dof must be > 0"):
        P.two_frame_defocus(m, np.ones((64, 64)), np.ones((64, 64)), 1, 2, 0.0)
    with pytest.raises(InvalidParameterError, match="lens_code must be finite"):
        P.TemporalTracker(build_model("temporal")).step(np.ones((64, 64)), np.ones((64, 64)), float("nan"), 10.0)
