"""The shared named registry: duplicates refused, wrong names list the valid ones."""

from __future__ import annotations

import pytest

from focuslab.errors import InvalidParameterError, UnknownNameError
from focuslab.registry import Registry


def test_register_get_names_and_errors():
    reg: Registry[int] = Registry("widget")
    reg.register("b")(2)
    reg.register("a")(1)
    assert reg.names() == ["a", "b"] and reg.get("b") == 2 and "a" in reg and "c" not in reg
    with pytest.raises(InvalidParameterError, match="widget 'a' is already registered"):
        reg.register("a")(3)
    with pytest.raises(UnknownNameError, match="unknown widget 'zz'; valid names: a, b") as exc:
        reg.get("zz")
    assert str(exc.value) == "unknown widget 'zz'; valid names: a, b"  # one plain line, no KeyError quotes
    with pytest.raises(UnknownNameError):
        reg.get(["unhashable"])
