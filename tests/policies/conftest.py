"""Fixtures shared by the expert's tests: the shipped vertical wall and its compiled world."""

import pytest

import scenes
from navenv.body import Skeleton
from navenv.envs.climb.compiled import compile_world
from navenv.envs.climb.config import ClimbConfig


@pytest.fixture(scope="module")
def scene():
    """The shipped training wall the expert's tests climb."""
    return scenes.load("wall_vertical_01")


@pytest.fixture(scope="module")
def world(scene):
    """That wall with the builtin humanoid, compiled as ClimbRoute-v0 would."""
    return compile_world(scene, Skeleton.builtin(), ClimbConfig())
