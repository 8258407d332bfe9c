"""The policy registry: built-ins, run-time registrations, module:Class names, entry points, and
`navenv bench` running a policy that navenv's code never imports by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import pytest

import navenv  # noqa: F401  (registers ClimbRoute-v0)
from benchmarks import harness
from benchmarks.main_job import SuiteConfig, run_suite
from navenv.cli import main
from policies import registry
from policies.registry import (
    PolicyRegistryError,
    list_policies,
    make_policy,
    policy_env_kwargs,
    register,
    register_policy,
    resolve_policy,
    unregister_policy,
)

REPO = Path(__file__).resolve().parents[2]
PLUGIN = "tests.policies.plugin_policy:HoldStill"
EP_NAME = "hold_still_ep"
DIST = "navenv-test-plugin"


@pytest.fixture
def plugin_dir(tmp_path) -> Path:
    """A directory holding an installed-looking distribution with navenv.policies entry points."""
    info = tmp_path / "site" / "navenv_test_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DIST}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[{registry.ENTRY_POINT_GROUP}]\n"
        f"{EP_NAME} = {PLUGIN}\n"
        "broken_ep = tests.policies.no_such_module:Nope\n"
    )
    return tmp_path / "site"


@pytest.fixture
def installed(plugin_dir, monkeypatch) -> Path:
    """The plugin distribution on sys.path of this process (importlib.metadata finds it)."""
    monkeypatch.syspath_prepend(str(plugin_dir))  # also invalidates the import caches
    return plugin_dir


def _env(name: str):
    return gym.make("ClimbRoute-v0", max_episode_steps=50, **policy_env_kwargs(name))


def test_import_policies_is_cheap():
    code = (
        "import sys, policies; policies.list_policies(); policies.policy_env_kwargs('bc');"
        "print(sorted(m for m in ('torch', 'policies.scripted', 'policies.bc', 'navenv',"
        " 'policies.pretrained') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert out.stdout.strip() == "[]"


def test_builtins_and_their_env_kwargs():
    assert list_policies()[:4] == ["random", "scripted_kinematic", "scripted_physics", "bc"]
    assert policy_env_kwargs("scripted_kinematic") == {"obs": "state", "control": "kinematic"}
    assert policy_env_kwargs("scripted_physics") == {
        "obs": "state",
        "control": "physics",
        "assist": "residual",
    }
    assert harness.env_kwargs("random") == {"obs": "state", "control": "physics"}
    assert harness.POLICIES == ("random", "scripted_kinematic", "scripted_physics")
    policy_env_kwargs("random")["obs"] = "ego"  # a copy: the registry is unchanged
    assert policy_env_kwargs("random")["obs"] == "state"


def test_make_builtins():
    from policies import RandomPolicy
    from policies.scripted import ScriptedClimber

    env = _env("scripted_physics")
    p = harness.make_policy("scripted_physics", env)
    assert isinstance(p, ScriptedClimber) and (p.control, p.assist) == ("physics", "residual")
    assert make_policy("scripted_kinematic").control == "kinematic"  # no env needed
    assert isinstance(make_policy("random", _env("random")), RandomPolicy)
    with pytest.raises(ValueError, match="needs the env"):
        make_policy("random")
    env.close()


def test_register_and_decorator():
    calls = []

    def factory(env=None, **kwargs):
        calls.append(kwargs)
        return make_policy("scripted_kinematic")

    try:
        spec = register_policy("mine", factory, env_kwargs={"obs": "state", "control": "kinematic"})
        assert spec.source == "registered" and "mine" in list_policies()
        make_policy("mine", None, speed=2)
        assert calls == [{"speed": 2}]
        assert policy_env_kwargs("mine") == {"obs": "state", "control": "kinematic"}
        with pytest.raises(PolicyRegistryError, match="already registered"):
            register_policy("mine", factory)
        with pytest.raises(PolicyRegistryError, match="already registered"):
            register_policy("random", factory)
        with pytest.raises(PolicyRegistryError, match="without ':'"):
            register_policy("a:b", factory)

        @register("decorated", description="a decorated factory")
        class Decorated:
            env_kwargs = {"obs": "state", "control": "kinematic"}  # noqa: RUF012

            def __init__(self, env=None):
                self.env = env

            def reset(self, *, seed=None, info=None):
                pass

            def act(self, obs):
                return obs

        assert isinstance(make_policy("decorated"), Decorated)
        assert policy_env_kwargs("decorated") == Decorated.env_kwargs
        assert resolve_policy("decorated").description == "a decorated factory"
    finally:
        unregister_policy("mine")
        unregister_policy("decorated")
    assert "mine" not in list_policies()


def test_module_class_name():
    spec = resolve_policy(PLUGIN)
    assert spec.env_kwargs == {"obs": "state", "control": "physics"}  # the class attribute
    assert spec.source == "module:Class"
    env = _env(PLUGIN)
    policy = make_policy(PLUGIN, env)
    obs, info = env.reset(seed=0)
    policy.reset(seed=0, info=info)
    assert policy.act(obs).shape == env.action_space.shape
    env.close()


def test_unknown_name_lists_known_and_module_class():
    with pytest.raises(ValueError, match="unknown policy 'sac'") as e:
        make_policy("sac")
    msg = str(e.value)
    assert "scripted_physics" in msg and "ppo" in msg and "module.path:ClassName" in msg
    with pytest.raises(ValueError, match="unknown policy"):
        harness.env_kwargs("sac")


def test_bad_module_class_names_the_module():
    with pytest.raises(PolicyRegistryError, match="cannot import module 'no_such_pkg.sub'"):
        make_policy("no_such_pkg.sub:Thing")
    with pytest.raises(
        PolicyRegistryError, match="module 'tests.policies.plugin_policy' has no attribute 'Nope'"
    ):
        policy_env_kwargs("tests.policies.plugin_policy:Nope")
    with pytest.raises(PolicyRegistryError, match="lacks reset"):
        make_policy("tests.policies.plugin_policy:broken_factory")
    with pytest.raises(PolicyRegistryError, match="expected 'module.path:ClassName'"):
        make_policy("tests.policies.plugin_policy:")


def test_entry_point(installed):
    assert EP_NAME in list_policies() and "broken_ep" in list_policies()
    spec = resolve_policy(EP_NAME)
    assert DIST in spec.source and EP_NAME in spec.source
    assert spec.env_kwargs == {"obs": "state", "control": "physics"}
    env = _env(EP_NAME)
    assert type(make_policy(EP_NAME, env)).__name__ == "HoldStill"
    env.close()


def test_broken_entry_point_names_it_and_its_distribution(installed):
    with pytest.raises(PolicyRegistryError) as e:
        make_policy("broken_ep")
    msg = str(e.value)
    assert "'broken_ep'" in msg and DIST in msg and "no_such_module" in msg


def test_suite_runs_a_module_class_policy(tmp_path):
    cfg = SuiteConfig(
        splits=("test_iid",), policies=(PLUGIN,), episodes=1, max_steps=30, workers=1, video=False
    )
    summary = run_suite(cfg, tmp_path)
    assert set(summary) == {f"test_iid/{PLUGIN}"}
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["config"]["policies"] == [PLUGIN]


def test_suite_rejects_bad_policy_names():
    with pytest.raises(ValueError, match="unknown policies.*cannot import module 'nope'"):
        SuiteConfig(policies=("nope:Policy",))


def test_bench_cli_unknown_policy_is_one_line(capsys, tmp_path):
    out = tmp_path / "bench"
    assert main(["bench", "--policy", "sac", "--episodes", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("navenv bench: error:") and "sac" in err and "module.path:ClassName" in err
    )
    assert not out.exists()


def test_bench_cli_runs_an_entry_point_policy(plugin_dir, tmp_path):
    # A fresh interpreter that finds the plugin only through its dist-info on PYTHONPATH, as an
    # installed package would be found; its worker processes inherit the path.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_dir), str(REPO)])}
    out = tmp_path / "bench"
    cmd = [sys.executable, "-m", "navenv.cli", "bench", "--policies", EP_NAME, "--episodes", "1"]
    cmd += ["--splits", "test_iid", "--workers", "1", "--out", str(out)]
    subprocess.run(cmd, check=True, cwd=tmp_path, env=env, capture_output=True, text=True)
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["policies"] == [EP_NAME]
    assert set(results["summary"]) == {f"test_iid/{EP_NAME}"}
    assert f"| test_iid | {EP_NAME} |" in (out / "report.md").read_text()
