"""Names, shapes and counts of a network's inputs and outputs, as the exporters write them.

Export needs plain names for the graph's tensors (ONNX value names, Core ML feature names):
the inputs are named after the parameters of ``model.forward`` (``left``, ``right``, ...), the
outputs ``output`` (one tensor) or ``output0``, ``output1``, ... (a tuple, e.g. the temporal
model's prediction and its recurrent state).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass

from focuslab.errors import InvalidParameterError

#: Feature names Core ML reserves (coremltools renames them), suffixed ``_in`` in both formats.
RESERVED_NAMES = frozenset({"state"})


@dataclass(frozen=True)
class TensorSpec:
    """One graph input or output: ``name``, ``shape`` (``-1`` for a dynamic axis) and ``dtype`` (``"float32"``)."""

    name: str
    shape: tuple[int, ...]
    dtype: str

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}


def as_input_tuple(example_inputs) -> tuple:
    """``example_inputs`` as a non-empty tuple of float32 torch tensors (a lone tensor is wrapped).

    Raises
    ------
    InvalidParameterError
        Not a tensor or a sequence of tensors, or a tensor that is not float32.
    """
    import torch

    items = (example_inputs,) if isinstance(example_inputs, torch.Tensor) else example_inputs
    if not isinstance(items, Sequence) or not items:
        raise InvalidParameterError("example_inputs must be a tensor or a non-empty tuple of tensors")
    out = []
    for i, t in enumerate(items):
        if not isinstance(t, torch.Tensor):
            raise InvalidParameterError(f"example input {i} must be a torch.Tensor, got {type(t).__name__}")
        if t.dtype != torch.float32:
            raise InvalidParameterError(f"example input {i} must be float32, got {t.dtype}")
        if t.ndim < 1 or t.shape[0] < 1:
            raise InvalidParameterError(f"example input {i} needs a leading batch axis, got shape {tuple(t.shape)}")
        out.append(t)
    return tuple(out)


def as_output_tuple(outputs) -> tuple:
    """A forward pass's result as a tuple of tensors (a lone tensor is wrapped).

    Raises
    ------
    InvalidParameterError
        The model returned something else than a tensor or a tuple/list of tensors.
    """
    import torch

    items = (outputs,) if isinstance(outputs, torch.Tensor) else outputs
    if not isinstance(items, tuple | list) or not all(isinstance(t, torch.Tensor) for t in items):
        raise InvalidParameterError(
            f"the model must return a tensor or a tuple of tensors to be exported, got {type(outputs).__name__}"
        )
    return tuple(items)


def input_names(model, count: int) -> list[str]:
    """Names of the first ``count`` parameters of ``model.forward`` (``input0``... when they cannot be read).

    A reserved name (:data:`RESERVED_NAMES`) gets ``_in`` appended.
    """
    try:
        params = [
            p.name
            for p in inspect.signature(model.forward).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    if len(params) < count or len(set(params[:count])) < count:
        return [f"input{i}" for i in range(count)]
    return [f"{p}_in" if p in RESERVED_NAMES else p for p in params[:count]]


def output_names(count: int) -> list[str]:
    """``["output"]`` for one output, else ``["output0", "output1", ...]``."""
    return ["output"] if count == 1 else [f"output{i}" for i in range(count)]


def parameter_count(model) -> int:
    """Number of trainable scalars (``sum(p.numel())`` over parameters that require a gradient)."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


def tensor_specs(names: Sequence[str], tensors: Sequence, *, dynamic_batch: bool) -> list[TensorSpec]:
    """:class:`TensorSpec` of each tensor (first axis ``-1`` when ``dynamic_batch``)."""
    specs = []
    for n, t in zip(names, tensors, strict=True):
        shape = tuple(int(s) for s in t.shape)
        if dynamic_batch:
            shape = (-1, *shape[1:])
        specs.append(TensorSpec(n, shape, str(t.dtype).replace("torch.", "")))
    return specs
