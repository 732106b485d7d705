"""Named registries: a plain dict filled by a decorator that refuses duplicates (STYLE.md).

No import-time magic: a module registers its entries with ``@REGISTRY.register("name")`` at
import, lookups of a wrong name raise :class:`~focuslab.errors.UnknownNameError` listing the
valid names, and registering a name twice raises :class:`~focuslab.errors.InvalidParameterError`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from focuslab.errors import InvalidParameterError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries of one kind (``"sensor preset"``, ``"demosaic method"``...) by name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator adding ``entry`` under ``name``; refuses a name already registered."""

        def add(entry: T) -> T:
            if name in self._entries:
                raise InvalidParameterError(f"{self.kind} {name!r} is already registered; pick another name")
            self._entries[name] = entry
            return entry

        return add

    def get(self, name: str) -> T:
        """The entry ``name``; an unknown name raises ``UnknownNameError`` listing the valid ones."""
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            raise UnknownNameError(f"unknown {self.kind} {name!r}; valid names: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries
