"""ClimbDiffusionConfig: the model, its conditions, the noise process and the training run.

Saved as config.json beside every checkpoint; `policies.load_pretrained` rebuilds the policy
from it. Sizes come from `PRESETS` (tiny for tests, small shipped and CPU-trainable, base and
large for GPUs; large is SABR-CLIMB's 24 x 1024).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from policies.diffusion.schedule import PREDICTIONS, SAMPLERS, NoiseConfig

CONTEXT_MODES: tuple[str, ...] = ("none", "start", "all")
"""Route prompt given to the model: none; the holds held at the window's first frame; those
plus every hold first touched in the window, in order (SABR-CLIMB's context frames)."""
ENCODERS: tuple[str, ...] = ("navenv-cnn", "dinov2")

PRESETS: dict[str, dict[str, int]] = {
    "tiny": {"width": 32, "depth": 2, "heads": 2},
    "small": {"width": 128, "depth": 6, "heads": 4},
    "medium": {"width": 192, "depth": 8, "heads": 6},
    "base": {"width": 512, "depth": 12, "heads": 8},
    "large": {"width": 1024, "depth": 24, "heads": 16},
}
"""Model sizes by name (depth counts blocks: spatial and temporal alternate)."""
ARCHITECTURE_FIELDS = (
    "frames",
    "fps",
    "max_context",
    "use_hold_positions",
    "encoder",
    "token_dim",
    "width",
    "depth",
    "heads",
    "mlp_ratio",
    "prediction",
)
"""Fields two checkpoints must share for one's weights to start the other's training."""


@dataclass
class ClimbDiffusionConfig:
    """Video + route prompt -> 2 s of SMPL motion, by x0-predicting diffusion."""

    # ---- what a clip is
    frames: int = 30
    """Motion frames per sample (2 s at 15 fps)."""
    fps: float = 15.0
    """Frame rate of the model's motion; the dataset's fps must be a whole multiple of it."""
    max_context: int = 10
    """Context slots (route-prompt frames); touched holds beyond this are dropped."""
    context: str = "all"
    """Route prompt: none, start or all (CONTEXT_MODES)."""
    use_hold_positions: bool = True
    """Give each context slot its hold's 3D position as well as its frame."""
    # ---- image tokens
    encoder: str = "navenv-cnn"
    """Frozen image encoder: navenv-cnn (shipped) or dinov2 (needs encoder_path)."""
    encoder_path: str = ""
    """Local directory of DINOv2 weights (encoder="dinov2" only)."""
    token_dim: int = 64
    """Width D of the encoder's patch tokens."""
    # ---- model size
    width: int = 128
    depth: int = 6
    """Transformer blocks (even: spatial and temporal alternate)."""
    heads: int = 4
    mlp_ratio: float = 4.0
    # ---- noise process and sampling
    train_steps: int = 1000
    """Diffusion steps (SABR-CLIMB: 1000, linear betas)."""
    beta_schedule: str = "linear"
    prediction: str = "x0"
    """Denoiser target: x0 (SABR-CLIMB), epsilon or v. Epsilon and v need a width above the
    147 motion features (the noise must pass the input projection); x0 does not."""
    sampler: str = "ddim"
    """Sampler at inference: ddpm, ddim or dpm (DPM-Solver++)."""
    sample_steps: int = 10
    """Denoising steps at inference."""
    guidance: float = 1.0
    """Classifier-free guidance weight at inference (1: conditional only)."""
    cond_drop: float = 0.1
    """Probability of dropping the video and context in training (enables guidance)."""
    known_prob: float = 0.5
    """Probability that a training window gives its first frames as known (continuation)."""
    max_known: int = 8
    """Most known frames a training window gives (1..max_known, uniform)."""
    match_weight: float = 1.0
    """Training draws windows in which both hands hold one hold (the expert's finishing match
    on the top hold) this many times as often as the others (1: uniform; `match_windows`)."""
    # ---- optimisation
    lr: float = 3e-4
    """AdamW learning rate (peak of the warm-up + cosine schedule)."""
    weight_decay: float = 0.0
    batch_size: int = 32
    steps: int = 3000
    """Optimiser steps."""
    warmup_steps: int = 200
    grad_clip: float = 1.0
    ema_decay: float = 0.9999
    """EMA decay ceiling; the EMA warms up (decay 1 - (1 + step)^-2/3) below it."""
    seed: int = 0
    """Seeds weights, window sampling, noise and dropout: a CPU run repeats exactly."""

    def __post_init__(self) -> None:
        for name in ("frames", "max_context", "token_dim", "width", "depth", "heads"):
            _positive_int(self, name)
        for name in ("sample_steps", "train_steps", "batch_size", "steps", "max_known"):
            _positive_int(self, name)
        for name in ("warmup_steps", "seed"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"ClimbDiffusionConfig.{name}={value!r}: expected an int >= 0")
        if self.depth % 2:
            raise ValueError(
                f"ClimbDiffusionConfig.depth={self.depth}: expected an even number "
                "(spatial and temporal blocks alternate)"
            )
        if self.width % self.heads:
            raise ValueError(
                f"ClimbDiffusionConfig: width {self.width} is not divisible by heads {self.heads}"
            )
        if not self.match_weight > 0:
            raise ValueError(f"ClimbDiffusionConfig.match_weight={self.match_weight}: expected > 0")
        _choice(self, "context", CONTEXT_MODES)
        _choice(self, "encoder", ENCODERS)
        _choice(self, "prediction", tuple(PREDICTIONS))
        _choice(self, "sampler", SAMPLERS)
        if self.encoder == "dinov2" and not self.encoder_path:
            raise ValueError(
                "ClimbDiffusionConfig.encoder='dinov2' needs encoder_path, a local directory "
                "with the DINOv2 weights (nothing is downloaded)"
            )
        for name in ("cond_drop", "known_prob"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
                raise ValueError(f"ClimbDiffusionConfig.{name}={value!r}: expected 0 <= p <= 1")
        for name in ("fps", "lr", "mlp_ratio", "ema_decay", "guidance", "grad_clip"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"ClimbDiffusionConfig.{name}={value!r}: expected a number > 0")
        if not self.ema_decay < 1.0:
            raise ValueError(f"ClimbDiffusionConfig.ema_decay={self.ema_decay}: expected < 1")
        if self.max_known >= self.frames:
            raise ValueError(
                f"ClimbDiffusionConfig.max_known={self.max_known}: expected < frames "
                f"({self.frames})"
            )
        _ = self.noise  # validates the schedule fields

    @property
    def noise(self) -> NoiseConfig:
        """The forward process."""
        return NoiseConfig(self.train_steps, self.beta_schedule, self.prediction)

    @classmethod
    def preset(cls, size: str, **overrides) -> ClimbDiffusionConfig:
        """The config of a named size (PRESETS) with any field overridden."""
        if size not in PRESETS:
            raise ValueError(f"model size {size!r}: expected one of {list(PRESETS)}")
        return cls(**{**PRESETS[size], **overrides})

    def updated(self, **changes) -> ClimbDiffusionConfig:
        """A copy with `changes` (validated)."""
        known = {f.name for f in fields(self)}
        bad = sorted(set(changes) - known)
        if bad:
            raise ValueError(f"ClimbDiffusionConfig: unknown fields {bad}")
        return replace(self, **changes)


def _positive_int(cfg: ClimbDiffusionConfig, name: str) -> None:
    value = getattr(cfg, name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"ClimbDiffusionConfig.{name}={value!r}: expected an int >= 1")


def _choice(cfg: ClimbDiffusionConfig, name: str, accepted: tuple[str, ...]) -> None:
    value = getattr(cfg, name)
    if value not in accepted:
        raise ValueError(f"ClimbDiffusionConfig.{name}={value!r}: expected one of {list(accepted)}")
