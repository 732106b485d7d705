"""``focuslab chart``: table, JSON, plots, and one-line errors with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest
from charts_synthetic import square_chart

from focuslab.cli.main import main
from focuslab.data.image_files import write_png


@pytest.fixture(scope="module")
def chart_png(tmp_path_factory):
    img, _ = square_chart(shape=(320, 420), grid=(2, 3), side_px=56, sigma=lambda r: (0.9 + r, 0.9 + r))
    path = tmp_path_factory.mktemp("chart") / "chart.png"
    write_png(path, np.round(img * 65535).astype(np.uint16))
    return path


def test_json_and_plots(chart_png, tmp_path, capsys):
    plots = tmp_path / "plots"
    assert main(["chart", str(chart_png), "--json", "--encoding", "linear", "--plot-dir", str(plots)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["n_edges"] == 24 and len(doc["edges"]) == 24
    assert doc["encoding"] == "linear" and doc["image_shape"] == [320, 420]
    assert doc["summary"]["centre_mtf50_cpp"] is None or doc["summary"]["centre_mtf50_cpp"] > 0
    e = doc["edges"][0]
    assert 0.05 < e["mtf50_cpp"] < 0.4 and len(e["roi"]) == 4 and e["direction"] in ("sagittal", "meridional", "mixed")
    assert len(e["sfr"]["sfr"]) == len(e["sfr"]["frequencies_cpp"]) > 10
    for name in ("field_map.png", "edges.png"):
        data = (plots / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    assert sorted(p.name for p in plots.iterdir()) == ["edges.png", "field_map.png"]  # no temporary files left


def test_table(chart_png, capsys):
    assert main(["chart", str(chart_png), "--encoding", "linear", "--pixel-pitch-um", "1.4"]) == 0
    out = capsys.readouterr().out
    assert "24 slanted edges" in out and "MTF50 cy/px: mean" in out and "MTF50 lp/mm (pitch 1.4 um)" in out


def test_no_curves_json(chart_png, capsys):
    assert main(["chart", str(chart_png), "--json", "--no-curves"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["encoding"] == "srgb"  # default for an image file
    assert "sfr" not in doc["edges"][0]["sfr"]


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--layout", "nope"], "valid names: esfr, squares"),
        (["--threshold", "mean"], "threshold must be one of"),
        (["--polarity", "grey"], "polarity must be"),
        (["--channel", "R"], "channel"),
        (["--pixel-pitch-um", "-1"], "pixel_pitch_um"),
    ],
)
def test_bad_options_are_one_line_exit_2(chart_png, extra, match, capsys):
    assert main(["chart", str(chart_png), *extra]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1


def test_bad_files_are_one_line_exit_2(tmp_path, capsys):
    assert main(["chart", str(tmp_path / "missing.png")]) == 2
    assert "does not exist" in capsys.readouterr().err
    noise = tmp_path / "noise.png"
    write_png(noise, (np.random.default_rng(0).random((120, 160)) * 255).astype(np.uint8))
    assert main(["chart", str(noise)]) == 2
    err = capsys.readouterr().err
    assert "no usable slanted edge" in err and err.count("\n") == 1
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    assert main(["chart", str(broken)]) == 2
    assert "cannot decode" in capsys.readouterr().err
