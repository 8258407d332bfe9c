"""Fixtures shared by the policies' tests: the shipped vertical wall, its compiled world and a
tiny ClimbDiffusion checkpoint."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import scenes
from navenv.body import Skeleton
from navenv.body.motion import FEATURE_DIM
from navenv.envs.climb.compiled import compile_world
from navenv.envs.climb.config import ClimbConfig
from navenv.humanoid.pose import motion_from_qpos
from policies.climb_diffusion import ClimbDiffusionConfig, ClimbDiffusionModel
from policies.pretrained import save_pretrained


@pytest.fixture(scope="module")
def scene():
    """The shipped training wall the expert's tests climb."""
    return scenes.load("wall_vertical_01")


@pytest.fixture(scope="module")
def world(scene):
    """That wall with the builtin humanoid, compiled as ClimbRoute-v0 would."""
    return compile_world(scene, Skeleton.builtin(), ClimbConfig())


def start_features(scene) -> torch.Tensor:
    """(147,) features of the env's start stance on route 0 (world frame)."""
    env = gym.make("ClimbRoute-v0", scene=scene, route=0, obs="state")
    env.reset(seed=0)
    u = env.unwrapped
    motion = motion_from_qpos(u.data.qpos[None].copy(), u.index, Skeleton.builtin(), 15.0)
    env.close()
    return torch.from_numpy(motion.to_features(np.float32)[0])


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory, scene):
    """A tiny untrained ClimbDiffusion checkpoint on disk, its normaliser fitted on jittered
    copies of the start stance (relative to the start holds' centre, as in training), so its
    samples stay near the start and the short episodes do not end in a fall at once."""
    cfg = ClimbDiffusionConfig(width=32, depth=2, heads=2, sample_steps=2)
    torch.manual_seed(0)
    model = ClimbDiffusionModel(cfg)
    g = torch.Generator().manual_seed(0)
    route = scene.routes[0]
    anchor = torch.tensor(
        np.mean([scene.hold(h).position for h in dict.fromkeys(route.start.values())], axis=0),
        dtype=torch.float32,
    )
    motion = start_features(scene) + 0.01 * torch.randn(16, cfg.frames, FEATURE_DIM, generator=g)
    model.fit_normaliser(motion, anchor.expand(16, 3))
    with torch.no_grad():  # adaLN-Zero starts at a constant output: wake it so seeds matter
        for p in model.model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    return save_pretrained(model, tmp_path_factory.mktemp("ckpt") / "tiny", card="# tiny\n")
