"""focuslab.camera."""
