"""navenv.threads: a pool's workers each run one compute thread."""

from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import torch

from navenv.threads import single_threaded


def _threads() -> tuple[int, str]:
    import os

    return torch.get_num_threads(), os.environ.get("OMP_NUM_THREADS", "")


def test_pool_initializer_leaves_one_thread_per_worker():
    with ProcessPoolExecutor(1, mp_context=get_context("spawn"), initializer=single_threaded) as p:
        assert p.submit(_threads).result() == (1, "1")
