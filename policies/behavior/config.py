"""Configs of the behaviour models (plain dataclasses, validated on creation)."""

from __future__ import annotations

from dataclasses import dataclass

from policies.diffusion.schedule import NoiseConfig

PATH_SIZES: dict[str, dict] = {
    "tiny": {"channels": (16, 32), "cond_dim": 32, "step_dim": 16},
    "small": {"channels": (32, 64), "cond_dim": 64, "step_dim": 32},
}


@dataclass(frozen=True)
class PathConfig:
    """The path stage: future root positions (horizon x 2, metres) from the past and neighbours.

    Frames: everything is expressed in the agent frame at the last observed step (origin there,
    x along the last observed velocity), so the model sees every walker heading the same way.
    """

    size: str = "small"
    past: int = 8
    """Observed steps (the ETH/UCY protocol: 8 at 2.5 Hz; ATS: 8 at 10 fps)."""
    horizon: int = 12
    """Predicted steps (ETH/UCY: 12; ATS: 56)."""
    max_neighbours: int = 8
    """Other people (ATS's "observer"; for tracks, the other pedestrians) given as context."""
    use_past: bool = True
    use_neighbours: bool = True
    cond_drop: float = 0.1
    """Probability of training with the condition dropped (classifier-free guidance)."""
    guidance: float = 1.0
    """Guidance weight at sampling (1 = conditional only)."""
    sample_steps: int = 50
    """Reverse steps at sampling (DDPM over 50 training steps, as ATS)."""
    train_steps: int = 50
    beta_schedule: str = "squaredcos_cap_v2"
    prediction: str = "x0"
    """x0 (the clean path): epsilon with the cosine schedule amplifies the noise estimate's
    error by 1 / sqrt(alpha_bar) near t = T, and 50-step DDPM samples wandered metres off."""
    mirror_aug: bool = True
    """Train on mirrored copies too (y -> -y in the agent frame: walking is left-right symmetric)."""

    def __post_init__(self) -> None:
        if self.size not in PATH_SIZES:
            raise ValueError(f"PathConfig.size={self.size!r}: expected one of {list(PATH_SIZES)}")
        for name in ("past", "horizon", "max_neighbours", "sample_steps"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"PathConfig.{name}={v!r}: expected an int >= 1")
        if not 0.0 <= self.cond_drop < 1.0:
            raise ValueError(f"PathConfig.cond_drop={self.cond_drop!r}: expected in [0, 1)")
        self.noise()  # validates schedule and prediction

    def noise(self) -> NoiseConfig:
        """The forward process."""
        return NoiseConfig(self.train_steps, self.beta_schedule, self.prediction)

    @property
    def arch(self) -> dict:
        """Channel sizes of this size."""
        return PATH_SIZES[self.size]
