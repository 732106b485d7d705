"""Built-in AF policies; importing this package registers each one (explicit imports, no magic)."""

from focuslab.af.policies import (  # noqa: F401
    continuous,
    contrast_hillclimb,
    contrast_sweep,
    depth,
    hybrid,
    learned,
    oracle,
    phase,
)
