"""focuslab.train ``init_weights``: fine-tuning starts from a weights file (not the seeded init),
and a missing file or another model's weights give one line and exit 2."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from dataset_fixtures import make_dataset

from focuslab.cli.main import main
from focuslab.errors import InvalidParameterError
from focuslab.models.registry import read_weights
from focuslab.train import config_from_dict, train

TINY = {"widths": [8, 12, 16, 16, 16], "hidden": 16}


@pytest.fixture(scope="module")
def dp_data(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("dp"), "dp", shards=4, per_shard=48, crop=32)


def _cfg(data, **kw):
    base = {"model": "dp-defocus", "data": str(data), "overrides": TINY, "steps": 150, "batch_size": 16, "lr": 5e-3,
            "checkpoint_every": 150, "log_every": 50, "val_every": 150, "threads": 1}  # fmt: skip
    return config_from_dict(base | kw)


def test_fine_tuning_starts_from_the_given_weights(dp_data, tmp_path):
    """A trained tiny net (held-out MAE well below predict-zero, ~2.5 DoF) fine-tuned for one
    step at lr 1e-9 keeps its trainable weights to 1e-6 and its held-out MAE to 0.01 DoF (one
    training step moves only the BatchNorm running statistics); the same run from the seeded init
    does not come near it (an untrained net is no better than predicting zero)."""
    base = train(_cfg(dp_data), out=tmp_path / "base")
    assert base.val_metrics["mae_dof"] < 0.6 * base.val_metrics["zero_mae_dof"], base.val_metrics
    tiny_step = {"steps": 1, "lr": 1e-9, "checkpoint_every": 1, "val_every": 1, "log_every": 1}
    tuned = train(_cfg(dp_data, init_weights=str(base.weights_path), **tiny_step), out=tmp_path / "ft")
    fresh = train(_cfg(dp_data, **tiny_step), out=tmp_path / "fresh")
    assert tuned.val_metrics["mae_dof"] == pytest.approx(base.val_metrics["mae_dof"], abs=0.01)
    w0, w1 = (read_weights(r.weights_path)["state_dict"] for r in (base, tuned))
    for k, v in w0.items():
        if "running" not in k and "num_batches" not in k:
            assert torch.allclose(v, w1[k], atol=1e-6), k
    assert fresh.val_metrics["mae_dof"] > 1.3 * base.val_metrics["mae_dof"], (fresh.val_metrics, base.val_metrics)


def test_init_weights_must_be_a_path_or_null(dp_data):
    with pytest.raises(InvalidParameterError, match="init_weights must name a weights file"):
        _cfg(dp_data, init_weights=3)


@pytest.mark.parametrize(
    ("init", "match"),
    [
        ("MISSING", "does not exist"),
        ("OTHER_MODEL", "holds model 'temporal', not 'dp-defocus'"),
        ("OTHER_WIDTHS", "does not fit the 'dp-defocus' architecture"),
    ],
)
def test_cli_bad_init_weights_is_one_line_exit_2(init, match, dp_data, tmp_path, capsys):
    from focuslab.models.registry import build_model, save_weights

    paths = {"MISSING": tmp_path / "none.pt", "OTHER_MODEL": tmp_path / "t.pt", "OTHER_WIDTHS": tmp_path / "w.pt"}
    save_weights(paths["OTHER_MODEL"], build_model("dp-defocus", seed=0, **TINY), {"name": "temporal"})
    save_weights(paths["OTHER_WIDTHS"], build_model("dp-defocus", seed=0), {"name": "dp-defocus"})
    cfg = {"model": "dp-defocus", "data": str(dp_data), "overrides": TINY, "steps": 2, "batch_size": 8, "threads": 1,
           "init_weights": str(paths[init])}  # fmt: skip
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and "Traceback" not in err
