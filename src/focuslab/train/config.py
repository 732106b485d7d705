"""Training configuration: a frozen dataclass read from YAML (``configs/train/NAME.yaml``),
every field validated with a one-line error that says what to fix.

Keys (all but ``model`` and ``data`` have defaults)::

    model: dp-defocus          # focuslab.models.model_names()
    overrides: {}              # constructor arguments (widths, hidden, crop_px)
    data: data/train_dp        # training set folder, or a list of folders (focuslab data generate)
    val_data: null             # held-out set; default: the last ``val_shards`` shards of ``data``
    val_shards: 1
    seed: 0
    steps: 3000                # optimizer steps
    batch_size: 64             # global batch (split over DDP ranks)
    lr: 0.003                  # peak learning rate (AdamW)
    weight_decay: 0.0001
    schedule: onecycle         # onecycle | cosine (linear warm-up then cosine)
    warmup_fraction: 0.1
    checkpoint_every: 250      # steps between checkpoints
    log_every: 25              # steps between CSV log rows
    val_every: null            # steps between validations; default: one epoch
    threads: 2                 # torch CPU threads
    augment: true              # flips (docs/learned_models.md)
    target_clip_dof: 40.0      # |label| clipped to this (DoF units)
    smooth_weight: 0.05        # temporal: weight of the target's second-difference penalty
    nll_beta: 0.5              # beta of the beta-NLL loss (0 = plain Gaussian NLL)
    amp: true                  # bfloat16 autocast on CUDA (ignored on CPU)
    init_weights: null         # fine-tune: start from this weights file (same model) instead of the seeded init
    init_encoder: null         # transfer: copy the per-frame DP encoder (``encoder.*``) from this weights file
    dp_families: null          # keep only samples of these dual-pixel response families (pixel4, analytic, ideal)
    dp_family_share: null      # e.g. {pixel4: 0.75}: each batch holds that share of those families' samples,
                               # the rest drawn from the other families (batches drawn per step, not per epoch)
    out: runs/NAME             # default output folder (``--out`` overrides)

Relative paths are resolved against the current folder.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from focuslab.errors import InputFileError, InvalidParameterError

SCHEDULES = ("onecycle", "cosine")


@dataclass(frozen=True)
class TrainConfig:
    """One training run (see the module docstring for the meaning of each field)."""

    model: str
    data: str | list
    overrides: dict = field(default_factory=dict)
    val_data: str | None = None
    val_shards: int = 1
    seed: int = 0
    steps: int = 3000
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 1e-4
    schedule: str = "onecycle"
    warmup_fraction: float = 0.1
    checkpoint_every: int = 250
    log_every: int = 25
    val_every: int | None = None
    threads: int = 2
    augment: bool = True
    target_clip_dof: float = 40.0
    smooth_weight: float = 0.05
    nll_beta: float = 0.5
    amp: bool = True
    init_weights: str | None = None
    init_encoder: str | None = None
    dp_families: list | None = None
    dp_family_share: dict | None = None
    out: str | None = None

    def __post_init__(self) -> None:
        from focuslab.models.registry import model_spec

        model_spec(self.model)  # unknown name: UnknownNameError listing the valid ones
        for name in ("steps", "batch_size", "checkpoint_every", "log_every", "threads", "val_shards"):
            v = getattr(self, name)
            low = 0 if name == "val_shards" else 1
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise InvalidParameterError(f"{name} must be an integer >= {low}, got {v!r}")
        if self.val_every is not None and (not isinstance(self.val_every, int) or self.val_every < 1):
            raise InvalidParameterError(f"val_every must be an integer >= 1 or null, got {self.val_every!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise InvalidParameterError(f"seed must be an integer >= 0, got {self.seed!r}")
        for name, lo, hi in (("lr", 0.0, 10.0), ("weight_decay", -1e-12, 10.0), ("warmup_fraction", -1e-12, 0.9)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or not lo < v <= hi:
                raise InvalidParameterError(f"{name} must be a number in ({max(lo, 0.0):g}, {hi:g}], got {v!r}")
        for name in ("target_clip_dof",):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
                raise InvalidParameterError(f"{name} must be a number > 0, got {v!r}")
        if isinstance(self.nll_beta, bool) or not isinstance(self.nll_beta, int | float) or not 0 <= self.nll_beta <= 1:
            raise InvalidParameterError(f"nll_beta must be a number in [0, 1], got {self.nll_beta!r}")
        if not isinstance(self.smooth_weight, int | float) or not self.smooth_weight >= 0:
            raise InvalidParameterError(f"smooth_weight must be a number >= 0, got {self.smooth_weight!r}")
        if self.schedule not in SCHEDULES:
            raise InvalidParameterError(f"schedule must be one of {', '.join(SCHEDULES)}, got {self.schedule!r}")
        if not isinstance(self.overrides, dict):
            raise InvalidParameterError(f"overrides must be a mapping of constructor arguments, got {self.overrides!r}")
        if self.init_weights is not None and not (isinstance(self.init_weights, str) and self.init_weights):
            raise InvalidParameterError(f"init_weights must name a weights file or be null, got {self.init_weights!r}")
        if self.init_encoder is not None and not (isinstance(self.init_encoder, str) and self.init_encoder):
            raise InvalidParameterError(f"init_encoder must name a weights file or be null, got {self.init_encoder!r}")
        if self.dp_families is not None:
            from focuslab.data.generate_config import DP_FAMILIES

            fams = self.dp_families
            if not isinstance(fams, list | tuple) or not fams or not all(f in DP_FAMILIES for f in fams):
                raise InvalidParameterError(
                    f"dp_families must be a non-empty list of {', '.join(DP_FAMILIES)} or null, got {fams!r}")
        if self.dp_family_share is not None:
            from focuslab.data.generate_config import DP_FAMILIES

            share = self.dp_family_share
            ok = (isinstance(share, dict) and share and all(f in DP_FAMILIES for f in share)
                  and all(not isinstance(v, bool) and isinstance(v, int | float) and 0 < v <= 1 for v in share.values())
                  and sum(share.values()) <= 1 + 1e-9)
            if not ok:
                raise InvalidParameterError(
                    f"dp_family_share must map families of {', '.join(DP_FAMILIES)} to shares in (0, 1] summing "
                    f"to at most 1 (e.g. {{pixel4: 0.75}}), or be null; got {share!r}")
        folders = self.data if isinstance(self.data, list | tuple) else [self.data]
        if not folders or not all(isinstance(d, str) and d for d in folders):
            raise InvalidParameterError("data must name a dataset folder (or a list) written by focuslab data generate")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (YAML/JSON-able)."""
        return asdict(self)


def config_from_dict(raw: Any, *, source: str = "config") -> TrainConfig:
    """A :class:`TrainConfig` from a mapping; unknown keys are refused with the valid ones."""
    if not isinstance(raw, dict):
        raise InvalidParameterError(f"{source} must be a YAML mapping of training settings, got {type(raw).__name__}")
    names = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise InvalidParameterError(f"{source}: unknown keys {unknown}; valid keys: {', '.join(sorted(names))}")
    for key in ("model", "data"):
        if key not in raw:
            raise InvalidParameterError(f"{source}: the key {key!r} is required")
    return TrainConfig(**raw)


def load_config(path: str | Path) -> TrainConfig:
    """Read a training config YAML file."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise InputFileError(f"training config {str(p)!r} does not exist; give a YAML file (see configs/train/)")
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputFileError(f"training config {str(p)!r} is not valid YAML ({type(exc).__name__})") from None
    return config_from_dict(raw, source=str(p))
