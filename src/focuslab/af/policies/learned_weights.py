"""The networks the learned AF policies run: loaded lazily, once per process, with one clear error.

A learned policy names its network (``dp-defocus``, ``two-frame``, ``fusion``, ``temporal``:
:mod:`focuslab.models`) and optionally a weights file; the first :meth:`reset` loads it
(:func:`focuslab.models.load_model`: eval mode, CPU, default the shipped
``models/weights/<name>.pt``) and later runs in the same process reuse it. A missing or
corrupt file raises :class:`~focuslab.errors.InputFileError` naming the policy, the file and
what to do, so ``focuslab bench`` stops with one line instead of a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

from focuslab.errors import FocuslabError, InputFileError

#: Loaded networks by (name, weights path or None).
_CACHE: dict[tuple[str, str | None], object] = {}


def learned_model(policy: str, name: str, weights: str | os.PathLike | None = None):
    """Network ``name`` for policy ``policy`` (cached per process).

    Raises
    ------
    InputFileError
        The weights are missing or unreadable (the message names the policy and the file).
    """
    key = (name, None if weights is None else str(Path(weights)))
    if key not in _CACHE:
        try:
            from focuslab.models import load_model
        except ImportError as exc:  # pragma: no cover - focuslab.models ships with the package
            raise InputFileError(f"AF policy {policy!r} needs focuslab.models ({exc}); reinstall focuslab") from None
        try:
            model = load_model(name, None if weights is None else Path(weights))
        except FocuslabError as exc:
            raise InputFileError(f"AF policy {policy!r} cannot load its {name!r} network: {exc}") from None
        _CACHE[key] = model
    return _CACHE[key]


def clear_model_cache() -> None:
    """Forget the loaded networks (tests; a retrained weights file in the same process)."""
    _CACHE.clear()
