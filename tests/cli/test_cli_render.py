"""``focuslab render`` end to end: a focal-stack folder that reads back, deterministic, clear errors."""

from __future__ import annotations

import hashlib
import itertools
import json
import os

import numpy as np
import pytest

from focuslab.cli.main import main
from focuslab.data.focal_stack import read_focal_stack


def _digest(folder) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.glob("*.png")):
        h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def stack_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("stack")
    argv = ["render", "--scene", "dead_leaves", "--camera", "phone_main", "--positions", "4", "--dual-pixel",
            "--lux", "300", "--seed", "7", "--subject-distance-m", "0.5", "--out", str(out)]
    assert main(argv) == 0
    return out


def test_render_writes_a_readable_focal_stack(stack_dir):
    st = read_focal_stack(stack_dir)
    man = json.loads((stack_dir / "stack.json").read_text())
    assert man["format"] == "focuslab.focal_stack/1"
    assert len(st) == 4 and st.has_dual_pixel
    assert st.camera["cfa"] == "RGGB" and st.camera["black_level_dn"] == 64
    assert st.camera["focal_length_mm"] == 4.38 and st.camera["pixel_pitch_um"] == pytest.approx(5.6)
    assert st.subject_distance_m() == pytest.approx(0.5)
    codes = st.lens_positions
    assert np.all(np.diff(codes) > 0)  # infinity -> near
    assert st.frames[0].focus_distance_m > 50  # lens resting at the infinity stop (plus its jitter)
    dists = [f.focus_distance_m for f in st.frames]
    assert all(a > b for a, b in itertools.pairwise(dists))
    img = st.read(1)
    assert img.dtype == np.uint16 and img.shape == (756, 1008)
    assert 64 < img.mean() < 1023
    # the replay regions with their own truth: one plane, every region at the subject
    regions = {r["name"]: r for r in man["ground_truth"]["regions"]}
    assert sorted(regions) == ["bottom", "centre", "top"]
    assert all(r["subject_distance_m"] == pytest.approx(0.5, rel=1e-4) for r in regions.values())
    assert regions["centre"]["roi"] == [440, 330, 126, 94]


def test_region_truth_of_a_scene_with_depth():
    """Middlebury's motorcycle: the top region sees the far wall, the bottom the nearer bike;
    each region's truth is the simulator's own (nearest subject covering 30 %)."""
    from focuslab.af.region_depth import region_subject_distance_m
    from focuslab.af.regions import stack_regions
    from focuslab.camera.presets import get_camera
    from focuslab.data.stack_render import region_truth, scene_for_camera
    from focuslab.optics.focus import lens_displacement_um

    cam = get_camera("phone_main")
    scene = scene_for_camera(cam, "middlebury", subject_distance_m=None, seed=0)
    truth = {r["name"]: r["subject_distance_m"] for r in region_truth(cam, scene)["regions"]}
    assert truth["top"] > 1.5 * truth["bottom"]  # 4.07 m against 2.19 m
    disp = lens_displacement_um(cam.lens.focal_length_mm, scene.subject_distance_m(0.0))
    for name, roi in stack_regions(cam.stream_sensor.shape_px).items():
        want = region_subject_distance_m(cam, scene, roi, t_s=0.0, displacement_um=disp)
        assert truth[name] == pytest.approx(want, rel=1e-5)


def test_same_seed_same_bytes(stack_dir, tmp_path):
    argv = ["render", "--positions", "4", "--dual-pixel", "--lux", "300", "--seed", "7",
            "--subject-distance-m", "0.5", "--out", str(tmp_path)]
    assert main(argv) == 0
    assert _digest(tmp_path) == _digest(stack_dir)


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--camera", "nokia_3310"], "phone_main"),
        (["--scene", "moon_landing"], "dead_leaves"),
        (["--focal-length-mm", "-2"], "focal_length_mm"),
        (["--f-number", "0.4"], "0.5"),
        (["--subject-distance-m", "0.001"], "nearer than the focal length"),
        (["--camera", "no_pdaf", "--dual-pixel"], "dual-pixel"),
        (["--positions", "1"], "at least 2"),
        (["--output", "jpeg"], "raw"),
        (["--lux", "-5"], "illuminance_lux"),
    ],
)
def test_bad_input_is_one_line_exit_2(extra, match, tmp_path, capsys):
    assert main(["render", "--positions", "2", "--out", str(tmp_path / "o"), *extra]) == 2
    err = capsys.readouterr().err
    assert match in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_unwritable_output_folder(tmp_path, capsys):
    if os.geteuid() == 0:  # root ignores permission bits: use a pseudo file system nobody can write
        target = "/proc/focuslab-no-such-dir/out"
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        target = str(ro / "x")
    assert main(["render", "--positions", "2", "--out", target]) == 2
    err = capsys.readouterr().err
    assert "cannot create output folder" in err and len(err.strip().splitlines()) == 1


def test_output_path_that_is_a_file(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["render", "--positions", "2", "--out", str(f / "sub")]) == 2
    err = capsys.readouterr().err
    assert "output folder" in err and "Traceback" not in err


def test_sharpness_of_a_rendered_raw_stack_finds_the_subject(stack_dir):
    from focuslab.cli.sharpness import sharpness_report

    rep = sharpness_report([stack_dir], measure="TENG")
    st = read_focal_stack(stack_dir)
    dists = np.array([f.focus_distance_m for f in st.frames])
    nearest = int(np.argmin(np.abs(1 / dists - 1 / 0.5)))  # closest in diopters to the 0.5 m subject
    assert rep["sharpest"]["index"] == nearest == 1
