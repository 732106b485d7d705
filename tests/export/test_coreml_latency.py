"""Core ML export (spec read back: names, shapes, float32, iOS 16) and the latency statistics."""

from __future__ import annotations

import shutil

import pytest
import torch
from export_standins import TinyDP, TinyRecurrent, dp_inputs

from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.export.coreml_export import SPEC_VERSION_IOS16, coreml_spec_signature, export_coreml
from focuslab.export.latency import measure_latency, time_calls, timing_stats_ms
from focuslab.export.onnx_export import export_onnx


def test_coreml_package_spec_has_the_models_signature(tmp_path):
    res = export_coreml(TinyDP(), dp_inputs(), tmp_path / "dp.mlpackage")
    assert res.path.is_dir() and (res.path / "Manifest.json").is_file()
    assert res.spec_version >= SPEC_VERSION_IOS16
    assert [(s.name, s.shape, s.dtype) for s in res.inputs] == [
        ("left", (1, 1, 16, 16), "float32"), ("right", (1, 1, 16, 16), "float32")]
    assert [s.name for s in res.outputs] == ["output"] and res.outputs[0].dtype == "float32"
    version, ins, _outs = coreml_spec_signature(res.path)
    assert version == res.spec_version and ins == res.inputs


def test_coreml_overwrites_an_older_package_and_handles_two_outputs(tmp_path):
    path = tmp_path / "rnn.mlpackage"
    export_coreml(TinyDP(), dp_inputs(), path)
    res = export_coreml(TinyRecurrent(), (torch.randn(1, 3), torch.zeros(1, 4)), path, compute_precision="float32")
    assert [s.name for s in res.inputs] == ["features", "state_in"]
    assert [s.name for s in res.outputs] == ["output0", "output1"]
    assert [p.name for p in tmp_path.iterdir()] == ["rnn.mlpackage"]  # no temporary left behind


def test_coreml_bad_path_and_bad_package(tmp_path):
    with pytest.raises(InvalidParameterError, match=r"must end in \.mlpackage"):
        export_coreml(TinyDP(), dp_inputs(), tmp_path / "dp.onnx")
    bad = tmp_path / "junk.mlpackage"
    bad.mkdir()
    with pytest.raises(InputFileError, match="cannot read the Core ML model"):
        coreml_spec_signature(bad)


def test_timing_stats_are_median_and_p90_in_ms():
    med, p90 = timing_stats_ms([0.001 * k for k in range(1, 11)])  # 1..10 ms
    assert med == pytest.approx(5.5) and p90 == pytest.approx(9.1)  # numpy linear interpolation
    with pytest.raises(InvalidParameterError):
        timing_stats_ms([])


def test_time_calls_counts_warmup_and_repeats():
    calls = []
    times = time_calls(lambda: calls.append(1), repeats=5, warmup=3)
    assert len(calls) == 8 and len(times) == 5 and min(times) >= 0.0


def test_measure_latency_torch_and_onnxruntime(tmp_path):
    model = TinyDP()
    before = torch.get_num_threads()
    lat = measure_latency(model, dp_inputs(), 1, repeats=20, warmup=2)
    assert torch.get_num_threads() == before
    assert 0.0 < lat.median_ms <= lat.p90_ms < 1000.0 and lat.threads == 1
    assert lat.parameters == 2 * 4 * 9 + 4 + 4 * 2 + 2
    path = export_onnx(model, dp_inputs(), tmp_path / "dp.onnx").path
    ort = measure_latency(model, dp_inputs(), 1, runtime="onnxruntime", onnx_path=path, repeats=20, warmup=2)
    assert ort.runtime == "onnxruntime" and 0.0 < ort.median_ms < 1000.0
    with pytest.raises(InvalidParameterError, match="needs onnx_path"):
        measure_latency(model, dp_inputs(), runtime="onnxruntime")
    with pytest.raises(InvalidParameterError, match="runtime must be one of"):
        measure_latency(model, dp_inputs(), runtime="tflite")
    with pytest.raises(InvalidParameterError, match="threads must be an integer >= 1"):
        measure_latency(model, dp_inputs(), 0)


def test_compile_for_cpu_failure_is_one_clear_error(monkeypatch):
    from focuslab.export.compiled import CompileError, compile_for_cpu

    def broken(model, **kw):
        def call(*a):
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found in cpp.cxx\n...")
        return call

    monkeypatch.setattr(torch, "compile", broken)
    with pytest.raises(CompileError, match=r"No working C\+\+ compiler found.*install one, or run eager PyTorch"):
        compile_for_cpu(TinyDP(), dp_inputs())


@pytest.mark.skipif(not any(shutil.which(c) for c in ("g++", "c++", "clang++")), reason="no C++ compiler")
def test_compiled_network_matches_eager_and_is_timed():
    """torch.compile with freezing (BatchNorm folded) and the C++ wrapper: same outputs to round-off."""
    from focuslab.export.compiled import MAX_COMPILED_DIFF, compile_for_cpu

    model = TinyDP()
    compiled, diff = compile_for_cpu(model, dp_inputs())
    assert 0.0 <= diff <= MAX_COMPILED_DIFF
    with torch.no_grad():
        x = dp_inputs()
        torch.testing.assert_close(compiled(*x), model(*x), atol=1e-5, rtol=1e-5)
    lat = measure_latency(model, dp_inputs(), 1, runtime="torch-compiled", repeats=10, warmup=2)
    assert lat.runtime == "torch-compiled" and 0.0 < lat.median_ms < 1000.0
