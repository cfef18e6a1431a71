"""int8 linear layers for the packed path, from modules quantized by ``torch.ao`` dynamic quantization.

:func:`albertlite.optimize` quantizes the encoder's linear layers with per-channel int8 weights
(``torch.ao.quantization.quantize_dynamic``), so the plain path and the packed path run the same int8 kernels. Per-row
scales make fusing Q, K and V exact: the fused weight is the three int8 matrices stacked with their scales.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.ao.nn.quantized.dynamic import Linear as DynamicQuantizedLinear

__all__ = ["QuantizedLinear", "is_dynamic_quantized", "quantized_linear"]


def is_dynamic_quantized(module: nn.Module) -> bool:
    return isinstance(module, DynamicQuantizedLinear)


class QuantizedLinear:
    """``y = x @ W.T + b`` with int8 weights and activations quantized on the fly, as torch.ao's dynamic Linear.

    Args:
        weight: a quantized (out_features, in_features) tensor (qint8).
        bias: float (out_features,) or None.
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None) -> None:
        self.packed = torch.ops.quantized.linear_prepack(weight, bias)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        # reduce_range=True as torch.ao's dynamic Linear (version >= 4) calls it: same kernel, same results.
        return torch.ops.quantized.linear_dynamic(x.float(), self.packed, reduce_range=True).to(x.dtype)

    def activated(
        self, x: torch.Tensor, activation: str, fallback: Callable[[torch.Tensor], torch.Tensor]
    ) -> torch.Tensor:
        return fallback(self(x))

    def add(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self(x).to(residual.dtype) + residual


class _Concatenated:
    """Several quantized layers on the same input whose per-tensor scales forbid one fused weight."""

    def __init__(self, parts: list[QuantizedLinear]) -> None:
        self.parts = parts

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([part(x) for part in self.parts], dim=-1)


def quantized_linear(modules: list[nn.Module]) -> QuantizedLinear | _Concatenated:
    """One int8 GEMM for dynamic-quantized layers reading the same input (outputs concatenated)."""
    weights = [m.weight() for m in modules]
    biases = [m.bias() for m in modules]
    bias = None if any(b is None for b in biases) else torch.cat(biases)
    if len(modules) == 1:
        return QuantizedLinear(weights[0], biases[0])
    if all(w.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric) for w in weights):
        fused = torch._make_per_channel_quantized_tensor(
            torch.cat([w.int_repr() for w in weights]),
            torch.cat([w.q_per_channel_scales() for w in weights]).double(),
            torch.cat([w.q_per_channel_zero_points() for w in weights]).long(),
            axis=0,
        )
        return QuantizedLinear(fused, bias)
    return _Concatenated([QuantizedLinear(w, b) for w, b in zip(weights, biases)])
