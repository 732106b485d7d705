"""Tiny stand-in networks with the models API's shapes (tests only; the real ones live in focuslab.models)."""

from __future__ import annotations

import torch
from torch import nn


class TinyDP(nn.Module):
    """Left/right crops ``B x 1 x 16 x 16`` -> ``B x 2`` (defocus, log-variance)."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.head = nn.Linear(4, 2)

    def forward(self, left: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(torch.cat([left, right], dim=1)))
        return self.head(x.mean(dim=(2, 3)))


class TinyRecurrent(nn.Module):
    """A recurrent cell with explicit state: ``(x B x 3, state B x 4) -> (out B x 2, new state B x 4)``."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(1)
        self.cell = nn.GRUCell(3, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, features: torch.Tensor, state: torch.Tensor):
        h = self.cell(features, state)
        return self.head(h), h


def dp_inputs(batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(5)
    return torch.rand(batch, 1, 16, 16, generator=g), torch.rand(batch, 1, 16, 16, generator=g)
