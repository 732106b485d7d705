"""Architecture guard: focuslab.camera imports only the layers below it (DESIGN.md arrows)."""

from __future__ import annotations

import ast
from pathlib import Path

import focuslab.camera

FORBIDDEN = ("focuslab.af", "focuslab.data", "focuslab.models", "focuslab.train", "focuslab.bench",
             "focuslab.hw", "focuslab.export", "focuslab.cli", "focuslab.metrics", "focuslab.isp")


def test_camera_imports_only_lower_layers():
    folder = Path(focuslab.camera.__file__).parent
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(FORBIDDEN), f"{path.name} imports {name}"
