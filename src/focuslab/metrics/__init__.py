"""focuslab.metrics."""
