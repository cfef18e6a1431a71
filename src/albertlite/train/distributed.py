"""Data parallelism on torch.distributed: process-group set-up from torchrun's variables, and the global sample order.

A run reads its samples in ONE global order, the concatenation of per-epoch permutations seeded by
``(seed, epoch)``. Optimizer step ``s`` consumes global positions ``s * G ... (s + 1) * G - 1`` with
``G = batch_size * world_size * accumulation``; micro-step ``a`` of that step covers ``batch_size * world_size``
consecutive positions, and rank ``r`` takes positions ``r, r + N, r + 2N, ...`` of them. A micro-batch of the
whole job is thus the same set of samples whatever ``N``, so a run with ``N`` processes of ``batch_size`` ``B``
sees the data of one process with ``N * B``.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.distributed as dist

from albertlite.devices import resolve_device


@dataclass(frozen=True)
class DistributedContext:
    """Where this process stands in the job.

    Args:
        rank: global rank.
        world_size: number of processes.
        local_rank: rank on this machine (picks the GPU).
        device: the device this process computes on.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        """Rank 0 writes checkpoints, metrics and the final model."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def init_distributed(device: str | None = None, timeout_s: float = 600.0) -> DistributedContext:
    """Join the process group that torchrun's environment describes, or run alone when there is none.

    Reads ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` (and ``MASTER_ADDR``/``MASTER_PORT`` through torch's env://).
    The backend is nccl on CUDA and gloo on CPU.

    Args:
        device: "cpu", "cuda", "mps" or None (CUDA when available); see :func:`albertlite.devices.resolve_device`.
        timeout_s: collective timeout.

    Returns:
        The context; the process group is initialised when ``WORLD_SIZE > 1``.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", str(rank)))
    chosen = resolve_device(device, name="device", default="auto")
    use_cuda = chosen.type == "cuda"
    if use_cuda:  # one GPU per process, picked by the local rank
        torch.cuda.set_device(local_rank)
        chosen = torch.device("cuda", local_rank)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(
            backend="nccl" if use_cuda else "gloo",
            rank=rank,
            world_size=world_size,
            timeout=datetime.timedelta(seconds=timeout_s),
        )
    return DistributedContext(rank=rank, world_size=world_size, local_rank=local_rank, device=chosen)


def close_distributed(context: DistributedContext) -> None:
    """Leave the process group (if this process joined one)."""
    if context.distributed and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(values: torch.Tensor, context: DistributedContext) -> torch.Tensor:
    """The element-wise sum over ranks (the tensor itself when alone)."""
    if context.distributed:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def broadcast_int(value: int, context: DistributedContext) -> int:
    """Rank 0's ``value`` on every rank (``value`` itself when alone): one decision, such as a step count, for all."""
    if not context.distributed:
        return int(value)
    tensor = torch.tensor([int(value)], dtype=torch.int64, device=context.device)  # nccl needs it on the GPU
    dist.broadcast(tensor, src=0)
    return int(tensor.item())


def barrier(context: DistributedContext) -> None:
    if context.distributed:
        dist.barrier()


def epoch_order(num_samples: int, seed: int, epoch: int) -> np.ndarray:
    """The global permutation of epoch ``epoch``: the same on every rank, for every world size."""
    return np.random.default_rng([seed, epoch]).permutation(num_samples)


class GlobalOrder:
    """Maps global positions in the run to sample indices (epoch permutations, concatenated).

    Args:
        num_samples: dataset size.
        seed: seed of the permutations.
        shuffle: False reads the dataset in order every epoch.
    """

    def __init__(self, num_samples: int, seed: int, shuffle: bool = True) -> None:
        if num_samples < 1:
            raise ValueError("the dataset is empty")
        self.num_samples, self.seed, self.shuffle = num_samples, seed, shuffle
        self._epoch, self._order = -1, np.arange(0)

    def __getitem__(self, position: int) -> tuple[int, int]:
        """(epoch, sample index) at global position ``position``."""
        epoch, offset = divmod(position, self.num_samples)
        if epoch != self._epoch:
            order = epoch_order(self.num_samples, self.seed, epoch) if self.shuffle else np.arange(self.num_samples)
            self._epoch, self._order = epoch, order
        return epoch, int(self._order[offset])


def rank_positions(
    step: int, micro_step: int, *, batch_size: int, accumulation: int, context: DistributedContext
) -> Iterator[int]:
    """The global positions rank ``context.rank`` reads for one micro-step of one optimizer step.

    Args:
        step: optimizer step (0-based).
        micro_step: accumulation micro-step within it.
        batch_size: per-rank micro-batch size.
        accumulation: micro-steps per optimizer step.
        context: the process's place in the job.
    """
    world = batch_size * context.world_size
    start = (step * accumulation + micro_step) * world
    return iter(range(start + context.rank, start + world, context.world_size))
