"""Training-set statistics against a dataset with known labels."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.data.shards import FORMAT, write_shard
from focuslab.data.stats import dataset_stats, stats_report
from focuslab.files import write_json_atomic


def _known_dataset(folder):
    dof = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 2.0, 5.0, 100.0], np.float32)  # 4 of 8 with |dof| <= 1
    lux = np.array([1, 10, 100, 1000, 1, 10, 100, 1000], np.float32)
    variant = np.array([0, 0, 0, 1, 1, 1, 1, 1], np.int16)
    depth = np.full((8, 2, 2), 1.0, np.float32)
    depth[:, 0, 0] = np.nan  # one zone in four has no return
    arrays = {"defocus_dof": dof, "defocus_diopters": dof / 4, "defocus_codes": dof * 20,
              "light_lux": lux, "signal_electrons": lux * 10, "variant": variant, "depth_m": depth}
    entries = [write_shard(folder, i, {k: v[4 * i:4 * i + 4] for k, v in arrays.items()}) for i in range(2)]
    write_json_atomic(folder / "manifest.json", {
        "format": FORMAT, "kind": "fusion", "seed": 1, "num_samples": 8, "samples_per_shard": 4, "crop_px": 8,
        "config": {}, "variants": ["a", "b"], "shards": entries})


def test_stats_match_the_known_labels(tmp_path):
    _known_dataset(tmp_path)
    s = dataset_stats(tmp_path)
    assert s["num_samples"] == 8 and s["num_shards"] == 2
    assert s["in_focus_fraction"] == 0.5
    assert s["defocus_dof"]["mean"] == pytest.approx(np.mean([-3, -1, -0.5, 0, 0.5, 2, 5, 100]))
    assert s["defocus_dof"]["median"] == pytest.approx(0.25)
    assert s["defocus_diopters"]["max"] == pytest.approx(25.0)
    assert s["variants"] == {"a": 3, "b": 5}
    assert s["depth_valid_fraction"] == pytest.approx(0.75)
    h = s["histograms"]["defocus_dof"]
    assert sum(h["counts"]) == 8 and h["counts"][-1] == 1  # 100 DoF lands in the last (clipped) bin
    assert h["counts"][h["edges"].index(-4.0)] == 1  # -3 in [-4, -2)
    hl = s["histograms"]["light_lux"]
    assert sum(hl["counts"]) == 8 and hl["counts"][0] == 2 and hl["counts"][-1] == 2
    assert s["light_lux"]["min"] == 1.0 and s["signal_electrons"]["max"] == 10000.0


def test_stats_report_is_self_contained(tmp_path):
    _known_dataset(tmp_path)
    out = stats_report(dataset_stats(tmp_path), tmp_path / "r.html", command="focuslab data stats x")
    html = out.read_text()
    assert html.count("data:image/png;base64") == 1 and "http" not in html.replace("http-equiv", "")
    assert "<td>b</td><td>5</td>" in html
