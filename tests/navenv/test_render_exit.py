"""A GL renderer nobody closed is released quietly when the interpreter exits."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from navenv.render.gl import GLRenderer

SCRIPT = textwrap.dedent(
    """
    import gymnasium as gym
    import navenv  # noqa: F401

    env = gym.make("ClimbRoute-v0", obs="state", render_mode="rgb_array",
                   render_width=64, render_height=48)
    env.reset(seed=0)
    frame = env.render()
    print("renderer", env.unwrapped._renderer.kind, frame.shape)
    # no env.close(): the interpreter exits with the GL context still open
    """
)


def test_exit_after_render_without_close_prints_nothing():
    env = {**os.environ, "MUJOCO_GL": "egl"}
    env.pop("PYOPENGL_PLATFORM", None)  # let MuJoCo choose the EGL platform
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    if "renderer gl" not in done.stdout:
        pytest.skip(f"EGL unavailable here, make_renderer fell back: {done.stdout.strip()!r}")
    assert "Exception ignored" not in done.stderr, done.stderr
    assert "Error" not in done.stderr, done.stderr


class _DeadContext:
    """A GL context whose backend has already been torn down."""

    def make_current(self) -> None:
        raise RuntimeError("Failed to make the EGL context current.")

    def free(self) -> None:
        raise RuntimeError("no display")


def test_del_never_raises():
    renderer = GLRenderer.__new__(GLRenderer)  # as if __init__ had made a context
    renderer._context, renderer._mjr = _DeadContext(), object()
    renderer.__del__()  # swallowed: nothing to report at exit
    with pytest.raises(RuntimeError):
        renderer.close()  # an explicit close still says what went wrong
