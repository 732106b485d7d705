"""focuslab.train: the loss falls on a tiny set with an analytic truth, a killed run resumes to
bit-identical weights, every network kind trains, bad configs give one line and exit 2."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from dataset_fixtures import make_dataset

from focuslab.cli.main import main
from focuslab.errors import InputFileError, InvalidParameterError, OutputError, UnknownNameError
from focuslab.models import load_model
from focuslab.train import config_from_dict, train
from focuslab.train.samples import load_samples, make_batch

TINY = {"widths": [8, 12, 16, 16, 16], "hidden": 16}
KIND_OF = {"dp-defocus": "dp", "two-frame": "two-frame", "fusion": "fusion", "temporal": "video"}


@pytest.fixture(scope="module")
def dp_data(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("dp"), "dp", shards=4, per_shard=48, crop=32)


def _cfg(data, **kw):
    base = {"model": "dp-defocus", "data": str(data), "overrides": TINY, "steps": 12, "batch_size": 16, "lr": 3e-3,
            "checkpoint_every": 4, "log_every": 2, "threads": 1}  # fmt: skip
    return config_from_dict(base | kw)


def test_training_loss_falls(dp_data, tmp_path):
    r = train(_cfg(dp_data, steps=40, batch_size=16, lr=5e-3, log_every=5, val_every=40), out=tmp_path / "run")
    losses = [h["train_loss"] for h in r.history if "train_loss" in h]
    assert np.mean(losses[-2:]) < 0.6 * losses[0], losses
    log = (tmp_path / "run" / "log.csv").read_text().splitlines()
    assert log[0].startswith("step,epoch,lr,train_loss") and len(log) == len(r.history) + 1


def test_held_out_error_beats_predicting_zero(dp_data, tmp_path):
    """A tiny net learns the disparity of the fixture (0.6 px per DoF): the held-out MAE ends
    well below the predict-zero MAE (~2.5 DoF) and the NLL below the zero baseline's."""
    r = train(_cfg(dp_data, steps=150, batch_size=16, lr=5e-3, log_every=10, val_every=150), out=tmp_path / "run")
    m = r.val_metrics
    assert m["n"] == 48 and m["zero_mae_dof"] > 2.0
    assert m["mae_dof"] < 0.6 * m["zero_mae_dof"], m
    assert m["nll"] < m["zero_nll"], m


@pytest.mark.parametrize("model", ["dp-defocus", "temporal"])
def test_killed_run_resumes_to_bit_identical_weights(model, tmp_path):
    kind = KIND_OF[model]
    data = make_dataset(tmp_path / "data", kind, shards=3, per_shard=16, crop=32, frames=3)
    cfg = _cfg(data, model=model, steps=10, batch_size=8, checkpoint_every=4)  # 4 steps per epoch: crosses epochs
    straight = train(cfg, out=tmp_path / "straight")
    killed = train(cfg, out=tmp_path / "resumed", stop_at_step=7)  # last checkpoint at step 4
    assert killed.weights_path is None and killed.steps_done == 7
    resumed = train(cfg, out=tmp_path / "resumed", resume=True)
    assert resumed.resumed_from_step == 8 - 4 == 4
    a = torch.load(straight.weights_path, weights_only=True)["state_dict"]
    b = torch.load(resumed.weights_path, weights_only=True)["state_dict"]
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert resumed.val_metrics == straight.val_metrics
    # and the run is a pure function of the seed: another seed gives other weights
    other = train(replace(cfg, seed=1), out=tmp_path / "other")
    c = torch.load(other.weights_path, weights_only=True)["state_dict"]
    assert not all(torch.equal(a[k], c[k]) for k in a)


@pytest.mark.parametrize("model", ["two-frame", "fusion", "temporal"])
def test_every_network_trains_and_its_weights_load(model, tmp_path):
    data = make_dataset(tmp_path / "data", KIND_OF[model], shards=3, per_shard=16, crop=32, frames=3)
    r = train(_cfg(data, model=model, steps=6, batch_size=8), out=tmp_path / "run")
    net = load_model(model, r.weights_path)
    assert not net.training and net.metadata["val_metrics"]["n"] == 16 * (3 if model == "temporal" else 1)
    assert net.metadata["overrides"]["crop_px"] == 32


