"""Training of the learned-AF networks (``focuslab train``): :func:`train` with a
:class:`TrainConfig` read by :func:`load_config`. See docs/learned_models.md."""

from focuslab.train.config import TrainConfig, config_from_dict, load_config
from focuslab.train.loop import TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "config_from_dict", "load_config", "train"]
