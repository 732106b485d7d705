"""ONNX / Core ML export of the networks and their CPU latency (DESIGN.md "Learned AF").

* :func:`export_onnx` (:mod:`.onnx_export`): dynamic batch, verified with onnxruntime;
* :func:`export_coreml` (:mod:`.coreml_export`): an iOS 16 / macOS 13 ML program, spec checked;
* :func:`measure_latency` (:mod:`.latency`): median and p90 per call, PyTorch or onnxruntime.
"""

from focuslab.export.coreml_export import CoreMLExport, export_coreml
from focuslab.export.latency import Latency, measure_latency
from focuslab.export.onnx_export import MAX_ABS_DIFF, OnnxExport, export_onnx

__all__ = ["MAX_ABS_DIFF", "CoreMLExport", "Latency", "OnnxExport", "export_coreml", "export_onnx", "measure_latency"]
