"""Atomic file writing ("nothing is lost", DESIGN.md).

Every file focuslab writes goes to a temporary name in the same folder and is renamed into
place with :func:`os.replace`, so a reader never sees a half-written file and a crash never
leaves one behind. The file gets the permissions an ordinary ``open(path, "w")`` would give
it (``0o666`` less the process umask, or the mode of the file it replaces), not the owner-only
``0o600`` of :func:`tempfile.mkstemp`: a report, a dataset shard or an exported model is often
read by another user (a web server, a Ray worker, a teammate).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from focuslab.errors import OutputError


def ensure_dir(path: str | os.PathLike) -> Path:
    """Create folder ``path`` (and parents) or raise :class:`OutputError` with what to do."""
    p = Path(path)
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"cannot create output folder {str(p)!r} ({exc.strerror or exc}); "
            "choose a folder you can write to"
        ) from None
    if not os.access(p, os.W_OK):
        raise OutputError(f"output folder {str(p)!r} is not writable; choose another --out")
    return p


def process_umask() -> int:
    """The process's umask, read without changing it where Linux allows (``/proc/self/status``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore at once
    os.umask(mask)
    return mask


def _publish_mode(final: Path) -> int:
    """Permission bits for a new ``final``: the replaced file's, else ``0o666`` less the umask."""
    try:
        return final.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~process_umask()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``.

    The temporary file keeps the final suffix so that writers choosing a format by extension
    (imageio, matplotlib) still work.
    """
    final = Path(path)
    ensure_dir(final.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=final.suffix, dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with contextlib.suppress(OSError):  # a writer may have replaced tmp with a folder, etc.
            os.chmod(tmp_path, _publish_mode(final))
        os.replace(tmp_path, final)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return Path(path)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    return write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")
