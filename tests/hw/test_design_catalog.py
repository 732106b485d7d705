"""Design catalog: the shipped example parses; every mistake is one clear InvalidParameterError/InputFileError."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.hw.design_catalog import DEFAULT_ACTUATOR, load_catalog, parse_catalog

EXAMPLE = Path(__file__).resolve().parents[2] / "configs" / "hw" / "design_catalog_example.yaml"


def minimal() -> dict:
    return {
        "lenses": [{"name": "L", "focal_length_mm": 4.0, "f_number": 2.0, "cost": 2.0,
                    "seidel_um": {"w222_um": 0.1}, "zernike_um": {"spherical": 0.01}}],
        "sensors": [{"name": "S", "pixel_pitch_um": 1.4, "width_px": 400, "height_px": 300,
                     "quantum_efficiency": 0.7, "read_noise_e": 2.0, "full_well_e": 6000,
                     "dark_current_e_per_s": 2.0, "cost": 3.0}],
    }


def test_example_catalog_parses_into_16_cameras():
    cat = load_catalog(EXAMPLE)
    assert len(cat.lenses) == 4 and len(cat.sensors) == 4 and len(cat.actuators) == 1
    combos = cat.combinations()
    assert len(combos) == 16 and len({c.name for c in combos}) == 16
    first = combos[0]
    assert first.cost == pytest.approx(4.0 + 5.0 + 1.0)
    cam = first.camera()
    assert cam.lens.f_number == 1.73 and cam.sensor.dual_pixel and cam.actuator.stroke_um == 350
    assert cat.objectives == {"corner_mtf50_lw_ph": "maximize", "snr_10lux": "maximize", "cost": "minimize"}
    assert cat.optimize["bounds"]["f_number"] == [1.4, 2.8]


def test_defaults_fill_a_minimal_catalog():
    cat = parse_catalog(minimal())
    assert cat.actuators == (DEFAULT_ACTUATOR,)
    s = cat.sensors[0].spec
    # the full well maps onto the 10-bit range above black 64
    assert s.conversion_gain_dn_per_e == pytest.approx((1023 - 64) / 6000)
    assert s.saturation_e == pytest.approx(6000)
    assert cat.lenses[0].seidel.w222_um == 0.1 and cat.lenses[0].zernike_um == (("spherical", 0.01),)
    assert cat.combinations()[0].name == "L+S" and cat.settings["exposure_s"] == pytest.approx(1 / 30)


def _mutate(path: str, value):
    data = minimal()
    node = data
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if k.isdigit() else node[k]
    node[keys[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "match"),
    [
        ("lenses.0.focal_mm", 4.0, "unknown field 'focal_mm'"),
        ("lenses.0.f_number", 0.3, "below 0.5"),
        ("lenses.0.focal_length_mm", -4.0, "focal_length_mm must be > 0"),
        ("lenses.0.min_focus_distance_m", 0.003, "not beyond the focal length"),
        ("lenses.0.seidel_um", {"w999_um": 1.0}, "unknown field 'w999_um'"),
        ("lenses.0.zernike_um", {"wobble": 0.1}, "wobble"),
        ("lenses.0.cost", -1.0, "cost must be a finite number >= 0"),
        ("sensors.0.pixel_pitch_um", -1.4, "pixel_pitch_um must be > 0"),
        ("sensors.0.quantum_efficiency", 1.5, "quantum_efficiency must be in (0, 1]"),
        ("sensors.0.width_px", 10.5, "width_px must be an integer"),
        ("sensors.0.cfa", "XYZW", "unknown cfa"),
        ("sensors.0.pixel_pitch_um", "big", "pixel_pitch_um must be a number"),
        ("settings", {"exposure_s": 0}, "exposure_s must be > 0"),
        ("settings", {"shutter": 1}, "unknown field 'shutter'"),
        ("settings", {"focus": "sharpest"}, "focus must be one of best_centre, paraxial"),
        ("objectives", {"cost": "smallest", "snr_10lux": "maximize"}, "maximize or minimize"),
        ("format", "something/2", "is not 'focuslab.design_catalog/1'"),
        ("actuators", [{"name": "A", "cost": 1, "stroke_um": -5}], "stroke_um"),
    ],
)
def test_bad_entries_raise_one_clear_line(path, value, match):
    with pytest.raises(InvalidParameterError, match=re.escape(match)) as info:
        parse_catalog(_mutate(path, value), source="cat.yaml")
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith("cat.yaml")


def test_missing_fields_duplicates_and_unreachable_focus():
    data = minimal()
    del data["sensors"][0]["full_well_e"]
    with pytest.raises(InvalidParameterError, match="missing field 'full_well_e'"):
        parse_catalog(data)
    data = minimal()
    data["lenses"].append(copy.deepcopy(data["lenses"][0]))
    with pytest.raises(InvalidParameterError, match="two lenses are named 'L'"):
        parse_catalog(data)
    data = minimal()
    data["actuators"] = [{"name": "short", "cost": 1.0, "stroke_um": 40.0}]
    combo = parse_catalog(data).combinations()[0]
    with pytest.raises(InvalidParameterError, match=r"combination L\+S\+short: .*stroke"):
        combo.camera()
    with pytest.raises(InvalidParameterError, match="lenses must be a non-empty list"):
        parse_catalog({**minimal(), "lenses": []})


def test_file_errors(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        load_catalog(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("lenses: [unclosed\n")
    with pytest.raises(InputFileError, match="not valid YAML at line"):
        load_catalog(bad)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n")
    with pytest.raises(InputFileError, match="must be a YAML mapping"):
        load_catalog(scalar)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(minimal()))
    assert load_catalog(good).source == "good.yaml"


def test_design_modules_stay_small_and_never_import_the_cli():
    import ast

    src = Path(__file__).resolve().parents[2] / "src" / "focuslab" / "hw"
    files = sorted(src.glob("design_*.py"))
    assert len(files) >= 8
    for f in files:
        text = f.read_text()
        assert len(text.splitlines()) < 400, f.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("focuslab.cli"), f.name
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("focuslab.cli") for a in node.names), f.name
