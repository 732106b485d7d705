"""Training checkpoints that resume bit-exactly ("nothing lost", DESIGN.md).

A checkpoint holds everything the next step depends on: the model's state (weights and
BatchNorm statistics), the AdamW moments, the scheduler's position, the step counter (which
fixes the epoch and the position in its data order, both pure functions of the seed), the
torch RNG state, the log history and the wall time so far, and the config it was made with.
It is written to a temporary name and renamed into place, so a run killed mid-write keeps
the previous checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from focuslab.errors import InputFileError
from focuslab.files import atomic_path

CHECKPOINT = "checkpoint.pt"


def save_checkpoint(path: Path, state: dict[str, Any]) -> Path:
    """Write ``state`` atomically with :func:`torch.save`."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)
    return Path(path)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (CPU tensors)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises many types for a corrupt file
        why = type(exc).__name__
        raise InputFileError(f"checkpoint {str(path)!r} is corrupt ({why}); delete it to start over") from None
    for key in ("model", "optimizer", "scheduler", "step", "config"):
        if key not in state:
            raise InputFileError(f"checkpoint {str(path)!r} lacks {key!r}; delete it to start over")
    return state
