"""BCConfig: everything a behaviour-cloning run depends on (model size, data, optimiser, seed).

Saved as config.json next to every BC checkpoint; `policies.load_pretrained` rebuilds the model
from it.
"""

from __future__ import annotations

from dataclasses import dataclass

ACTIVATIONS: tuple[str, ...] = ("relu", "gelu", "tanh")


@dataclass
class BCConfig:
    """Behaviour cloning of the scripted expert in ClimbRoute-v0 (obs="state")."""

    obs_dim: int = 216
    """Observation size: ClimbRoute-v0's obs="state" vector (152 proprio + 64 route, lookahead 4)."""
    action_dim: int = 79
    """Action size: control="physics", assist="residual" (69 hinges, 4 grips, 3 force, 3 torque)."""
    hidden_sizes: tuple[int, ...] = (256, 256)
    """Widths of the MLP's hidden layers."""
    activation: str = "relu"
    """Hidden-layer non-linearity: relu, gelu or tanh."""
    lr: float = 1e-3
    """Adam learning rate."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    batch_size: int = 256
    """(obs, action) pairs per optimiser step."""
    epochs: int = 30
    """Passes over the collected pairs."""
    seed: int = 0
    """Seeds the weight initialisation, the batch order and the expert's episodes."""
    scenes: tuple[str, ...] = ("wall_vertical_01",)
    """Builtin scene ids (scenes.load) the expert climbs to collect data."""
    routes: int = 2
    """Routes climbed per scene: the scene's first `routes` routes."""
    episodes_per_route: int = 1
    """Expert episodes per route; episode k is seeded seed * 1000 + k."""
    max_steps: int = 600
    """Env steps kept per expert episode (20 s at 30 Hz)."""

    def __post_init__(self) -> None:
        # JSON gives lists; the dataclass keeps tuples so configs compare and hash as saved
        self.hidden_sizes = tuple(int(h) for h in self.hidden_sizes)
        self.scenes = tuple(str(s) for s in self.scenes)
        for name in (
            "obs_dim",
            "action_dim",
            "batch_size",
            "epochs",
            "routes",
            "episodes_per_route",
            "max_steps",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"BCConfig.{name}={value!r}: expected an int >= 1")
        if not self.hidden_sizes or any(h < 1 for h in self.hidden_sizes):
            raise ValueError(
                f"BCConfig.hidden_sizes={self.hidden_sizes!r}: expected one or more widths >= 1"
            )
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"BCConfig.activation={self.activation!r}: expected one of {ACTIVATIONS}"
            )
        if not (isinstance(self.lr, int | float) and self.lr > 0):
            raise ValueError(f"BCConfig.lr={self.lr!r}: expected a number > 0")
        if not (isinstance(self.weight_decay, int | float) and self.weight_decay >= 0):
            raise ValueError(f"BCConfig.weight_decay={self.weight_decay!r}: expected a number >= 0")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool) or self.seed < 0:
            raise ValueError(f"BCConfig.seed={self.seed!r}: expected an int >= 0")
        if not self.scenes:
            raise ValueError("BCConfig.scenes: expected at least one scene id")
