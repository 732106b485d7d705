"""``focuslab sfr`` end to end: JSON keys, ROI, plot, lp/mm, and one-line errors with exit code 2."""

from __future__ import annotations

import json

import numpy as np
import pytest

from focuslab.cli.main import main
from focuslab.data.image_files import write_png
from focuslab.metrics.sfr import measure_sfr
from focuslab.metrics.sfr.synthetic import slanted_edge


@pytest.fixture(scope="module")
def edge_png(tmp_path_factory):
    img = slanted_edge((100, 140), angle_deg=5.0, size_px=1.0)
    canvas = np.empty((160, 220))
    canvas[:, :] = img[:, :1].mean()
    canvas[30:130, 40:180] = img
    canvas[30:130, 180:] = img[:, -1:].mean()
    canvas[:30, :] = canvas[30:31, :]
    canvas[130:, :] = canvas[129:130, :]
    path = tmp_path_factory.mktemp("sfr") / "edge.png"
    write_png(path, np.round(canvas * 65535).astype(np.uint16))
    return path, canvas


def test_json_report(edge_png, capsys):
    path, canvas = edge_png
    assert main(["sfr", str(path), "--json", "--roi", "40,30,140,100", "--pixel-pitch-um", "2.0"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("mtf50_cpp", "mtf50p_cpp", "mtf10_cpp", "sfr_nyquist", "angle_deg", "frequencies_cpp", "sfr",
                "warnings", "mtf50_lp_mm", "mtf50_lw_ph"):
        assert key in out
    ref = measure_sfr(np.round(canvas * 65535) / 65535, roi=(40, 30, 140, 100))
    assert out["mtf50_cpp"] == pytest.approx(ref.mtf50_cpp, rel=1e-6)
    assert out["mtf50_lp_mm"] == pytest.approx(ref.mtf50_cpp * 500.0, rel=1e-6)  # 1 cy/px at 2 um = 500 lp/mm
    assert out["mtf50_lw_ph"] == pytest.approx(ref.mtf50_cpp * 2 * 160, rel=1e-6)
    assert out["angle_deg"] == pytest.approx(5.0, abs=0.02)
    assert main(["sfr", str(path), "--json", "--roi", "40,30,140,100", "--lsf-window", "auto"]) == 0
    auto = json.loads(capsys.readouterr().out)
    assert auto["mtf50_cpp"] == pytest.approx(ref.mtf50_cpp, rel=0.005)


def test_finds_the_edge_and_plots(edge_png, tmp_path, capsys):
    path, _ = edge_png
    plot = tmp_path / "out" / "sfr.png"
    assert main(["sfr", str(path), "--plot", str(plot)]) == 0
    text = capsys.readouterr().out
    assert "mtf50" in text and "vertical edge" in text
    assert plot.is_file() and plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_encoding_and_channel_options(tmp_path, capsys):
    lin = slanted_edge((96, 96), angle_deg=5.0, size_px=1.0)
    srgb = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    rgb = np.stack([srgb, srgb, srgb], axis=-1)
    path = tmp_path / "srgb.png"
    write_png(path, np.round(rgb * 65535).astype(np.uint16))
    assert main(["sfr", str(path), "--json", "--encoding", "srgb", "--channel", "G"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["channel"] == "G" and set(out["channels"]) == {"R", "G", "B", "luminance"}
    assert out["mtf50_cpp"] == pytest.approx(measure_sfr(lin).mtf50_cpp, rel=2e-3)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--roi", "1,2,3"], "--roi must be X,Y,W,H"),
        (["--roi", "0,0,500,10"], "not inside"),
        (["--channel", "R"], "grey"),
        (["--encoding", "log"], "unknown encoding"),
        (["--window", "box"], "unknown SFR window"),
        (["--poly-order", "9"], "poly_order"),
        (["--pixel-pitch-um", "-1"], "--pixel-pitch-um"),
        (["--raw-mode", "cfa:X"], "raw_mode"),
        (["--lsf-window", "wide"], "--lsf-window"),
        (["--lsf-window", "-3"], "lsf_window_px"),
    ],
)
def test_user_errors_exit_2_one_line(edge_png, args, match, capsys):
    path, _ = edge_png
    assert main(["sfr", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_files_exit_2(tmp_path, capsys):
    assert main(["sfr", str(tmp_path / "missing.png")]) == 2
    bad = tmp_path / "corrupt.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    assert main(["sfr", str(bad)]) == 2
    flat = tmp_path / "flat.png"
    write_png(flat, np.full((64, 64), 30000, dtype=np.uint16))
    assert main(["sfr", str(flat)]) == 2
    err = capsys.readouterr().err
    assert err.count("focuslab: error:") == 3 and "Traceback" not in err


def test_unwritable_plot_exit_2(edge_png, tmp_path, capsys):
    path, _ = edge_png
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["sfr", str(path), "--plot", str(blocker / "sfr.png")]) == 2
    assert "focuslab: error:" in capsys.readouterr().err
