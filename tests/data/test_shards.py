"""Training-set shards: deterministic npz bytes, round trip, validation errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from focuslab.data.shards import (
    FORMAT,
    iter_samples,
    load_shard,
    npz_bytes,
    num_samples,
    read_manifest,
    sha256_file,
    write_shard,
)
from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.files import write_json_atomic


def _arrays(n: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {"defocus_dof": rng.normal(size=n).astype(np.float32),
            "left": rng.random((n, 4, 4)).astype(np.float16),
            "variant": np.arange(n, dtype=np.int16)}


def _dataset(tmp_path, sizes=(3, 2)):
    entries = [write_shard(tmp_path, i, _arrays(n, i)) for i, n in enumerate(sizes)]
    write_json_atomic(tmp_path / "manifest.json", {
        "format": FORMAT, "kind": "dp", "seed": 0, "num_samples": sum(sizes), "samples_per_shard": sizes[0],
        "crop_px": 4, "config": {}, "variants": ["a"], "shards": entries})
    return entries


def test_npz_bytes_are_deterministic_and_load_back(tmp_path):
    a = _arrays(5, 1)
    b1, b2 = npz_bytes(a), npz_bytes({k: v.copy() for k, v in a.items()})
    assert b1 == b2
    p = tmp_path / "x.npz"
    p.write_bytes(b1)
    with np.load(p) as z:
        for k, v in a.items():
            assert z[k].dtype == v.dtype and np.array_equal(z[k], v)
    assert npz_bytes(_arrays(5, 2)) != b1


def test_round_trip_and_iteration(tmp_path):
    entries = _dataset(tmp_path)
    assert entries[0]["sha256"] == sha256_file(tmp_path / "shard-00000.npz")
    assert num_samples(tmp_path) == 5
    s1 = load_shard(tmp_path, 1, verify=True)
    assert np.array_equal(s1["left"], _arrays(2, 1)["left"])
    samples = list(iter_samples(tmp_path, keys=["defocus_dof", "variant"]))
    assert len(samples) == 5
    assert [int(s["variant"]) for s in samples] == [0, 1, 2, 0, 1]
    assert samples[3]["defocus_dof"] == _arrays(2, 1)["defocus_dof"][0]


def test_validation_errors(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        read_manifest(tmp_path / "none")
    with pytest.raises(InputFileError, match=r"has no manifest\.json"):
        read_manifest(tmp_path)
    _dataset(tmp_path)
    man = json.loads((tmp_path / "manifest.json").read_text())
    with pytest.raises(InvalidParameterError, match="shard index"):
        load_shard(tmp_path, 2)
    # corrupt shard: truncated file
    data = (tmp_path / "shard-00001.npz").read_bytes()
    (tmp_path / "shard-00001.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputFileError, match="corrupt"):
        load_shard(tmp_path, 1)
    with pytest.raises(InputFileError, match="SHA-256"):
        load_shard(tmp_path, 1, verify=True)
    (tmp_path / "shard-00001.npz").unlink()
    with pytest.raises(InputFileError, match="missing"):
        load_shard(tmp_path, 1)
    man["format"] = "other/1"
    (tmp_path / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(InputFileError, match=r"expected 'focuslab\.af_dataset/1'"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(InputFileError, match="cannot read"):
        read_manifest(tmp_path)


def test_write_shard_refuses_ragged_arrays(tmp_path):
    with pytest.raises(InvalidParameterError, match="first"):
        write_shard(tmp_path, 0, {"a": np.zeros(3), "b": np.zeros(2)})
