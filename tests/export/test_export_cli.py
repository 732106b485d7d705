"""``focuslab export``: writes and verifies; user mistakes are one stderr line and exit code 2."""

from __future__ import annotations

import json

import pytest
from export_standins import TinyDP, dp_inputs

import focuslab.cli.export as cli_export
from focuslab.cli.main import main


@pytest.fixture
def standin(monkeypatch):
    monkeypatch.setattr(cli_export, "load_for_export", lambda name, weights: (TinyDP(), dp_inputs()))


def test_export_onnx_prints_the_verification(tmp_path, standin, capsys):
    out = tmp_path / "m.onnx"
    assert main(["export", "dp-defocus", "--format", "onnx", "--out", str(out), "--json", "--latency"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert out.is_file() and s["verified"] and s["max_abs_diff"] < 1e-4 and s["model"] == "dp-defocus"
    assert [lat["runtime"] for lat in s["latency"]] == ["torch", "onnxruntime"]


def test_export_coreml_prints_the_spec(tmp_path, standin, capsys):
    out = tmp_path / "m.mlpackage"
    assert main(["export", "dp-defocus", "--format", "coreml", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert out.is_dir() and "spec version" in text and "left" in text and "float32" in text


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--format", "tflite", "--out", "m.tflite"], "--format must be one of onnx, coreml"),
        (["--format", "onnx", "--out", "m.mlpackage"], "an ONNX --out must end in .onnx"),
        (["--format", "coreml", "--out", "m.onnx"], "a Core ML --out must end in .mlpackage"),
    ],
)
def test_bad_arguments_one_line_exit_2(tmp_path, standin, capsys, argv, match, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["export", "dp-defocus", *argv]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and "Traceback" not in err


def test_unknown_model_and_missing_weights_exit_2(tmp_path, capsys):
    pytest.importorskip("focuslab.models")
    assert main(["export", "no-such-net", "--format", "onnx", "--out", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err
    assert "dp-defocus" in err and err.count("\n") == 1
    missing = tmp_path / "nope.pt"
    assert main(["export", "dp-defocus", "--format", "onnx", "--out", str(tmp_path / "m.onnx"),
                 "--weights", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "nope.pt" in err and err.count("\n") == 1 and not (tmp_path / "m.onnx").exists()


def test_unwritable_output_exit_2(tmp_path, standin, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["export", "dp-defocus", "--format", "onnx", "--out", str(blocker / "m.onnx")]) == 2
    err = capsys.readouterr().err
    assert "cannot create output folder" in err and err.count("\n") == 1
