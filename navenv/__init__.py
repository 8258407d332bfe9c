"""navenv: embodied SMPL humanoids in real places, as Gymnasium environments."""

__version__ = "0.2.0"

from navenv import _mujoco_log
from navenv.envs.registration import register_envs as _register_envs

_mujoco_log.install()
_register_envs()
