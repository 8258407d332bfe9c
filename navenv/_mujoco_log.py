"""Route MuJoCo's warnings to Python logging instead of stdout and a MUJOCO_LOG.TXT in the cwd.

An unstable random rollout makes MuJoCo warn (the env then truncates the episode with
info["unstable"]); by default MuJoCo prints that and appends it to MUJOCO_LOG.TXT wherever the
user happens to be. navenv installs a handler that logs to the "navenv.mujoco" logger, unless the
user already installed one of their own.
"""

from __future__ import annotations

import logging

import mujoco

logger = logging.getLogger("navenv.mujoco")


def _log_warning(message: str) -> None:
    logger.warning("MuJoCo: %s", message.strip())


def install() -> None:
    """Install the handler once, never replacing a user's own."""
    if mujoco.get_mju_user_warning() is None:
        mujoco.set_mju_user_warning(_log_warning)
