"""Built-in AF policies; importing this package registers each one (explicit imports, no magic)."""

from focuslab.af.policies import continuous, contrast_sweep, depth, oracle  # noqa: F401
from focuslab.af.policies import contrast_hillclimb, hybrid, phase  # noqa: F401
