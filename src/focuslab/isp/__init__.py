"""focuslab.isp."""
