"""Action and observation layouts: named slices that agree with what the env really does."""

import gymnasium as gym
import numpy as np
import pytest

import navenv  # noqa: F401  (registers ClimbRoute-v0)
from navenv.envs.climb.layout import (
    HOLD_COLUMNS,
    PROPRIO,
    action_layout,
    action_modes,
    obs_layout,
    route_layout,
)
from navenv.envs.layout import ObsLayout, VectorLayout
from navenv.humanoid.names import NUM_HINGES


def test_vector_layout_split_join_round_trip_and_batches() -> None:
    lay = VectorLayout([("a", 2), ("b", (2, 3)), ("c", 1)])
    assert lay.size == 9 and lay["b"] == slice(2, 8) and lay.names == ("a", "b", "c")
    v = np.arange(9.0)
    parts = lay.split(v)
    assert parts["b"].shape == (2, 3) and parts["b"][1, 0] == 5.0 and parts["c"].shape == (1,)
    np.testing.assert_array_equal(lay.join(**parts), v.astype(np.float32))
    batch = np.arange(27.0).reshape(3, 9)
    assert lay.split(batch)["b"].shape == (3, 2, 3)
    np.testing.assert_array_equal(lay.join(dtype=np.float64, **lay.split(batch)), batch)
    # a scalar-shaped part broadcasts over the batch of the others
    out = lay.join(a=np.zeros((3, 2)), b=np.ones((2, 3)), c=[7.0])
    assert out.shape == (3, 9) and (out[:, 8] == 7).all()


def test_vector_layout_errors_name_the_problem() -> None:
    lay = VectorLayout([("a", 2), ("b", 3)])
    with pytest.raises(ValueError, match="expected a vector of 5 values"):
        lay.split(np.zeros(4))
    with pytest.raises(ValueError, match=r"missing fields \['b'\]"):
        lay.join(a=[0, 0])
    with pytest.raises(ValueError, match="unknown fields"):
        lay.join(a=[0, 0], b=[0, 0, 0], z=1)
    with pytest.raises(ValueError, match=r"b must end in shape \(3,\)"):
        lay.join(a=[0, 0], b=[0, 0])
    with pytest.raises(KeyError, match="no field 'q'"):
        lay["q"]
    with pytest.raises(ValueError, match="duplicate"):
        VectorLayout([("a", 1), ("a", 2)])


@pytest.mark.parametrize(
    ("control", "assist", "size", "tail"),
    [
        ("physics", "none", NUM_HINGES + 4, ()),
        ("physics", "residual", NUM_HINGES + 10, ("assist_force", "assist_torque")),
        ("kinematic", "none", NUM_HINGES + 13, ("root_position", "root_rot6d")),
    ],
)
def test_env_exposes_its_action_layout(control, assist, size, tail) -> None:
    env = gym.make("ClimbRoute-v0", obs="state", control=control, assist=assist)
    lay = env.unwrapped.action_layout
    assert lay.size == size == env.action_space.shape[0]
    assert lay.names == ("hinge_targets", "grips", *tail)
    assert action_modes(size) == (control, assist)
    assert lay.describe().count("\n") == len(lay.names) + 1
    env.close()


def test_action_layout_drives_the_env_grips() -> None:
    """Closing grips through the layout's `grips` field closes them in the env."""
    env = gym.make("ClimbRoute-v0", obs="state")
    obs, _ = env.reset(seed=0)
    u = env.unwrapped
    lo, hi = u.index.hinge_range.T
    hinges = 2 * (u.data.qpos[u.index.hinge_qpos] - lo) / (hi - lo) - 1
    a = u.action_layout.join(hinge_targets=hinges, grips=-np.ones(4))
    obs, *_ = env.step(a)
    assert u.obs_layout.get(obs, "grips").sum() == 0  # all let go
    env.close()
    with pytest.raises(ValueError, match="accepted sizes"):
        action_modes(5)


def test_obs_layout_matches_both_observation_modes() -> None:
    ego = gym.make("ClimbRoute-v0", obs="ego", width=16, height=16, ego_depth=True)
    state = gym.make("ClimbRoute-v0", obs="state")
    o_ego, _ = ego.reset(seed=1)
    o_state, _ = state.reset(seed=1)
    le, ls = ego.unwrapped.obs_layout, state.unwrapped.obs_layout
    assert isinstance(le, ObsLayout) and ls.flat and not le.flat
    assert ls.vector.size == state.observation_space.shape[0]
    assert le.images["ego_rgb"] == ego.observation_space["ego_rgb"].shape
    pe, ps = le.split(o_ego), ls.split(o_state)
    for name in ls.vector.names:  # same state, same numbers in either form
        np.testing.assert_array_equal(pe[name], ps[name])
    assert pe["ego_rgb"].dtype == np.uint8 and pe["ego_depth"].shape == (4, 16, 16)
    holds = ps["holds"]
    assert holds.shape == (4, 8)
    top = ls.vector.field("holds").column(holds, "is_top")
    assert set(np.unique(top)) <= {0.0, 1.0}
    np.testing.assert_array_equal(ls.group(o_state, "proprio"), o_state[: PROPRIO.size])
    np.testing.assert_array_equal(ls.join(**ps), o_state)  # rebuilds the flat vector
    joined = le.join(**pe)
    np.testing.assert_array_equal(joined["route"], o_ego["route"])
    ego.close()
    state.close()


def test_route_layout_columns_cover_each_row() -> None:
    lay = route_layout(3)
    assert lay.field("holds").shape == (3, 8) and lay.size == 3 * 8 + 4 * 8
    assert sum(s.stop - s.start for s in HOLD_COLUMNS.values()) == 8
    assert obs_layout("state", lookahead=3).vector.size == PROPRIO.size + lay.size
    with pytest.raises(ValueError, match="lookahead"):
        route_layout(0)
    with pytest.raises(ValueError, match="obs="):
        obs_layout("pixels")
    with pytest.raises(ValueError, match="needs control='physics'"):
        action_layout("kinematic", "residual")
