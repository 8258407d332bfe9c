"""ClimbDiffusionPolicy in the env: short episodes on a tiny checkpoint, seeded replanning,
continuous hand-over between chunks, contact inference and grounding."""

import gymnasium as gym
import mujoco
import numpy as np
import pytest
import torch

import navenv  # noqa: F401
from navenv.body.motion import FEATURE_DIM, FEATURE_LAYOUT
from navenv.envs.climb.spawn import grip_point
from policies.climb_diffusion.grounding import (
    GroundingConfig,
    grip_sites,
    ground_chunk,
    infer_contacts,
    schedule_contacts,
)
from policies.climb_diffusion.policy import (
    BatchedClimbDiffusionPolicy,
    ClimbDiffusionPolicy,
    RecedingConfig,
)
from policies.climb_diffusion.receding import (
    Plan,
    continue_root,
    handover,
    known_times,
    max_step,
    smooth,
)
from policies.registry import make_policy, policy_env_kwargs

TRANSL = FEATURE_LAYOUT["transl"]
STEPS = 45  # env steps: 1.5 s, two replans with execute_frames=8


def run(scene, checkpoint, control: str, seed: int = 0):
    kw = {"assist": "residual"} if control == "physics" else {}
    env = gym.make("ClimbRoute-v0", scene=scene, route=0, obs="state", control=control, **kw)
    policy = ClimbDiffusionPolicy(
        checkpoint,
        action_space=env.action_space,
        config=RecedingConfig(execute_frames=8, known_frames=2, blend_frames=2),
    )
    obs, info = env.reset(seed=seed)
    policy.reset(seed=seed, info=info)
    actions = []
    for _ in range(STEPS):
        a = policy.act(obs)
        actions.append(a)
        obs, _, terminated, truncated, _ = env.step(a)
        if terminated or truncated:
            break
    env.close()
    return policy, np.array(actions)


@pytest.mark.parametrize("control", ["kinematic", "physics"])
def test_short_episode_without_nans(scene, tiny_checkpoint, control):
    """Both control modes: finite actions inside the action box, and it replans."""
    policy, actions = run(scene, tiny_checkpoint, control)
    assert np.isfinite(actions).all()
    assert np.abs(actions).max() <= 1.0
    assert len(policy.plans) >= 2, "execute_frames=8 at 15 fps replans within 1.5 s"
    assert all(np.isfinite(p.features).all() for p in policy.plans)


