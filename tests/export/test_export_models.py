"""The registered networks of focuslab.models export: ONNX within 1e-4 of PyTorch, Core ML spec as asked."""

from __future__ import annotations

import pytest

models = pytest.importorskip("focuslab.models")

from focuslab.export import MAX_ABS_DIFF, export_coreml, export_onnx  # noqa: E402


@pytest.mark.parametrize("name", ["dp-defocus", "two-frame", "fusion", "temporal"])
def test_every_network_exports_to_onnx(name, tmp_path):
    model = models.build_model(name, seed=3)
    res = export_onnx(model, models.example_inputs(name, batch=2), tmp_path / f"{name}.onnx")
    assert res.max_abs_diff < MAX_ABS_DIFF and res.parameters <= 200_000
    assert res.outputs[0].shape == (-1, 2)


@pytest.mark.parametrize("name", ["temporal", pytest.param("dp-defocus", marks=pytest.mark.slow),
                                  pytest.param("two-frame", marks=pytest.mark.slow),
                                  pytest.param("fusion", marks=pytest.mark.slow)])
def test_networks_convert_to_coreml(name, tmp_path):
    ex = models.example_inputs(name, batch=1)
    res = export_coreml(models.build_model(name, seed=3), ex, tmp_path / f"{name}.mlpackage")
    assert [s.shape for s in res.inputs] == [tuple(t.shape) for t in ex]
    assert res.outputs[0].name in ("output", "output0") and all(s.dtype == "float32" for s in res.outputs)
