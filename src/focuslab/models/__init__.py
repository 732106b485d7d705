"""Learned-AF networks (DESIGN.md "Learned AF"): ``dp-defocus``, ``two-frame``, ``fusion``,
``temporal``; their registry, shipped weights, model cards, and the numpy prediction API
(:mod:`focuslab.models.predict`). See docs/learned_models.md.
"""

from focuslab.models.registry import build_model, example_inputs, load_model, model_card, model_names

__all__ = ["build_model", "example_inputs", "load_model", "model_card", "model_names"]