def test_replanning_is_seeded(scene, tiny_checkpoint):
    """The same seed repeats every action; another seed samples other chunks."""
    _, a = run(scene, tiny_checkpoint, "kinematic", seed=3)
    _, b = run(scene, tiny_checkpoint, "kinematic", seed=3)
    _, c = run(scene, tiny_checkpoint, "kinematic", seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_chunks_continue_the_executed_motion(scene, tiny_checkpoint):
    """Where a chunk meets the executed motion, its root steps no further than inside it."""
    policy, _ = run(scene, tiny_checkpoint, "kinematic")
    for plan in policy.plans[1:]:
        known = 2
        boundary = np.linalg.norm(plan.features[known, TRANSL] - plan.features[known - 1, TRANSL])
        assert boundary <= max(max_step(plan.features[known:]), 0.02) + 1e-9


def test_plan_ahead_is_the_executed_chunk_in_world_joints(scene, tiny_checkpoint):
    """The ghost a video draws: FK of the chunk from now on, the first frame the body the
    kinematic env is in, the rest clamped at the chunk's end."""
    kw = {"obs": "state", "control": "kinematic"}
    env = gym.make("ClimbRoute-v0", scene=scene, route=0, **kw)
    policy = ClimbDiffusionPolicy(tiny_checkpoint, action_space=env.action_space)
    obs, info = env.reset(seed=0)
    policy.reset(seed=0, info=info)
    with pytest.raises(RuntimeError, match="no chunk"):
        policy.plan_ahead(1.0)
    for _ in range(10):
        obs, *_ = env.step(policy.act(obs))
    ahead = policy.plan_ahead(1.0)
    fps = policy.mcfg.fps
    assert ahead.shape == (round(fps) + 1, 24, 3) and np.isfinite(ahead).all()
    u = env.unwrapped
    body = u.data.xpos[u.world.index.bodies]
    assert np.abs(ahead[0] - body).max() < 0.02  # now: where the kinematic body is
    far = policy.plan_ahead(100.0)
    np.testing.assert_allclose(far[-1], far[-2])  # past the chunk's end: its last pose
    env.close()


def _kinematic(scene, checkpoint, **config):
    env = gym.make("ClimbRoute-v0", scene=scene, route=0, obs="state", control="kinematic")
    policy = ClimbDiffusionPolicy(
        checkpoint, action_space=env.action_space, config=RecedingConfig(**config)
    )
    obs, info = env.reset(seed=0)
    policy.reset(seed=0, info=info)
    return env, policy, obs, info


def test_held_holds_are_read_from_the_observation(scene, tiny_checkpoint):
    """Which hold each limb grips is the env's own, read from the route position the
    observation gives (not guessed from the nearest hold)."""
    env, policy, obs, info = _kinematic(scene, tiny_checkpoint)
    policy.observe(obs)
    np.testing.assert_array_equal(policy.history[-1][2], info["grips"])
    env.close()


def test_a_grip_opens_to_switch_holds(scene, tiny_checkpoint):
    """Kinematic grips stay on the hold they closed on, so a limb the chunk puts on another
    hold is commanded open for a step (and closes again on the new one after)."""
    env, policy, obs, info = _kinematic(scene, tiny_checkpoint)
    layout = policy.action_layout
    a = policy.act(obs)
    assert (layout.get(a, "grips") > 0).all(), "the start stance: every limb on its hold"
    other = next(h for h in range(len(scene.holds)) if h not in info["grips"])
    policy._plan_contacts[:, 0] = other
    obs, *_ = env.step(a)
    grips = layout.get(policy.act(obs), "grips")
    assert grips[0] <= 0 and (grips[1:] > 0).all()
    env.close()


def test_finish_reach_pulls_the_free_hand_to_the_top(scene, tiny_checkpoint):
    """With one hand on the top hold the next request pulls the other hand there with
    finish_reach; elsewhere (reach_weight 0) no hand is pulled."""
    env, policy, obs, _ = _kinematic(scene, tiny_checkpoint, finish_reach=0.5)
    policy.observe(obs)
    batch, _ = policy.chunk_request()
    assert not torch.isfinite(batch["reach"]).any() and float(batch["reach_weight"][0]) == 0.0
    top = policy.route_order[-1]
    t, feats, held = policy.history[-1]
    policy.history[-1] = (t, feats, [top, held[1], held[2], held[3]])
    batch, _ = policy.chunk_request()
    reach = batch["reach"][0].numpy()
    assert float(batch["reach_weight"][0]) == 0.5
    assert not np.isfinite(reach[0]).any(), "the hand on the top is not pulled"
    np.testing.assert_allclose(reach[1], policy._hold_pos[top], atol=1e-6)
    env.close()


def test_registry_builds_it(scene):
    """climb_diffusion_* are built-ins with the env settings they need."""
    assert policy_env_kwargs("climb_diffusion_physics")["control"] == "physics"
    env = gym.make(
        "ClimbRoute-v0", scene=scene, route=0, **policy_env_kwargs("climb_diffusion_kinematic")
    )
    policy = make_policy("climb_diffusion_kinematic", env)
    assert isinstance(policy, ClimbDiffusionPolicy) and policy.control == "kinematic"
    env.close()


def test_bad_settings_are_refused(tiny_checkpoint):
    with pytest.raises(ValueError, match="execute_frames"):
        RecedingConfig(execute_frames=0)
    with pytest.raises(ValueError, match="known frames"):
        ClimbDiffusionPolicy(tiny_checkpoint, config=RecedingConfig(known_frames=9))
    with pytest.raises(TypeError, match="ClimbDiffusionModel"):
        ClimbDiffusionPolicy(model=object())
    with pytest.raises(ValueError, match="reset info"):
        ClimbDiffusionPolicy(tiny_checkpoint).reset(seed=0, info={})


# ------------------------------------------------------------------ receding horizon, pure
def test_handover_bounds_the_jump():
    """A new chunk 0.3 m off the old one is blended in over `blend` frames: no step above
    0.3 / (blend + 1) m plus the chunk's own motion."""
    t = 30
    old = np.zeros((t, FEATURE_DIM))
    old[:, 0] = np.arange(t) * 0.01  # 0.15 m/s along x
    new = old.copy()
    new[:, 0] += 0.3
    new[:2] = old[:2]  # the known prefix
    out = handover(Plan(old, 0.0, 15.0), Plan(new, 0.0, 15.0), known=2, blend=5)
    assert max_step(out.features) <= 0.3 / 6 + 0.01 + 1e-9
    np.testing.assert_allclose(out.features[7:], new[7:])  # after the blend: the new chunk
    assert max_step(new) > 0.3  # without the hand-over the jump is all at once


def test_continue_root_and_known_times():
    f = np.zeros((10, FEATURE_DIM))
    f[:3, 0] = [0.0, 0.01, 0.02]  # known prefix moving 0.01 per frame
    f[3:, 0] = 0.5  # a sample placed 0.5 m away
    out = continue_root(f, 3)
    np.testing.assert_allclose(out[3, 0], 0.03)
    np.testing.assert_allclose(out[:3], f[:3])
    np.testing.assert_allclose(known_times(1.0, 4, 15.0), 1.0 - np.array([3, 2, 1, 0]) / 15)
    np.testing.assert_allclose(known_times(0.0, 4, 15.0), [0.0])  # none before the start


def test_smooth_keeps_the_known_frames_and_damps_jitter():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(30, FEATURE_DIM))
    out = smooth(f, 2.0, known=4)
    np.testing.assert_array_equal(out[:4], f[:4])
    assert np.abs(np.diff(out[4:], axis=0)).mean() < 0.5 * np.abs(np.diff(f[4:], axis=0)).mean()
    np.testing.assert_array_equal(smooth(f, 0.0), f)


