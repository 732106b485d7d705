"""Atomic writes (focuslab.files): content, no leftovers, and ordinary permissions."""

from __future__ import annotations

import os
import stat

import pytest

from focuslab.errors import OutputError
from focuslab.files import atomic_path, process_umask, write_json_atomic, write_text_atomic


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_umask_read_matches_os(tmp_path):
    old = os.umask(0o027)
    try:
        assert process_umask() == 0o027
    finally:
        os.umask(old)


def test_new_file_gets_umask_mode_not_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        out = write_text_atomic(tmp_path / "a" / "report.html", "<html></html>")
    finally:
        os.umask(old)
    assert out.read_text() == "<html></html>"
    assert _mode(out) == 0o644  # mkstemp alone gives 0o600
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]


def test_replaced_file_keeps_its_mode(tmp_path):
    path = tmp_path / "results.json"
    path.write_text("{}")
    os.chmod(path, 0o640)
    write_json_atomic(path, {"a": 1})
    assert _mode(path) == 0o640
    assert path.read_text() == '{\n  "a": 1\n}\n'


def test_failed_write_leaves_nothing(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]


def test_unwritable_parent_is_one_line_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match="cannot create output folder"):
        write_text_atomic(blocker / "sub" / "x.txt", "y")
