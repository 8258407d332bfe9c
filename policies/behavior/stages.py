"""The room behaviour stages after ATS: goal -> path -> body diffusion, and a one-stage baseline.

Each stage is a `StageDiffusion` denoising its target in the agent frame (policies.behavior.
room_data) given the same conditions: the past track, the observer's track, the ego-centric
occupancy voxels, and (body stages) the body at now. Each condition has its own encoder and can
be switched off by config (an ablation: the slot is then zeros whatever the input); in training
all of them are replaced together by learned null embeddings with probability `cond_drop`, for
classifier-free guidance at sampling.

- goal: one 3D point (the root 5.6 s ahead), a transformer over tokens [noisy goal, diffusion
  step, conditions] (ATS: 4 layers x 256);
- path: the 56 future root positions (56 x 3), a `TemporalUNet`; the goal steers it through the
  ControlNet branch (fed the goal and the straight line to it, frame by frame);
- body: root orientation and joint rotations, 56 x 144 (6D), a `TemporalUNet` steered by the
  path (positions and velocities) through its ControlNet branch;
- onestage: path and body together (56 x 147) straight from the conditions, no control.

Coarser stages are trained on the data's own goals / paths as control (teacher forcing) and
sampled in a chain by `policies.behavior.hierarchy.BehaviorModel`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from policies.behavior.encoders import SceneEncoder, TrackEncoder
from policies.behavior.room_data import FUTURE, PAST, POSE_DIM, TRACK_DIM, voxels
from policies.behavior.unet import TemporalUNet, step_embedding
from policies.diffusion.normalizer import Normalizer
from policies.diffusion.schedule import (
    NoiseConfig,
    sample,
    sampler,
    train_scheduler,
    training_target,
)
from policies.pretrained import register_method

STAGES = ("goal", "path", "body", "onestage")
SLOTS = ("past", "observer", "scene", "pose")  # condition slots, in this order
FPS = 10.0  # the windows' frame rate (path velocities in the body's control are m/s)
CONTROL_DIM = 6
STAGE_SIZES: dict[str, dict] = {
    "tiny": {
        "channels": (16, 32),
        "cond_dim": 16,
        "step_dim": 16,
        "scene_width": 4,
        "goal_width": 32,
        "goal_layers": 2,
        "goal_heads": 2,
    },
    "small": {
        "channels": (64, 128),
        "cond_dim": 64,
        "step_dim": 32,
        "scene_width": 8,
        "goal_width": 128,
        "goal_layers": 4,
        "goal_heads": 4,
    },
    "ats": {  # ATS's public widths (goal transformer 4 x 256)
        "channels": (128, 256, 512),
        "cond_dim": 128,
        "step_dim": 64,
        "scene_width": 16,
        "goal_width": 256,
        "goal_layers": 4,
        "goal_heads": 8,
    },
}


@dataclass(frozen=True)
class StageConfig:
    """One stage of the behaviour hierarchy (see the module doc)."""

    stage: str = "path"
    size: str = "small"
    use_past: bool = True
    use_observer: bool = True
    use_scene: bool = True
    use_pose: bool = True
    """body / onestage: condition on the body at now (continuity when a policy re-plans)."""
    control: bool = True
    """path / body: the coarser stage steers through the ControlNet branch."""
    cond_drop: float = 0.1
    guidance: float = 1.0
    train_steps: int = 50
    sample_steps: int = 50
    beta_schedule: str = "squaredcos_cap_v2"
    prediction: str = "x0"
    scene_pool: str = "flatten"
    voxel_layers: int = 8
    voxel_height_m: float = 2.0

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"StageConfig.stage={self.stage!r}: expected one of {STAGES}")
        if self.size not in STAGE_SIZES:
            raise ValueError(f"StageConfig.size={self.size!r}: expected one of {list(STAGE_SIZES)}")
        if not 0.0 <= self.cond_drop < 1.0:
            raise ValueError(f"StageConfig.cond_drop={self.cond_drop!r}: expected in [0, 1)")
        if self.sample_steps < 1 or self.sample_steps > self.train_steps:
            raise ValueError(
                f"StageConfig.sample_steps={self.sample_steps}: expected 1..{self.train_steps}"
            )
        self.noise()

    def noise(self) -> NoiseConfig:
        """The forward process."""
        return NoiseConfig(self.train_steps, self.beta_schedule, self.prediction)

    @property
    def arch(self) -> dict:
        """Widths of this size."""
        return STAGE_SIZES[self.size]

    @property
    def shape(self) -> tuple[int, int]:
        """(frames, features) of the stage's target."""
        return {
            "goal": (1, 3),
            "path": (FUTURE, 3),
            "body": (FUTURE, POSE_DIM),
            "onestage": (FUTURE, 3 + POSE_DIM),
        }[self.stage]

    @property
    def slots(self) -> dict[str, bool]:
        """Which condition slots are fed (pose only to the body stages)."""
        body = self.stage in ("body", "onestage")
        return {
            "past": self.use_past,
            "observer": self.use_observer,
            "scene": self.use_scene,
            "pose": self.use_pose and body,
        }

    @property
    def controlled(self) -> bool:
        """Whether the stage has a ControlNet branch."""
        return self.control and self.stage in ("path", "body")


