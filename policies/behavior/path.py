"""The path stage as a generative forecaster: future root positions by diffusion.

`PathDiffusion` denoises the future (horizon x 2, metres, agent frame) with a `TemporalUNet`
conditioned on the agent's past (positions and velocities) and on the people around it (ATS's
observer; for pedestrian tracks, the neighbours), each switchable off by config for ablations
and dropped together with probability `cond_drop` in training (classifier-free guidance).
`forecast(obs, neighbours, k)` maps world-frame windows to K sampled futures in the world frame.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from policies.behavior.config import PathConfig
from policies.behavior.encoders import NeighbourEncoder, PastEncoder
from policies.behavior.unet import TemporalUNet
from policies.diffusion.normalizer import Normalizer
from policies.diffusion.schedule import sample, sampler, train_scheduler, training_target
from policies.pretrained import register_method

MIN_HEADING_M = 1e-3  # slower than this over the last step: take the heading from the window


def agent_frames(obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Origins (N, 2) and rotations (N, 2, 2) world -> agent frame for (N, P, 2) windows: the
    origin at the last observed position, x along the last step (or the whole window's
    displacement when the last step is shorter than MIN_HEADING_M; identity when both are)."""
    last = obs[:, -1] - obs[:, -2]
    whole = obs[:, -1] - obs[:, 0]
    use = np.where(np.linalg.norm(last, axis=1, keepdims=True) > MIN_HEADING_M, last, whole)
    ang = np.where(
        np.linalg.norm(use, axis=1) > MIN_HEADING_M, np.arctan2(use[:, 1], use[:, 0]), 0.0
    )
    c, s = np.cos(ang), np.sin(ang)
    rot = np.stack([np.stack([c, s], -1), np.stack([-s, c], -1)], axis=1)  # rows: x, y axes
    return obs[:, -1].copy(), rot


def to_agent(x: np.ndarray, origin: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """World points (N, ..., 2) -> agent frame (NaN stays NaN)."""
    shape = (len(x),) + (1,) * (x.ndim - 2) + (2,)
    d = x - origin.reshape(shape)
    return np.einsum("nij,n...j->n...i", rot, d)


def to_world(x: np.ndarray, origin: np.ndarray, rot: np.ndarray) -> np.ndarray:
    """Agent-frame points (N, ..., 2) -> world."""
    shape = (len(x),) + (1,) * (x.ndim - 2) + (2,)
    return np.einsum("nji,n...j->n...i", rot, x) + origin.reshape(shape)


class PathDiffusion(nn.Module):
    """Diffusion over future paths given the past and neighbours (see the module doc)."""

    method = "behavior_path"

    def __init__(self, config: PathConfig) -> None:
        super().__init__()
        self.config = c = config
        a = c.arch
        self.norm = Normalizer(c.horizon * 2)
        self.past_enc = PastEncoder(c.past, a["cond_dim"])
        self.nbr_enc = NeighbourEncoder(c.past, a["cond_dim"])
        self.null = nn.Parameter(torch.zeros(2 * a["cond_dim"]))  # the dropped condition
        self.unet = TemporalUNet(2, 2 * a["cond_dim"], a["channels"], a["step_dim"])
        self.scheduler = train_scheduler(c.noise())

    # ---------------------------------------------------------------- conditioning
    def condition(
        self, past: torch.Tensor, nbr: torch.Tensor, drop: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(B, 2 cond_dim) from agent-frame past (B, P, 2) and neighbours (B, M, P, 2);
        rows where `drop` (B,) is True get the learned null condition."""
        c = self.config
        vel = torch.diff(past, dim=1, prepend=past[:, :1])
        hp = self.past_enc(past, vel) if c.use_past else None
        hn = self.nbr_enc(nbr) if c.use_neighbours else None
        dim = self.config.arch["cond_dim"]
        zeros = past.new_zeros(len(past), dim)
        cond = torch.cat([hp if hp is not None else zeros, hn if hn is not None else zeros], -1)
        if drop is not None:
            cond = torch.where(drop[:, None], self.null.expand_as(cond), cond)
        return cond

    # ---------------------------------------------------------------- training
    def loss(
        self,
        past: torch.Tensor,
        fut: torch.Tensor,
        nbr: torch.Tensor,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Denoising loss of agent-frame futures (B, H, 2) given past and neighbours."""
        c = self.config
        x0 = self.norm.normalize(fut.reshape(len(fut), -1)).reshape(fut.shape)
        noise = torch.randn(x0.shape, generator=generator)
        t = torch.randint(0, c.train_steps, (len(x0),), generator=generator)
        xt = self.scheduler.add_noise(x0, noise, t)
        drop = torch.rand(len(x0), generator=generator) < c.cond_drop
        out = self.unet(xt, t, self.condition(past, nbr, drop))
        target = training_target(self.scheduler, x0, noise, t, c.prediction)
        return torch.mean((out - target) ** 2)

    def forward(self, batch: dict, generator: torch.Generator | None = None) -> torch.Tensor:
        """The training loss of a batch {past, fut, nbr} (the shared trainer's interface)."""
        return self.loss(batch["past"], batch["fut"], batch["nbr"], generator)

    # ---------------------------------------------------------------- sampling
    @torch.no_grad()
    def sample_agent(
        self, past: torch.Tensor, nbr: torch.Tensor, k: int, seed: int = 0
    ) -> torch.Tensor:
        """(B, K, H, 2) agent-frame futures for agent-frame conditions."""
        c = self.config
        b = len(past)
        cond = self.condition(past, nbr).repeat_interleave(k, dim=0)
        null = self.null.expand_as(cond)
        sch = sampler(c.noise(), "ddpm", c.sample_steps)

        def denoise(x, t, drop):
            return self.unet(x, t, null if drop else cond)

        gen = torch.Generator().manual_seed(int(seed))
        x = sample(denoise, (b * k, c.horizon, 2), sch, generator=gen, guidance=c.guidance)
        x = self.norm.unnormalize(x.reshape(b * k, -1)).reshape(b, k, c.horizon, 2)
        return x

    def forecast(
        self, obs: np.ndarray, neighbours: np.ndarray, k: int = 20, seed: int = 0, batch: int = 512
    ) -> np.ndarray:
        """(N, K, H, 2) world-frame futures for world-frame windows obs (N, P, 2) and
        neighbours (N, M, P, 2) (NaN where absent)."""
        self.eval()
        origin, rot = agent_frames(obs)
        past = to_agent(obs, origin, rot)
        nbr = to_agent(neighbours[:, : self.config.max_neighbours], origin, rot)
        out = []
        for i in range(0, len(obs), batch):
            p = torch.as_tensor(past[i : i + batch], dtype=torch.float32)
            n = torch.as_tensor(nbr[i : i + batch], dtype=torch.float32)
            out.append(self.sample_agent(p, n, k, seed + i).numpy())
        fut = np.concatenate(out) if out else np.zeros((0, k, self.config.horizon, 2))
        return to_world(fut.astype(np.float64), origin, rot)


register_method("behavior_path", PathConfig, PathDiffusion)