def test_hflip_swaps_the_views_and_keeps_the_label(dp_data):
    """A horizontal flip mirrors *and swaps* the views (the mirrored right view is what a left
    photodiode would see), Bayer phase kept; the label is unchanged."""
    from focuslab.data.augment import flip_mosaic
    from focuslab.train.samples import _flip_pair

    s = load_samples(dp_data, shards=[0])
    left, right = s.arrays["left"][:4], s.arrays["right"][:4]
    v = np.array([False, False, True, True])
    h = np.array([False, True, False, True])
    a, b = _flip_pair(left, right, v, h)
    np.testing.assert_array_equal(a[0], left[0].astype(np.float32))
    np.testing.assert_array_equal(a[1], flip_mosaic(right[1].astype(np.float32), -1))
    np.testing.assert_array_equal(b[1], flip_mosaic(left[1].astype(np.float32), -1))
    np.testing.assert_array_equal(a[2], flip_mosaic(left[2].astype(np.float32), -2))
    np.testing.assert_array_equal(a[3], flip_mosaic(flip_mosaic(right[3].astype(np.float32), -2), -1))
    _, extra = make_batch(s, np.arange(8), rng=np.random.default_rng(0))
    _, extra0 = make_batch(s, np.arange(8))
    assert torch.equal(extra["target"], extra0["target"])


def test_existing_checkpoint_without_resume_is_refused(dp_data, tmp_path):
    train(_cfg(dp_data, steps=4), out=tmp_path / "run", stop_at_step=4)
    with pytest.raises(OutputError, match="--resume"):
        train(_cfg(dp_data, steps=4), out=tmp_path / "run")
    with pytest.raises(OutputError, match="another config"):
        train(_cfg(dp_data, steps=4, lr=1e-3), out=tmp_path / "run", resume=True)


def test_model_and_dataset_kind_must_match(dp_data, tmp_path):
    with pytest.raises(InvalidParameterError, match="learns from 'two-frame'"):
        train(_cfg(dp_data, model="two-frame"), out=tmp_path / "run")


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"model": "resnet"}, UnknownNameError, "valid names: dp-defocus"),
        ({"lr": -1.0}, InvalidParameterError, "lr must be"),
        ({"lr": "fast"}, InvalidParameterError, "lr must be"),
        ({"steps": 0}, InvalidParameterError, "steps must be"),
        ({"schedule": "step"}, InvalidParameterError, "onecycle, cosine"),
        ({"epochs": 3}, InvalidParameterError, "unknown keys"),
    ],
)
def test_bad_config_values(change, error, match, dp_data):
    with pytest.raises(error, match=match):
        _cfg(dp_data, **change)


def _write_yaml(path: Path, cfg: dict) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.mark.parametrize(
    ("cfg", "match"),
    [
        ({"model": "resnet", "data": "x"}, "unknown model 'resnet'; valid names"),
        ({"model": "dp-defocus", "data": "/no/such/dir"}, "does not exist"),
        ({"model": "dp-defocus", "data": "DATA", "lr": 0}, "lr must be"),
        ({"model": "dp-defocus"}, "'data' is required"),
        ([1, 2], "must be a YAML mapping"),
    ],
)
def test_cli_bad_config_is_one_line_exit_2(cfg, match, dp_data, tmp_path, capsys):
    if isinstance(cfg, dict) and cfg.get("data") == "DATA":
        cfg["data"] = str(dp_data)
    path = _write_yaml(tmp_path / "c.yaml", cfg)
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and "Traceback" not in err


