"""The behaviour-cloning network: a plain MLP from normalised observations to normalised actions.

Tensors in, tensors out; it knows nothing of envs, files or normalisation (the policy does).
"""

from __future__ import annotations

import torch
from torch import nn

_ACTIVATIONS = {"relu": nn.ReLU, "gelu": nn.GELU, "tanh": nn.Tanh}


class MLP(nn.Module):
    """``in_dim -> hidden_sizes... -> out_dim``, the chosen activation between layers."""

    def __init__(
        self, in_dim: int, out_dim: int, hidden_sizes: tuple[int, ...], activation: str = "relu"
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for h in hidden_sizes:
            layers += [nn.Linear(width, h), _ACTIVATIONS[activation]()]
            width = h
        layers.append(nn.Linear(width, out_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, in_dim) -> (B, out_dim)."""
        return self.net(x)
