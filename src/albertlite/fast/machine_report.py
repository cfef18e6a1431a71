"""What the padding-free path will run on this machine, measured now: ``albertlite info --fast-path`` prints it.

Every choice here comes from what the CPU reports it can do (torch's CPU capability, oneDNN's bf16 support) or from
timing the candidates on ALBERT-base shapes, as the fast path itself does on first use; the CPU's vendor and model
name are printed for the record and decide nothing.
"""

from __future__ import annotations

import platform
from types import SimpleNamespace

import torch

from albertlite.devices import cpuinfo_value
from albertlite.fast import attention_choice
from albertlite.fast.gemm import choose_backend

# ALBERT-base's linear layers as (out_features, in_features): embedding mapping, fused QKV, output, FFN in and out.
BASE_WEIGHTS = ((768, 128), (2304, 768), (768, 768), (3072, 768), (768, 3072))
# The benchmark's varied batch: 16 sequences of these lengths (lognormal around 40, seed 0).
VARIED_LENGTHS = (43, 37, 59, 43, 29, 50, 87, 71, 26, 19, 28, 41, 10, 35, 19, 26)


def cpu_name() -> str:
    """The CPU's model name, for the record only."""
    return cpuinfo_value("model name") or platform.processor() or platform.machine()


def bf16_supported() -> bool:
    probe = getattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", None)
    return bool(probe()) if probe is not None else False


def gemm_choices(dtype: torch.dtype) -> dict[str, str]:
    """The backend the fast path picks for each ALBERT-base weight shape in ``dtype`` (timed now if not yet)."""
    return {f"{k}->{n}": choose_backend(torch.empty(n, k, dtype=dtype)) for n, k in BASE_WEIGHTS}


def attention_mode(dtype: torch.dtype, lengths: tuple[int, ...] = VARIED_LENGTHS) -> str:
    """The attention kernel chosen for a batch of ``lengths`` at ALBERT-base's 12 heads of 64 (timed now if not yet)."""
    from albertlite.fast.packed import _attention_kernels, pack

    batch, longest = len(lengths), max(lengths)
    mask = (torch.arange(longest)[None] < torch.tensor(lengths)[:, None]).long()
    packing = pack(mask, batch, longest, torch.device("cpu"))
    qkv = torch.randn(sum(lengths), 3 * 768, generator=torch.Generator().manual_seed(0)).to(dtype)
    layer = SimpleNamespace(heads=12, head_size=64, relative=None)
    key = attention_choice.shape_class(list(lengths), dtype, qkv.device)
    return attention_choice.choose(key, _attention_kernels(layer, qkv, packing))[0]


def bf16_line() -> str:
    """Whether the paper recipes train under bf16 autocast here, and the measurement that decides it."""
    from albertlite.devices import BF16_MIN_SPEEDUP, bf16_pays_off, cpu_gemm_rates, native_bf16

    cpu = torch.device("cpu")
    if not native_bf16(cpu):
        return "bf16       recipes train in float32: the CPU reports no bf16 arithmetic"
    fp32, bf16 = cpu_gemm_rates()
    verdict = "under bf16 autocast" if bf16_pays_off(cpu) else "in float32"
    return (
        f"bf16       recipes train {verdict}: a 512x768x3072 product runs at {bf16:.0f} GFLOP/s in bf16 against "
        f"{fp32:.0f} in float32 (bf16 needs {BF16_MIN_SPEEDUP}x)"
    )


def report() -> list[str]:
    """Lines describing the machine and the fast path's choices on it."""
    dtypes = [torch.float32] + ([torch.bfloat16] if bf16_supported() else [])
    lines = [
        f"cpu        {cpu_name()} (for the record; no choice reads it)",
        f"capability {torch.backends.cpu.get_cpu_capability()} (torch), oneDNN "
        f"{'yes' if torch.backends.mkldnn.is_available() else 'no'}, bf16 {'yes' if bf16_supported() else 'no'}, "
        f"int8 engine {torch.backends.quantized.engine}",
        f"threads    {torch.get_num_threads()} (torch intra-op)",
        bf16_line(),
    ]
    for dtype in dtypes:
        name = str(dtype).removeprefix("torch.")
        gemm = ", ".join(f"{shape}: {backend}" for shape, backend in gemm_choices(dtype).items())
        lines.append(f"gemm       {name}: {gemm}")
        lines.append(f"attention  {name}, 16 varied sequences (10-87 tokens): {attention_mode(dtype)}")
        lines.append(f"attention  {name}, 1 sequence of 40 tokens: {attention_mode(dtype, (40,))}")
        lines.append(f"attention  {name}, 2 sequences of 512 tokens: {attention_mode(dtype, (512, 512))}")
    return lines
