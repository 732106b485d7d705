"""focuslab.sensor."""
