"""User-facing errors.

Every mistake a user can make (an impossible lens, a missing file, an unknown preset) raises a
subclass of :class:`FocuslabError` whose message says what is wrong *and what to do*. The CLI
turns these into one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations


class FocuslabError(Exception):
    """Base class of every error caused by user input (CLI exit code 2)."""


class InvalidParameterError(FocuslabError, ValueError):
    """A parameter is out of its physical or allowed range (e.g. f-number < 0.5)."""


class UnknownNameError(FocuslabError, KeyError):
    """A name (preset, scene, method) is not in its registry; the message lists valid names."""

    def __str__(self) -> str:  # KeyError would repr() the message; keep it a plain line
        return str(self.args[0]) if self.args else ""


class InputFileError(FocuslabError, OSError):
    """An input file or folder is missing, unreadable, corrupt or of the wrong kind."""


class OutputError(FocuslabError, OSError):
    """An output location cannot be written."""


def check_finite(name: str, value: float) -> float:
    """Return ``float(value)`` or raise :class:`InvalidParameterError` when it is NaN or inf."""
    import math

    v = float(value)
    if not math.isfinite(v):
        raise InvalidParameterError(f"{name} must be a finite number, got {value!r}")
    return v


def check_positive(name: str, value: float, *, allow_zero: bool = False) -> float:
    """Return ``float(value)``; raise :class:`InvalidParameterError` unless it is > 0 (or >= 0)."""
    v = check_finite(name, value)
    if v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidParameterError(f"{name} must be {bound}, got {value!r}")
    return v
