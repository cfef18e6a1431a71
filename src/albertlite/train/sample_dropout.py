"""Dropout drawn per global sample, so that N processes draw the masks one process draws.

``nn.Dropout`` draws from the process's generator, so each rank of a DDP job drew other masks than one process
running the same global batch: with the SOP head's default ``classifier_dropout_prob`` of 0.1, 20 steps on 2 ranks
ended 1.9% of the largest weight away from one process. Here each element's keep/drop decision is a hash of
(the sample's key, the dropout call, the element's coordinates): the key comes from the run's seed and the
sample's position in the global order (:mod:`albertlite.train.distributed`), the call counts dropout applications
within one forward pass (the same sequence on every rank, the shared layer's repeats included), and coordinates
are taken per axis, so a sample padded to another length keeps the masks of its real positions.

Only pretraining uses it (:func:`key_dropout_per_sample` swaps a model's ``nn.Dropout`` modules); outside a
:func:`sample_dropout` block the module is ``nn.Dropout``.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from albertlite.fast.packed_training import packed_layout

_M32 = 0xFFFFFFFF
_MIX = 0x45D9F3B  # a 32-bit integer-hash multiplier; below 2**31, so products stay inside int64
_AXIS = 0x9E3779B1  # the golden ratio in 32 bits, to spread coordinates before mixing


def _mix(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash of non-negative int64 values below 2**32 (the same on every device)."""
    x = x ^ (x >> 16)
    x = (x * _MIX) & _M32
    x = x ^ (x >> 16)
    x = (x * _MIX) & _M32
    return x ^ (x >> 16)


def sample_keys(seed: int, positions: Sequence[int], device: torch.device | None = None) -> torch.Tensor:
    """One dropout key per sample, from the run's seed and each sample's global position: int64 (B,)."""
    position = torch.as_tensor(list(positions), dtype=torch.int64, device=device)
    base = _mix(torch.tensor(int(seed) & _M32, dtype=torch.int64, device=device))
    return _mix(_mix(base ^ (position & _M32)) ^ (position >> 32))


@dataclass
class _Draws:
    keys: torch.Tensor  # (B,)
    calls: int = 0


_ACTIVE: contextvars.ContextVar[_Draws | None] = contextvars.ContextVar("albertlite_sample_dropout", default=None)


@contextlib.contextmanager
def sample_dropout(keys: torch.Tensor) -> Iterator[None]:
    """Inside the block, :class:`SampleKeyedDropout` modules draw row ``b``'s masks from ``keys[b]``."""
    token = _ACTIVE.set(_Draws(keys))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def keep_mask(shape: torch.Size, keys: torch.Tensor, call: int, p: float) -> torch.Tensor:
    """Boolean (B, ...) mask: True where an element is kept, from its row's key, the call and its coordinates."""
    if shape[0] != keys.shape[0]:
        raise ValueError(f"dropout keys for {keys.shape[0]} samples, but a tensor of batch {shape[0]} (shape "
                         f"{tuple(shape)}); every dropout input must have the batch first")  # fmt: skip
    return _hashed_mask(shape, keys, [None], call, p)


def packed_keep_mask(
    shape: torch.Size, keys: torch.Tensor, rows: torch.Tensor, columns: torch.Tensor, call: int, p: float
) -> torch.Tensor:
    """:func:`keep_mask` for the real tokens of a padded batch packed to (T, ...): token ``t`` is row ``rows[t]``'s
    position ``columns[t]``, and draws exactly the mask the padded (B, S, ...) tensor gets there."""
    return _hashed_mask(shape, keys[rows], [None, columns], call, p)


def _hashed_mask(
    shape: torch.Size, row_keys: torch.Tensor, leading: list[torch.Tensor | None], call: int, p: float
) -> torch.Tensor:
    """Hash each element's (row key, call, coordinate per axis of the padded tensor) into a keep decision.

    ``leading`` lists the padded tensor's axes that the first axis of ``shape`` stands for (None: the row itself;
    a tensor: that axis's coordinate of each row); the remaining axes of ``shape`` follow them.
    """
    ones = [1] * (len(shape) - 1)
    h = _mix(row_keys.view(-1, *ones) ^ _mix(torch.tensor(call, dtype=torch.int64, device=row_keys.device)))
    for axis, coordinates in enumerate(leading[1:], start=1):
        h = _mix(h ^ ((coordinates.view(-1, *ones) * _AXIS + axis) & _M32))
    for axis in range(1, len(shape)):
        view = [1] * len(shape)
        view[axis] = shape[axis]
        index = torch.arange(shape[axis], dtype=torch.int64, device=row_keys.device).view(view)
        h = _mix(h ^ ((index * _AXIS + axis + len(leading) - 1) & _M32))
    return h >= round(p * 2**32)  # h / 2**32 is uniform in [0, 1)


class SampleKeyedDropout(nn.Dropout):
    """``nn.Dropout`` whose masks, inside a :func:`sample_dropout` block, depend only on each sample's key."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        draws = _ACTIVE.get()
        if draws is None or not self.training or self.p == 0.0:
            return F.dropout(x, self.p, self.training, self.inplace)
        draws.calls += 1
        layout = packed_layout()
        if layout is not None and x.shape[0] == layout[0].numel():  # (T, ...) rows of the packed training path
            keep = packed_keep_mask(x.shape, draws.keys, *layout, draws.calls, self.p)
        else:
            keep = keep_mask(x.shape, draws.keys, draws.calls, self.p)
        return x * keep.to(x.dtype) / (1.0 - self.p)


def key_dropout_per_sample(model: nn.Module) -> int:
    """Swap every ``nn.Dropout`` of ``model`` for :class:`SampleKeyedDropout`; returns how many were swapped.

    Attention whose probabilities drop out is switched to the explicit ("eager") computation, since
    ``scaled_dot_product_attention`` draws its dropout inside the kernel.
    """
    swapped = 0
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            if type(child) is nn.Dropout:
                setattr(parent, name, SampleKeyedDropout(child.p, child.inplace))
                swapped += 1
    for module in model.modules():
        dropout = getattr(module, "attention_dropout", None)
        if isinstance(dropout, nn.Dropout) and dropout.p > 0 and hasattr(module, "attn_implementation"):
            module.attn_implementation = "eager"
    return swapped
