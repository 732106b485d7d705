"""Several GPUs through torch DDP under ``torchrun`` (DESIGN.md "Scale"): the smallest code
path that works, nothing home-made.

``torchrun --nproc_per_node=N -m focuslab.cli.main train --config ...`` sets ``WORLD_SIZE``,
``RANK`` and ``LOCAL_RANK``; :func:`setup` then joins the process group (NCCL on CUDA, Gloo
on CPU), pins the rank's GPU and wraps the model in ``DistributedDataParallel``. The data
order comes from :class:`torch.utils.data.DistributedSampler` (each rank takes every N-th
index of the same seeded per-epoch permutation) in the single-process path too, so the two
paths draw batches the same way. Only rank 0 writes files (logs, checkpoints, weights).
Without ``WORLD_SIZE`` (or with 1) nothing here does anything: this is the path the tests run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Dist:
    """Where this process stands: ``world_size`` processes, this one is ``rank``."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes files."""
        return self.rank == 0


def detect() -> Dist:
    """Read ``WORLD_SIZE``/``RANK``/``LOCAL_RANK`` (set by torchrun); single process otherwise."""
    ws = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if ws <= 1:
        return Dist()
    return Dist(ws, int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0")))


def setup(dist: Dist) -> torch.device:
    """Join the process group when ``world_size > 1``; returns this process's device."""
    if torch.cuda.is_available():
        torch.cuda.set_device(dist.local_rank)
        device = torch.device("cuda", dist.local_rank)
    else:
        device = torch.device("cpu")
    if dist.world_size > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        torch.distributed.init_process_group(backend=backend)
    return device


def wrap(model: torch.nn.Module, dist: Dist, device: torch.device) -> torch.nn.Module:
    """``DistributedDataParallel(model)`` when ``world_size > 1``, else ``model``."""
    if dist.world_size <= 1:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=ids)


def epoch_order(n: int, dist: Dist, *, seed: int, epoch: int) -> list[int]:
    """This rank's sample order in ``epoch`` (``DistributedSampler``, shuffled, drop_last)."""
    from torch.utils.data import DistributedSampler

    sampler = DistributedSampler(range(n), num_replicas=dist.world_size, rank=dist.rank, shuffle=True, seed=seed,
                                 drop_last=True)  # fmt: skip
    sampler.set_epoch(epoch)
    return list(sampler)


def teardown(dist: Dist) -> None:
    """Leave the process group (when one was joined)."""
    if dist.world_size > 1 and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
