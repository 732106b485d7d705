"""Benchmark records on disk: JSON-ready conversion and the per-case checkpoints of a bench run.

Each finished case is written atomically to ``<out>/cases/<suite>/<case_id>.json`` as
``{"case": AFCase.to_dict(), "methods": [...], "records": [...]}``; a resumed run
(:func:`load_checkpoint`) reuses it when the case and the method list are the same.
"""

from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import numpy as np

from focuslab.files import write_json_atomic


def json_ready(obj):
    """``obj`` with numpy scalars/arrays as Python values and NaN/inf as None (strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_ready(obj.tolist())
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        v = float(obj)
        return v if math.isfinite(v) else None
    return obj


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def checkpoint_path(out_dir: str | os.PathLike, suite: str, case_id: str) -> Path:
    """Where the records of one case are checkpointed."""
    return Path(out_dir) / "cases" / _safe(suite) / f"{_safe(case_id)}.json"


def write_checkpoint(out_dir: str | os.PathLike, case, methods, records: list[dict]) -> Path:
    """Write one finished case's records atomically."""
    path = checkpoint_path(out_dir, case.suite, case.case_id)
    return write_json_atomic(path, json_ready({"case": case.to_dict(), "methods": list(methods), "records": records}))


def load_checkpoint(out_dir: str | os.PathLike, case, methods) -> list[dict] | None:
    """The checkpointed records of ``case`` when they were made with the same case and methods, else None.

    A corrupt or foreign checkpoint counts as absent (the case is run again).
    """
    path = checkpoint_path(out_dir, case.suite, case.case_id)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(data, dict) or data.get("methods") != list(methods):
        return None
    if data.get("case") != json_ready(case.to_dict()):
        return None
    records = data.get("records")
    return records if isinstance(records, list) else None
