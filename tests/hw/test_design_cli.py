"""``focuslab hw design``: results files, JSON, report; every bad input is one line and exit code 2."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from focuslab.cli.main import main


def catalog(**over) -> dict:
    data = {
        "format": "focuslab.design_catalog/1",
        "lenses": [{"name": "L", "focal_length_mm": 4.0, "f_number": 2.0, "min_focus_distance_m": 0.1, "cost": 2.0,
                    "seidel_um": {"w222_um": 0.15, "w220_um": 0.1}}],
        "sensors": [
            {"name": "big", "pixel_pitch_um": 1.4, "width_px": 4000, "height_px": 3000, "quantum_efficiency": 0.75,
             "read_noise_e": 2.0, "full_well_e": 6000, "dark_current_e_per_s": 2.0, "cost": 5.0},
            {"name": "small", "pixel_pitch_um": 1.0, "width_px": 5600, "height_px": 4200, "quantum_efficiency": 0.7,
             "read_noise_e": 1.8, "full_well_e": 4500, "dark_current_e_per_s": 2.0, "cost": 3.0},
        ],
        "objectives": {"corner_mtf50_lw_ph": "maximize", "snr_10lux": "maximize", "cost": "minimize"},
        "optimize": {"bounds": {"f_number": [1.6, 2.8], "pixel_pitch_um": [0.8, 1.8]}, "trials": 4, "seed": 0},
    }
    data.update(over)
    return data


def write(tmp_path, data, name="cat.yaml"):
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def test_design_writes_results_report_and_front(tmp_path, capsys):
    cat = write(tmp_path, catalog())
    out = tmp_path / "out"
    rc = main(["hw", "design", str(cat), "--af-cases", "0", "--optimize", "--trials", "4", "--out", str(out),
               "--report", str(tmp_path / "r.html")])
    assert rc == 0
    doc = json.loads((out / "results.json").read_text())
    assert doc["format"] == "focuslab.design_results/1"
    names = [c["name"] for c in doc["combinations"]]
    assert names == ["L+big", "L+small"]
    big, small = doc["combinations"]
    # same lens: the same corner lp/mm is lens-limited, more pixels give more LW/PH; bigger pixels more SNR
    assert small["corner_mtf50_lw_ph"] > big["corner_mtf50_lw_ph"] and big["snr_10lux"] > small["snr_10lux"]
    assert big["cost"] == 7.0 and small["cost"] == 5.0
    assert doc["pareto_front"] == names  # each wins an objective
    assert "af_in_focus_rate" not in big  # --af-cases 0: no AF figures
    assert len(doc["optimizer"]["trials"]) == 4 and doc["optimizer"]["front"]
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [r["name"] for r in rows] == names and float(rows[0]["cost"]) == 7.0
    html = (tmp_path / "r.html").read_text()
    assert html.count("<img") >= 4 and "Pareto front" in html and "Optimizer" in html
    assert "L+small" in capsys.readouterr().out


def test_design_json_on_stdout(tmp_path, capsys):
    data = catalog()
    data["sensors"] = data["sensors"][:1]
    data["lenses"].append({**data["lenses"][0], "name": "L2", "f_number": 2.8, "cost": 1.0})
    rc = main(["hw", "design", str(write(tmp_path, data)), "--af-cases", "0", "--json", "--out", str(tmp_path / "o")])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    a, b = doc["combinations"]
    assert a["snr_10lux"] > b["snr_10lux"] and a["centre_mtf50_cpp"] > b["centre_mtf50_cpp"]  # f/2 vs f/2.8
    assert a["signal_10lux_e"] == pytest.approx(b["signal_10lux_e"] * (2.8 / 2.0) ** 2, rel=1e-9)  # 1/N^2
    assert b["dof_close_mm"] == pytest.approx(a["dof_close_mm"] * 2.8 / 2.0, rel=0.02)  # DoF ~ N at close focus


@pytest.mark.parametrize(
    ("mutate", "extra", "match"),
    [
        (lambda d: d["lenses"][0].update(f_number=0.2), [], "below 0.5"),
        (lambda d: d["lenses"][0].update(zoom=2), [], "unknown field 'zoom'"),
        (lambda d: d["sensors"][0].update(pixel_pitch_um=-1.0), [], "pixel_pitch_um must be > 0"),
        (lambda d: d.update(objectives={"sharpness": "maximize", "cost": "minimize"}), [],
         "objective 'sharpness' is not a design figure"),
        (lambda d: d.update(objectives={"af_in_focus_rate": "maximize", "cost": "minimize"}), [],
         "needs AF runs; give --af-cases 1"),
        (lambda d: d["lenses"][0].update(seidel_um={"w222_um": 150.0}), [], "coefficients are in micrometres"),
        (lambda d: d.pop("optimize"), ["--optimize"], "no optimize: section"),
        (lambda d: d["optimize"].update(bounds={"f_number": [3, 2]}), ["--optimize"], "0 < low < high"),
        (lambda d: None, ["--af-cases", "99"], "--af-cases must be in 0..12"),
        (lambda d: None, ["--optimize", "--trials", "0"], "--trials must be >= 1"),
        (lambda d: d.update(actuators=[{"name": "A", "cost": 1, "stroke_um": 50}]), [],
         "no combination is feasible (combination L+big+A:"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, mutate, extra, match):
    data = catalog()
    mutate(data)
    rc = main(["hw", "design", str(write(tmp_path, data)), "--af-cases", "0", "--out", str(tmp_path / "o"), *extra])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert match in err and err.count("\n") == 1 and "Traceback" not in err


def test_bad_files_exit_2(tmp_path, capsys):
    assert main(["hw", "design", str(tmp_path / "missing.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("lenses: [\n")
    assert main(["hw", "design", str(bad)]) == 2
    assert "not valid YAML" in capsys.readouterr().err
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["hw", "design", str(write(tmp_path, catalog())), "--out", str(f)]) == 2
    err = capsys.readouterr().err
    assert "is a file; give a folder" in err and err.count("\n") == 1
    assert main(["hw", "design", str(write(tmp_path, catalog())), "--out", str(f / "sub")]) == 2
    err = capsys.readouterr().err
    assert "cannot create output folder" in err and err.count("\n") == 1


def test_an_actuator_too_short_for_a_lens_makes_that_combination_infeasible(tmp_path, capsys):
    data = catalog()
    data["sensors"] = data["sensors"][:1]
    data["actuators"] = [{"name": "long", "cost": 1.0, "stroke_um": 350},
                         {"name": "short", "cost": 0.5, "stroke_um": 100}]  # f = 4 mm at 0.1 m needs 167 um
    out = tmp_path / "o"
    rc = main(["hw", "design", str(write(tmp_path, data)), "--af-cases", "0", "--out", str(out),
               "--report", str(tmp_path / "r.html")])
    assert rc == 0
    doc = json.loads((out / "results.json").read_text())
    ok, bad = doc["combinations"]
    assert ok["status"] == "ok" and ok["pareto"] and doc["pareto_front"] == ["L+big+long"]
    assert bad["status"] == "infeasible" and not bad["pareto"] and "stroke" in bad["reason"]
    assert "snr_10lux" not in bad and list(doc["infeasible"]) == ["L+big+short"]
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert rows[1]["status"] == "infeasible" and rows[1]["snr_10lux"] == "" and rows[0]["snr_10lux"] != ""
    assert "infeasible" in capsys.readouterr().out
    assert "L+big+short is infeasible" in (tmp_path / "r.html").read_text()
