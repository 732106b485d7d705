"""Autofocus in a closed loop: observations, policies, backends (simulator, replay), run metrics."""
