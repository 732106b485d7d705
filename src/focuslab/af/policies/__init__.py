"""Built-in AF policies; importing this package registers each one (explicit imports, no magic)."""

from focuslab.af.policies import contrast_sweep, oracle  # noqa: F401
