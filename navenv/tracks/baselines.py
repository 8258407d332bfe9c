"""Forecasting baselines on track windows (positions in metres, one row per step)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from navenv.tracks.windows import PRED_LEN


def constant_velocity(obs: ArrayLike, pred_len: int = PRED_LEN) -> np.ndarray:
    """Extrapolate each track with its last observed step's velocity: (N, T, 2) -> (N, pred_len, 2).

    The standard constant-velocity baseline (Schoeller et al. 2020, "What the constant velocity
    model can teach us about pedestrian motion prediction"); deterministic.
    """
    o = np.asarray(obs, dtype=np.float64)
    if o.ndim != 3 or o.shape[1] < 2 or o.shape[2] != 2:
        raise ValueError(f"obs has shape {o.shape}; accepted: (N, T, 2) with T >= 2 observed steps")
    if isinstance(pred_len, bool) or not isinstance(pred_len, int | np.integer) or pred_len < 1:
        raise ValueError(f"pred_len={pred_len!r}; accepted: an int >= 1")
    velocity = o[:, -1] - o[:, -2]  # (N, 2) metres per step
    steps = np.arange(1, pred_len + 1, dtype=np.float64)  # (pred_len,)
    return o[:, -1, None] + steps[None, :, None] * velocity[:, None]
