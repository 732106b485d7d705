"""ONNX export: the file reproduces PyTorch in onnxruntime, with a dynamic batch axis."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from export_standins import TinyDP, TinyRecurrent, dp_inputs

from focuslab.errors import InvalidParameterError
from focuslab.export.onnx_export import MAX_ABS_DIFF, export_onnx, onnx_max_abs_diff, onnx_session, verification_inputs


def test_export_matches_pytorch_and_names_inputs(tmp_path):
    model = TinyDP()
    res = export_onnx(model, dp_inputs(), tmp_path / "sub" / "dp.onnx")
    assert res.path.is_file() and res.file_bytes == res.path.stat().st_size
    assert res.verified and res.max_abs_diff < MAX_ABS_DIFF
    assert set(res.diffs) == {"example", "real_looking", "random"}
    assert [s.name for s in res.inputs] == ["left", "right"] and [s.name for s in res.outputs] == ["output"]
    assert res.inputs[0].shape == (-1, 1, 16, 16) and res.outputs[0].shape == (-1, 2)
    assert res.parameters == 2 * 4 * 9 + 4 + 4 * 2 + 2
    assert res.opset == 17


def test_dynamic_batch_axis_runs_at_other_batch_sizes(tmp_path):
    model = TinyDP()
    path = export_onnx(model, dp_inputs(1), tmp_path / "dp.onnx").path
    sess = onnx_session(path)
    left, right = dp_inputs(7)
    got = sess.run(None, {"left": left.numpy(), "right": right.numpy()})[0]
    with torch.no_grad():
        ref = model(left, right).numpy()
    assert got.shape == (7, 2)
    np.testing.assert_allclose(got, ref, atol=1e-5)


def test_verification_detects_a_different_model(tmp_path):
    model = TinyDP()
    path = export_onnx(model, dp_inputs(), tmp_path / "dp.onnx").path
    other = TinyDP()
    with torch.no_grad():
        other.head.bias += 0.01  # every output moves by exactly 0.01
    diff = onnx_max_abs_diff(other, path, dp_inputs(3))
    assert diff == pytest.approx(0.01, rel=1e-3)


def test_recurrent_cell_with_state_exports_both_outputs(tmp_path):
    model = TinyRecurrent()
    ex = (torch.randn(2, 3), torch.zeros(2, 4))
    res = export_onnx(model, ex, tmp_path / "rnn.onnx")
    assert [s.name for s in res.outputs] == ["output0", "output1"]
    assert [s.name for s in res.inputs] == ["features", "state_in"]
    assert res.max_abs_diff < MAX_ABS_DIFF


def test_verification_inputs_are_seeded():
    a = verification_inputs(dp_inputs(), seed=3)
    b = verification_inputs(dp_inputs(), seed=3)
    c = verification_inputs(dp_inputs(), seed=4)
    assert torch.equal(a["random"][0], b["random"][0]) and not torch.equal(a["random"][0], c["random"][0])
    assert a["real_looking"][0].shape[0] == 3 and a["random"][1].shape == (3, 1, 16, 16)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"opset": 13}, "opset must be an integer >= 17"), ({"example_inputs": [np.zeros(3)]}, "must be a torch.Tensor")],
)
def test_bad_arguments(tmp_path, kwargs, match):
    args = {"example_inputs": dp_inputs(), **kwargs}
    with pytest.raises(InvalidParameterError, match=match):
        export_onnx(TinyDP(), path=tmp_path / "x.onnx", **args)
    assert not (tmp_path / "x.onnx").exists()


def test_model_returning_a_dict_is_refused(tmp_path):
    class DictOut(torch.nn.Module):
        def forward(self, x):
            return {"y": x}

    with pytest.raises(InvalidParameterError, match="tensor or a tuple of tensors"):
        export_onnx(DictOut(), torch.zeros(1, 2), tmp_path / "d.onnx")
