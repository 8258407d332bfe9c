"""BCPolicy: the behaviour-cloning policy, the MLP wrapped with its normalisers.

The observation and action normalisers (mean and std per value) are buffers, so they live in the
state dict and travel with the weights in model.safetensors. Batches are dicts of named tensors:
``{"obs": (B, obs_dim), "action": (B, action_dim)}``; ``obs`` is ClimbRoute-v0's obs="state"
vector and ``action`` its control="physics", assist="residual" action.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from policies.bc.config import BCConfig
from policies.bc.model import MLP

MIN_STD = 1e-3
"""Values whose std is below this (constant in the data) are only centred, not scaled."""


class BCPolicy(nn.Module):
    """Maps an observation to the expert's action: ``act(obs)``; trains with ``compute_loss``."""

    method = "bc"
    """The name this method is registered under (policies.register_method)."""

    def __init__(self, config: BCConfig) -> None:
        super().__init__()
        self.config = config
        self.model = MLP(config.obs_dim, config.action_dim, config.hidden_sizes, config.activation)
        self.register_buffer("obs_mean", torch.zeros(config.obs_dim))  # (obs_dim,)
        self.register_buffer("obs_std", torch.ones(config.obs_dim))  # (obs_dim,)
        self.register_buffer("action_mean", torch.zeros(config.action_dim))  # (action_dim,)
        self.register_buffer("action_std", torch.ones(config.action_dim))  # (action_dim,)

    def fit_normaliser(self, obs: torch.Tensor, action: torch.Tensor) -> None:
        """Set the normaliser statistics from data: obs (N, obs_dim), action (N, action_dim)."""
        for name, x in (("obs", obs), ("action", action)):
            x = torch.as_tensor(x, dtype=torch.float32)
            std = x.std(dim=0, unbiased=False)
            getattr(self, f"{name}_mean").copy_(x.mean(dim=0))
            getattr(self, f"{name}_std").copy_(
                torch.where(std < MIN_STD, torch.ones_like(std), std)
            )

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """Normalised action prediction: (B, obs_dim) -> (B, action_dim)."""
        return self.model((obs - self.obs_mean) / self.obs_std)

    def compute_loss(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Mean squared error in normalised action space, a scalar."""
        target = (batch["action"] - self.action_mean) / self.action_std  # (B, action_dim)
        return F.mse_loss(self(batch["obs"]), target)

    @torch.no_grad()
    def sample(self, cond: dict[str, torch.Tensor] | torch.Tensor) -> torch.Tensor:
        """The action for ``cond["obs"]`` (B, obs_dim): (B, action_dim), in [-1, 1]."""
        obs = cond["obs"] if isinstance(cond, dict) else cond
        action = self(obs) * self.action_std + self.action_mean
        return action.clamp(-1.0, 1.0)

    # ---------------------------------------------------------- Policy protocol
    def reset(self, *, seed: int | None = None, info: dict[str, Any] | None = None) -> None:
        """Start an episode; the policy is deterministic and keeps no episode state."""
        self.eval()

    def act(self, obs: Any) -> np.ndarray:
        """The action (action_dim,) float32 for one obs="state" observation (obs_dim,)."""
        x = np.asarray(obs, dtype=np.float32)
        if x.shape != (self.config.obs_dim,):
            raise ValueError(
                f"BCPolicy.act: expected an obs='state' vector of {self.config.obs_dim} values, "
                f"got shape {x.shape}"
            )
        p = next(self.parameters())
        out = self.sample({"obs": torch.from_numpy(x).to(p.device)[None]})
        return out[0].cpu().numpy().astype(np.float32)


SHIPPED = "bc_tiny"
"""The shipped checkpoint `bc_policy` loads when given none."""


def bc_policy(env=None, *, checkpoint: str | None = None, device: str = "cpu") -> BCPolicy:
    """The registry's "bc" factory: a BCPolicy loaded from `checkpoint` (default: the shipped one),
    checked against `env`'s spaces when an env is given."""
    from policies.pretrained import CheckpointError, load_pretrained

    try:
        policy = load_pretrained(checkpoint or SHIPPED, device=device)
    except CheckpointError as e:
        if checkpoint is not None:
            raise
        raise CheckpointError(
            f"policy 'bc': no checkpoint given and none shipped ({e}); pass checkpoint=DIR, "
            "e.g. one written by `python -m policies.bc.train --out DIR`"
        ) from e
    if not isinstance(policy, BCPolicy):
        raise ValueError(
            f"policy 'bc': checkpoint {checkpoint!r} holds method {getattr(policy, 'method', '?')!r}"
        )
    if env is not None:
        obs_shape, act_shape = env.observation_space.shape, env.action_space.shape
        want = ((policy.config.obs_dim,), (policy.config.action_dim,))
        if (obs_shape, act_shape) != want:
            raise ValueError(
                f"policy 'bc': the checkpoint expects obs {want[0]} and actions {want[1]} "
                f"(obs='state', control='physics', assist='residual'); the env has "
                f"{obs_shape} and {act_shape}"
            )
    return policy
