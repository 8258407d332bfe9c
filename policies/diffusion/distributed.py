"""Data parallelism through torch.distributed as launched by `torchrun` (gloo on CPU, NCCL on GPU).

`torchrun --nproc_per_node=N -m policies.climb_diffusion.train ...` sets RANK, WORLD_SIZE and
LOCAL_RANK; a plain `python` launch is rank 0 of 1 and initialises nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class DistInfo:
    """Where this process sits in the job."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints and logs."""
        return self.rank == 0


def init_distributed(device: str | None = None) -> DistInfo:
    """Join the torchrun job (if launched by one); device None: this rank's GPU, else CPU."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    dev = torch.device(f"cuda:{local}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend="nccl" if use_cuda else "gloo")
    return DistInfo(rank, world, local, dev)


def shutdown() -> None:
    """Leave the process group (no-op when none was joined), every rank together: a rank that
    tears gloo down while another still talks to it can abort the other ("terminate called
    without an active exception", seen once in a fresh-clone CI run of the DDP test)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def barrier() -> None:
    """Wait for every rank (no-op on one process)."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