# ------------------------------------------------------------------ grounding
def test_infer_contacts_from_slow_limbs_near_holds():
    holds = np.array([[0.0, 0.0, 1.0], [0.5, 0.0, 1.5]])
    t = 12
    sites = np.full((t, 4, 3), 10.0)  # far from everything
    sites[:, 0] = holds[0] + [0.05, 0.0, 0.0]  # left hand rests near hold 0
    sites[:6, 1] = holds[1] + [0.0, 0.1, 0.0]  # right hand near hold 1, then flies off
    sites[6:, 1] = holds[1] + np.linspace(0.3, 3.0, 6)[:, None] * [1.0, 0.0, 0.0]
    sites[5:7, 2] = holds[1]  # the left foot passes hold 1 for 2 frames: too short
    c = infer_contacts(sites, holds, 15.0, GroundingConfig(min_frames=3))
    assert (c[:, 0] == 0).all()
    assert (c[:5, 1] == 1).all() and (c[7:, 1] == -1).all()
    assert (c[:, 2] == -1).all() and (c[:, 3] == -1).all()
    held = infer_contacts(sites, holds, 15.0, held=np.array([-1, -1, -1, 0]))
    assert (held[:, 3] == -1).all(), "a held limb far from its hold lets go"


def test_infer_contacts_takes_only_allowed_holds():
    """An off-route hold nearer the hand than the route hold is passed over for the route
    hold within the radius; an off-route hold held already is kept while no route hold is
    within reach."""
    holds = np.array([[0.0, 0.0, 1.0], [0.12, 0.0, 1.0]])  # 1: the route's, 0: off the route
    sites = np.full((6, 4, 3), 10.0)
    sites[:, 0] = holds[0] + [0.01, 0.0, 0.0]
    assert (infer_contacts(sites, holds, 15.0)[:, 0] == 0).all()
    assert (infer_contacts(sites, holds, 15.0, allowed=[1])[:, 0] == 1).all()
    sites[:, 0] = holds[0] - [0.15, 0.0, 0.0]  # 0.27 m from hold 1: beyond a 0.2 m radius
    cfg = GroundingConfig(radius=0.2)
    assert (infer_contacts(sites, holds, 15.0, cfg, allowed=[1])[:, 0] == -1).all()
    kept = infer_contacts(sites, holds, 15.0, cfg, held=np.array([0, -1, -1, -1]), allowed=[1])
    assert (kept[:, 0] == 0).all()


@pytest.mark.parametrize(
    "field,value", [("radius", 0.0), ("speed", -1.0), ("max_free", 5), ("min_frames", 0)]
)
def test_grounding_config_refuses_bad_values(field, value):
    with pytest.raises(ValueError, match=f"GroundingConfig.{field}"):
        GroundingConfig(**{field: value})


def test_schedule_contacts_limits_free_limbs_and_keeps_the_top():
    held = np.array([3, 4, 1, 2])
    want = np.tile(held, (5, 1))
    want[1:, 0] = -1  # the left hand lets go at frame 1
    want[2:, 2] = -1  # the left foot too at frame 2
    want[3:, 1] = 7  # the right hand switches to hold 7 at frame 3
    out = schedule_contacts(want, held, max_free=1)
    assert (out[1:, 0] == -1).all()
    assert (out[:, 2] == 1).all(), "a second limb may not let go while one is free"
    assert (out[3:, 1] == 7).all(), "a switch is never delayed"
    np.testing.assert_array_equal(schedule_contacts(want, held, max_free=4), want)
    out = schedule_contacts(want, held, max_free=4, top=3)
    assert (out[:, 0] == 3).all(), "a hand on the top hold keeps it"
    np.testing.assert_array_equal(out[:, 1:], want[:, 1:])
    grab = np.full((5, 4), -1)
    grab[2:, 0] = 3  # grabbing is never delayed, even with every other limb free
    none = schedule_contacts(grab, np.full(4, -1), max_free=0)
    np.testing.assert_array_equal(none, grab)


