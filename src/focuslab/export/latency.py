"""Latency of a network on the CPU, PyTorch (eager or compiled) and onnxruntime, per call (one AF region per call).

:func:`measure_latency` pins the runtime to ``threads`` intra-op threads (1 = one CPU core,
the figure of DESIGN.md "Learned AF"), runs ``warmup`` untimed calls (allocations, kernel
selection, caches), then times ``repeats`` calls with ``time.perf_counter`` and reports the
median and the 90th percentile (linear interpolation, ``numpy.percentile``) in milliseconds.
The median is robust to the scheduler's preemptions on a shared machine; the p90 shows them.
``runtime="torch"`` times the network as focuslab runs it in eager PyTorch: its inference form
where it has one (:func:`focuslab.models.dp_inference.inference_form`: ``dp-defocus`` with
BatchNorm folded and the correlation volume as one matrix product, the same numbers; the
other networks' per-frame encoder likewise; as onnxruntime's figure includes its own graph
optimizations), else the module itself;
``"torch-unfused"`` times the module as given (the training form).
``runtime="torch-compiled"`` times the network compiled by
:func:`focuslab.export.compiled.compile_for_cpu` (the compilation, ~10 s, is not timed).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import numpy as np

from focuslab.errors import InvalidParameterError
from focuslab.export.signature import as_input_tuple, parameter_count

#: Runtimes :func:`measure_latency` knows.
RUNTIMES = ("torch", "torch-unfused", "torch-compiled", "onnxruntime")


@dataclass(frozen=True)
class Latency:
    """Timing of one runtime: ``median_ms``, ``p90_ms`` per call over ``repeats`` calls, on ``threads``."""

    runtime: str
    median_ms: float
    p90_ms: float
    repeats: int
    threads: int
    parameters: int

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"runtime": self.runtime, "median_ms": self.median_ms, "p90_ms": self.p90_ms,
                "repeats": self.repeats, "threads": self.threads, "parameters": self.parameters}


def timing_stats_ms(times_s) -> tuple[float, float]:
    """``(median, p90)`` of call times given in seconds, in milliseconds."""
    t = np.asarray(times_s, dtype=np.float64) * 1e3
    if t.size == 0 or not np.all(np.isfinite(t)):
        raise InvalidParameterError("need at least one finite timing")
    return float(np.median(t)), float(np.percentile(t, 90))


def time_calls(fn, *, repeats: int, warmup: int) -> list[float]:
    """Seconds taken by each of ``repeats`` calls of ``fn()`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def measure_latency(
    model,
    inputs,
    threads: int = 1,
    *,
    runtime: str = "torch",
    onnx_path: str | os.PathLike | None = None,
    repeats: int = 200,
    warmup: int = 20,
) -> Latency:
    """Median and p90 latency of one forward call on ``inputs`` (see the module notes).

    Parameters
    ----------
    model
        The ``torch.nn.Module`` (eval mode is set); for ``runtime="onnxruntime"`` only its
        parameter count is used.
    inputs
        A tensor or tuple of float32 tensors: one AF region's worth (e.g. its tiles as the batch).
    threads
        Intra-op threads (>= 1). PyTorch's global thread count is restored afterwards.
    runtime
        ``"torch"`` (eager, the inference form), ``"torch-unfused"`` (eager, the module as
        given), ``"torch-compiled"`` or ``"onnxruntime"``.
    onnx_path
        The exported model (required for onnxruntime; see :func:`~focuslab.export.onnx_export.export_onnx`).
    repeats, warmup
        Timed and untimed calls.

    Raises
    ------
    InvalidParameterError
        Unknown runtime, bad counts, or onnxruntime without ``onnx_path``.
    CompileError
        ``torch-compiled`` on a machine where ``torch.compile`` cannot build (no C++ compiler).
    """
    import torch

    if runtime not in RUNTIMES:
        raise InvalidParameterError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    for key, v, lo in (("threads", threads, 1), ("repeats", repeats, 1), ("warmup", warmup, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < lo:
            raise InvalidParameterError(f"{key} must be an integer >= {lo}, got {v!r}")
    ins = as_input_tuple(inputs)
    params = parameter_count(model)
    if runtime in ("torch", "torch-unfused", "torch-compiled"):
        model = model.eval()
        if runtime == "torch":
            from focuslab.models.dp_inference import inference_form

            model = inference_form(model)
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            if runtime == "torch-compiled":
                from focuslab.export.compiled import compile_for_cpu

                model, _ = compile_for_cpu(model, ins)
            with torch.no_grad() if runtime == "torch-compiled" else torch.inference_mode():
                times = time_calls(lambda: model(*ins), repeats=repeats, warmup=warmup)
        finally:
            torch.set_num_threads(before)
    else:
        if onnx_path is None:
            raise InvalidParameterError("onnxruntime latency needs onnx_path (export the model with export_onnx first)")
        from focuslab.export.onnx_export import onnx_session

        sess = onnx_session(onnx_path, threads=threads)
        feeds = {i.name: t.detach().cpu().numpy() for i, t in zip(sess.get_inputs(), ins, strict=True)}
        times = time_calls(lambda: sess.run(None, feeds), repeats=repeats, warmup=warmup)
    med, p90 = timing_stats_ms(times)
    return Latency(runtime, med, p90, repeats, threads, params)
