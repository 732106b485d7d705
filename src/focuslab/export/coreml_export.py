"""PyTorch -> Core ML (.mlpackage, ML program) export, and a check of the written spec.

:func:`export_coreml` traces the model (``torch.jit.trace``) and converts the trace with
coremltools (``ct.convert(..., convert_to="mlprogram", minimum_deployment_target=iOS16)``;
iOS 16 and macOS 13 share the ML program spec version 7). Inputs and outputs are float32
multi-arrays named as in :mod:`focuslab.export.signature`, with the example inputs' fixed
shapes (one AF region per call, the phone's use); the arithmetic inside is float16 by default
(``compute_precision``), as the Neural Engine runs it.

Core ML predictions run only on macOS, so on Linux the package is checked by reading its
spec back (:func:`coreml_spec_signature`): the input and output names, shapes and types must
be the ones asked for. coremltools 9 warns that it was tested with an older torch; the
conversion of the small convolutional networks here succeeds regardless; when it does not,
the error says so in one line with coremltools' own first line.

References
----------
Apple, "Core ML Tools: Converting from PyTorch" and "Model Intermediate Language",
https://apple.github.io/coremltools/docs-guides/ (spec version 7 = iOS 16 / macOS 13).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from focuslab.errors import InvalidParameterError, OutputError
from focuslab.export.signature import TensorSpec, as_input_tuple, as_output_tuple, input_names, output_names
from focuslab.files import ensure_dir

#: Core ML specification version of iOS 16 / macOS 13 ML programs.
SPEC_VERSION_IOS16 = 7

_DTYPES = {65568: "float32", 65552: "float16", 131104: "int32", 65600: "float64"}


@dataclass(frozen=True)
class CoreMLExport:
    """What :func:`export_coreml` wrote, as read back from the package's spec.

    Attributes
    ----------
    path
        The ``.mlpackage`` folder.
    spec_version
        Core ML specification version (>= 7: iOS 16 / macOS 13).
    inputs, outputs
        Feature names, shapes and dtypes read from the spec.
    compute_precision
        ``"float16"`` or ``"float32"`` arithmetic inside the program.
    """

    path: Path
    spec_version: int
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    compute_precision: str

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "path": str(self.path), "format": "coreml", "spec_version": self.spec_version,
            "inputs": [s.to_dict() for s in self.inputs], "outputs": [s.to_dict() for s in self.outputs],
            "compute_precision": self.compute_precision,
        }


@contextlib.contextmanager
def _quiet():
    """Silence coremltools' version warnings and progress bars (they go to stderr)."""
    loggers = [logging.getLogger(n) for n in ("coremltools", "root")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, lv in zip(loggers, levels, strict=True):
            lg.setLevel(lv)


def _import_ct():
    with _quiet():
        import coremltools as ct
    _register_missing_torch_ops()
    return ct


def _register_missing_torch_ops() -> None:
    """Teach coremltools ``aten::unsafe_chunk`` (what ``nn.GRUCell`` / ``nn.LSTMCell`` trace to in torch 2.x).

    coremltools 9 converts ``chunk`` only as a constant-folded ``prim::ConstantChunk``; the
    gates of a traced recurrent cell are split with ``unsafe_chunk``, which it lacks ("PyTorch
    convert function for op 'unsafe_chunk' not implemented"). The op is ``split`` into
    ``chunks`` equal parts of ``ceil(size / chunks)`` along ``dim`` (torch.chunk semantics).
    """
    from coremltools.converters.mil import Builder as mb
    from coremltools.converters.mil.frontend.torch.ops import _get_inputs
    from coremltools.converters.mil.frontend.torch.torch_op_registry import _TORCH_OPS_REGISTRY, register_torch_op

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the registry's __contains__ is marked deprecated
        if "unsafe_chunk" in _TORCH_OPS_REGISTRY:
            return

    def unsafe_chunk(context, node):
        x, chunks, dim = _get_inputs(context, node, expected=3)
        n, axis = int(chunks.val), int(dim.val)
        size = int(x.shape[axis])
        part = -(-size // n)
        sizes = [part] * (size // part) + ([size % part] if size % part else [])
        res = mb.split(x=x, split_sizes=sizes, axis=axis, name=node.name)
        context.add(res, torch_name=node.name)

    register_torch_op(unsafe_chunk)


def coreml_spec_signature(path: str | os.PathLike) -> tuple[int, list[TensorSpec], list[TensorSpec]]:
    """``(spec_version, inputs, outputs)`` of a written ``.mlpackage`` (or ``.mlmodel``), read from its spec.

    Raises
    ------
    InputFileError
        ``path`` is not a readable Core ML model.
    """
    from focuslab.errors import InputFileError

    ct = _import_ct()
    try:
        with _quiet():
            spec = ct.utils.load_spec(str(path))
    except Exception as exc:  # coremltools raises bare Exceptions for a bad package
        raise InputFileError(f"cannot read the Core ML model {str(path)!r}: {str(exc).splitlines()[0]}") from None

    def specs(features) -> list[TensorSpec]:
        out = []
        for f in features:
            arr = f.type.multiArrayType
            dtype = _DTYPES.get(arr.dataType, str(arr.dataType))
            out.append(TensorSpec(f.name, tuple(int(s) for s in arr.shape), dtype))
        return out

    return int(spec.specificationVersion), specs(spec.description.input), specs(spec.description.output)


def _atomic_dir_replace(tmp_dir: Path, final: Path) -> None:
    """Move the finished package ``tmp_dir`` onto ``final`` (replacing an older package)."""
    old = None
    if final.exists():
        if not final.is_dir():
            raise OutputError(f"{str(final)!r} exists and is not a .mlpackage folder; choose another --out")
        old = Path(tempfile.mkdtemp(prefix=f".{final.name}.old.", dir=final.parent))
        os.replace(final, old / final.name)
    os.replace(tmp_dir, final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def export_coreml(
    model,
    example_inputs,
    path: str | os.PathLike,
    *,
    compute_precision: str = "float16",
) -> CoreMLExport:
    """Convert ``model`` to a Core ML ML program (.mlpackage) at ``path`` and check its spec.

    Parameters
    ----------
    model
        A ``torch.nn.Module`` (put in eval mode), traceable with ``torch.jit.trace``.
    example_inputs
        A tensor or tuple of float32 tensors; their shapes are the package's fixed input shapes.
    path
        The ``.mlpackage`` folder to write (written beside, then renamed into place).
    compute_precision
        ``"float16"`` (default, Neural Engine) or ``"float32"``.

    Returns
    -------
    CoreMLExport
        The package and the signature read back from its spec.

    Raises
    ------
    InvalidParameterError
        ``path`` does not end in ``.mlpackage``, a bad precision, a model torch cannot trace or
        coremltools cannot convert (its first error line), or a spec whose inputs/outputs differ
        from the model's.
    OutputError
        ``path`` cannot be written.
    """
    import numpy as np
    import torch

    final = Path(path)
    if final.suffix != ".mlpackage":
        raise InvalidParameterError(f"a Core ML package path must end in .mlpackage, got {str(final)!r}")
    if compute_precision not in ("float16", "float32"):
        raise InvalidParameterError(f"compute_precision must be 'float16' or 'float32', got {compute_precision!r}")
    inputs = as_input_tuple(example_inputs)
    model = model.eval()
    with torch.no_grad():
        outputs = as_output_tuple(model(*inputs))
    in_names = input_names(model, len(inputs))
    out_names = output_names(len(outputs))
    ct = _import_ct()
    try:
        with _quiet(), torch.no_grad():
            traced = torch.jit.trace(model, inputs)
            ct_inputs = [ct.TensorType(name=n, shape=tuple(t.shape), dtype=np.float32)
                         for n, t in zip(in_names, inputs, strict=True)]
            mlmodel = ct.convert(
                traced,
                inputs=ct_inputs,
                outputs=[ct.TensorType(name=n, dtype=np.float32) for n in out_names],
                convert_to="mlprogram",
                minimum_deployment_target=ct.target.iOS16,
                compute_precision=ct.precision.FLOAT16 if compute_precision == "float16" else ct.precision.FLOAT32,
            )
    except Exception as exc:  # tracing/conversion raise many types; report coremltools' first line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidParameterError(f"coremltools could not convert the model: {first}") from None
    ensure_dir(final.parent)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{final.stem}.", suffix=".mlpackage", dir=final.parent))
    try:
        shutil.rmtree(tmp_dir)
        with _quiet():
            mlmodel.save(str(tmp_dir))
        version, spec_in, spec_out = coreml_spec_signature(tmp_dir)
        _atomic_dir_replace(tmp_dir, final)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    want_in = [(n, tuple(int(s) for s in t.shape)) for n, t in zip(in_names, inputs, strict=True)]
    got_in = [(s.name, s.shape) for s in spec_in]
    if got_in != want_in or [s.name for s in spec_out] != out_names:
        raise InvalidParameterError(
            f"the Core ML spec of {str(final)!r} has inputs {got_in} and outputs {[s.name for s in spec_out]}, "
            f"expected {want_in} and {out_names}"
        )
    bad = [s.name for s in spec_in + spec_out if s.dtype != "float32"]
    if bad:
        raise InvalidParameterError(f"the Core ML spec of {str(final)!r} has non-float32 features {bad}")
    return CoreMLExport(final, version, spec_in, spec_out, compute_precision)
