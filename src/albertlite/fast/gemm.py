"""The fastest correct linear layer for this device, measured once per process and weight shape.

PyTorch's default fp32 ``F.linear`` goes through MKL, which on AMD CPUs runs a slower code path; oneDNN's
``_linear_pointwise`` on a pre-packed weight reaches about twice its throughput there at full fp32 accuracy. On other
CPUs (or GPUs) the ranking differs, so nothing is hard-wired: each candidate is timed on the real weight shape and kept
only if it equals ``F.linear`` within 1e-5 relative (bf16: 1e-2).

Set ``ALBERTLITE_GEMM=aten`` or ``ALBERTLITE_GEMM=mkldnn`` to force a backend.

oneDNN builds (JIT-compiles) a primitive for every distinct row count M of a GEMM and keeps it in two caches (its
primitive cache and ideep's, up to 1024 entries each; about 1 MB per ALBERT-base GEMM). A server's batches have
every row count between 1 and its token budget, so a process's memory grew by hundreds of MB over thousands of
requests (+393 MB between requests 1,000 and 10,000 at base shapes). The mkldnn backend therefore runs on the input
padded with zero rows up to :func:`row_bucket` (at most 16 row counts per doubling, at most 1/16 more rows): the
primitives a process builds are bounded, and found again by the next batch of the same size class.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = [
    "GEMM_BACKENDS",
    "Linear",
    "choose_backend",
    "chosen_backends",
    "make_linear",
    "measure_gemm_gflops",
    "row_bucket",
]

# (device type, dtype, in_features, out_features) -> backend name; filled on first use.
_CHOICES: dict[tuple[str, torch.dtype, int, int], str] = {}
_ROWS_FOR_TIMING = 256
_TIMING_ROUNDS = 4
# config.hidden_act -> (oneDNN post-op, its algorithm); equal to the eager functions within 1e-5 (tested).
_FUSED_ACTIVATIONS = {
    "gelu": ("gelu", "none"),
    "gelu_new": ("gelu", "tanh"),
    "gelu_pytorch_tanh": ("gelu", "tanh"),
    "relu": ("relu", ""),
}
_TOLERANCE = {torch.float32: 1e-5, torch.bfloat16: 1e-2, torch.float16: 1e-2}
_ROW_STEPS_PER_DOUBLING = 16
_MIN_ROW_STEP = 8


def row_bucket(rows: int) -> int:
    """The row count the mkldnn backend runs ``rows`` rows as: a multiple of 8, at most 1/16 above ``rows``."""
    step = max(_MIN_ROW_STEP, (1 << max(0, rows.bit_length() - 1)) // _ROW_STEPS_PER_DOUBLING)
    return -(-rows // step) * step


def _padded_rows(x: torch.Tensor, rows: int) -> torch.Tensor:
    """(M, K) -> (rows, K): ``x`` followed by zero rows (rows are independent in a GEMM: the real ones are exact)."""
    if x.shape[0] == rows:
        return x
    out = x.new_empty(rows, x.shape[1])
    out[: x.shape[0]].copy_(x)
    out[x.shape[0] :].zero_()
    return out


def _mkldnn_usable(weight: torch.Tensor) -> bool:
    return (
        weight.device.type == "cpu"
        and weight.dtype in (torch.float32, torch.bfloat16)
        and torch.backends.mkldnn.is_available()
        and hasattr(torch.ops.mkldnn, "_linear_pointwise")
    )


class Linear:
    """``y = x @ W.T + b`` (optionally ``+ residual`` or followed by an activation) on a 2-D input.

    Args:
        weight: (out_features, in_features).
        bias: (out_features,) or None.
        backend: "aten" (``F.linear``) or "mkldnn" (oneDNN on a pre-packed weight).
    """

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, backend: str) -> None:
        self.backend = backend
        self.out_features, self.in_features = weight.shape
        self.bias = None if bias is None else bias.detach().contiguous()
        if backend == "mkldnn":
            self.weight = torch.ops.mkldnn._reorder_linear_weight(weight.detach().contiguous(), None)
        else:
            self.weight = weight.detach().contiguous()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.backend == "mkldnn":
            return self._pointwise(x, "none", "")
        return F.linear(x, self.weight, self.bias)

    def _pointwise(self, x: torch.Tensor, activation: str, algorithm: str) -> torch.Tensor:
        rows = x.shape[0]
        padded = _padded_rows(x, row_bucket(rows))
        return torch.ops.mkldnn._linear_pointwise(padded, self.weight, self.bias, activation, [], algorithm)[:rows]

    def activated(
        self, x: torch.Tensor, activation: str, fallback: Callable[[torch.Tensor], torch.Tensor]
    ) -> torch.Tensor:
        """``activation(linear(x))``; oneDNN applies the activations it knows in the GEMM's output pass."""
        fused = _FUSED_ACTIVATIONS.get(activation)
        if self.backend == "mkldnn" and fused is not None:
            return self._pointwise(x, *fused)
        return fallback(self(x))

    def add(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """``linear(x) + residual``; oneDNN fuses the add into the GEMM's output pass."""
        if self.backend == "mkldnn" and residual.dtype == x.dtype:
            rows = row_bucket(x.shape[0])
            added = torch.ops.mkldnn._linear_pointwise.binary(
                _padded_rows(x, rows), _padded_rows(residual, rows), self.weight, self.bias, "add"
            )
            return added[: x.shape[0]]
        return self(x).to(residual.dtype) + residual


def _candidates(weight: torch.Tensor) -> list[str]:
    forced = os.environ.get("ALBERTLITE_GEMM")
    if forced:
        if forced not in GEMM_BACKENDS:
            raise ValueError(f"ALBERTLITE_GEMM must be one of {sorted(GEMM_BACKENDS)}, got {forced!r}.")
        return [forced] if forced == "aten" or _mkldnn_usable(weight) else ["aten"]
    return ["aten", "mkldnn"] if _mkldnn_usable(weight) else ["aten"]


def _seconds(fn: Callable[[], torch.Tensor]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _median_seconds(fn: Callable[[], torch.Tensor], repeats: int = 5) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def choose_backend(weight: torch.Tensor) -> str:
    """The backend to use for this weight's shape, dtype and device (timed once, then cached)."""
    key = (weight.device.type, weight.dtype, weight.shape[1], weight.shape[0])
    if key in _CHOICES:
        return _CHOICES[key]
    names = _candidates(weight)
    if len(names) == 1:
        _CHOICES[key] = names[0]
        return names[0]
    generator = torch.Generator(device="cpu").manual_seed(0)
    w = (torch.randn(weight.shape, generator=generator) * 0.05).to(weight.dtype)
    b = torch.randn(weight.shape[0], generator=generator).to(weight.dtype)
    x = torch.randn(_ROWS_FOR_TIMING, weight.shape[1], generator=generator).to(weight.dtype)
    with torch.no_grad():
        reference = F.linear(x.float(), w.float(), b.float())
        scale = reference.abs().max().clamp_min(1e-12)
        layers = {}
        for name in names:
            layer = Linear(w, b, name)
            error = float((layer(x).float() - reference).abs().max() / scale)
            if error <= _TOLERANCE[weight.dtype] or name == "aten":
                layers[name] = layer
        # Alternate the candidates and keep each one's best time: robust to other processes sharing the CPU.
        timings = dict.fromkeys(layers, float("inf"))
        for _ in range(_TIMING_ROUNDS):
            for name, layer in layers.items():
                timings[name] = min(timings[name], _seconds(lambda layer=layer: layer(x)))
    _CHOICES[key] = min(timings, key=timings.get)
    return _CHOICES[key]


def chosen_backends() -> dict[tuple[str, torch.dtype, int, int], str]:
    """The choices made so far: (device type, dtype, in_features, out_features) -> backend."""
    return dict(_CHOICES)


def make_linear(weight: torch.Tensor, bias: torch.Tensor | None) -> Linear:
    """A :class:`Linear` on the fastest correct backend for ``weight``."""
    return Linear(weight, bias, choose_backend(weight))


def measure_gemm_gflops(backend: str, size: int = 2048, dtype: torch.dtype = torch.float32, repeats: int = 5) -> float:
    """Achieved GFLOP/s of one (size x size) @ (size x size) product on this machine's CPU."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(size, size, generator=generator).to(dtype)
    layer = Linear(torch.randn(size, size, generator=generator).to(dtype), None, backend)
    with torch.no_grad():
        seconds = _median_seconds(lambda: layer(x), repeats)
    return 2 * size**3 / seconds / 1e9


GEMM_BACKENDS = ("aten", "mkldnn")