class Conditioner(nn.Module):
    """Condition batch -> (B, 4, cond_dim): one embedding per slot (zeros for a slot switched
    off; the learned null embeddings where `drop` is True)."""

    def __init__(self, config: StageConfig) -> None:
        super().__init__()
        a, self.on = config.arch, config.slots
        d = a["cond_dim"]
        self.cfg = config
        enc: dict[str, nn.Module] = {}
        if self.on["past"]:
            enc["past"] = TrackEncoder(PAST, d, TRACK_DIM)
        if self.on["observer"]:
            enc["observer"] = TrackEncoder(PAST, d, TRACK_DIM)
        if self.on["scene"]:
            enc["scene"] = SceneEncoder(
                d, config.voxel_layers, a["scene_width"], pool=config.scene_pool
            )
        if self.on["pose"]:
            enc["pose"] = nn.Sequential(nn.Linear(POSE_DIM, 2 * d), nn.Mish(), nn.Linear(2 * d, d))
        self.enc = nn.ModuleDict(enc)
        self.null = nn.Parameter(torch.zeros(len(SLOTS), d))

    def forward(self, batch: dict, drop: torch.Tensor | None = None) -> torch.Tensor:
        """See the class doc."""
        b = len(batch["past"])
        d = self.null.shape[1]
        out = []
        for name in SLOTS:
            if name not in self.enc:
                out.append(self.null.new_zeros(b, d))
                continue
            x = batch[name]
            if name == "scene":
                x = voxels(x, self.cfg.voxel_layers, self.cfg.voxel_height_m)
            out.append(self.enc[name](x))
        h = torch.stack(out, dim=1)  # (B, 4, d)
        if drop is not None:
            live = torch.tensor([self.on[n] for n in SLOTS])
            null = torch.where(live[:, None], self.null, torch.zeros_like(self.null))
            h = torch.where(drop[:, None, None], null.expand_as(h), h)
        return h


class GoalTransformer(nn.Module):
    """Denoiser of one point: tokens [x_t, step, 4 conditions] -> the x token's output (B, 1, 3)."""

    def __init__(self, dim: int, cond_dim: int, width: int, layers: int, heads: int) -> None:
        super().__init__()
        self.width = width
        self.inp = nn.Linear(dim, width)
        self.cond = nn.Linear(cond_dim, width)
        self.step = nn.Sequential(nn.Linear(width, width), nn.Mish(), nn.Linear(width, width))
        self.pos = nn.Parameter(torch.zeros(2 + len(SLOTS), width))
        nn.init.normal_(self.pos, std=0.02)
        layer = nn.TransformerEncoderLayer(
            width, heads, 4 * width, dropout=0.0, batch_first=True, norm_first=True
        )
        self.body = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.out = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, dim))

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """x (B, 1, D), t (B,), cond (B, 4, cond_dim) -> (B, 1, D)."""
        tok = torch.cat(
            [
                self.inp(x),
                self.step(step_embedding(t, self.width))[:, None],
                self.cond(cond),
            ],
            dim=1,
        )  # (B, 6, width)
        h = self.body(tok + self.pos)
        return self.out(h[:, :1])


def goal_control(goal: torch.Tensor, frames: int = FUTURE) -> torch.Tensor:
    """(B, 3) goals -> (B, T, 6) path control: the goal and the straight line to it per frame."""
    frac = torch.arange(1, frames + 1, dtype=goal.dtype, device=goal.device) / frames
    g = goal[:, None].expand(-1, frames, -1)
    return torch.cat([g, g * frac[None, :, None]], dim=-1)


