"""focuslab.bench."""