def test_cli_missing_config_file_and_bad_yaml(tmp_path, capsys):
    assert main(["train", "--config", str(tmp_path / "none.yaml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("model: [unclosed\n")
    assert main(["train", "--config", str(tmp_path / "bad.yaml")]) == 2
    err = capsys.readouterr().err
    assert "not valid YAML" in err and err.count("\n") == 1


def test_cli_trains_and_reports_the_baseline(dp_data, tmp_path, capsys):
    cfg = {"model": "dp-defocus", "data": str(dp_data), "overrides": TINY, "steps": 6, "batch_size": 8,
           "threads": 1, "checkpoint_every": 3}  # fmt: skip
    path = _write_yaml(tmp_path / "c.yaml", cfg)
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "predict-zero" in out and "within 1 DoF" in out
    assert load_model("dp-defocus", tmp_path / "o" / "final.pt").metadata["steps"] == 6
    # resuming a finished run evaluates again and rewrites the same weights
    assert main(["train", "--config", str(path), "--out", str(tmp_path / "o"), "--resume", "--no-progress"]) == 0


def test_missing_shard_is_a_clear_error(tmp_path):
    data = make_dataset(tmp_path / "d", "dp", shards=2, per_shard=8, crop=32)
    (data / "shard-00001.npz").unlink()
    with pytest.raises(InputFileError, match="missing"):
        train(_cfg(data, batch_size=4), out=tmp_path / "o")


def test_dp_families_keep_only_those_samples_in_train_and_held_out(tmp_path):
    from focuslab.train.samples import load_samples, split_train_val

    folder = make_dataset(tmp_path / "fam", shards=3, per_shard=12, families=("pixel4", "analytic", "ideal"))
    every = load_samples(folder)
    only = load_samples(folder, dp_families=["pixel4"])
    assert len(every) == 36 and len(only) == 12
    np.testing.assert_array_equal(only.arrays["defocus_dof"], every.arrays["defocus_dof"][::3])
    two = load_samples(folder, dp_families=["pixel4", "ideal"])
    assert len(two) == 24
    tr, va = split_train_val(folder, None, 1, dp_families=["ideal"])
    assert len(tr) == 8 and len(va) == 4
    cfg = _cfg(folder, dp_families=["pixel4"], steps=8, batch_size=4, val_every=8)
    res = train(cfg, out=tmp_path / "run")
    assert res.val_metrics["n"] == 4  # the held-out pixel4 samples of the last shard


def test_dp_family_share_fills_each_batch_with_that_share(tmp_path):
    from focuslab.train.samples import family_share_groups, load_samples, share_batch_indices

    folder = make_dataset(tmp_path / "fam", shards=3, per_shard=12, families=("pixel4", "analytic", "ideal"))
    every = load_samples(folder)
    assert every.families.tolist() == ["pixel4", "analytic", "ideal"] * 12
    groups = family_share_groups(every, {"pixel4": 0.75})
    assert [len(g) for g, _ in groups] == [12, 24] and [f for _, f in groups] == [0.75, 0.25]
    for step in range(5):
        idx = share_batch_indices(groups, 16, np.random.default_rng([0, step]))
        fams = every.families[idx]
        assert len(idx) == 16 and (fams == "pixel4").sum() == 12  # 75 % of 16
        assert len(set(idx.tolist())) == 16  # no sample twice in a batch
        np.testing.assert_array_equal(idx, share_batch_indices(groups, 16, np.random.default_rng([0, step])))
    # shares summing to one: no rest group
    assert len(family_share_groups(every, {"pixel4": 0.5, "analytic": 0.25, "ideal": 0.25})) == 3


def test_dp_family_share_run_resumes_exactly(tmp_path):
    folder = make_dataset(tmp_path / "fam", shards=3, per_shard=12, families=("pixel4", "analytic", "ideal"))
    cfg = _cfg(folder, dp_family_share={"pixel4": 0.75}, steps=8, batch_size=8, val_every=8)
    def weights(run):
        return torch.load(run.weights_path, weights_only=True)["state_dict"]

    full = weights(train(cfg, out=tmp_path / "full"))
    train(cfg, out=tmp_path / "resumed", stop_at_step=7)  # last checkpoint at step 4
    resumed = weights(train(cfg, out=tmp_path / "resumed", resume=True))
    for k, v in full.items():
        assert torch.equal(v, resumed[k]), k
    # the share changes the batches: another share, other weights
    other = weights(train(_cfg(folder, dp_family_share={"pixel4": 0.25}, steps=8, batch_size=8, val_every=8),
                          out=tmp_path / "other"))
    assert any(not torch.equal(v, other[k]) for k, v in full.items())


def test_dp_family_share_errors(tmp_path, dp_data):
    folder = make_dataset(tmp_path / "fam", shards=2, per_shard=6, families=("pixel4", "analytic"))
    for bad in ({"pixel5": 0.5}, {"pixel4": 0.0}, {"pixel4": 0.7, "analytic": 0.5}, {"pixel4": True}, [0.5], {}):
        with pytest.raises(InvalidParameterError, match="dp_family_share must map"):
            _cfg(folder, dp_family_share=bad)
    with pytest.raises(InvalidParameterError, match="no training sample has that family"):
        train(_cfg(folder, dp_family_share={"ideal": 0.5}, batch_size=4), out=tmp_path / "a")
    with pytest.raises(InvalidParameterError, match="holds no other"):
        train(_cfg(folder, dp_family_share={"pixel4": 0.5}, dp_families=["pixel4"], batch_size=4), out=tmp_path / "b")
    with pytest.raises(InputFileError, match="record each sample's dual-pixel variant"):
        train(_cfg(dp_data, dp_family_share={"pixel4": 0.5}, batch_size=4), out=tmp_path / "c")


def test_dp_families_errors(tmp_path, dp_data):
    from focuslab.train.samples import load_samples

    folder = make_dataset(tmp_path / "fam", shards=2, per_shard=6, families=("analytic",))
    with pytest.raises(InvalidParameterError, match="no sample of the dual-pixel families"):
        load_samples(folder, dp_families=["pixel4"])
    with pytest.raises(InputFileError, match="records no dual-pixel variants"):
        load_samples(dp_data, dp_families=["pixel4"])
    with pytest.raises(InvalidParameterError, match="dp_families must be a non-empty list"):
        _cfg(folder, dp_families=["pixel5"])
    with pytest.raises(InvalidParameterError, match="dp_families must be a non-empty list"):
        _cfg(folder, dp_families=[])
