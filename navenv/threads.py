"""One compute thread per worker process.

A pool of N workers on N cores, each with torch's default of one intra-op thread per core, runs
N x N threads that spin against each other: the `navenv demo` pool ran its 40 episodes in 218 s on
2 cores that way, and in 87 s with one thread per worker.
"""

from __future__ import annotations

import os


def single_threaded() -> None:
    """Pool initializer: torch and the OpenMP/BLAS pools started after it use one thread here."""
    os.environ["OMP_NUM_THREADS"] = "1"  # for libraries this process loads later
    try:
        import torch
    except ImportError:  # nothing threaded to limit
        return
    torch.set_num_threads(1)
