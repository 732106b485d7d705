"""``focuslab hw simulate-series`` / ``hw characterize``: series folders, outputs, and every bad input.

Bad input gives one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from focuslab.cli.main import main
from focuslab.data.image_files import read_image, write_png
from focuslab.hw.emva import characterize_frames, characterize_series
from focuslab.hw.emva_series import StepKey
from focuslab.hw.emva_simulate import SeriesDesign, series_plan, simulate_frames, write_simulated_series
from focuslab.sensor.presets import get_sensor

SMALL = SeriesDesign(width_px=32, height_px=24, n_steps=8, spatial_frames=4, overdrive=1.3)


@pytest.fixture(scope="module")
def series_dir(tmp_path_factory) -> Path:
    return write_simulated_series(get_sensor("imx174_mono"), tmp_path_factory.mktemp("emva") / "s", design=SMALL,
                                  seed=4)


@pytest.fixture
def broken(series_dir, tmp_path):
    """A fresh copy of the series and a function that edits its manifest."""
    d = tmp_path / "copy"
    shutil.copytree(series_dir, d)

    def edit(fn):
        doc = json.loads((d / "series.json").read_text())
        fn(doc)
        (d / "series.json").write_text(json.dumps(doc))
        return d

    return d, edit


def _err(argv, capsys) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and err.startswith("focuslab: error:")
    return err


def test_files_give_the_same_result_as_the_frames_in_memory(series_dir):
    spec = get_sensor("imx174_mono")
    from_files = characterize_series(series_dir).channels["mono"].summary()
    in_memory = characterize_frames(simulate_frames(spec, SMALL, seed=4), series_plan(spec, SMALL), cfa="mono",
                                    white_level_dn=spec.white_level_dn).channels["mono"].summary()
    for k, v in in_memory.items():
        w = from_files[k]
        assert (v is None and w is None) or v == w or (math.isnan(v) and math.isnan(w)), k


def test_same_seed_same_bytes(series_dir, tmp_path):
    again = write_simulated_series(get_sensor("imx174_mono"), tmp_path / "again", design=SMALL, seed=4)
    for name in ("flat_003_000.png", "dark_000_001.png", "series.json"):
        assert (again / name).read_bytes() == (series_dir / name).read_bytes()
    other = write_simulated_series(get_sensor("imx174_mono"), tmp_path / "other", design=SMALL, seed=5)
    assert not np.array_equal(read_image(other / "flat_003_000.png"), read_image(series_dir / "flat_003_000.png"))


def test_simulate_then_characterize_json_and_report(tmp_path, capsys):
    out = tmp_path / "bayer"
    assert main(["hw", "simulate-series", str(out), "--sensor", "imx258", "--width-px", "48", "--height-px", "48",
                 "--steps", "12", "--spatial-frames", "6", "--seed", "1"]) == 0
    assert "wrote 56 frames of imx258" in capsys.readouterr().out.replace("\n", " ")
    truth = json.loads((out / "series.json").read_text())["simulation"]["truth"]
    report = tmp_path / "r" / "emva.html"
    assert main(["hw", "characterize", str(out), "--json", "--report", str(report), "--channel", "Gr",
                 "--channel", "B"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc["channels"]) == ["Gr", "B"] and doc["cfa"] == "BGGR" and doc["frames"] == 56
    for ch in doc["channels"].values():  # 24 x 24 pixels per channel: a few % of statistical error
        assert ch["system_gain_dn_per_e"] == pytest.approx(truth["system_gain_dn_per_e"], rel=0.05)
        assert ch["prnu_percent"] == pytest.approx(truth["prnu_percent"], rel=0.15)
    html = report.read_text()
    assert html.count("data:image/png;base64,") == 6 and "Photon transfer" in html and "PRNU1288" in html
    assert main(["hw", "characterize", str(out)]) == 0
    text = capsys.readouterr().out
    assert "System gain K" in text and "Gb" in text and "DSNU1288" in text


def test_manifest_errors(broken, capsys):
    d, edit = broken
    assert "does not exist" in _err(["hw", "characterize", str(d / "nope")], capsys)
    edit(lambda doc: doc.update(format="other/1"))
    assert "expected 'focuslab.emva_series/1'" in _err(["hw", "characterize", str(d)], capsys)
    edit(lambda doc: doc.update(format="focuslab.emva_series/1") or doc["frames"][3].update(kind="bright"))
    assert "unknown kind 'bright'" in _err(["hw", "characterize", str(d)], capsys)
    edit(lambda doc: doc["frames"][3].update(kind="flat") or doc["frames"][3].pop("exposure_s"))
    assert "has no 'exposure_s'" in _err(["hw", "characterize", str(d)], capsys)
    edit(lambda doc: doc["frames"][3].update(exposure_s=float("nan")))
    assert "exposure_s must be finite" in _err(["hw", "characterize", str(d)], capsys)
    edit(lambda doc: doc["frames"][3].update(exposure_s=0.0125, file="missing.png"))
    assert "missing.png" in _err(["hw", "characterize", str(d)], capsys)


def test_plan_errors(broken, capsys):
    d, edit = broken
    text0 = (d / "series.json").read_text()
    doc0 = json.loads(text0)

    def frames0():
        return json.loads(text0)["frames"]

    edit(lambda doc: doc["frames"].pop(0))
    assert "too few frames" in _err(["hw", "characterize", str(d)], capsys)
    edit(lambda doc: doc.update(frames=doc0["frames"][:20]))
    assert "too few flat steps: 4" in _err(["hw", "characterize", str(d)], capsys)
    t0 = doc0["frames"][0]["exposure_s"]
    edit(lambda doc: doc.update(frames=[f for f in frames0() if not (f["kind"] == "dark" and f["exposure_s"] == t0)]))
    assert "no dark frames at exposure" in _err(["hw", "characterize", str(d)], capsys)
    edit(lambda doc: doc.update(frames=frames0()) or doc["frames"][-1].pop("irradiance_photons_per_pixel"))
    assert "for some flat frames only" in _err(["hw", "characterize", str(d)], capsys)
    edit(lambda doc: doc.update(frames=frames0(), cfa="RGBW"))
    assert "unknown cfa 'RGBW'" in _err(["hw", "characterize", str(d)], capsys)
    edit(lambda doc: doc.update(cfa="mono"))
    assert "unknown channel 'Gr'" in _err(["hw", "characterize", str(d), "--channel", "Gr"], capsys)


def test_frame_errors(broken, capsys):
    d, edit = broken
    first_flat = json.loads((d / "series.json").read_text())["frames"][2]["file"]
    original = read_image(d / first_flat)
    write_png(d / first_flat, original[:, :30])
    assert "mismatched frame sizes" in _err(["hw", "characterize", str(d)], capsys)
    write_png(d / first_flat, (original // 16).astype(np.uint8))
    assert "8-bit: wrong bit depth" in _err(["hw", "characterize", str(d)], capsys)
    write_png(d / first_flat, original)
    edit(lambda doc: doc.update(bit_depth=10))  # 12-bit data declared 10-bit
    assert "wrong bit depth" in _err(["hw", "characterize", str(d)], capsys)
    nan_frame = original.astype(np.float32)
    nan_frame[3, 4] = np.nan
    np.save(d / "nan.npy", nan_frame)
    edit(lambda doc: doc.update(bit_depth=12) or doc["frames"][2].update(file="nan.npy"))
    assert "NaN" in _err(["hw", "characterize", str(d)], capsys)


def test_saturated_flats_are_refused(broken, capsys):
    d, _ = broken
    doc = json.loads((d / "series.json").read_text())
    white = np.full((SMALL.height_px, SMALL.width_px), 4095, np.uint16)
    for f in doc["frames"]:
        if f["kind"] == "flat":
            write_png(d / f["file"], white)
    assert "saturated flats" in _err(["hw", "characterize", str(d)], capsys)


def test_simulate_and_report_errors(series_dir, tmp_path, capsys):
    assert "unknown sensor preset" in _err(["hw", "simulate-series", str(tmp_path / "x"), "--sensor", "nope"],
                                           capsys).lower()
    assert "frames_per_step" in _err(["hw", "simulate-series", str(tmp_path / "x"), "--sensor", "imx258",
                                      "--frames-per-step", "1"], capsys)
    assert "even" in _err(["hw", "simulate-series", str(tmp_path / "x"), "--sensor", "imx258", "--width-px", "33"],
                          capsys)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert "cannot create output folder" in _err(["hw", "characterize", str(series_dir), "--report",
                                                  str(blocker / "r.html")], capsys)


def test_streamed_frames_must_follow_the_plan():
    spec = get_sensor("imx174_mono")
    plan = series_plan(spec, SMALL)
    with pytest.raises(Exception, match="not in the series plan"):
        characterize_frames([(StepKey("flat", 9.0, 1.0), np.zeros((24, 32), np.uint16))], plan, cfa="mono",
                            white_level_dn=4095)


@pytest.mark.shared_data
def test_real_raw_frames_bring_their_cfa_and_levels(shared_data):
    from focuslab.hw.emva_series import read_frame

    dng = shared_data / "raw" / "Blackmagic.dng"
    lf = read_frame(dng)
    assert lf.data.shape == (2176, 4128) and lf.data.dtype == np.uint16
    assert lf.cfa == "RGGB" and lf.black_level_dn == pytest.approx(512)
    assert int(lf.data.max()) <= lf.white_level_dn  # LibRaw's white level for this file


@pytest.mark.slow
@pytest.mark.shared_data
def test_real_raw_series_of_identical_frames_is_refused(shared_data, tmp_path, capsys):
    # a "series" that repeats one real raw (24 decodes): the CFA comes from the file (Gr exists),
    # and identical frames (no temporal noise) are refused with one line
    dng = shared_data / "raw" / "Blackmagic.dng"
    (tmp_path / "s").mkdir()
    shutil.copy(dng, tmp_path / "s" / "a.dng")
    frames = [{"file": "a.dng", "kind": kind, "exposure_s": 0.01 * (i + 1)} for i in range(6)
              for kind in ("dark", "dark", "flat", "flat")]
    (tmp_path / "s" / "series.json").write_text(json.dumps({"format": "focuslab.emva_series/1", "frames": frames}))
    err = _err(["hw", "characterize", str(tmp_path / "s"), "--channel", "Gr"], capsys)
    assert "no brighter than the darks" in err or "slope K is not positive" in err


def test_series_without_irradiance(broken, capsys):
    d, edit = broken
    edit(lambda doc: [f.pop("irradiance_photons_per_pixel", None) for f in doc["frames"]])
    res = characterize_series(d).channels["mono"]
    t = res.temporal
    assert t.quantum_efficiency is None and t.sensitivity_threshold_photons is None
    assert t.linearity_x == "exposure_s"
    assert abs(t.linearity_error_min_percent) < 1.0 and abs(t.linearity_error_max_percent) < 1.0
    # without mu_p the saturation capacity is the saturation signal over K
    c = t.curves
    sat = (c.mean_dn[t.saturation_index] - c.mean_dark_dn[t.saturation_index]) / t.system_gain_dn_per_e
    assert t.saturation_capacity_e == pytest.approx(sat)
    assert main(["hw", "characterize", str(d), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)["channels"]["mono"]
    assert doc["quantum_efficiency"] is None and doc["system_gain_dn_per_e"] > 0
    assert main(["hw", "characterize", str(d)]) == 0
    assert "Quantum efficiency" in capsys.readouterr().out
