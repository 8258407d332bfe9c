"""Noise schedules, training targets and guided, inpainted sampling, on diffusers' schedulers.

Training noises with `diffusers.DDPMScheduler`; sampling uses DDPM, DDIM or DPM-Solver++
(`DPMSolverMultistepScheduler`) built from the same config, so every sampler shares the
training betas (as Diffusion Policy does). Only the glue is ours: the loss target per
prediction type, classifier-free guidance and inpainting of known frames.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

PREDICTIONS: dict[str, str] = {"x0": "sample", "epsilon": "epsilon", "v": "v_prediction"}
"""Our prediction names -> diffusers' prediction_type."""
SAMPLERS: tuple[str, ...] = ("ddpm", "ddim", "dpm")
BETA_SCHEDULES: tuple[str, ...] = ("linear", "squaredcos_cap_v2", "scaled_linear")


@dataclass(frozen=True)
class NoiseConfig:
    """What defines the forward process and the model's output."""

    train_steps: int = 1000
    """Diffusion steps of the forward process (SABR-CLIMB: 1000)."""
    beta_schedule: str = "linear"
    """diffusers beta schedule: linear (SABR-CLIMB), squaredcos_cap_v2 (Diffusion Policy)."""
    prediction: str = "x0"
    """What the denoiser outputs: x0 (the clean sample, SABR-CLIMB), epsilon or v."""

    def __post_init__(self) -> None:
        if self.prediction not in PREDICTIONS:
            raise ValueError(
                f"NoiseConfig.prediction={self.prediction!r}: expected one of {list(PREDICTIONS)}"
            )
        if self.beta_schedule not in BETA_SCHEDULES:
            raise ValueError(
                f"NoiseConfig.beta_schedule={self.beta_schedule!r}: expected one of "
                f"{list(BETA_SCHEDULES)}"
            )
        if not isinstance(self.train_steps, int) or self.train_steps < 2:
            raise ValueError(f"NoiseConfig.train_steps={self.train_steps!r}: expected an int >= 2")


def train_scheduler(cfg: NoiseConfig):
    """The DDPMScheduler that noises training samples."""
    from diffusers import DDPMScheduler

    return DDPMScheduler(
        num_train_timesteps=cfg.train_steps,
        beta_schedule=cfg.beta_schedule,
        prediction_type=PREDICTIONS[cfg.prediction],
        clip_sample=False,
    )


def sampler(cfg: NoiseConfig, name: str = "ddim", steps: int = 10):
    """A sampling scheduler (ddpm, ddim or dpm) on the training betas, set to `steps` steps."""
    from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler

    if name not in SAMPLERS:
        raise ValueError(f"sampler {name!r}: expected one of {list(SAMPLERS)}")
    if not isinstance(steps, int) or not 1 <= steps <= cfg.train_steps:
        raise ValueError(f"sampler steps={steps!r}: expected an int in [1, {cfg.train_steps}]")
    base = train_scheduler(cfg).config
    if name == "ddpm":
        s = DDPMScheduler.from_config(base)
    elif name == "ddim":
        # "trailing" spacing reaches t = T - 1, so few-step sampling starts from pure noise
        s = DDIMScheduler.from_config(base, timestep_spacing="trailing", set_alpha_to_one=True)
    else:
        s = DPMSolverMultistepScheduler.from_config(
            base, algorithm_type="dpmsolver++", timestep_spacing="trailing", solver_order=2
        )
    s.set_timesteps(steps)
    return s


def training_target(
    scheduler, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor, prediction: str
) -> torch.Tensor:
    """What the denoiser should output for noised x0 at steps t: x0, the noise, or v."""
    if prediction == "x0":
        return x0
    if prediction == "epsilon":
        return noise
    if prediction == "v":
        return scheduler.get_velocity(x0, noise, t)
    raise ValueError(f"prediction {prediction!r}: expected one of {list(PREDICTIONS)}")


Denoiser = Callable[[torch.Tensor, torch.Tensor, bool], torch.Tensor]
"""denoise(x_t (B, T, D), t (B,), drop_condition) -> model output (B, T, D)."""


@torch.no_grad()
def sample(
    denoise: Denoiser,
    shape: tuple[int, ...],
    scheduler,
    *,
    generator: torch.Generator | list[torch.Generator] | None = None,
    guidance: float = 1.0,
    known: torch.Tensor | None = None,
    known_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Run `scheduler`'s reverse process from noise of `shape` (B, T, D); returns x0 (B, T, D).

    guidance: classifier-free guidance weight w (1: conditional only; out = u + w (c - u)).
    known (B, T, D) / known_mask (B, T) bool: frames given in advance (continuation); after
    every step they are replaced by the known frames noised to the next step's level, and the
    result holds them exactly (inpainting by replacement, as in RePaint without resampling).
    """
    x = _noise(shape, generator) * scheduler.init_noise_sigma
    mask = None
    if known is not None:
        if known_mask is None or known.shape != x.shape or known_mask.shape != x.shape[:2]:
            raise ValueError(
                f"sample: known {tuple(known.shape)} and known_mask "
                f"{None if known_mask is None else tuple(known_mask.shape)} must be {shape} and "
                f"{shape[:2]}"
            )
        mask = known_mask[..., None].to(x.dtype)  # (B, T, 1)
    steps = list(scheduler.timesteps)
    for i, t in enumerate(steps):
        tt = torch.full((shape[0],), int(t), dtype=torch.long)
        xin = scheduler.scale_model_input(x, t)
        out = denoise(xin, tt, False)
        if guidance != 1.0:
            out = out + (guidance - 1.0) * (out - denoise(xin, tt, True))
        x = scheduler.step(out, t, x, generator=generator).prev_sample
        if mask is not None:
            if i + 1 < len(steps):
                noise = _noise(shape, generator)
                level = torch.full((shape[0],), int(steps[i + 1]), dtype=torch.long)
                x = mask * scheduler.add_noise(known, noise, level) + (1 - mask) * x
            else:
                x = mask * known + (1 - mask) * x
    return x


def _noise(shape: tuple[int, ...], generator) -> torch.Tensor:
    """Standard normal noise of `shape`, from one generator or one per row (a list)."""
    if isinstance(generator, list):
        if len(generator) != shape[0]:
            raise ValueError(f"sample: {len(generator)} generators for a batch of {shape[0]}")
        return torch.stack([torch.randn(shape[1:], generator=g) for g in generator])
    return torch.randn(shape, generator=generator, dtype=torch.float32)
