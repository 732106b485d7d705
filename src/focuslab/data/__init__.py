"""focuslab.data."""
