"""Gymnasium environments (registered when navenv is imported)."""

from navenv.envs.registration import ENV_IDS, register_envs

__all__ = ["ENV_IDS", "register_envs"]
