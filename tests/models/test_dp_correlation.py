"""The correlation-volume encoder of ``dp-defocus`` (``arch="correlation"``): the volume is the
exact horizontal cross-correlation of the siamese features and peaks at the true integer shift,
the model exports to ONNX and round-trips through a weights file; a temporal net
takes a trained encoder (``init_encoder``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from focuslab.errors import InputFileError
from focuslab.models.dp_correlation import CorrelationEncoder
from focuslab.models.registry import build_model, load_model, n_parameters, save_weights

S = 6


def _shifted_pair(k: int, seed: int = 0, n: int = 64) -> torch.Tensor:
    """Encoder input ``[L, R, L - R]`` whose right view is the left one moved ``k`` px to the
    left (``R(x) = L(x + k)``), cut from a wider zero-mean random texture (no wrap-around; not
    through :func:`normalize_dp`, whose per-view scaling would make the views differ by more
    than the shift)."""
    rng = np.random.default_rng(seed)
    tex = torch.from_numpy(rng.standard_normal((2, n, n + 2 * S)).astype(np.float32))
    left, right = tex[:, :, S : S + n], tex[:, :, S + k : S + k + n]
    return torch.stack([left, right, left - right], dim=1)


#: The first shipped correlation encoder's layout, and the binned one shipped since (row_bin 2, early row stride).
LAYOUTS = [{}, {"row_bin": 2, "early_row_stride": True, "aggregate_strides": (2, 2, 2, 1)}]


@pytest.mark.parametrize("layout", LAYOUTS, ids=["plain", "binned"])
@pytest.mark.parametrize("k", [-4, -1, 0, 2, 5])
def test_volume_is_the_feature_cross_correlation_and_peaks_at_the_true_shift(k, layout):
    """With ``R(x) = L(x + k)`` the shift-equivariant siamese features obey f_R(x) = f_L(x + k),
    so the shift-s channel mean_c f_L(x) f_R(x + s) equals mean_c f_L(x)^2 exactly at s = -k
    (away from the borders the convolutions and the padding reach), and the crop-mean curve
    peaks there (Cauchy-Schwarz over the crop). Binning rows and striding them keep this: both
    act on the rows only."""
    torch.manual_seed(0)
    enc = CorrelationEncoder(features=6, max_shift_px=S, widths=(8, 8, 8, 8), **layout).eval()
    x = _shifted_pair(k)
    with torch.no_grad():
        v = enc.volume(x)
        fl = enc.siamese(enc.bin(x[:, 0:1]))
    inner = (..., slice(2, -2), slice(2 * S + 2, -(2 * S + 2)))  # rows: 3x3 convs; columns: shifts + convs
    assert torch.allclose(v[:, S - k][inner], (fl * fl).mean(dim=1)[inner], rtol=1e-4, atol=1e-6)
    curve = v[:, : 2 * S + 1][inner].mean(dim=(2, 3))
    assert torch.all(curve.argmax(dim=1) == S - k), curve
    # the energy channel is the mean of both views' feature energies at the same pixel
    assert v.shape == (2, 2 * S + 2, 64 // (2 * enc.row_bin), 64)
    fr = enc.siamese(enc.bin(x[:, 1:2])).detach()
    assert torch.allclose(v[:, -1], 0.5 * (fl * fl + fr * fr).mean(dim=1), atol=1e-6)


@pytest.mark.parametrize("layout", LAYOUTS, ids=["plain", "binned"])
def test_correlation_model_is_small_exports_and_round_trips(tmp_path, layout):
    from focuslab.export.onnx_export import export_onnx

    over = {"arch": "correlation", "widths": [24, 32, 48, 64], **{k: list(v) if isinstance(v, tuple) else v
                                                                  for k, v in layout.items()}}
    model = build_model("dp-defocus", seed=3, **over).eval()
    assert 40_000 < n_parameters(model) < 200_000
    x = torch.randn(4, 3, 64, 64)
    res = export_onnx(model, (x,), tmp_path / "m.onnx")
    assert res.verified and res.max_abs_diff < 1e-4
    path = save_weights(tmp_path / "w.pt", model, {"name": "dp-defocus", "overrides": over})
    back = load_model("dp-defocus", path)
    assert back.arch == "correlation" and back.encoder.row_bin == layout.get("row_bin", 1)
    with torch.no_grad():
        assert torch.equal(back(x), model(x))


def test_unknown_arch_is_refused_with_one_line(tmp_path, capsys):
    import yaml

    from focuslab.cli.main import main
    from focuslab.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="arch must be 'cnn' or 'correlation'"):
        build_model("dp-defocus", arch="transformer")
    data = tmp_path / "d"
    assert main(["data", "generate", "--config", "configs/data/dp_small.yaml", "--out", str(data)]) == 0
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"model": "dp-defocus", "data": str(data), "overrides": {"arch": "transformer"},
                                   "steps": 1, "batch_size": 4, "threads": 1}))
    capsys.readouterr()
    assert main(["train", "--config", str(cfg), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "arch must be 'cnn' or 'correlation'" in err and err.count("\n") == 1 and "Traceback" not in err


def test_correlation_options_are_refused_for_the_cnn_and_checked():
    from focuslab.errors import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="apply to arch='correlation' only"):
        build_model("dp-defocus", row_bin=2)
    with pytest.raises(InvalidParameterError, match="row_bin must be >= 1"):
        build_model("dp-defocus", arch="correlation", widths=[8, 8, 8, 8], row_bin=0)
    with pytest.raises(InvalidParameterError, match="aggregate_strides: one per conv block"):
        build_model("dp-defocus", arch="correlation", widths=[8, 8, 8, 8], aggregate_strides=[2, 2])


def test_temporal_takes_a_trained_dp_encoder(tmp_path):
    """``init_encoder`` copies ``encoder.*`` of a dp-defocus file into a temporal net (same arch),
    and refuses one whose encoder does not fit with one line."""
    from focuslab.train.loop import _load_encoder

    over = {"arch": "correlation", "widths": (16, 16, 16, 16)}
    dp = build_model("dp-defocus", seed=5, **over)
    path = save_weights(tmp_path / "dp.pt", dp, {"name": "dp-defocus", "overrides": over})
    temporal = build_model("temporal", seed=0, **over)
    _load_encoder(temporal, path)
    for k, v in dp.encoder.state_dict().items():
        assert torch.equal(temporal.encoder.state_dict()[k], v), k
    with pytest.raises(InputFileError, match="does not fit"):
        _load_encoder(build_model("temporal", seed=0), path)


@pytest.mark.parametrize(("dim", "n"), [(2, 2), (2, 4), (3, 2)])
def test_bin_mean_is_average_pooling(dim, n):
    """``BinMean`` (eager: a reshape and slice sums) gives average pooling's numbers."""
    from focuslab.models.dp_correlation import BinMean

    x = torch.randn(3, 5, 16, 24)
    window = (n, 1) if dim == 2 else (1, n)
    assert torch.allclose(BinMean(dim, n)(x), torch.nn.functional.avg_pool2d(x, window, window), atol=1e-6)
    with pytest.raises(ValueError, match="dim must be 2"):
        BinMean(1, 2)
