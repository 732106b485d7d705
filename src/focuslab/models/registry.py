"""The registered networks of learned AF and their shipped weights (DESIGN.md "Learned AF").

``model_names()``, ``build_model(name, seed=..., **overrides)`` (random init, seeded),
``load_model(name, weights=None)`` (eval mode, CPU; default: the shipped
``models/weights/<name>.pt``), ``model_card(name)`` (markdown, ``models/cards/<name>.md``) and
``example_inputs(name, batch)`` (the exact tensors ``forward`` takes).

A weights file is a ``torch.save`` of ``{"state_dict": ..., "metadata": {...}}``; the
metadata holds at least ``name`` and ``overrides`` (the constructor arguments), plus what
training recorded (config, metrics, steps). Preprocessing travels with the weights
(STYLE.md): each model module has one normalization function, used by training and by
:mod:`focuslab.models.predict` alike, and the card states it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from focuslab.errors import InputFileError, InvalidParameterError
from focuslab.registry import Registry

MODELS_DIR = Path(__file__).resolve().parent
WEIGHTS_DIR = MODELS_DIR / "weights"
CARDS_DIR = MODELS_DIR / "cards"


@dataclass(frozen=True)
class ModelSpec:
    """One registered network.

    Attributes
    ----------
    name
        Registry name (``"dp-defocus"``...).
    data_kind
        The training-set kind it learns from (docs/dataset_format.md: ``dp``, ``two-frame``,
        ``fusion``, ``video``).
    factory
        Builds the module from keyword overrides.
    example
        ``(model, batch) -> tuple of tensors`` that ``forward`` takes.
    """

    name: str
    data_kind: str
    factory: Callable[..., nn.Module]
    example: Callable[[nn.Module, int], tuple[torch.Tensor, ...]]


MODELS: Registry[ModelSpec] = Registry("model")


def _add(spec: ModelSpec) -> None:
    MODELS.register(spec.name)(spec)


def _dp_example(model: nn.Module, batch: int) -> tuple[torch.Tensor, ...]:
    n = model.crop_px
    return (torch.zeros(batch, 3, n, n),)


def _two_frame_example(model: nn.Module, batch: int) -> tuple[torch.Tensor, ...]:
    n = model.crop_px
    return torch.zeros(batch, 3, n, n), torch.zeros(batch, 1)


def _fusion_example(model: nn.Module, batch: int) -> tuple[torch.Tensor, ...]:
    from focuslab.models.fusion import N_DEPTH_FEATURES

    n = model.crop_px
    return torch.zeros(batch, 3, n, n), torch.zeros(batch, N_DEPTH_FEATURES)


def _temporal_example(model: nn.Module, batch: int) -> tuple[torch.Tensor, ...]:
    n = model.crop_px
    return torch.zeros(batch, 3, n, n), torch.zeros(batch, 2), torch.zeros(batch, model.hidden)


def _factories() -> None:
    from focuslab.models.dp_defocus import DPDefocusNet
    from focuslab.models.fusion import FusionNet
    from focuslab.models.temporal import TemporalNet
    from focuslab.models.two_frame import TwoFrameNet

    _add(ModelSpec("dp-defocus", "dp", DPDefocusNet, _dp_example))
    _add(ModelSpec("two-frame", "two-frame", TwoFrameNet, _two_frame_example))
    _add(ModelSpec("fusion", "fusion", FusionNet, _fusion_example))
    _add(ModelSpec("temporal", "video", TemporalNet, _temporal_example))


_factories()


def model_names() -> list[str]:
    """Names of the registered networks."""
    return ["dp-defocus", "two-frame", "fusion", "temporal"]


def model_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of ``name``; an unknown name lists the valid ones."""
    return MODELS.get(name)


def _clean_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in overrides.items():
        out[k] = tuple(v) if isinstance(v, list) else v
    return out


def build_model(name: str, *, seed: int = 0, **overrides: Any) -> nn.Module:
    """A new network ``name`` with random weights drawn from ``torch.Generator`` seeded by
    ``seed`` (same seed -> same weights); ``overrides`` go to its constructor (``widths``,
    ``hidden``, ``crop_px``)."""
    spec = model_spec(name)
    state = torch.random.get_rng_state()
    torch.manual_seed(int(seed))
    try:
        model = spec.factory(**_clean_overrides(overrides))
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"bad overrides for model {name!r}: {exc}; see its constructor") from None
    finally:
        torch.random.set_rng_state(state)
    model.model_name = name
    return model


