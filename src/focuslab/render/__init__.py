"""focuslab.render."""
