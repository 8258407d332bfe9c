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

Scene guidance (path stage, `sample(..., scene_guidance=w)`, off at 0): at every reverse step
the predicted clean path is nudged down the gradient of a penalty on the occupied cells of the
condition's own occupancy crop, 0.5 * max(0, GUIDE_MARGIN_M - d)^2 per frame with d the floor
distance to the nearest occupied cell, as trajectory-guidance samplers do (Trace and Pace,
Rempe et al. 2023; Diffuser, Janner et al. 2022) but on the x0 estimate rather than on the
noisy sample: w = 1 moves each frame out of the margin in one step.
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
CROP_CELL_M = 0.1  # the occupancy crop's cell (RoomConfig.crop_cell_m: 64 x 0.1 m, as ATS)
GUIDE_MARGIN_M = 0.3  # scene guidance keeps path frames this far from occupied cells: the
# walkable grid's body radius (0.25 m) and a few centimetres of swing
GUIDE_OCCUPIED_M = 0.05  # crop cells taller than this are obstacles (the map skips the floor)
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
        self,
        batch: dict,
        k: int = 1,
        seed: int = 0,
        steps: int | None = None,
        scene_guidance: float = 0.0,
    ) -> torch.Tensor:
        """(B, K, T, D) samples in data units for the conditions (and control) in `batch`.

        steps: reverse steps (default config.sample_steps; DDPM, or DDIM when fewer than the
        training steps are asked for). scene_guidance: path stage, the weight of the nudge away
        from the crop's occupied cells (see the module doc; 0: off).
        """
        c = self.config
        self.eval()
        if scene_guidance < 0:
            raise ValueError(f"scene_guidance={scene_guidance}: expected >= 0")
        if scene_guidance and (c.stage != "path" or c.prediction != "x0"):
            raise ValueError(
                f"scene_guidance: only the path stage predicting x0 is guided, this is the "
                f"{c.stage!r} stage predicting {c.prediction!r}"
            )
        b = len(batch["past"])
        frames, dim = c.shape
        cond = self.cond(batch).repeat_interleave(k, dim=0)
        null = self.cond(batch, torch.ones(b, dtype=torch.bool)).repeat_interleave(k, dim=0)
        ctrl = self.control(batch)
        if ctrl is not None:
            ctrl = ctrl.repeat_interleave(k, dim=0)
        n = steps or c.sample_steps
        sch = sampler(c.noise(), "ddpm" if n == c.train_steps else "ddim", n)

        cells = None
        if scene_guidance:
            cells = crop_cells(batch["scene"]).repeat_interleave(k, dim=0)

        def denoise(x, t, drop):
            out = self._denoise(x, t, null if drop else cond, ctrl)
            if cells is None:
                return out
            path = self.norm.unnormalize(out.reshape(len(out), -1)).reshape(out.shape)
            path = scene_nudge(path, cells, scene_guidance)
            return self.norm.normalize(path.reshape(len(out), -1)).reshape(out.shape)

        gen = torch.Generator().manual_seed(int(seed))
        x = sample(denoise, (b * k, frames, dim), sch, generator=gen, guidance=c.guidance)
        x = self.norm.unnormalize(x.reshape(b * k, -1)).reshape(b, k, frames, dim)
        return x


def crop_cells(scene_cm: torch.Tensor, cell_m: float = CROP_CELL_M) -> torch.Tensor:
    """(B, H, W) uint8 crops (cm) -> (B, H W, 3): each cell's agent-frame floor centre (m) and
    1 where it is occupied (RoomNav's crop: row i is heading x, column j heading y, centred on
    the agent)."""
    b, h, w = scene_cm.shape
    ix = (torch.arange(h, dtype=torch.float32) - (h - 1) / 2) * cell_m
    iy = (torch.arange(w, dtype=torch.float32) - (w - 1) / 2) * cell_m
    centres = torch.stack(torch.meshgrid(ix, iy, indexing="ij"), dim=-1).reshape(1, h * w, 2)
    occupied = (scene_cm.float() * 0.01 > GUIDE_OCCUPIED_M).reshape(b, h * w, 1).float()
    return torch.cat([centres.expand(b, -1, -1), occupied], dim=-1)


def scene_nudge(
    path: torch.Tensor, cells: torch.Tensor, weight: float, cell_m: float = CROP_CELL_M
) -> torch.Tensor:
    """(B, T, 3) paths (m, agent frame) moved by -weight x the gradient of the scene penalty
    (module doc) w.r.t. their floor points; cells (B, N, 3) from `crop_cells`.

    d is signed: outside obstacles, the distance to the nearest occupied cell (to its centre
    less half a cell); on one, minus that to the nearest free cell, so a frame inside furniture
    is pushed out the near side rather than deeper in."""
    xy = path[..., :2]  # (B, T, 2)
    diff = xy[:, :, None] - cells[:, None, :, :2]  # (B, T, N, 2)
    dist = torch.linalg.vector_norm(diff, dim=-1)  # (B, T, N)
    occ = cells[:, None, :, 2] > 0.5  # (B, 1, N)
    inf = torch.full_like(dist, float("inf"))
    d_occ, i_occ = torch.where(occ, dist, inf).min(dim=-1)  # (B, T)
    d_free, i_free = torch.where(occ, inf, dist).min(dim=-1)
    inside = d_occ < d_free  # the frame's own cell is occupied

    def unit(i: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        v = torch.gather(diff, 2, i[..., None, None].expand(-1, -1, 1, 2))[:, :, 0]
        return v / d.clamp_min(1e-6)[..., None]  # (B, T, 2) from that cell to the frame

    signed = torch.where(inside, -(d_free - cell_m / 2), d_occ - cell_m / 2)
    away = torch.where(inside[..., None], -unit(i_free, d_free), unit(i_occ, d_occ))
    # penalty 0.5 relu(m - d)^2, so -grad = relu(m - d) x the unit gradient of d
    push = (GUIDE_MARGIN_M - signed).clamp_min(0.0).nan_to_num(0.0, posinf=0.0, neginf=0.0)
    out = path.clone()
    out[..., :2] = xy + weight * push[..., None] * away.nan_to_num(0.0)
    return out


register_method("behavior_stage", StageConfig, StageDiffusion)
