"""The shipped weights: they load offline, are small, beat predicting zero defocus on fresh
simulated data (drawn with a seed the training never saw), and dp-defocus ranks the real
Pixel 4 dual-pixel scenes like their ground-truth defocus (Xin et al., ICCV 2021)."""

from __future__ import annotations

import numpy as np
import pytest

from focuslab.models import load_model, model_card, model_names
from focuslab.models.registry import n_parameters, weights_path

FRESH_SEED = 9001  # the training sets use seed 0


@pytest.mark.parametrize("name", ["dp-defocus", "two-frame", "fusion", "temporal"])
def test_shipped_weights_load_are_small_and_have_a_card(name):
    path = weights_path(name)
    assert path.stat().st_size < 2_000_000
    model = load_model(name)
    meta = model.metadata
    assert meta["name"] == name and meta["val_metrics"]["mae_dof"] < meta["val_metrics"]["zero_mae_dof"]
    card = model_card(name)
    assert card.startswith(f"# {name}") and "focuslab train --config" in card and "zero" in card
    if name == "dp-defocus":
        assert n_parameters(model) <= 200_000
    assert set(model_names()) >= {name}


def _fresh(kind: str, n: int, **over) -> dict:
    from focuslab.data.generate import generate_shard

    cfg = {"kind": kind, "num_samples": n, "samples_per_shard": n, "crop_px": 64, "camera": "phone_main_tof",
           "light_lux": [300.0, 1000.0]} | over  # fmt: skip
    return generate_shard(cfg, FRESH_SEED, 0)


def test_dp_defocus_on_fresh_bright_samples_near_focus():
    """Within +-6 DoF of focus in bright light (the jump range of learned-dp), on samples drawn
    with a seed the training never saw: the sign is right for clear defocus (> 2 DoF) and the
    MAE is far below the predict-zero MAE."""
    from focuslab.models.predict import dp_defocus

    model = load_model("dp-defocus")
    s = _fresh("dp", 24, lens_position={"near_fraction": 1.0, "near_dof": 6.0})
    d = np.array([dp_defocus(model, s["left"][i].astype(np.float32), s["right"][i].astype(np.float32))[0]
                  for i in range(24)])  # fmt: skip
    y = s["defocus_dof"]
    clear = np.abs(y) > 2
    assert np.mean(np.sign(d[clear]) == np.sign(y[clear])) >= 0.9, (d, y)
    assert np.mean(np.abs(d - y)) < 0.5 * np.mean(np.abs(y)), (d, y)


@pytest.mark.slow
@pytest.mark.shared_data
@pytest.mark.parametrize("reader", ["general", "cascade"])
def test_dp_defocus_ranks_the_pixel4_scenes_like_the_ground_truth(shared_data, reader):
    from focuslab.models.dp_cascade import FarCascade, dp_reader
    from focuslab.models.dp_real_check import pixel4_rank

    model = load_model("dp-defocus")
    if reader == "cascade":  # what learned-dp reads with on phone_main: the Pixel 4 weights far from focus
        model, _ = dp_reader(model, "phone_main")
        assert isinstance(model, FarCascade)
    rows = pixel4_rank(model, shared_data / "dual_pixel" / "pixel4")
    rhos = {r["scene"]: r["rho"] for r in rows}
    assert len(rhos) == 8
    # measured: median 0.689 (001-008: 0.68 0.78 0.48 0.69 0.69 0.71 0.04 0.82; the first CNN
    # weights 0.765), the cascade 0.710 (0.69 0.79 0.50 0.73 0.69 0.80 0.03 0.84); an untrained or
    # sign-flipped network gives a median near 0 or below; the classical disparity gets 0.83
    assert np.median(list(rhos.values())) > (0.6 if reader == "general" else 0.65), rhos
    assert sum(r > 0.5 for r in rhos.values()) >= 6, rhos
    # every scene lies on the near side of the focus plane (the disparity test's finding)
    assert all(r["median_defocus_dof"] > 0 for r in rows), rows
