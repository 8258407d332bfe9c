"""ClimbDiffusionModel: ClimbDiT wrapped with its normaliser, frozen encoder and sampler.

A batch is a dict of named tensors (the one interface between data and method):

- ``motion`` (B, T, 147): `Motion.to_features()` frames, world frame (training target);
- ``known_mask`` (B, T) bool: frames given in advance (continuation); ``motion`` holds them;
- ``video`` (B, U, P, D) patch tokens of the distinct video frames, ``video_index`` (B, T);
- ``context`` (B, C, P, D) context-frame tokens, ``context_mask`` (B, C) bool, ``context_pos``
  (B, C, 3) the context holds' positions (m, world frame);
- ``anchor`` (B, 3): the centre of the holds held at the first frame (m, world frame); motion
  and hold positions are expressed relative to it, so a route is the same problem wherever it
  is on the wall;
- ``betas`` (B, 10).

The normaliser's statistics live in the state dict. The encoder is frozen and has weights of its
own, so it is built on first use from the config and kept out of the state dict.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from navenv.body.motion import FEATURE_DIM, FEATURE_LAYOUT
from navenv.body.skeleton import Skeleton
from policies.climb_diffusion.config import ClimbDiffusionConfig
from policies.climb_diffusion.model import ClimbDiT
from policies.diffusion.normalizer import Normalizer
from policies.diffusion.schedule import sample, sampler, train_scheduler, training_target
from policies.pretrained import register_method

TRANSL = FEATURE_LAYOUT["transl"]


class ClimbDiffusionModel(nn.Module):
    """Samples 2 s motion clips from a tripod video and a route prompt; trains by `compute_loss`."""

    method = "climb_diffusion"
    """The name this method is registered under (policies.register_method)."""

    def __init__(self, config: ClimbDiffusionConfig) -> None:
        super().__init__()
        self.config = config
        self.normalizer = Normalizer(FEATURE_DIM)
        self.model = ClimbDiT(
            FEATURE_DIM,
            config.token_dim,
            config.width,
            config.depth,
            config.heads,
            config.mlp_ratio,
            use_hold_positions=config.use_hold_positions,
            max_context=config.max_context,
        )
        self.scheduler = train_scheduler(config.noise)
        self._encoder: list = []  # frozen, own weights: kept out of the state dict

    # ------------------------------------------------------------------ pieces
    @property
    def encoder(self):
        """The frozen image encoder named by the config (built on first use)."""
        if not self._encoder:
            from policies.encoders import make_encoder

            kw = {"path": self.config.encoder_path} if self.config.encoder == "dinov2" else {}
            self._encoder.append(make_encoder(self.config.encoder, **kw))
        return self._encoder[0]

    def num_parameters(self) -> int:
        """Trainable parameters of the denoiser."""
        return sum(p.numel() for p in self.model.parameters())

    def to_model_space(self, motion: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
        """World features (B, T, F) -> normalised anchor-relative features (B, T, F)."""
        rel = motion.clone()
        rel[..., TRANSL] = rel[..., TRANSL] - anchor[:, None]
        return self.normalizer.normalize(rel)

    def to_world(self, x: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
        """Normalised anchor-relative features (B, ..., T, F) -> world features."""
        out = self.normalizer.unnormalize(x)
        shape = (anchor.shape[0],) + (1,) * (out.dim() - 2) + (3,)
        out[..., TRANSL] = out[..., TRANSL] + anchor.reshape(shape)
        return out

    def _denoise(self, batch: dict[str, torch.Tensor], known: torch.Tensor):
        context_pos = batch["context_pos"] - batch["anchor"][:, None]  # (B, C, 3)

        def denoise(x_t: torch.Tensor, t: torch.Tensor, drop: bool | torch.Tensor) -> torch.Tensor:
            if isinstance(drop, bool):
                drop = torch.full((x_t.shape[0],), drop, dtype=torch.bool)
            return self.model(
                x_t,
                t,
                known=known,
                known_mask=batch["known_mask"],
                video=batch["video"],
                video_index=batch["video_index"],
                context=batch["context"],
                context_mask=batch["context_mask"],
                context_pos=context_pos,
                betas=batch["betas"],
                drop=drop,
            )

        return denoise

    # ------------------------------------------------------------------ training
    def compute_loss(
        self, batch: dict[str, torch.Tensor], generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Diffusion loss (MSE to the prediction target over unknown frames), a scalar."""
        x0 = self.to_model_space(batch["motion"], batch["anchor"])  # (B, T, F)
        b = x0.shape[0]
        dev = x0.device  # random draws on the CPU generator, so a seed means the same on a GPU
        noise = torch.randn(x0.shape, generator=generator).to(dev)
        t = torch.randint(0, self.config.train_steps, (b,), generator=generator).to(dev)
        drop = (torch.rand(b, generator=generator) < self.config.cond_drop).to(dev)
        x_t = self.scheduler.add_noise(x0, noise, t)
        out = self._denoise(batch, x0)(x_t, t, drop)
        target = training_target(self.scheduler, x0, noise, t, self.config.prediction)
        weight = (~batch["known_mask"]).to(x0.dtype)[..., None]  # (B, T, 1)
        err = F.mse_loss(out, target, reduction="none") * weight
        return err.sum() / (weight.sum() * x0.shape[-1]).clamp_min(1.0)

    def forward(
        self, batch: dict[str, torch.Tensor], generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """The training loss (so DistributedDataParallel can wrap the whole policy)."""
        return self.compute_loss(batch, generator)

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def sample(
        self,
        batch: dict[str, torch.Tensor],
        *,
        num_samples: int = 1,
        seed: int | list[int] | None = 0,
        steps: int | None = None,
        sampler_name: str | None = None,
        guidance: float | None = None,
        reach: torch.Tensor | None = None,
        reach_weight: float | torch.Tensor = 0.0,
        reach_frames: int = 10,
    ) -> torch.Tensor:
        """World-frame motion features (B, K, T, F): K samples per condition of `batch`.

        Frames where batch["known_mask"] is True come back as given (inpainting). seed: one for
        the batch, or one per condition (sample k of condition b then draws from seed_b + k
        * 1,000,003; with one sample, what that condition alone with seed_b would give).
        reach (B, 2, 3) m: world targets of the left and right hand (NaN rows: none); with
        reach_weight w in (0, 1], every denoising step's x0 is moved along the gradient of the
        hands' squared distance to them over the last `reach_frames` frames, by w of the step
        that would zero it to first order (a Polyak step: the same w means the same pull
        whatever the normaliser's scales). Spatial guidance as OmniControl / GMD do it.
        reach_weight may be one weight or one per condition (B,).
        """
        cfg = self.config
        weights = torch.as_tensor(reach_weight, dtype=torch.float64).reshape(-1)
        if not ((weights >= 0) & (weights <= 1)).all():
            raise ValueError(f"sample: reach_weight={reach_weight}: expected 0..1")
        guided = reach is not None and bool((weights > 0).any())
        if guided and cfg.prediction != "x0":
            raise ValueError(f"sample: reach guidance needs prediction='x0', not {cfg.prediction}")
        rep = _repeat(batch, num_samples)  # (B K, ...)
        known = self.to_model_space(rep["motion"], rep["anchor"])
        if seed is None or isinstance(seed, int | np.integer):
            gen = None if seed is None else torch.Generator().manual_seed(int(seed))
        else:  # one seed per condition: each samples what it would sample alone
            seeds = [int(v) for v in seed]
            if len(seeds) != batch["anchor"].shape[0]:
                raise ValueError(
                    f"sample: {len(seeds)} seeds for {batch['anchor'].shape[0]} conditions"
                )
            gen = [
                torch.Generator().manual_seed(s + k * 1_000_003)
                for s in seeds
                for k in range(num_samples)
            ]
        sched = sampler(cfg.noise, sampler_name or cfg.sampler, steps or cfg.sample_steps)
        denoise = self._denoise(rep, known)
        if guided:
            targets = reach.to(known.dtype).repeat_interleave(num_samples, dim=0)  # (B K, 2, 3)
            w = weights.to(known.dtype).expand(len(reach)).repeat_interleave(num_samples)
            denoise = self._reaching(denoise, rep, targets, w, reach_frames)
        x = sample(
            denoise,
            tuple(known.shape),
            sched,
            generator=gen,
            guidance=cfg.guidance if guidance is None else guidance,
            known=known,
            known_mask=rep["known_mask"],
        )
        b = batch["anchor"].shape[0]
        return self.to_world(x, rep["anchor"]).reshape(b, num_samples, *x.shape[1:])

    def _reaching(self, denoise, rep, targets: torch.Tensor, weight: torch.Tensor, frames: int):
        """`denoise` with its x0 pulled toward the hand targets by weight (N,) (see `sample`)."""
        from navenv.body.joints import joint_index
        from policies.climb_diffusion.kinematics import feature_joints_torch

        hands = [joint_index("left_hand"), joint_index("right_hand")]
        valid = torch.isfinite(targets).all(dim=-1)  # (N, 2)
        goal = torch.nan_to_num(targets)
        betas = rep["betas"].double().numpy()
        offsets = torch.from_numpy(
            np.stack([Skeleton.builtin(b).offsets for b in betas])[:, None]  # (N, 1, 24, 3)
        ).to(goal.dtype)
        anchor = rep["anchor"]

        def guided(x_t: torch.Tensor, t: torch.Tensor, drop) -> torch.Tensor:
            out = denoise(x_t, t, drop)
            if not valid.any():
                return out
            with torch.enable_grad():
                x0 = out.detach().requires_grad_(True)
                joints = feature_joints_torch(self.to_world(x0, anchor)[:, -frames:], offsets)
                err = ((joints[:, :, hands] - goal[:, None]) ** 2).sum(-1)  # (N, frames, 2)
                loss = (err * valid[:, None]).sum(dim=(1, 2))  # (N,)
                (grad,) = torch.autograd.grad(loss.sum(), x0)
            norm2 = grad.pow(2).sum(dim=(1, 2)).clamp_min(1e-12)  # (N,)
            return out - (weight * loss.detach() / norm2)[:, None, None] * grad

        return guided

    def fit_normaliser(self, motion: torch.Tensor, anchor: torch.Tensor) -> None:
        """Fit the feature normaliser on training windows: motion (N, T, F), anchor (N, 3)."""
        rel = motion.clone()
        rel[..., TRANSL] = rel[..., TRANSL] - anchor[:, None]
        self.normalizer.fit(rel)

    def reset(self, *, seed: int | None = None, info: dict[str, Any] | None = None) -> None:
        """Nothing to reset between clips: sampling is seeded per call."""


def _repeat(batch: dict[str, torch.Tensor], k: int) -> dict[str, torch.Tensor]:
    """Every tensor of `batch` repeated k times along a new axis folded into the batch."""
    if k == 1:
        return batch
    return {
        key: v.repeat_interleave(k, dim=0) if isinstance(v, torch.Tensor) else v
        for key, v in batch.items()
    }


def features_to_numpy(x: torch.Tensor) -> np.ndarray:
    """Sampled features as a float32 numpy array."""
    return x.detach().cpu().numpy().astype(np.float32)


register_method("climb_diffusion", ClimbDiffusionConfig, ClimbDiffusionModel)
