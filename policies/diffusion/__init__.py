"""What every diffusion method shares: normaliser, diffusers schedules and sampling (guidance,
inpainting), resumable training state, torchrun data parallelism."""

from policies.diffusion.normalizer import Normalizer
from policies.diffusion.schedule import NoiseConfig, sample, sampler, train_scheduler

__all__ = ["NoiseConfig", "Normalizer", "sample", "sampler", "train_scheduler"]
