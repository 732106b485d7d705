"""``focuslab sharpness`` end to end: scores, the sharpest image, stack folders, JSON, user errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import ndimage

from focuslab.cli.main import main
from focuslab.cli.sharpness import sharpness_report
from focuslab.data.image_files import write_png
from focuslab.metrics.focus import focus_measure


@pytest.fixture
def blurred_pngs(tmp_path, rng):
    texture = ndimage.gaussian_filter(rng.random((64, 80)), 0.7)
    folder = tmp_path / "stack"
    folder.mkdir()
    paths = []
    for i, sigma in enumerate((3.0, 1.5, 0.0, 2.0)):
        img = ndimage.gaussian_filter(texture, sigma) if sigma else texture
        p = folder / f"frame_{i:02d}.png"
        write_png(p, np.round(img * 65535).astype(np.uint16))
        paths.append(p)
    return folder, paths


def test_scores_files_and_names_the_sharpest(blurred_pngs, capsys):
    _, paths = blurred_pngs
    assert main(["sharpness", *map(str, paths), "--measure", "LAPM", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["measure"] == "LAPM"
    assert report["sharpest"]["index"] == 2 and report["sharpest"]["file"] == str(paths[2])
    scores = [r["score"] for r in report["images"]]
    assert scores[2] > scores[1] > scores[3] > scores[0]
    # same number as the library on the 16-bit file's normalised values
    from focuslab.data.image_files import read_image

    assert scores[1] == pytest.approx(focus_measure(read_image(paths[1]) / 65535.0, "LAPM"), rel=1e-12)
    assert "peak_lens_position" not in report


def test_folder_is_a_focal_stack_with_lens_positions(blurred_pngs, capsys):
    folder, _ = blurred_pngs
    report = sharpness_report([folder], measure="TENG", roi=(4, 4, 40, 30))
    assert [r["lens_position"] for r in report["images"]] == [0.0, 1.0, 2.0, 3.0]
    assert report["sharpest"]["index"] == 2
    assert 1.5 < report["peak_lens_position"] < 2.5
    assert report["roi"] == [4, 4, 40, 30] and report["window_px"] is None
    assert main(["sharpness", str(folder), "--measure", "HELM", "--window", "7"]) == 0
    out = capsys.readouterr().out
    assert "frame_02.png" in out and "<- sharpest" in out and "peak lens position" in out


def test_list_and_user_errors_exit_2(blurred_pngs, tmp_path, capsys):
    _, paths = blurred_pngs
    assert main(["sharpness", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "wavelet:" in listing and "WAVR" in listing
    bad = tmp_path / "corrupt.png"
    bad.write_bytes(b"not a png")
    cases = [
        ["sharpness", str(paths[0]), "--measure", "NOPE"],
        ["sharpness", str(tmp_path / "missing.png")],
        ["sharpness", str(bad)],
        ["sharpness"],
        ["sharpness", str(paths[0]), "--roi", "1,2,3"],
        ["sharpness", str(paths[0]), "--roi", "70,50,20,20"],
        ["sharpness", str(paths[0]), "--measure", "TENG", "--window", "5"],
    ]
    for argv in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("focuslab: error: ") and err.count("\n") == 1, err
