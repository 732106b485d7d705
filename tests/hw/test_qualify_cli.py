"""``focuslab hw simulate-module`` and ``focuslab hw qualify``: end to end, and every bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from focuslab.cli.main import main
from focuslab.data.image_files import write_png
from focuslab.hw.module_series import read_series, write_series

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "configs" / "hw" / "qualify_spec_example.yaml"


def _one_line_error(capsys, match: str) -> None:
    err = capsys.readouterr().err
    assert match in err, err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.fixture(scope="module")
def tilted_series(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("series") / "tilted"
    rc = main(["hw", "simulate-module", str(out), "--series", "--tilt-x-deg", "0.3", "--decenter-x-um", "-250",
               "--decenter-y-um", "200", "--psf", "gaussian", "--seed", "7"])
    assert rc == 0
    return out


def test_simulated_series_format(tilted_series):
    man = json.loads((tilted_series / "series.json").read_text())
    assert man["format"] == "focuslab.module_series/1" and len(man["frames"]) == 15
    assert man["truth"]["build"]["tilt_x_deg"] == 0.3
    s = read_series(tilted_series)
    assert len(s.frames) == 15 and s.frames[0].shape == (480, 640)
    assert np.all(np.diff(s.lens_positions_um) > 0) and s.pixel_pitch_um == pytest.approx(8.82)
    assert 0.0 < float(s.frames[7].min()) and float(s.frames[7].max()) < 1.0


def test_qualify_series_json_report_and_spec(tilted_series, tmp_path, capsys):
    report, out = tmp_path / "q.html", tmp_path / "out"
    rc = main(["hw", "qualify", "--series", str(tilted_series), "--spec", str(SPEC), "--json", "--report",
               str(report), "--out", str(out)])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    f = doc["series"]["figures"]
    assert math.hypot(f["sensor_tilt_x_deg"] - 0.3, f["sensor_tilt_y_deg"]) < 0.03
    assert math.hypot(f["decenter_x_um"] + 250.0, f["decenter_y_um"] - 200.0) < 32.0
    verdicts = {c["criterion"]: c["passed"] for c in doc["criteria"]}
    assert verdicts["tilt_max_deg"] is False and verdicts["decenter_max_um"] is False
    assert doc["verdict"] == "fail"
    assert json.loads((out / "qualification.json").read_text())["verdict"] == "fail"
    html = report.read_text()
    assert html.count("data:image/png;base64") == 3 and "Best-focus surface" in html and "FAIL" in html


def test_qualify_one_frame_text_output(tmp_path, capsys):
    out = tmp_path / "one"
    assert main(["hw", "simulate-module", str(out), "--psf", "gaussian", "--seed", "1"]) == 0
    capsys.readouterr()
    man = json.loads((out / "series.json").read_text())
    assert len(man["frames"]) == 1
    rc = main(["hw", "qualify", str(out / man["frames"][0]["file"]), "--spec", str(SPEC), "--black-level-dn", "64",
               "--white-level-dn", "4095"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "92 edges; verdict: pass" in text and "tilt_max_deg: - (max 0.2) not measured" in text


def test_no_edges_in_image(tmp_path, capsys):
    img = tmp_path / "grey.png"
    yy, xx = np.mgrid[0:120, 0:160]
    write_png(img, (1000 + 10 * xx + yy).astype(np.uint16))
    assert main(["hw", "qualify", str(img)]) == 2
    _one_line_error(capsys, "no usable slanted edge")


def _fake_series(folder: Path, n: int) -> Path:
    frames = [np.full((64, 64), 500, np.uint16) for _ in range(n)]
    write_series(folder, frames, np.arange(n) * 10.0, pixel_pitch_um=8.0, black_level_dn=64, white_level_dn=4095)
    return folder


def test_series_with_one_frame(tmp_path, capsys):
    assert main(["hw", "qualify", "--series", str(_fake_series(tmp_path / "s", 1))]) == 2
    _one_line_error(capsys, "needs at least 3 frames")


def test_series_with_missing_position(tmp_path, capsys):
    folder = _fake_series(tmp_path / "s", 3)
    man = json.loads((folder / "series.json").read_text())
    del man["frames"][1]["lens_position_um"]
    (folder / "series.json").write_text(json.dumps(man))
    assert main(["hw", "qualify", "--series", str(folder)]) == 2
    _one_line_error(capsys, "frame 1 ('frame_001.png') has no lens_position_um")


def test_series_without_pitch_or_manifest(tmp_path, capsys):
    folder = _fake_series(tmp_path / "s", 3)
    man = json.loads((folder / "series.json").read_text())
    del man["pixel_pitch_um"]
    (folder / "series.json").write_text(json.dumps(man))
    assert main(["hw", "qualify", "--series", str(folder)]) == 2
    _one_line_error(capsys, "no pixel_pitch_um")
    (folder / "series.json").unlink()
    assert main(["hw", "qualify", "--series", str(folder)]) == 2
    _one_line_error(capsys, "has no series.json")


@pytest.mark.parametrize(("text", "match"), [
    ("format: focuslab.qualify_spec/1\ncriteria:\n  corner_mtf50_min: 0.3\n", "unknown criterion 'corner_mtf50_min'"),
    ("format: focuslab.qualify_spec/1\ncriteria: [1, 2\n", "cannot read spec"),
    ("name: no format\n", "format must be"),
])
def test_invalid_spec(tmp_path, capsys, text, match):
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    folder = _fake_series(tmp_path / "s", 3)
    assert main(["hw", "qualify", "--series", str(folder), "--spec", str(spec)]) == 2
    _one_line_error(capsys, match)


def test_image_and_series_are_exclusive(tmp_path, capsys):
    assert main(["hw", "qualify"]) == 2
    _one_line_error(capsys, "give either one IMAGE or --series")


def test_simulate_module_bad_tilt(tmp_path, capsys):
    assert main(["hw", "simulate-module", str(tmp_path / "x"), "--tilt-x-deg", "9"]) == 2
    _one_line_error(capsys, "tilt_x_deg must be within")
