"""A network compiled for CPU inference with PyTorch's own compiler (``torch.compile``, inductor).

In eager PyTorch a small AF network spends most of its time between operators: ``dp-defocus``
on one 128-px region (4 crops) is ~100 operator calls, six of them oneDNN convolutions with
their own reorders, 1.6 ms on one core against 0.67 ms in onnxruntime
(benchmarks/bench_models.py). :func:`compile_for_cpu` removes that overhead inside PyTorch:

* inductor's **freezing** treats the weights as constants, folds each BatchNorm into its
  convolution and pre-packs the convolution weights for oneDNN;
* the **C++ wrapper** calls the generated kernels from C++ instead of Python;
* the element-wise work (the correlation volume's products and means, ReLUs, poolings) is
  fused into generated C++ loops.

The two flags are inductor settings read while compiling, so the model is compiled at once,
on the example inputs, under :func:`torch._inductor.config.patch`; a later call with another
input shape is recompiled without them (correct, slower): compile for the shape you run.
Compiling takes ~10 s on one core and needs a C++ compiler (gcc or clang) on the machine;
without one :func:`compile_for_cpu` says so in one line. The compiled network's outputs agree
with eager PyTorch to float32 round-off (checked here, :data:`MAX_COMPILED_DIFF`).
"""

from __future__ import annotations

from focuslab.errors import FocuslabError, InvalidParameterError
from focuslab.export.signature import as_input_tuple

#: Largest |compiled - eager| accepted on the example inputs (folding BatchNorm changes round-off only).
MAX_COMPILED_DIFF = 1e-4


class CompileError(FocuslabError):
    """``torch.compile`` could not build the network (no C++ compiler, an unsupported operator)."""


def compile_for_cpu(model, inputs):
    """``(compiled, max_abs_diff)``: ``model`` compiled for CPU inference on ``inputs``' shapes (module notes).

    Parameters
    ----------
    model
        A ``torch.nn.Module`` (eval mode is set; the weights are frozen into the compiled graph:
        later changes to them are not seen).
    inputs
        A tensor or tuple of float32 tensors, the shapes to compile for.

    Raises
    ------
    CompileError
        Compilation failed (the message says why and what to use instead).
    InvalidParameterError
        The compiled outputs differ from eager PyTorch by more than :data:`MAX_COMPILED_DIFF`.
    """
    import torch
    import torch._inductor.config as inductor_config

    ins = as_input_tuple(inputs)
    model = model.eval()
    compiled = torch.compile(model, dynamic=False)
    try:
        with torch.no_grad(), inductor_config.patch(freezing=True, cpp_wrapper=True):
            out = compiled(*ins)
    except Exception as exc:  # torch raises many kinds; all mean "cannot compile here"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CompileError(
            f"torch.compile could not build the network ({first[:200]}); it needs a C++ compiler "
            "(gcc or clang) on the machine: install one, or run eager PyTorch or onnxruntime") from None
    with torch.no_grad():
        ref = model(*ins)
    outs = out if isinstance(out, tuple | list) else (out,)
    refs = ref if isinstance(ref, tuple | list) else (ref,)
    diff = max(float((a.float() - b.float()).abs().max()) for a, b in zip(outs, refs, strict=True))
    if not diff <= MAX_COMPILED_DIFF:
        raise InvalidParameterError(
            f"the compiled network differs from eager PyTorch by {diff:.2e} (> {MAX_COMPILED_DIFF:.0e}); "
            "use eager PyTorch or onnxruntime")
    return compiled, diff
