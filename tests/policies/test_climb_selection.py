"""Choosing among sampled chunks and steering them: the route criterion on hand-made contacts,
which hand moves next, the finishing prompt, candidate choice in the loop and reach guidance of
the shipped model's sampler."""

import gymnasium as gym
import numpy as np
import pytest
import torch

import navenv  # noqa: F401
from navenv.body.joints import joint_index
from policies.climb_diffusion.kinematics import feature_joints
from policies.climb_diffusion.selection import (
    SelectionConfig,
    moving_hand,
    next_target,
    route_score,
)

ROUTE = [10, 11, 12, 13]  # scene hold indices in route order
HOLDS = np.array([[0.0, 0.0, z] for z in np.linspace(0.0, 3.0, 20)])  # (20, 3) m
HOLDS[10:14] = [[0, 0, 1.0], [0, 0, 1.5], [0, 0, 2.0], [0, 0, 2.5]]


def chunk(left: list[int], right: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(T, 4) contacts with the given hand holds per frame (feet free) and grip sites on them
    (a free hand 0.4 m below the route's next hold)."""
    t = len(left)
    contacts = np.full((t, 4), -1)
    contacts[:, 0], contacts[:, 1] = left, right
    sites = np.zeros((t, 4, 3))
    for i in range(t):
        for limb in (0, 1):
            h = contacts[i, limb]
            sites[i, limb] = HOLDS[h] if h >= 0 else HOLDS[12] - [0, 0, 0.4]
    return contacts, sites


def test_next_target_and_moving_hand():
    held = np.array([10, 11, -1, -1])
    assert next_target(ROUTE, held) == (1, 12)
    hands = HOLDS[[10, 11]]
    assert moving_hand(ROUTE, held, hands, HOLDS[12]) == 0  # the lower hand goes
    assert moving_hand(ROUTE, np.array([-1, 11, -1, -1]), hands, HOLDS[12]) == 0  # the free one
    on_top = np.array([12, 13, -1, -1])
    assert next_target(ROUTE, on_top) == (3, 13)  # the top again: the match
    assert moving_hand(ROUTE, on_top, HOLDS[[12, 13]], HOLDS[13]) == 0


def test_route_score_prefers_progress_and_penalises_off_route():
    held = np.array([10, 11, -1, -1])
    hover, hover_sites = chunk([10] * 6, [11] * 6)
    reach, reach_sites = chunk([10, 10, -1, -1, 12, 12], [11] * 6)
    off, off_sites = chunk([10, 10, -1, -1, 5, 5], [11] * 6)
    score = [
        route_score(c, s, ROUTE, HOLDS, held, known=2)
        for c, s in ((hover, hover_sites), (reach, reach_sites), (off, off_sites))
    ]
    assert score[1] > score[0] > score[2]
    assert score[1] == pytest.approx(1.0)  # one hold gained, the target reached
    # known frames are the executed past: a hold gripped there counts for nothing
    past, past_sites = chunk([12, 12, 10, 10, 10, 10], [11] * 6)
    assert route_score(past, past_sites, ROUTE, HOLDS, held, known=2) == pytest.approx(score[0])
    # the match: both hands on the top earns the finish bonus
    top = np.array([12, 13, -1, -1])
    match, match_sites = chunk([12, 12, 13, 13, 13, 13], [13] * 6)
    cfg = SelectionConfig(finish=5.0)
    assert route_score(match, match_sites, ROUTE, HOLDS, top, 2, cfg) == pytest.approx(5.0)


@pytest.fixture(scope="module")
def env_and_info(scene):
    env = gym.make("ClimbRoute-v0", scene=scene, route=0, obs="state", control="kinematic")
    obs, info = env.reset(seed=0)
    yield env, obs, info
    env.close()


def test_finish_prompt_asks_for_the_top_while_one_hand_holds_it(env_and_info, tiny_checkpoint):
    from policies.climb_diffusion.policy import ClimbDiffusionPolicy, RecedingConfig

    env, _, info = env_and_info
    for finish in (True, False):
        p = ClimbDiffusionPolicy(
            tiny_checkpoint,
            action_space=env.action_space,
            config=RecedingConfig(finish_prompt=finish),
        )
        p.reset(seed=0, info=info)
        top, below = p.route_order[-1], p.route_order[-2]
        prompt = p._prompt(np.array([below, top, -1, -1]))
        assert prompt == ([below, top, top] if finish else [below, top])
        assert p._prompt(np.array([top, top, -1, -1])) == [top]  # matched: nothing to ask


def test_candidates_execute_the_best_scored_chunk(env_and_info, tiny_checkpoint):
    """With K candidates the policy keeps each one's score and executes the argmax; K = 1 is
    the single draw, as before."""
    from policies.climb_diffusion.policy import ClimbDiffusionPolicy, RecedingConfig

    env, obs, info = env_and_info
    cfg = RecedingConfig(execute_frames=8, known_frames=2, blend_frames=2, candidates=3)
    p = ClimbDiffusionPolicy(tiny_checkpoint, action_space=env.action_space, config=cfg)
    p.reset(seed=0, info=info)
    p.act(obs)
    assert len(p.choices) == 1 and p.choices[0].shape == (3,)
    picked = p.choose(np.stack([p.plans[0].features.astype(np.float32)] * 3))
    assert picked.shape == p.plans[0].features.shape and len(p.choices) == 2
    one = ClimbDiffusionPolicy(tiny_checkpoint, action_space=env.action_space)
    one.reset(seed=0, info=info)
    one.act(obs)
    assert one.choices == []


def test_reach_guidance_pulls_a_hand_to_its_target():
    """The shipped model's sampler with reach guidance ends the left hand nearer a target 0.3 m
    from where it would put it, the more the weight; the right hand (no target) is not pulled."""
    from benchmarks.perf_diffusion import clip_batch
    from policies.pretrained import load_pretrained

    model = load_pretrained("climb_diffusion_small")
    batch = clip_batch(model, seed=0)
    betas = batch["betas"][0].numpy()
    lh, rh = joint_index("left_hand"), joint_index("right_hand")
    free = model.sample(batch, seed=0)[0, 0].numpy()
    target = feature_joints(free, betas)[-1, lh] + np.array([0.0, 0.0, 0.3])
    reach = torch.full((1, 2, 3), float("nan"))
    reach[0, 0] = torch.from_numpy(target)

    def end_distance(weight: float) -> tuple[float, float]:
        f = model.sample(batch, seed=0, reach=reach, reach_weight=weight)[0, 0].numpy()
        j = feature_joints(f, betas)[-5:]
        return float(np.linalg.norm(j[:, lh] - target, axis=-1).mean()), j[:, rh]

    d0, right0 = end_distance(0.0)
    d1, right1 = end_distance(1.0)
    assert d0 > 0.2 and d1 < 0.6 * d0
    assert np.linalg.norm(right1 - right0, axis=-1).mean() < 0.5 * (d0 - d1)
    with pytest.raises(ValueError, match="reach_weight"):
        model.sample(batch, reach=reach, reach_weight=2.0)
