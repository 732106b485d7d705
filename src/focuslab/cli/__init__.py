"""focuslab.cli."""
