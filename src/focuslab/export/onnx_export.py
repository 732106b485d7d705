"""PyTorch -> ONNX export with a dynamic batch axis, verified against PyTorch with onnxruntime.

:func:`export_onnx` traces the model (``torch.onnx.export``, TorchScript-based exporter by
default, opset 17; ``dynamo=True`` uses the ``torch.export`` exporter, which needs onnxscript),
writes the file atomically and then runs it in onnxruntime on three input sets: the example
inputs, a "real-looking" batch (the example inputs, their left-right mirror and a 2 % noisy
copy, so that the dynamic batch axis is exercised on image-like data) and seeded standard
normal inputs at batch 3. The largest absolute difference from PyTorch over every output is
the export's error; :data:`MAX_ABS_DIFF` is the bound it must meet (float32 graphs agree to
~1e-6; a larger gap means an operator was translated wrongly).

References
----------
ONNX operator sets: https://onnx.ai/onnx/operators/ ; onnxruntime InferenceSession API.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.export.signature import (
    TensorSpec,
    as_input_tuple,
    as_output_tuple,
    input_names,
    output_names,
    parameter_count,
    tensor_specs,
)
from focuslab.files import atomic_path

#: Bound on the ONNX-vs-PyTorch max abs difference an export must meet.
MAX_ABS_DIFF = 1e-4
#: Lowest opset accepted (LayerNorm, GroupNorm and GRU are native from 17/18 on).
MIN_OPSET = 17


@dataclass(frozen=True)
class OnnxExport:
    """What :func:`export_onnx` wrote and how well the file reproduces PyTorch.

    Attributes
    ----------
    path
        The ``.onnx`` file.
    opset
        ONNX opset version of the graph.
    inputs, outputs
        Graph inputs and outputs (first axis dynamic: ``-1``).
    max_abs_diff
        Largest ``|onnxruntime - PyTorch|`` over every output and input set (NaN: not verified).
    diffs
        The same per input set: ``{"example": ..., "real_looking": ..., "random": ...}``.
    parameters
        Trainable parameters of the model.
    file_bytes
        Size of the file.
    """

    path: Path
    opset: int
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    max_abs_diff: float
    diffs: dict = field(default_factory=dict)
    parameters: int = 0
    file_bytes: int = 0

    @property
    def verified(self) -> bool:
        """Whether onnxruntime reproduced PyTorch within :data:`MAX_ABS_DIFF`."""
        return bool(np.isfinite(self.max_abs_diff) and self.max_abs_diff < MAX_ABS_DIFF)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "path": str(self.path), "format": "onnx", "opset": self.opset,
            "inputs": [s.to_dict() for s in self.inputs], "outputs": [s.to_dict() for s in self.outputs],
            "max_abs_diff": self.max_abs_diff, "diffs": dict(self.diffs), "verified": self.verified,
            "parameters": self.parameters, "file_bytes": self.file_bytes,
        }


def verification_inputs(example_inputs, *, seed: int = 0) -> dict[str, tuple]:
    """The input sets an export is checked on (see the module notes), by name.

    ``random`` is drawn from ``torch.Generator().manual_seed(seed)``: same seed, same inputs.
    """
    import torch

    ex = as_input_tuple(example_inputs)
    gen = torch.Generator().manual_seed(int(seed))
    real = []
    for t in ex:
        mirrored = torch.flip(t, dims=(-1,)) if t.ndim >= 3 else t
        noisy = t * (1.0 + 0.02 * torch.randn(t.shape, generator=gen))
        real.append(torch.cat([t, mirrored, noisy], dim=0).contiguous())
    rand = tuple(torch.randn((3, *tuple(t.shape[1:])), generator=gen) for t in ex)
    return {"example": ex, "real_looking": tuple(real), "random": rand}


def onnx_max_abs_diff(model, path: str | os.PathLike, inputs: tuple, *, threads: int = 1) -> float:
    """Largest ``|onnxruntime(path)(inputs) - model(inputs)|`` over every output.

    Raises
    ------
    InvalidParameterError
        The file's inputs or outputs do not match the model's in number or shape.
    """
    import onnxruntime as ort
    import torch

    sess = onnx_session(path, threads=threads)
    feeds = {i.name: t.detach().cpu().numpy() for i, t in zip(sess.get_inputs(), inputs, strict=False)}
    if len(feeds) != len(inputs):
        raise InvalidParameterError(f"{str(path)!r} takes {len(sess.get_inputs())} inputs, the model {len(inputs)}")
    with torch.no_grad():
        ref = [o.detach().cpu().numpy() for o in as_output_tuple(model(*inputs))]
    try:
        got = sess.run(None, feeds)
    except ort.capi.onnxruntime_pybind11_state.Fail as exc:  # pragma: no cover - depends on the graph
        raise InvalidParameterError(f"onnxruntime could not run {str(path)!r}: {exc}") from None
    if len(got) != len(ref):
        raise InvalidParameterError(f"{str(path)!r} gives {len(got)} outputs, the model {len(ref)}")
    worst = 0.0
    for g, r in zip(got, ref, strict=True):
        if g.shape != r.shape:
            raise InvalidParameterError(f"{str(path)!r} output shape {g.shape} differs from the model's {r.shape}")
        worst = max(worst, float(np.max(np.abs(g.astype(np.float64) - r.astype(np.float64)), initial=0.0)))
    return worst


def onnx_session(path: str | os.PathLike, *, threads: int = 1):
    """An onnxruntime CPU ``InferenceSession`` on ``threads`` intra-op threads (1 inter-op thread)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = int(threads)
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def export_onnx(
    model,
    example_inputs,
    path: str | os.PathLike,
    *,
    opset: int = MIN_OPSET,
    dynamo: bool = False,
    verify: bool = True,
    seed: int = 0,
) -> OnnxExport:
    """Export ``model`` to ONNX at ``path`` and verify it with onnxruntime.

    Parameters
    ----------
    model
        A ``torch.nn.Module`` (put in eval mode; its forward takes the example inputs
        positionally and returns a tensor or a tuple of tensors).
    example_inputs
        A tensor or tuple of float32 tensors with a leading batch axis (the axis exported as
        dynamic, named ``batch``).
    path
        The ``.onnx`` file to write (atomically; parent folders are created).
    opset
        ONNX opset (>= :data:`MIN_OPSET`).
    dynamo
        Use the ``torch.export``-based exporter instead of the TorchScript one.
    verify
        Run the file in onnxruntime and measure the difference (see the module notes).
    seed
        Seed of the random verification inputs.

    Returns
    -------
    OnnxExport
        The file, its signature and the verification's max abs difference.

    Raises
    ------
    InvalidParameterError
        A bad opset or example input, a model the exporter cannot translate (the message
        gives the exporter's first line), or a verification above :data:`MAX_ABS_DIFF`.
    OutputError
        ``path`` cannot be written.
    """
    import torch

    if isinstance(opset, bool) or not isinstance(opset, int) or opset < MIN_OPSET:
        raise InvalidParameterError(f"opset must be an integer >= {MIN_OPSET}, got {opset!r}")
    inputs = as_input_tuple(example_inputs)
    model = model.eval()
    with torch.no_grad():
        outputs = as_output_tuple(model(*inputs))
    in_names = input_names(model, len(inputs))
    out_names = output_names(len(outputs))
    final = Path(path)
    with atomic_path(final) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            if dynamo:
                batch = torch.export.Dim("batch", min=1, max=4096)
                torch.onnx.export(
                    model, inputs, str(tmp), opset_version=opset, input_names=in_names, output_names=out_names,
                    dynamic_shapes=tuple({0: batch} for _ in inputs), dynamo=True, verbose=False,
                )
            else:
                axes = {n: {0: "batch"} for n in in_names + out_names}
                torch.onnx.export(
                    model, inputs, str(tmp), opset_version=opset, input_names=in_names, output_names=out_names,
                    dynamic_axes=axes, dynamo=False,
                )
        except Exception as exc:  # the exporters raise many types; report the first line
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InvalidParameterError(f"torch.onnx.export could not translate the model: {first}") from None
    diffs: dict[str, float] = {}
    if verify:
        for key, ins in verification_inputs(inputs, seed=seed).items():
            diffs[key] = onnx_max_abs_diff(model, final, ins)
    worst = max(diffs.values()) if diffs else float("nan")
    result = OnnxExport(
        path=final, opset=opset, inputs=tensor_specs(in_names, inputs, dynamic_batch=True),
        outputs=tensor_specs(out_names, outputs, dynamic_batch=True), max_abs_diff=worst, diffs=diffs,
        parameters=parameter_count(model), file_bytes=final.stat().st_size,
    )
    if verify and not result.verified:
        raise InvalidParameterError(
            f"the ONNX file {str(final)!r} differs from PyTorch by {worst:.3g} (> {MAX_ABS_DIFF:g}); "
            "report the model and torch/onnxruntime versions"
        )
    return result
