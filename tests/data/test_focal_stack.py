"""Focal-stack folders: round trip, real-capture folders, resume, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from focuslab.data.focal_stack import FORMAT, FocalStackWriter, read_focal_stack
from focuslab.data.image_files import read_image, write_png
from focuslab.errors import InputFileError, InvalidParameterError

CAMERA = {"focal_length_mm": 4.38, "f_number": 1.73, "pixel_pitch_um": 1.4,
          "black_level_dn": 64, "white_level_dn": 1023, "cfa": "RGGB"}


def test_png16_round_trip_is_bit_exact(tmp_path, rng):
    mono = rng.integers(0, 65536, size=(17, 23), dtype=np.uint16)
    rgb = rng.integers(0, 65536, size=(9, 11, 3), dtype=np.uint16)
    write_png(tmp_path / "m.png", mono)
    write_png(tmp_path / "c.png", rgb)
    np.testing.assert_array_equal(read_image(tmp_path / "m.png"), mono)
    np.testing.assert_array_equal(read_image(tmp_path / "c.png"), rgb)  # RGB order kept
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_write_then_read_round_trip(tmp_path, rng):
    w = FocalStackWriter(tmp_path / "s", camera=CAMERA)
    frames = [rng.integers(64, 1024, size=(8, 10), dtype=np.uint16) for _ in range(3)]
    for i, f in enumerate(frames):
        w.add(i, f, lens_position=100 + 10 * i, focus_distance_m=[math.inf, 2.0, 0.5][i],
              exposure_s=0.01, left=f // 2, right=f - f // 2)
    w.finish(ground_truth={"subject_distance_m": 2.0})
    st = read_focal_stack(tmp_path / "s")
    manifest = json.loads((tmp_path / "s" / "stack.json").read_text())
    assert manifest["format"] == FORMAT
    assert manifest["frames"][0]["focus_distance_m"] is None  # JSON null = infinity
    assert len(st) == 3 and st.has_dual_pixel
    np.testing.assert_array_equal(st.lens_positions, [100, 110, 120])
    assert st.frames[0].focus_distance_m == math.inf and st.frames[1].focus_distance_m == 2.0
    np.testing.assert_array_equal(st.read(1), frames[1])
    np.testing.assert_array_equal(st.read(2, "left") + st.read(2, "right"), frames[2])
    np.testing.assert_allclose(st.read_linear(0), np.maximum(frames[0].astype(np.float32) - 64, 0))
    assert st.nearest_index(113) == 1
    assert st.subject_distance_m() == 2.0
    assert not (tmp_path / "s" / ".stack.progress.json").exists()


def test_resume_keeps_finished_frames(tmp_path):
    img = np.full((4, 4), 500, np.uint16)
    w = FocalStackWriter(tmp_path, camera=CAMERA)
    w.add(0, img, lens_position=0)
    w.add(1, img, lens_position=1)  # ... interrupted here: no finish()
    assert not (tmp_path / "stack.json").exists()
    w2 = FocalStackWriter(tmp_path, camera=CAMERA, resume=True)
    assert w2.done(0) and w2.done(1) and not w2.done(2)
    w2.add(2, img, lens_position=2)
    w2.finish()
    assert len(read_focal_stack(tmp_path)) == 3
    w3 = FocalStackWriter(tmp_path, camera={**CAMERA, "f_number": 2.0}, resume=True)
    assert not w3.done(0)  # a different camera never resumes someone else's frames


def test_plain_folder_of_captures_uses_natural_file_order(tmp_path):
    for name, v in [("img_10.png", 3), ("img_2.png", 2), ("img_1.png", 1)]:
        write_png(tmp_path / name, np.full((4, 4), v, np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    st = read_focal_stack(tmp_path)
    assert [f.file for f in st.frames] == ["img_1.png", "img_2.png", "img_10.png"]
    np.testing.assert_array_equal(st.lens_positions, [0, 1, 2])
    assert st.ground_truth is None and not st.has_dual_pixel


def test_partial_json_from_real_captures(tmp_path):
    for i in range(2):
        write_png(tmp_path / f"a{i}.png", np.zeros((3, 3), np.uint8))
    (tmp_path / "stack.json").write_text(json.dumps(
        {"frames": [{"file": "a0.png", "lens_position": 310}, {"file": "a1.png", "lens_position": 290}]}))
    st = read_focal_stack(tmp_path)
    np.testing.assert_array_equal(st.lens_positions, [310, 290])
    assert st.frames[0].focus_distance_m is None


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"format": "other/9", "frames": [{"file": "a.png"}]}), "unsupported format"),
        (json.dumps({"frames": []}), "non-empty"),
        (json.dumps({"frames": [{"file": "missing.png"}]}), "not in"),
        (json.dumps({"frames": [{"file": "a.png", "lens_position": "far"}]}), "number"),
    ],
)
def test_bad_manifests(tmp_path, content, match):
    write_png(tmp_path / "a.png", np.zeros((3, 3), np.uint8))
    (tmp_path / "stack.json").write_text(content)
    with pytest.raises(InputFileError, match=match):
        read_focal_stack(tmp_path)


def test_missing_empty_and_corrupt(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        read_focal_stack(tmp_path / "nope")
    with pytest.raises(InputFileError, match="neither"):
        read_focal_stack(tmp_path)
    (tmp_path / "bad.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(InputFileError, match="cannot decode"):
        read_image(tmp_path / "bad.png")
    with pytest.raises(InvalidParameterError, match="uint8 or uint16"):
        write_png(tmp_path / "f.png", np.zeros((3, 3), np.float32))


@pytest.mark.shared_data
def test_reads_real_focus_stack_folder(shared_data):
    st = read_focal_stack(shared_data / "focal_stacks" / "focus-stack" / "depthmap")
    assert len(st) == 10
    img = st.read(0)
    assert img.shape == (1536, 2048, 3) and img.dtype == np.uint8
