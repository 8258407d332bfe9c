"""Vectorised physics any navenv env can share: many MjData stepped together on mujoco.batch threads.

An env that splits its `step` into a Python part before the physics and one after (ClimbRoute's
`apply_action` / `finish_step`) can run many copies in one process: each copy applies its action
to its own MjData, `BatchPhysics.step` copies the state rows of the copies that step into one
persistent `mujoco.batch.Batch`, runs `nstep` substeps of every one on C threads, and copies the
results back. Every copy keeps its own MjModel (models may differ in values, not in layout).
"""

from __future__ import annotations

from collections.abc import Sequence

import mujoco
import numpy as np
from mujoco import batch as mjbatch

STATE_FIELDS: tuple[str, ...] = (
    "qpos",
    "qvel",
    "act",
    "ctrl",
    "qacc_warmstart",
    "xfrc_applied",
    "eq_active",
    "time",
)
"""MjData fields that make up a simulation's state between an env's logic and the batch's physics."""


class BatchPhysics:
    """One persistent mujoco.batch over `models` (one simulation each), `nthread` C threads (0: all)."""

    def __init__(self, models: Sequence[mujoco.MjModel], nthread: int = 0) -> None:
        if not models:
            raise ValueError("BatchPhysics needs at least one model")
        self._batch = mjbatch.Batch(models[0], nsim=len(models), nthread=nthread, persistent=True)
        self._batch.set_models(list(models))
        self._bound = {name: self._batch.bind(name) for name in STATE_FIELDS}

    def step(self, ids: np.ndarray, datas: Sequence[mujoco.MjData], nstep: int) -> None:
        """Advance simulations `ids` by `nstep` substeps, from and back into `datas[i]`."""
        ids = np.asarray(ids, dtype=np.int32)
        if not len(ids):
            return
        for name, arr in self._bound.items():
            for i in ids:
                arr[i] = getattr(datas[i], name)
        self._batch.step(ids, nstep=nstep)
        for i in ids:
            self._batch.get_data(int(i), datas[i])
