"""Scenes: layers of linear radiance + alpha at depths, textures, charts and real photographs."""

from focuslab.scene.scene import KeyframeMotion, Layer, Scene

__all__ = ["KeyframeMotion", "Layer", "Scene"]
