"""What the splits API hands out works wherever a scene is taken: specs and "<split>/<index>" names."""

import gymnasium as gym
import pytest

import navenv  # noqa: F401  (registers ClimbRoute-v0)
import scenes
from navenv.cli import main
from scenes import splits
from scenes.errors import SceneError


def test_split_scene_names_load_the_spec_they_name() -> None:
    spec = splits.get("test_iid")[2]
    assert splits.spec("test_iid/002") == spec == splits.spec("test_iid/2")
    a, b = scenes.load("test_iid/002"), scenes.resolve(spec)
    assert splits.content_hash(a) == splits.content_hash(b) == splits.content_hash(spec.build())
    assert scenes.resolve(a) is a


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("train/999", r"split 'train' has scenes train/000 \.\. train/"),
        ("train/x", "split 'train' has scenes"),
        ("nosuch/000", "split scene name"),
    ],
)
def test_bad_split_scene_names_say_what_exists(name, message) -> None:
    with pytest.raises(SceneError, match=message):
        scenes.load(name)


def test_spec_of_a_non_name_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="expected '<split>/<index>'"):
        splits.spec("train")
    with pytest.raises(TypeError, match="SceneSpec"):
        scenes.resolve(3)


@pytest.mark.parametrize("how", ["spec", "name"])
def test_the_env_takes_a_spec_or_a_split_scene_name(how) -> None:
    spec = splits.get("test_novel_holds")[1]
    scene = spec if how == "spec" else "test_novel_holds/001"
    env = gym.make("ClimbRoute-v0", scene=scene, obs="state", route=1)
    _, info = env.reset(seed=0)
    assert splits.content_hash(info["scene"]) == splits.content_hash(spec.build())
    assert info["route"].id == info["scene"].routes[1].id
    env.close()


def test_cli_shows_a_split_scene(capsys) -> None:
    assert main(["scenes", "show", "train/000"]) == 0
    out = capsys.readouterr().out
    assert "climbing_wall" in out and "route r0" in out and "seed 100000" in out