#: Shipped weights specialised for one dual-pixel response family, ``models/weights/<name>-<family>.pt``,
#: beside the general ``<name>.pt`` trained over every family (docs/learned_models.md, "Per-sensor weights").
WEIGHT_FAMILIES: dict[str, tuple[str, ...]] = {"dp-defocus": ("pixel4",)}

#: The keyword that names the general shipped weights where a family's would be chosen.
GENERAL = "general"


def weights_path(name: str, family: str | None = None) -> Path:
    """Path of the shipped weights of ``name``: the general ones, or those of a dual-pixel
    response ``family`` (:data:`WEIGHT_FAMILIES`)."""
    model_spec(name)
    if family is None or family == GENERAL:
        return WEIGHTS_DIR / f"{name}.pt"
    if family not in WEIGHT_FAMILIES.get(name, ()):
        have = ", ".join((GENERAL, *WEIGHT_FAMILIES.get(name, ())))
        raise InvalidParameterError(f"no shipped {name!r} weights for the family {family!r}; choose from {have}")
    return WEIGHTS_DIR / f"{name}-{family}.pt"


def resolve_weights(name: str, weights) -> Path | None:
    """A weights argument as a path: None stays None, a family keyword (``"general"``,
    ``"pixel4"``) names the shipped file, anything else is a path."""
    if weights is None:
        return None
    w = str(weights)
    if w == GENERAL or w in WEIGHT_FAMILIES.get(name, ()):
        return weights_path(name, w)
    return Path(weights)


def read_weights(path: Path) -> dict[str, Any]:
    """``{"state_dict", "metadata"}`` from a weights file; a missing or corrupt file raises
    :class:`InputFileError` with one line."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"weights file {str(path)!r} does not exist; train it with focuslab train or give another")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a corrupt file
        why = type(exc).__name__
        raise InputFileError(f"weights file {str(path)!r} is corrupt or not a torch file ({why}); retrain it") from None
    if not isinstance(blob, dict) or "state_dict" not in blob or "metadata" not in blob:
        raise InputFileError(f"weights file {str(path)!r} lacks state_dict/metadata; give a focuslab weights file")
    return blob


def load_model(name: str, weights: Path | None = None) -> nn.Module:
    """Network ``name`` with trained weights, in eval mode on the CPU.

    Parameters
    ----------
    name
        One of :func:`model_names`.
    weights
        A weights file (``focuslab train`` writes ``best.pt`` / ``final.pt``), or a family
        keyword (:func:`resolve_weights`: ``"general"``, ``"pixel4"``); default: the shipped
        general ``models/weights/<name>.pt``.

    Raises
    ------
    UnknownNameError
        ``name`` is not registered.
    InputFileError
        The file is missing, corrupt, holds another model or does not fit the architecture.
    """
    model_spec(name)
    path = resolve_weights(name, weights) or weights_path(name)
    blob = read_weights(path)
    meta = blob["metadata"]
    if meta.get("name", name) != name:
        raise InputFileError(f"weights file {str(path)!r} holds model {meta.get('name')!r}, not {name!r}")
    model = build_model(name, seed=0, **dict(meta.get("overrides", {})))
    try:
        model.load_state_dict(blob["state_dict"], strict=True)
    except RuntimeError:
        raise InputFileError(f"weights file {str(path)!r} does not fit the {name!r} architecture; retrain it") from None
    model.metadata = dict(meta)
    model.weights_path = Path(path)
    return model.eval()


def save_weights(path: Path, model: nn.Module, metadata: dict[str, Any]) -> Path:
    """Write ``{"state_dict", "metadata"}`` atomically (float32 tensors, CPU)."""
    from focuslab.files import atomic_path

    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp:
        torch.save({"state_dict": state, "metadata": metadata}, tmp)
    return Path(path)


def model_card(name: str) -> str:
    """The model card of ``name`` (markdown)."""
    model_spec(name)
    path = CARDS_DIR / f"{name}.md"
    if not path.is_file():
        raise InputFileError(f"model card {str(path)!r} is missing; reinstall focuslab")
    return path.read_text(encoding="utf-8")


def example_inputs(name: str, batch: int = 1) -> tuple[torch.Tensor, ...]:
    """The tensors the network ``name``'s ``forward`` takes (zeros of the right shapes), for
    export, latency measurement and tests."""
    if int(batch) < 1:
        raise InvalidParameterError(f"batch must be >= 1, got {batch}")
    spec = model_spec(name)
    return spec.example(build_model(name), int(batch))


def n_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
