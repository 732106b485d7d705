"""Architecture guard: focuslab.scene depends only on numpy/scipy/scikit-image/Pillow and lower layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SCENE_DIR = Path(__file__).resolve().parents[2] / "src" / "focuslab" / "scene"
ALLOWED_FOCUSLAB = {"focuslab.errors", "focuslab.units", "focuslab.files", "focuslab.scene"}
ALLOWED_THIRD_PARTY = {"numpy", "scipy", "skimage", "PIL"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(SCENE_DIR.glob("*.py")), ids=lambda p: p.name)
def test_scene_imports_stay_in_their_layer(path):
    for mod in imported_modules(path):
        top = mod.split(".")[0]
        if top == "focuslab":
            assert any(mod == a or mod.startswith(a + ".") for a in ALLOWED_FOCUSLAB), f"{path.name}: {mod}"
        elif top not in {"__future__", "os", "math", "inspect", "dataclasses", "collections", "pathlib",
                         "typing"}:
            assert top in ALLOWED_THIRD_PARTY, f"{path.name} imports {mod} (no torch in scene)"
