"""Which attention kernel the padding-free path runs for a batch shape, measured on this machine, never assumed.

The packed path has exact ways to attend within each sequence: one SDPA call per sequence ("loop": no padded work,
one call's overhead per sequence) or one SDPA call on the real tokens re-padded to the longest sequence ("padded": one
call, some wasted work), each with SDPA's fused kernel or as matmul, softmax, matmul ("-unfused": on short sequences
some CPUs run it faster). Which is fastest depends on the CPU, the thread count, the dtype and the batch's shape, so
the first batch of each shape class times them on its own first layer (all give the same result) and the fastest is
kept for that class for the rest of the process. Nothing here reads the CPU's vendor or model. While
``torch.use_deterministic_algorithms`` is on (``pretrain --deterministic``), nothing is timed: the kernels differ in
the last bits, so a choice that load could flip would change a rerun's or a resume's metrics; "padded" runs.

Shape class: (device, dtype, batch size rounded up to a power of two, longest length rounded up to a power of two,
real share of the padded rows in quarters).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

import torch

ATTENTION_MODES = ("loop", "padded", "loop-unfused", "padded-unfused")
_CHOICES: dict[tuple, str] = {}
_LOCK = threading.Lock()
_ROUNDS = 3


def shape_class(lengths: list[int], dtype: torch.dtype, device: torch.device) -> tuple:
    longest = max(lengths)
    real_share = sum(lengths) / (len(lengths) * longest)
    return (device.type, dtype, _pow2(len(lengths)), _pow2(longest), math.ceil(real_share * 4))


def _pow2(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def choose(key: tuple, kernels: dict[str, Callable[[], torch.Tensor]]) -> tuple[str, torch.Tensor | None]:
    """The mode for ``key``; when not yet known, time ``kernels`` (alternating, best of a few) and keep the faster.

    Returns the mode and, when it was measured now, the chosen kernel's output (so the measuring call's work is not
    thrown away), else None.
    """
    chosen = _CHOICES.get(key)
    if chosen is not None:
        return chosen, None
    best = dict.fromkeys(kernels, math.inf)
    outputs: dict[str, torch.Tensor] = {}
    for _ in range(_ROUNDS):
        for name, kernel in kernels.items():
            start = time.perf_counter()
            outputs[name] = kernel()
            best[name] = min(best[name], time.perf_counter() - start)
    chosen = min(best, key=best.get)
    with _LOCK:
        _CHOICES.setdefault(key, chosen)
    return chosen, outputs[chosen]


def chosen_modes() -> dict[tuple, str]:
    """The choices made so far in this process: shape class -> mode."""
    return dict(_CHOICES)


def forget_choices() -> None:
    """Drop the measured choices (tests; a process whose thread count changed)."""
    with _LOCK:
        _CHOICES.clear()