def test_grounding_puts_grip_sites_on_their_holds(world):
    """IK moves a limb meant to hold a hold onto its grip point; frames before start stay."""
    m, idx = world.model, world.index
    data = mujoco.MjData(m)
    q = np.tile(world.spawn_qpos if hasattr(world, "spawn_qpos") else m.qpos0, (3, 1))
    route = world.scene.routes[0]
    q[:, idx.root_qpos.start : idx.root_qpos.start + 3] = world.climb_box[0]
    hold = world.hold_slot[route.start["left_hand"]]
    target = grip_point(world.scene.holds[hold])
    before = grip_sites(m, data, idx, q)[:, 0]
    contacts = np.full((3, 4), -1)
    contacts[:, 0] = hold
    out = ground_chunk(m, data, idx, world.scene, q, contacts, start=1)
    after = grip_sites(m, data, idx, out)[:, 0]
    np.testing.assert_array_equal(out[0], q[0])
    assert np.linalg.norm(before[1] - target) > 0.1
    assert np.linalg.norm(after[1:] - target, axis=-1).max() < 0.03


def env_info(infos: dict, i: int) -> dict:
    """Env i's entry of a vector env's aggregated info."""
    return {k: v[i] for k, v in infos.items() if not k.startswith("_")}


def test_batched_policy_in_a_vector_env_matches_one_env_at_a_time(scene, tiny_checkpoint):
    """Two envs in gym.make_vec with one denoiser call per step give each env the actions the
    policy gives it alone (a seed per row)."""
    cfg = RecedingConfig(execute_frames=8, known_frames=2, blend_frames=2)
    envs = gym.make_vec(
        "ClimbRoute-v0",
        num_envs=2,
        vectorization_mode="sync",
        scene=scene,
        route=0,
        obs="state",
        control="kinematic",
    )
    batched = BatchedClimbDiffusionPolicy(2, tiny_checkpoint, control="kinematic", config=cfg)
    obs, infos = envs.reset(seed=[5, 6])
    for i in range(2):
        batched.reset(i, seed=5 + i, info=env_info(infos, i))
    got = []
    for _ in range(20):
        a = batched.act(obs)
        got.append(a)
        obs, *_ = envs.step(a)
    envs.close()
    got = np.array(got)  # (steps, 2, A)
    assert all(len(p.plans) >= 2 for p in batched.policies)
    for i in range(2):
        env = gym.make("ClimbRoute-v0", scene=scene, route=0, obs="state", control="kinematic")
        single = ClimbDiffusionPolicy(tiny_checkpoint, control="kinematic", config=cfg)
        o, info = env.reset(seed=5 + i)
        single.reset(seed=5 + i, info=info)
        for step in range(20):
            a = single.act(o)
            np.testing.assert_allclose(a, got[step, i], atol=1e-4)
            o, *_ = env.step(a)
        env.close()


def test_loop_val_benchmark_runs_a_checkpoint_over_seeded_routes(tiny_checkpoint):
    from benchmarks.climb_loop_val import run

    a = run(str(tiny_checkpoint), split="val", routes=1, max_steps=20)
    b = run(str(tiny_checkpoint), split="val", routes=1, max_steps=20)
    assert a == b  # seeded: the same routes and chunks
    assert len(a["rows"]) == 1 and 0.0 <= a["progress"] <= 1.0
    assert a["completed"] == 0  # 20 steps do not climb a route


def test_loop_val_overrides_reach_the_policy(tiny_checkpoint, capsys):
    """--receding / --grounding overrides run over the same seeded routes; an unknown field or
    a bare name is a usage error that says what is wrong."""
    from benchmarks.climb_loop_val import main, run

    base = run(str(tiny_checkpoint), split="val", routes=1, max_steps=20)
    other = run(
        str(tiny_checkpoint),
        "val",
        1,
        20,
        receding={"execute_frames": 5},
        grounding={"radius": 0.1},
    )
    assert base["rows"][0]["route"] == other["rows"][0]["route"]
    with pytest.raises(SystemExit):
        main([str(tiny_checkpoint), "--grounding", "radiu=0.1"])
    assert "radiu" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([str(tiny_checkpoint), "--receding", "execute_frames"])
    assert "FIELD=VALUE" in capsys.readouterr().err


def test_physics_moves_one_limb_at_a_time_by_default(tiny_checkpoint):
    """The contact schedule's default depends on the control mode (GroundingConfig.max_free);
    a given GroundingConfig is used as it is."""
    phys = ClimbDiffusionPolicy(tiny_checkpoint, control="physics", assist="residual")
    kin = ClimbDiffusionPolicy(tiny_checkpoint, control="kinematic")
    assert phys.grounding.max_free == 1 and kin.grounding.max_free == 4
    given = GroundingConfig(max_free=3)
    assert (
        ClimbDiffusionPolicy(tiny_checkpoint, control="physics", grounding=given).grounding is given
    )
