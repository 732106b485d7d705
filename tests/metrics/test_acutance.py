"""CPIQ acutance: limits, an independent quadrature, monotonicity, viewing geometry, bad input."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate

from focuslab.errors import InvalidParameterError, UnknownNameError
from focuslab.metrics.acutance import (
    ViewingCondition,
    acutance,
    acutance_for_conditions,
    cpiq_csf,
    cycles_per_degree,
    get_viewing_condition,
    viewing_condition_names,
)

F = np.linspace(0.0, 0.5, 257)


def gaussian_mtf(f, sigma_px):
    return np.exp(-2.0 * np.pi**2 * sigma_px**2 * np.asarray(f) ** 2)


def test_csf_constants_and_peak():
    # CSF(nu) = 75 nu^0.8 exp(-0.2 nu) / 34.05, peak at nu = c / b = 4 cy/deg
    assert cpiq_csf(4.0) == pytest.approx(75 * 4**0.8 * math.exp(-0.8) / 34.05, rel=1e-12)
    nu = np.linspace(0.01, 60, 6000)
    assert nu[np.argmax(cpiq_csf(nu))] == pytest.approx(4.0, abs=0.02)
    assert float(cpiq_csf(0.0)) == 0.0


def test_perfect_system_is_one_and_blind_system_is_zero():
    for name in ("monitor_100pct", "monitor_24in_1080p"):
        assert acutance(F, np.ones_like(F), name).acutance == pytest.approx(1.0, abs=1e-12)
        assert acutance(F, np.zeros_like(F), name).acutance == pytest.approx(0.0, abs=1e-15)
    assert acutance(F, np.full_like(F, 0.5)).acutance == pytest.approx(0.5, abs=1e-12)


def test_gaussian_mtf_against_independent_adaptive_quadrature():
    # Independent: integrate in cycles/degree with scipy.integrate.quad on the analytic MTF.
    vc = get_viewing_condition("monitor_100pct")
    ppd = math.pi * 600.0 / (180.0 * 0.254)  # pixels per degree, small-angle
    nu_max = 0.5 * ppd

    def csf(nu):
        return 75.0 * nu**0.8 * math.exp(-0.2 * nu) / 34.05

    for sigma in (0.3, 0.7, 1.5):
        num = integrate.quad(lambda nu, s=sigma: gaussian_mtf(nu / ppd, s) * csf(nu), 0, nu_max, limit=200)[0]
        den = integrate.quad(csf, 0, nu_max, limit=200)[0]
        fine = np.linspace(0, 0.5, 2001)
        got = acutance(fine, gaussian_mtf(fine, sigma), vc).acutance
        assert got == pytest.approx(num / den, abs=2e-5)


def test_acutance_falls_monotonically_with_blur():
    values = [acutance(F, gaussian_mtf(F, s)).acutance for s in np.linspace(0.2, 3.0, 12)]
    assert np.all(np.diff(values) < 0)


def test_larger_viewing_distance_gives_higher_acutance():
    mtf = gaussian_mtf(F, 1.0)
    values = [
        acutance(F, mtf, ViewingCondition(f"d{d}", float(d), display_pixel_pitch_mm=0.254)).acutance
        for d in (200, 400, 600, 1000, 2000)
    ]
    assert np.all(np.diff(values) > 0)


def test_cycles_per_degree_geometry():
    vc = ViewingCondition("t", 1000.0, display_pixel_pitch_mm=0.5)
    # 1 degree at 1 m spans 17.453 mm = 34.907 pixels of 0.5 mm
    assert cycles_per_degree(0.5, vc) == pytest.approx(0.5 * 1000 * math.pi / 180 / 0.5, rel=1e-12)
    tv = get_viewing_condition("uhd_tv_55in")
    assert tv.needs_image_height
    # scaling to a height: pixel = height_mm / height_px; same picture => same cy/deg per cycle/picture
    c1 = cycles_per_degree(0.25, tv, image_height_px=1000)
    c2 = cycles_per_degree(0.125, tv, image_height_px=2000)
    assert c1 == pytest.approx(c2, rel=1e-12)


def test_registry_lists_presets_and_rejects_unknown_names():
    names = viewing_condition_names()
    assert {"monitor_100pct", "uhd_tv_55in", "print_4x6in", "print_8x10in"} <= set(names)
    with pytest.raises(UnknownNameError, match="monitor_100pct"):
        get_viewing_condition("cinema")
    with pytest.raises(InvalidParameterError, match="image_height_px"):
        acutance(F, np.ones_like(F), "print_4x6in")
    table = acutance_for_conditions(F, gaussian_mtf(F, 1.0))
    assert "print_4x6in" not in table and "monitor_100pct" in table
    table = acutance_for_conditions(F, gaussian_mtf(F, 1.0), image_height_px=3000)
    assert set(table) == set(names)
    assert all(0 < r.acutance < 1 for r in table.values())


def test_viewing_condition_validation():
    with pytest.raises(InvalidParameterError, match="exactly one"):
        ViewingCondition("x", 500.0)
    with pytest.raises(InvalidParameterError, match="exactly one"):
        ViewingCondition("x", 500.0, display_pixel_pitch_mm=0.2, picture_height_mm=100.0)
    with pytest.raises(InvalidParameterError, match="viewing_distance_mm"):
        ViewingCondition("x", -1.0, display_pixel_pitch_mm=0.2)
    with pytest.raises(InvalidParameterError, match="display_pixel_pitch_mm"):
        ViewingCondition("x", 500.0, display_pixel_pitch_mm=float("nan"))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_sfr_is_rejected(bad):
    s = np.ones_like(F)
    s[10] = bad
    with pytest.raises(InvalidParameterError, match="finite"):
        acutance(F, s)


def test_malformed_curves_are_rejected():
    with pytest.raises(InvalidParameterError, match="same length"):
        acutance(F, np.ones(10))
    with pytest.raises(InvalidParameterError, match="increasing"):
        acutance(F[::-1], np.ones_like(F))
    with pytest.raises(InvalidParameterError, match="max_frequency_cpp"):
        acutance(F, np.ones_like(F), max_frequency_cpp=0.0)


def test_warnings_for_short_sharpened_or_late_curves():
    short = np.linspace(0, 0.3, 50)
    r = acutance(short, gaussian_mtf(short, 1.0))
    assert r.upper_frequency_cpp == pytest.approx(0.3) and any("stops at" in w for w in r.warnings)
    sharp = acutance(F, 1.0 + 0.3 * np.sin(np.pi * F / 0.5))
    assert sharp.acutance > 1.0 and any("sharpening" in w for w in sharp.warnings)
    late = np.linspace(0.05, 0.5, 40)
    assert any("starts at" in w for w in acutance(late, np.ones_like(late)).warnings)
    d = r.to_dict()
    assert set(d) >= {"acutance", "viewing", "pixels_per_degree", "warnings"}


def test_metrics_package_imports_numpy_scipy_only():
    """Architecture guard: focuslab.metrics never imports torch, OpenCV or the simulator."""
    root = Path(__file__).resolve().parents[2] / "src" / "focuslab" / "metrics"
    allowed_focuslab = {"focuslab.errors", "focuslab.registry", "focuslab.metrics"}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods = [node.module]
            else:
                continue
            for mod in mods:
                top = mod.split(".")[0]
                assert top not in {"torch", "cv2", "skimage"}, f"{path.name} imports {mod}"
                if top == "focuslab":
                    assert any(mod == a or mod.startswith(a + ".") for a in allowed_focuslab), (
                        f"{path.name} imports {mod}"
                    )


# --- the ``focuslab acutance`` command --------------------------------------------------


def _edge_png(tmp_path, sigma_px=1.0, angle_deg=5.0):
    from focuslab.data.image_files import write_png
    from focuslab.metrics.sfr.synthetic import slanted_edge

    edge = slanted_edge((120, 100), angle_deg=angle_deg, size_px=sigma_px)
    path = tmp_path / "edge.png"
    write_png(path, np.round(edge * 65535).astype(np.uint16))
    return path


def test_cli_measures_an_edge_and_reports_json(tmp_path, capsys):
    import json

    from focuslab.cli.main import main
    from focuslab.metrics.sfr.synthetic import system_mtf

    path = _edge_png(tmp_path)
    argv = ["acutance", str(path), "--encoding", "linear", "--viewing", "monitor_100pct", "--json"]
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["acutance"]) == {"monitor_100pct"}
    assert report["encoding"] == "linear" and report["image_height_px"] is None  # a crop: no picture height
    # truth: the analytic system MTF (Gaussian sigma 1 px x pixel aperture at 5 degrees)
    f = np.linspace(0, 0.5, 501)
    truth = acutance(f, system_mtf(f, psf="gaussian", size_px=1.0, angle_deg=5.0)).acutance
    assert report["acutance"]["monitor_100pct"]["acutance"] == pytest.approx(truth, abs=0.01)
    # with --roi the file is a full picture: its height sizes the print/TV conditions
    assert main(["acutance", str(path), "--encoding", "linear", "--roi", "0,0,100,120", "--json"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert full["image_height_px"] == 120 and "print_4x6in" in full["acutance"]
    assert full["mtf50_lw_ph"] == pytest.approx(2 * 120 * full["mtf50_cpp"])


def test_cli_table_lists_every_condition(tmp_path, capsys):
    from focuslab.cli.main import main

    assert main(["acutance", str(_edge_png(tmp_path)), "--encoding", "linear", "--image-height-px", "3000"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in viewing_condition_names())


def test_cli_accepts_an_sfr_json(tmp_path, capsys):
    import json

    from focuslab.cli.main import main

    f = np.linspace(0, 1, 101)
    path = tmp_path / "sfr.json"
    path.write_text(json.dumps({"frequencies_cpp": f.tolist(), "sfr": gaussian_mtf(f, 0.8).tolist()}))
    assert main(["acutance", "--sfr-json", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    expected = acutance(f, gaussian_mtf(f, 0.8)).acutance
    assert report["acutance"]["monitor_100pct"]["acutance"] == pytest.approx(expected, abs=1e-12)
    assert "print_4x6in" not in report["acutance"]  # needs an image height


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ([], "either IMAGE"),
        (["--viewing", "cinema"], "unknown viewing condition"),
        (["--roi", "1,2,3"], "X,Y,W,H"),
        (["--roi", "0,0,-5,10"], "W, H > 0"),
    ],
)
def test_cli_user_errors_exit_2_with_one_line(tmp_path, capsys, args, match):
    from focuslab.cli.main import main

    image = [] if not args else [str(_edge_png(tmp_path)), "--encoding", "linear"]
    assert main(["acutance", *image, *args]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_bad_files_exit_2(tmp_path, capsys):
    from focuslab.cli.main import main

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["acutance", "--sfr-json", str(bad)]) == 2
    assert "cannot read SFR JSON" in capsys.readouterr().err
    assert main(["acutance", "--sfr-json", str(tmp_path / "missing.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"mtf": [1, 0.5]}')
    assert main(["acutance", "--sfr-json", str(wrong)]) == 2
    assert "frequencies_cpp" in capsys.readouterr().err
    truncated = tmp_path / "trunc.png"
    truncated.write_bytes(_edge_png(tmp_path).read_bytes()[:200])
    assert main(["acutance", str(truncated)]) == 2


def test_cli_on_burns_real_edge(shared_data, capsys):
    import json

    from focuslab.cli.main import main

    path = shared_data / "sfr" / "sfrmat3" / "h_edge.tif"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    assert main(["acutance", str(path), "--viewing", "monitor_100pct", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["mtf50_cpp"] == pytest.approx(0.198, abs=0.01)  # Burns' me.xls: ~0.198 cy/px
    assert 0.3 < report["acutance"]["monitor_100pct"]["acutance"] < 0.8
