"""AF policies by name: ``register_policy(name)`` on a factory, ``get_policy(name, **options)``.

A factory is a callable ``(**options) -> AFPolicy``; the policy modules in
:mod:`focuslab.af.policies` register theirs at import (that package imports every built-in
policy explicitly, so importing this module's lookups through :func:`get_policy` always sees
them). A wrong name raises :class:`~focuslab.errors.UnknownNameError` listing the valid ones;
registering a name twice raises :class:`~focuslab.errors.InvalidParameterError`.

Examples
--------
>>> from focuslab.af.registry import get_policy, policy_names
>>> "contrast-sweep" in policy_names()
True
>>> get_policy("oracle").name
'oracle'
"""

from __future__ import annotations

from collections.abc import Callable

from focuslab.af.types import AFPolicy
from focuslab.errors import InvalidParameterError
from focuslab.registry import Registry

#: Policy factories by name.
POLICIES: Registry[Callable[..., AFPolicy]] = Registry("AF policy")


def register_policy(name: str) -> Callable[[Callable[..., AFPolicy]], Callable[..., AFPolicy]]:
    """Decorator registering a policy factory ``(**options) -> AFPolicy`` under ``name``."""
    return POLICIES.register(name)


def _load_builtins() -> None:
    import focuslab.af.policies  # noqa: F401  (registers the built-in policies)


def policy_names() -> list[str]:
    """Names of the registered policies, sorted."""
    _load_builtins()
    return POLICIES.names()


def get_policy(name: str, **options) -> AFPolicy:
    """A new policy ``name`` built with ``options``.

    Raises
    ------
    UnknownNameError
        ``name`` is not registered (the message lists the valid names).
    InvalidParameterError
        An option the policy does not take, or a bad option value.
    """
    _load_builtins()
    factory = POLICIES.get(name)
    try:
        return factory(**options)
    except TypeError as exc:
        raise InvalidParameterError(f"AF policy {name!r} rejected its options {sorted(options)}: {exc}") from None
