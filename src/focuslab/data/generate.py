"""Generate a sharded training set (docs/dataset_format.md, docs/datasets.md).

:func:`generate_dataset` turns a config (:func:`focuslab.data.generate_config.load_config`)
into ``DIR/shard-NNNNN.npz`` + ``manifest.json``. Shard *i* is the pure function
:func:`generate_shard` of ``(config, seed, i)``: sample *j* of it draws everything from
``numpy.random.default_rng([seed, i, j])`` (and the simulator seeds it derives), with torch
on one thread, so the bytes do not depend on the engine, the number of workers, or the
order in which shards finish. The shards run through :func:`focuslab.engine.map_tasks`
(local process pool or Ray); each task returns the shard's ``.npz`` bytes and this process
writes them atomically and records them in ``progress.json``, so a killed run resumes with
the shards it lacks and ends with the same bytes as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from focuslab.data.generate_config import normalize_config
from focuslab.data.generate_samples import SAMPLERS
from focuslab.data.shards import (
    FORMAT,
    MANIFEST,
    npz_bytes,
    progress_fingerprint,
    read_progress,
    sha256_bytes,
    shard_is_intact,
    shard_name,
    write_progress,
)
from focuslab.engine import check_engine, map_tasks
from focuslab.errors import InvalidParameterError, OutputError
from focuslab.files import ensure_dir, write_bytes_atomic, write_json_atomic

#: Stored dtype of every key (images float16, labels float32, codes int32, variant int16).
DTYPES = {
    "defocus_dof": np.float32, "defocus_diopters": np.float32, "defocus_codes": np.float32,
    "lens_code": np.int32, "codes_per_dof": np.float32, "light_lux": np.float32,
    "signal_electrons": np.float32, "variant": np.int16, "left": np.float16, "right": np.float16,
    "image": np.float16, "depth_m": np.float32, "depth_sigma_m": np.float32, "true_code": np.float32,
}


def shard_sizes(cfg: dict) -> list[int]:
    """Samples per shard: ``samples_per_shard`` each, the last one the remainder."""
    n, per = int(cfg["num_samples"]), int(cfg["samples_per_shard"])
    sizes = [per] * (n // per)
    if n % per:
        sizes.append(n % per)
    return sizes


def fingerprint(cfg: dict, seed: int) -> str:
    """SHA-256 of the config and seed: what a resumed run must match."""
    text = json.dumps({"config": cfg, "seed": int(seed), "format": FORMAT}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@contextlib.contextmanager
def _one_torch_thread():
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def generate_shard(cfg: dict, seed: int, index: int) -> dict[str, np.ndarray]:
    """The arrays of shard ``index`` (a pure function of the config, the seed and the index)."""
    cfg = normalize_config(cfg)
    sizes = shard_sizes(cfg)
    if not 0 <= index < len(sizes):
        raise InvalidParameterError(f"shard index must be in 0..{len(sizes) - 1}, got {index}")
    sample = SAMPLERS[cfg["kind"]]
    with _one_torch_thread():
        samples = [sample(cfg, np.random.default_rng([int(seed), int(index), j])) for j in range(sizes[index])]
    return {k: np.stack([np.asarray(s[k]) for s in samples]).astype(DTYPES[k]) for k in samples[0]}


def _shard_task(args) -> tuple[int, bytes]:
    cfg, seed, index = args
    return index, npz_bytes(generate_shard(cfg, seed, index))


def check_seed(seed) -> int:
    """A non-negative integer seed."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise InvalidParameterError(f"seed must be a non-negative integer, got {seed!r}")
    return int(seed)


def generate_dataset(
    cfg: dict,
    out_dir: str | Path,
    *,
    seed: int = 0,
    workers: int = 1,
    engine: str = "local",
    address: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    after_shard: Callable[[int], None] | None = None,
) -> dict:
    """Generate (or resume) the dataset of ``cfg`` into ``out_dir``; returns the manifest.

    Parameters
    ----------
    cfg
        Data config (normalized here).
    out_dir
        Output folder; a folder holding another config's or seed's shards is refused.
    seed
        Dataset seed; same seed, same bytes.
    workers, engine, address
        See :func:`focuslab.engine.map_tasks`.
    progress
        ``progress(done, total)`` in shards, after each shard is written (and once at start).
    after_shard
        ``after_shard(index)`` after shard ``index`` is written and recorded (tests use it to
        interrupt a run).

    Raises
    ------
    InvalidParameterError
        Bad config, seed, engine or workers.
    OutputError
        ``out_dir`` holds a dataset of another config or seed.
    """
    cfg = normalize_config(cfg)
    seed = check_seed(seed)
    check_engine(engine, workers, address)
    out = ensure_dir(out_dir)
    fp = fingerprint(cfg, seed)
    old = progress_fingerprint(out)
    if old is not None and old != fp:
        raise OutputError(f"{str(out)!r} holds a dataset of another config or seed; choose another --out")
    if old is None and (out / MANIFEST).is_file():
        raise OutputError(f"{str(out)!r} holds a dataset without progress.json; choose another --out")
    sizes = shard_sizes(cfg)
    done = {i: e for i, e in read_progress(out).items() if i < len(sizes) and shard_is_intact(out, e)}
    todo = [i for i in range(len(sizes)) if i not in done]
    if progress:
        progress(len(done), len(sizes))

    def record(n_done: int, total: int, _task: int, result: tuple[int, bytes]) -> None:
        index, data = result
        write_bytes_atomic(out / shard_name(index), data)
        done[index] = {"file": shard_name(index), "num_samples": sizes[index], "sha256": sha256_bytes(data)}
        write_progress(out, fp, done)
        if progress:
            progress(len(done), len(sizes))
        if after_shard:
            after_shard(index)

    write_progress(out, fp, done)
    map_tasks(_shard_task, [(cfg, seed, i) for i in todo], engine=engine, workers=workers, address=address,
              progress=record)
    manifest = {
        "format": FORMAT, "kind": cfg["kind"], "seed": seed, "num_samples": int(sum(sizes)),
        "samples_per_shard": int(cfg["samples_per_shard"]), "crop_px": int(cfg["crop_px"]), "config": cfg,
        "variants": list(cfg["variants"]), "fingerprint": fp,
        "shards": [done[i] for i in range(len(sizes))],
    }
    write_json_atomic(out / MANIFEST, manifest)
    return manifest
