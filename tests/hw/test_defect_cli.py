"""``focuslab hw defects``: files in, map/JSON/report out; bad input is one line and exit code 2."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from focuslab.cli.main import main
from focuslab.data.image_files import read_image, write_png
from focuslab.hw.defect_planting import expose_with_defects, plant_defects, shading_field
from focuslab.sensor import get_sensor

N_FRAMES = 4


@pytest.fixture(scope="module")
def frames(tmp_path_factory):
    """4 dark and 4 flat 16-bit PNG frames of a 256 x 192 imx258 crop with planted defects."""
    spec = dataclasses.replace(get_sensor("imx258"), width_px=256, height_px=192)
    plan = plant_defects(spec, seed=11, n_hot=20, n_dead=20, n_stuck=10, n_clusters=6)
    folder = tmp_path_factory.mktemp("defect_frames")
    rng = np.random.default_rng(0)
    qe = spec.quantum_efficiency * max(spec.channel_response)
    flat_ph = np.repeat((0.5 * spec.saturation_e / qe * shading_field(spec.shape_px))[..., None], 3, axis=2)
    paths = {"dark": [], "flat": []}
    entries = []
    for i in range(N_FRAMES):
        for kind, ph in (("dark", np.zeros_like(flat_ph)), ("flat", flat_ph)):
            raw = expose_with_defects(spec, ph, exposure_s=0.05, plan=plan, seed=rng)
            p = write_png(folder / f"{kind}_{i}.png", raw.data)
            paths[kind].append(str(p))
            entries.append({"file": p.name, "kind": kind, "exposure_s": 0.05})
    # a brighter, saturated flat exposure that the series reader must not pick
    sat = expose_with_defects(spec, flat_ph * 3.0, exposure_s=0.15, plan=plan, seed=rng)
    entries.append({"file": write_png(folder / "flat_bright.png", sat.data).name, "kind": "flat", "exposure_s": 0.15})
    (folder / "series.json").write_text(json.dumps({"format": "focuslab.emva_series/1", "frames": entries,
                                                    "black_level_dn": spec.black_level_dn, "cfa": spec.cfa}))
    return spec, plan, folder, paths


def _args(paths):
    return [a for kind in ("dark", "flat") for p in paths[kind] for a in (f"--{kind}", p)]


def test_dark_flat_files_to_map_json_report(frames, tmp_path, capsys):
    spec, plan, _folder, paths = frames
    out = tmp_path / "out"
    fixed_png = tmp_path / "fixed.png"
    rc = main(["hw", "defects", *_args(paths), "--cfa", spec.cfa, "--out", str(out), "--json",
               "--correct", str(fixed_png)])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    found = doc["dark_flat"]
    truth = plan.codes & 0x7F
    assert found["counts"]["hot"] == np.count_nonzero(truth == 1)
    assert found["counts"]["dead"] == np.count_nonzero(truth == 2)
    assert found["counts"]["stuck"] == np.count_nonzero(truth == 3)
    assert found["counts"]["couplets"] + found["counts"]["clusters"] == len(plan.cluster_sizes_px)
    assert found["n_dark_frames"] == N_FRAMES and found["cfa"] == "BGGR"
    codes = read_image(out / "defect_map.png")
    assert codes.dtype == np.uint8 and np.array_equal(codes != 0, plan.mask)
    assert json.loads((out / "defects.json").read_text())["dark_flat"]["counts"] == found["counts"]
    html = (out / "report.html").read_text()
    assert "Defect pixels" in html and "data:image/png;base64" in html
    # the corrected averaged flat: defects replaced by their neighbours' level
    fixed = read_image(fixed_png).astype(np.float64)
    flat = np.mean([read_image(p) for p in paths["flat"]], axis=0)
    ref = np.median(flat)
    assert np.max(np.abs(fixed[plan.mask] - flat[plan.mask])) > 0.2 * ref  # they were wrong
    rel = np.abs(fixed[plan.mask] - np.rint(flat)[np.roll(plan.mask, 4, axis=1)]) / ref  # a good pixel 4 px away
    assert np.median(rel) < 0.05


def test_series_folder_picks_the_half_saturation_flats(frames, capsys):
    spec, plan, folder, _paths = frames
    assert main(["hw", "defects", "--series", str(folder), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)["dark_flat"]
    assert doc["n_flat_frames"] == N_FRAMES and doc["n_dark_frames"] == N_FRAMES and doc["cfa"] == spec.cfa
    assert doc["counts"]["total"] == np.count_nonzero(plan.mask)


def test_single_frame_npy_and_text_output(frames, tmp_path, capsys):
    spec, plan, _folder, paths = frames
    flat = read_image(paths["flat"][0])
    np.save(tmp_path / "flat.npy", flat)
    assert main(["hw", "defects", "--frame", str(tmp_path / "flat.npy"), "--cfa", spec.cfa]) == 0
    out = capsys.readouterr().out
    assert out.startswith("single_frame:") and "defective pixels" in out
    # in one flat frame the hot pixels (1..25 % of the range) and dead pixels stand out of their neighbours
    n = int(out.split(": ", 1)[1].split(" ", 1)[0])
    assert 0.5 * np.count_nonzero(plan.mask) <= n <= np.count_nonzero(plan.mask) + 2


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ([], "no dark and no flat"),
        (["--dark", "/no/such/dark.png"], "does not exist"),
        (["--series", "/no/such/folder"], "does not exist"),
        (["--dark", "{8bit}"], "8-bit"),
        (["--dark", "{rgb}"], "RGB"),
        (["--dark", "{dark0}", "--flat", "{small}"], "differ in size"),
        (["--dark", "{dark0}", "--dark", "{small}"], "same size"),
        (["--dark", "{dark0}", "--cfa", "RGBW"], "unknown cfa"),
        (["--series", "{series}", "--dark", "{dark0}"], "either --series"),
        (["--series", "{tmp}"], "no series.json"),
        (["--flat", "{dark0}", "--black-level-dn", "70000"], "no signal"),
        (["--series", "{series8bit}"], "above the 8-bit range"),
        (["--dark", "{npy3d}"], "single-channel"),
    ],
)
def test_bad_input_is_one_line_exit_2(frames, tmp_path, capsys, extra, match):
    _spec, _plan, folder, paths = frames
    write_png(tmp_path / "eight.png", np.full((64, 64), 10, dtype=np.uint8))
    write_png(tmp_path / "rgb.png", np.zeros((64, 64, 3), dtype=np.uint16))
    write_png(tmp_path / "small.png", np.zeros((64, 64), dtype=np.uint16))
    meta = json.loads((folder / "series.json").read_text())
    meta["frames"] = [dict(f, file=str(folder / f["file"])) for f in meta["frames"]]
    (tmp_path / "s8").mkdir()
    (tmp_path / "s8" / "series.json").write_text(json.dumps(meta | {"bit_depth": 8}))
    np.save(tmp_path / "cube.npy", np.zeros((8, 8, 3), dtype=np.uint16))
    subs = {"{series8bit}": str(tmp_path / "s8"), "{npy3d}": str(tmp_path / "cube.npy"),
            "{8bit}": str(tmp_path / "eight.png"), "{rgb}": str(tmp_path / "rgb.png"),
            "{small}": str(tmp_path / "small.png"), "{dark0}": paths["dark"][0], "{series}": str(folder),
            "{tmp}": str(tmp_path)}
    argv = ["hw", "defects", *[subs.get(a, a) for a in extra]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert match in err
    assert err.count("\n") == 1 and "Traceback" not in err
