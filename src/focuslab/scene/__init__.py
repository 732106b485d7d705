"""Scenes: layers of linear radiance + alpha at depths, textures, charts and real photographs.

``focuslab.scene.library.make_scene(name, ...)`` builds the built-in scenes (``scene_names()``);
``textures``, ``charts``, ``photos`` and ``rgbd`` hold the generators and loaders.
"""

from focuslab.scene.scene import KeyframeMotion, Layer, Scene

__all__ = ["KeyframeMotion", "Layer", "Scene"]