def path_control(path: torch.Tensor) -> torch.Tensor:
    """(B, T, 3) root paths -> (B, T, 6) body control: positions and velocities (m/s)."""
    vel = torch.diff(path, dim=1, prepend=torch.zeros_like(path[:, :1])) * FPS
    return torch.cat([path, vel], dim=-1)


class StageDiffusion(nn.Module):
    """One stage (see the module doc): loss in training, samples at inference."""

    method = "behavior_stage"

    def __init__(self, config: StageConfig) -> None:
        super().__init__()
        self.config = c = config
        a = c.arch
        frames, dim = c.shape
        self.norm = Normalizer(frames * dim)
        self.cond = Conditioner(c)
        if c.stage == "goal":
            self.net = GoalTransformer(
                dim, a["cond_dim"], a["goal_width"], a["goal_layers"], a["goal_heads"]
            )
        else:
            self.net = TemporalUNet(
                dim,
                len(SLOTS) * a["cond_dim"],
                tuple(a["channels"]),
                a["step_dim"],
                control_dim=CONTROL_DIM if c.controlled else 0,
            )
        self.scheduler = train_scheduler(c.noise())

    # ---------------------------------------------------------------- helpers
    def target(self, batch: dict) -> torch.Tensor:
        """(B, T, D) the stage's clean target in data units."""
        s = self.config.stage
        if s == "goal":
            return batch["goal"][:, None]
        if s == "path":
            return batch["path"]
        if s == "body":
            return batch["body"]
        return torch.cat([batch["path"], batch["body"]], dim=-1)

    def control(self, batch: dict) -> torch.Tensor | None:
        """(B, T, 6) the ControlNet input from the coarser stage's output in `batch`."""
        if not self.config.controlled:
            return None
        if self.config.stage == "path":
            return goal_control(batch["goal"])
        return path_control(batch["path"])

    def fit_normaliser(self, data: dict) -> None:
        """Per-dimension statistics of the targets of a training set (a dict of FIELDS)."""
        x = self.target(data)
        self.norm.fit(x.reshape(len(x), -1))

    def _denoise(self, x, t, cond, control) -> torch.Tensor:
        if self.config.stage == "goal":
            return self.net(x, t, cond)
        return self.net(x, t, cond.flatten(1), control)

    # ---------------------------------------------------------------- training
    def forward(self, batch: dict, generator: torch.Generator | None = None) -> torch.Tensor:
        """Denoising loss of a batch (the shared trainer's interface)."""
        c = self.config
        x = self.target(batch)
        x0 = self.norm.normalize(x.reshape(len(x), -1)).reshape(x.shape)
        noise = torch.randn(x0.shape, generator=generator).to(x0.device)
        t = torch.randint(0, c.train_steps, (len(x0),), generator=generator).to(x0.device)
        xt = self.scheduler.add_noise(x0, noise, t)
        drop = (torch.rand(len(x0), generator=generator) < c.cond_drop).to(x0.device)
        out = self._denoise(xt, t, self.cond(batch, drop), self.control(batch))
        target = training_target(self.scheduler, x0, noise, t, c.prediction)
        return torch.mean((out - target) ** 2)

    # ---------------------------------------------------------------- sampling
    @torch.no_grad()
    def sample(
        self, batch: dict, k: int = 1, seed: int = 0, steps: int | None = None
    ) -> torch.Tensor:
        """(B, K, T, D) samples in data units for the conditions (and control) in `batch`.

        steps: reverse steps (default config.sample_steps; DDPM, or DDIM when fewer than the
        training steps are asked for).
        """
        c = self.config
        self.eval()
        b = len(batch["past"])
        frames, dim = c.shape
        cond = self.cond(batch).repeat_interleave(k, dim=0)
        null = self.cond(batch, torch.ones(b, dtype=torch.bool)).repeat_interleave(k, dim=0)
        ctrl = self.control(batch)
        if ctrl is not None:
            ctrl = ctrl.repeat_interleave(k, dim=0)
        n = steps or c.sample_steps
        sch = sampler(c.noise(), "ddpm" if n == c.train_steps else "ddim", n)

        def denoise(x, t, drop):
            return self._denoise(x, t, null if drop else cond, ctrl)

        gen = torch.Generator().manual_seed(int(seed))
        x = sample(denoise, (b * k, frames, dim), sch, generator=gen, guidance=c.guidance)
        x = self.norm.unnormalize(x.reshape(b * k, -1)).reshape(b, k, frames, dim)
        return x


register_method("behavior_stage", StageConfig, StageDiffusion)
