"""Camera files (focuslab.camera.camera_file): the user's own module wherever a preset goes."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import numpy as np
import pytest
import yaml

from focuslab.af.policies.phase import preset_dp_camera
from focuslab.af.types import AFContext
from focuslab.camera import get_camera
from focuslab.camera.camera_file import camera_from_dict, load_camera_file
from focuslab.cli.main import main
from focuslab.errors import InputFileError, InvalidParameterError, UnknownNameError
from focuslab.optics import PIXEL4_DP_RESPONSE, DualPixelResponse, GeometricPsf


def _explicit_doc(cam, name: str) -> dict:
    """Every field of ``cam`` written out, no base: what a user with a datasheet writes."""
    act = {k: v for k, v in asdict(cam.actuator).items() if not k.startswith("_")}
    return {
        "name": name,
        "lens": asdict(cam.lens),
        "sensor": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cam.sensor).items()},
        "actuator": act,
        "dual_pixel_response": asdict(cam.psf.dp_response),
        "preview_binning": cam.preview_binning,
        "frame_interval_s": cam.frame_interval_s,
        "coc_max_px": cam.coc_max_px,
    }


def test_explicit_file_equals_the_preset_it_transcribes(tmp_path):
    preset = get_camera("phone_main")
    path = tmp_path / "transcribed.yaml"
    path.write_text(yaml.safe_dump(_explicit_doc(preset, "transcribed")))
    cam = load_camera_file(path)
    assert cam == replace(preset, name="transcribed")  # lens, sensor, actuator, PSF (Pixel 4 DP response)
    assert cam.focus_code_for_distance(0.5) == preset.focus_code_for_distance(0.5)
    ses_a = cam.session(seed=3, initial_code=300)
    ses_b = preset.session(seed=3, initial_code=300)
    from focuslab.scene.library import make_scene

    scene = make_scene("dead_leaves", seed=1)
    fa = ses_a.capture(scene, 0.0, exposure_s=0.01, illuminance_lux=300.0, roi=(400, 300, 64, 64))
    fb = ses_b.capture(scene, 0.0, exposure_s=0.01, illuminance_lux=300.0, roi=(400, 300, 64, 64))
    # the same camera renders the same bytes
    assert np.array_equal(fa.raw.data, fb.raw.data) and np.array_equal(fa.raw.left, fb.raw.left)


def test_base_with_overrides_changes_only_what_it_names(tmp_path):
    doc = {"name": "wide_f18", "base": "phone_main", "lens": {"focal_length_mm": 5.1, "f_number": 1.8},
           "actuator": {"stroke_um": 400.0}, "depth_sensor": True}
    cam = camera_from_dict(doc)
    base = get_camera("phone_main")
    assert (cam.lens.focal_length_mm, cam.lens.f_number) == (5.1, 1.8)
    assert cam.lens.min_focus_distance_m == base.lens.min_focus_distance_m
    assert cam.actuator.stroke_um == 400.0 and cam.actuator.slope_um_per_code == base.actuator.slope_um_per_code
    assert cam.sensor == base.sensor and cam.depth_sensor is not None
    # a new lens gets the geometric PSF of its own aperture, with the base's dual-pixel response
    assert isinstance(cam.psf, GeometricPsf) and cam.psf == GeometricPsf.from_lens(cam.lens, base.psf.dp_response)
    assert cam.psf.dp_response.left_gain == base.psf.dp_response.left_gain
    kept = camera_from_dict({"name": "slow_vcm", "base": "phone_main", "actuator": {"natural_frequency_hz": 60.0}})
    assert kept.psf is not None and kept.psf == base.psf and kept.actuator.natural_frequency_hz == 60.0


def test_sensor_preset_mapping_and_dp_response_forms():
    cam = camera_from_dict({"name": "c1", "base": "phone_tele", "sensor": {"base": "imx363", "read_noise_e": 3.0},
                            "dual_pixel_response": "pixel4"})
    assert cam.sensor.name == "imx363" and cam.sensor.read_noise_e == 3.0
    assert cam.psf.dp_response == replace(PIXEL4_DP_RESPONSE, split_shift_per_field=0.0)
    cam = camera_from_dict({"name": "c2", "base": "phone_tele", "dual_pixel_response": {"crosstalk": 0.1}})
    assert cam.psf.dp_response == DualPixelResponse(crosstalk=0.1)
    cam = camera_from_dict({"name": "c3", "base": "phone_main_tof", "depth_sensor": {"zones_x": 4, "zones_y": 4}})
    assert (cam.depth_sensor.zones_x, cam.depth_sensor.max_range_m) == (4, 4.0)
    table = camera_from_dict({"name": "c4", "base": "phone_main",
                              "actuator": {"calibration_table": [[96, 0.0], [512, 130.0], [1023, 330.0]]}})
    assert table.actuator.calibration_table == ((96.0, 0.0), (512.0, 130.0), (1023.0, 330.0))
    assert float(table.actuator.displacement_um(512)) == pytest.approx(130.0)


def test_get_camera_reads_files_and_finds_them_by_label(tmp_path):
    path = tmp_path / "acme.json"
    path.write_text(json.dumps({"base": "phone_main", "lens": {"f_number": 2.2}}))
    cam = get_camera(str(path))
    assert cam.name == "acme" and cam.lens.f_number == 2.2  # the label defaults to the file's stem
    assert get_camera("acme") is cam and get_camera(str(path)) is cam
    ctx = AFContext(min_code=0, max_code=1023, frame_interval_s=1 / 30, has_dual_pixel=True, has_depth=False,
                    name="acme", focal_length_mm=4.38,
                    f_number=2.2, pixel_pitch_um=cam.stream_sensor.pixel_pitch_um)
    assert preset_dp_camera(ctx) is cam  # phase / learned-dp calibrate on it as on a preset
    assert preset_dp_camera(replace(ctx, f_number=1.73)) is None  # not this camera: read raw
    other = tmp_path / "other" / "acme.yaml"
    other.parent.mkdir()
    other.write_text("base: phone_tele\n")
    with pytest.raises(InvalidParameterError, match="its own name"):
        load_camera_file(other)
    with pytest.raises(UnknownNameError, match="camera file"):
        get_camera("no_such_camera")


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        ({"name": "x", "base": "phone_main", "lense": {}}, "'lense' is not a camera-file key"),
        ({"name": "x", "base": "phone_main", "lens": {"f_numbr": 2.0}}, r"lens.f_numbr is not a LensSpec field"),
        ({"name": "x", "base": "phone_main", "lens": {"f_number": "fast"}}, r"lens.f_number must be a number"),
        ({"name": "x", "base": "phone_main", "lens": {"f_number": 0.2}}, r"lens: .*f_number"),
        ({"name": "x", "lens": {"focal_length_mm": 4.0, "f_number": 2.0}}, "needs sensor, actuator"),
        ({"name": "x", "base": "phone_main", "sensor": "imx999"}, "not a sensor preset"),
        ({"name": "x", "lens": {"focal_length_mm": 4.0, "f_number": 2.0}, "sensor": {"pixel_pitch_um": 1.0},
          "actuator": {}}, r"sensor needs name, width_px"),
        ({"name": "phone_main", "base": "phone_tele"}, "is a camera preset's"),
        ({"name": "x", "base": "phone_mian"}, "not a camera preset"),
        ({"name": "x", "base": "phone_main", "dual_pixel_response": "magic"}, "ideal, pixel4"),
        ({"name": "x", "base": "phone_main", "preview_binning": 2.5}, "preview_binning must be an integer"),
        # an impossible module: the stroke cannot reach the minimum focus distance
        ({"name": "x", "base": "phone_main", "lens": {"min_focus_distance_m": 0.03}}, "stroke"),
        ([1, 2], "must hold a mapping"),
    ],
)
def test_bad_camera_documents_say_what_is_wrong(doc, match):
    with pytest.raises(InvalidParameterError, match=match):
        camera_from_dict(doc)


def test_bad_camera_files_in_the_cli_are_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("lens: [\n")
    typo = tmp_path / "typo.yaml"
    typo.write_text("base: phone_main\nactuator: {strok_um: 300}\n")
    for argv, match in (
        (["bench", "--camera", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o")], "does not exist"),
        (["bench", "--camera", str(bad), "--out", str(tmp_path / "o")], "cannot be read"),
        (["bench", "--camera", str(typo), "--out", str(tmp_path / "o")], "actuator.strok_um is not"),
        (["cameras", str(typo)], "actuator.strok_um is not"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert match in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_cameras_command_shows_a_file_with_its_dof_in_codes(tmp_path, capsys):
    path = tmp_path / "slow_f28.yaml"
    path.write_text("base: phone_main\nlens: {f_number: 2.8}\n")
    assert main(["cameras", str(path)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if "slow_f28" in line)
    main_row = next(line for line in out.splitlines() if line.startswith("│ phone_main "))
    # DoF travel scales with N: 2.8 / 1.73 x phone_main's ~16.1 codes at 1 m
    codes = float(row.rstrip(" │").split("│")[-1])
    base_codes = float(main_row.rstrip(" │").split("│")[-1])
    assert 15.5 < base_codes < 16.6
    assert codes == pytest.approx(base_codes * 2.8 / 1.73, rel=0.02)


def test_bench_runs_on_a_camera_file(tmp_path, capsys):
    path = tmp_path / "acme_tele.yaml"
    path.write_text("base: phone_tele\nlens: {f_number: 2.0}\n")
    out = tmp_path / "bench"
    assert main(["bench", "--camera", str(path), "--suite", "stills-bright", "--method", "oracle",
                 "--method", "phase", "--out", str(out), "--workers", "1", "--json"]) == 0
    res = json.loads((out / "results.json").read_text())
    recs = [r for r in res["records"] if r["status"] == "ok"]
    assert {r["method"] for r in recs} == {"oracle", "phase"}
    oracle = [r["metrics"]["final_error_dof"] for r in recs if r["method"] == "oracle"]
    assert max(oracle) < 0.75  # the truth follows the file's camera, not the preset's
    # f/2.0 instead of the tele's f/2.4: one DoF is fewer codes (22 x 2.0 / 2.4 = 18.3 at 1 m), so
    # the in-focus band the truth scores against is the file's, not the preset's
    band = np.mean([np.mean(r["trace"]["band_codes"]) for r in recs])
    assert band < 22.0 * 2.0 / 2.4 * 1.1


def test_data_config_takes_a_camera_file_relative_to_the_config(tmp_path):
    from focuslab.data.generate_camera import sample_camera
    from focuslab.data.generate_config import load_config

    (tmp_path / "cams").mkdir()
    (tmp_path / "cams" / "acme.yaml").write_text("base: phone_main\nsensor: {base: imx363, read_noise_e: 4.5}\n")
    cfg_path = tmp_path / "data.yaml"
    cfg_path.write_text("kind: dp\nnum_samples: 4\nsamples_per_shard: 2\ncamera: cams/acme.yaml\n"
                        "sensor: {pitch_scale: [1.0, 1.0], read_noise_e: [4.5, 4.5]}\n")
    cfg = load_config(cfg_path)
    assert cfg["camera"]["name"] == "acme" and cfg["camera"]["sensor"]["read_noise_e"] == 4.5  # inlined
    cam, _ = sample_camera(cfg, np.random.default_rng(0))
    assert cam.sensor.name == "imx363" and cam.sensor.read_noise_e == 4.5
    with pytest.raises(InputFileError, match="does not exist"):
        cfg_path.write_text("kind: dp\ncamera: cams/nope.yaml\n")
        load_config(cfg_path)


@pytest.mark.parametrize("name", ["wide_main_6mm", "budget_dp_ideal", "mono_dp_bin2"])
def test_shipped_example_camera_files_load(name):
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "configs" / "cameras" / f"{name}.yaml"
    cam = load_camera_file(path)
    assert cam.name == name and cam.has_dual_pixel
    # the stroke reaches the minimum focus distance with the calibrated map (validated on load)
    assert cam.focus_code_for_distance(cam.lens.min_focus_distance_m) <= cam.actuator.max_code


def test_a_stack_rendered_from_a_camera_file_carries_it_to_replay(tmp_path):
    """The stack's camera block holds the file's document; a process that never read the file
    rebuilds the camera from it under its label, and the per-camera calibrations find it."""
    import subprocess
    import sys

    from focuslab.data.stack_render import camera_block

    path = tmp_path / "stack_cam.yaml"
    path.write_text("base: phone_main\nlens: {f_number: 2.0}\n")
    cam = load_camera_file(path)
    block = camera_block(cam, "raw")
    assert block["definition"] == {"name": "stack_cam", "base": "phone_main", "lens": {"f_number": 2.0}}
    assert "definition" not in camera_block(replace(cam, lens=replace(cam.lens, f_number=2.2)), "raw")
    assert "definition" not in camera_block(get_camera("phone_main"), "raw")
    code = (
        "from focuslab.camera.camera_file import register_camera_document\n"
        "from focuslab.camera import get_camera\n"
        f"cam = register_camera_document({block['definition']!r})\n"
        "assert cam is not None and get_camera('stack_cam') is cam and cam.lens.f_number == 2.0\n"
        "assert register_camera_document({'name': 'phone_main', 'base': 'phone_tele'}) is None\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
