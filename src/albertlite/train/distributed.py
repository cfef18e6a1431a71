"""Data parallelism on torch.distributed: process-group set-up from torchrun's variables, and the global sample order.

A run reads its samples in ONE global order, the concatenation of per-epoch permutations seeded by
``(seed, epoch)``. Optimizer step ``s`` consumes global positions ``s * G ... (s + 1) * G - 1`` with
``G = batch_size * world_size * accumulation``; micro-step ``a`` of that step covers ``batch_size * world_size``
consecutive positions, and rank ``r`` takes positions ``r, r + N, r + 2N, ...`` of them. A micro-batch of the
whole job is thus the same set of samples whatever ``N``, so a run with ``N`` processes of ``batch_size`` ``B``
sees the data of one process with ``N * B``.

With a token budget (:class:`TokenBudgetSteps`) step ``s`` instead takes the consecutive positions whose
instances fill ``T = batch_tokens * world_size * accumulation`` tokens; its micro-step ``a`` covers the ``a``-th of
``accumulation`` near-equal runs of them, split over ranks as above.
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
            self._epoch, self._order = epoch, self.epoch_indices(epoch)
        return epoch, int(self._order[offset])

    def epoch_indices(self, epoch: int) -> np.ndarray:
        """The sample indices of epoch ``epoch``, in reading order."""
        return epoch_order(self.num_samples, self.seed, epoch) if self.shuffle else np.arange(self.num_samples)


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


class TokenBudgetSteps:
    """Optimizer steps that take whole instances, in the global order, until a token budget is full.

    Step ``s`` covers global positions ``start(s) ... start(s + 1) - 1``: as many consecutive positions as fit in
    ``budget`` tokens (real tokens, the cost of the padding-free step), so a step of short instances holds more of
    them. Boundaries depend on the data, the seed and the budget alone, never on the number of processes, so a
    resumed run or a DDP job reads the same steps.

    Args:
        order: the global order of the run.
        lengths: every instance's token count, by dataset index.
        budget: tokens per optimizer step of the whole job; at least the longest instance.
    """

    def __init__(self, order: GlobalOrder, lengths: np.ndarray, budget: int) -> None:
        lengths = np.asarray(lengths, dtype=np.int64)
        if len(lengths) != order.num_samples:
            raise ValueError(f"{len(lengths)} lengths for {order.num_samples} instances")
        if budget < int(lengths.max()):
            raise ValueError(
                f"a token budget of {budget} cannot hold the longest instance ({int(lengths.max())} tokens)"
            )
        self.order, self.lengths, self.budget = order, lengths, int(budget)
        self.epoch_tokens = int(lengths.sum())
        self._starts = [0]
        self._sums: dict[int, np.ndarray] = {}

    def start(self, step: int) -> int:
        """The first global position of optimizer step ``step`` (the positions every earlier step consumed)."""
        while len(self._starts) <= step:
            first = self._starts[-1]
            self._starts.append(self._last_within(self._tokens_before(first) + self.budget))
        return self._starts[step]

    def positions(self, step: int, micro_step: int, *, accumulation: int, context: DistributedContext) -> list[int]:
        """The global positions rank ``context.rank`` reads for one micro-step of one optimizer step."""
        begin, end = self.start(step), self.start(step + 1)
        parts = np.array_split(np.arange(begin, end), accumulation)
        return [int(p) for p in parts[micro_step][context.rank :: context.world_size]]

    def _tokens_before(self, position: int) -> int:
        epoch, offset = divmod(position, self.order.num_samples)
        return epoch * self.epoch_tokens + int(self._epoch_sums(epoch)[offset])

    def _last_within(self, tokens: int) -> int:
        """The largest position ``p`` whose earlier positions hold at most ``tokens`` tokens."""
        epoch, rest = divmod(tokens, self.epoch_tokens)
        within = int(np.searchsorted(self._epoch_sums(epoch), rest, side="right")) - 1
        return epoch * self.order.num_samples + within

    def _epoch_sums(self, epoch: int) -> np.ndarray:
        """Tokens before each offset of epoch ``epoch`` (n + 1 entries, 0 first)."""
        if epoch not in self._sums:
            if len(self._sums) >= 2:  # steps move forward: the two latest epochs are all a boundary needs
                del self._sums[min(self._sums)]
            self._sums[epoch] = np.concatenate([[0], np.cumsum(self.lengths[self.order.epoch_indices(epoch)])])
        return self._sums[epoch]
