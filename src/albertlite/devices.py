"""Which torch device a ``--device`` flag or ``device=`` argument names, refused in one line when it cannot run here.

Every entry point that takes a device (``albertlite finetune``, ``pretrain``, ``fill-mask``, ``predict``,
:func:`albertlite.pipeline`, :class:`~albertlite.train.finetune.FinetuneSettings`,
:class:`~albertlite.train.pretrain.PretrainConfig`) resolves it here, so that "tpu" is not taken for the CPU and
"cuda" on a machine without CUDA is refused before any work instead of failing mid-run with a traceback.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

ACCEPTED = "cpu, cuda, cuda:N (a CUDA device index) or mps"
_SPELLING = re.compile(r"(cpu|mps|cuda)(?::(\d+))?")


def available_devices() -> list[str]:
    """The devices this machine can run on: "cpu", then "cuda:0" ... and "mps" where present."""
    import torch

    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{index}" for index in range(torch.cuda.device_count())]
    if _mps_available():
        devices.append("mps")
    return devices


def resolve_device(
    device: str | int | torch.device | None, *, name: str = "--device", default: str = "cpu"
) -> torch.device:
    """The torch device ``device`` names, checked against what this machine has.

    Args:
        device: "cpu", "cuda", "cuda:N", "mps", a ``torch.device``, a CUDA index (-1: the CPU), or None.
        name: how the caller spells the setting in messages ("--device", "device").
        default: what None means: "cpu", or "auto" (CUDA when available, else the CPU).

    Returns:
        The device.

    Raises:
        ValueError: an unknown device ("tpu"), or one this machine lacks (naming what it has).
        TypeError: neither a string, an integer nor a torch.device.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    import torch

    if device is None:
        return torch.device("cuda" if default == "auto" and torch.cuda.is_available() else "cpu")
    if isinstance(device, bool) or not isinstance(device, (str, int, torch.device)):
        raise TypeError(f"{_spell(name, device)}: expected a device name ({ACCEPTED}), got {type(device).__name__}")
    as_index = {-1: "cpu"}.get(device, f"cuda:{device}") if isinstance(device, int) else None  # pipeline's ints
    text = as_index or str(device).strip().lower()
    match = _SPELLING.fullmatch(text)
    if match is None or (match.group(1) != "cuda" and match.group(2) is not None):
        raise ValueError(f"{_spell(name, device)}: unknown device; use {ACCEPTED} "
                         f"(this machine has {', '.join(available_devices())})")  # fmt: skip
    _check_available(text, match.group(1), match.group(2), name)
    return torch.device(text)


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 in hardware (so that bf16 autocast can be faster than float32).

    CUDA: ``torch.cuda.is_bf16_supported()``. CPU: the instruction sets the CPU reports (x86 AVX512-BF16 or AMX-BF16,
    Arm's BF16 extension), read from /proc/cpuinfo; False where that file is missing. The vendor is never read.
    """
    import torch

    if device.type == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return False
    return bool(_cpu_flags() & {"avx512_bf16", "amx_bf16", "bf16"})


# bf16 autocast is turned on for speed only where a bf16 product measures at least this much faster than float32
BF16_MIN_SPEEDUP = 1.2


def bf16_pays_off(device: torch.device) -> bool:
    """Whether bf16 autocast makes training faster here: the device computes bf16 in hardware (:func:`native_bf16`)
    and, on a CPU, a bf16 product of ALBERT-base's feed-forward shape measures at least ``BF16_MIN_SPEEDUP`` times
    float32's (:func:`cpu_gemm_rates`).

    The flags alone do not settle it: an Intel Xeon reporting AVX512-BF16 without AMX tiles multiplied bf16 at
    142 GFLOP/s against float32's 243 (2048-cubed, 2 cores, 2026-12-02), so bf16 there is slower, not faster.
    """
    if not native_bf16(device):
        return False
    if device.type != "cpu":
        return True
    fp32, bf16 = cpu_gemm_rates()
    return bf16 >= BF16_MIN_SPEEDUP * fp32


@functools.cache
def cpu_gemm_rates() -> tuple[float, float]:
    """GFLOP/s of a (512 x 768) @ (768 x 3072) product on this CPU in float32 and in bfloat16, through
    ``F.linear`` as autocast calls it; the fast path's median timing, measured once per process (about a quarter
    of a second)."""
    import torch
    import torch.nn.functional as F

    from albertlite.fast.gemm import _median_seconds

    generator = torch.Generator().manual_seed(0)
    x, weight = torch.randn(512, 768, generator=generator), torch.randn(3072, 768, generator=generator)
    rates = []
    with torch.no_grad():
        for dtype in (torch.float32, torch.bfloat16):
            a, b = x.to(dtype), weight.to(dtype)
            rates.append(2 * 512 * 768 * 3072 / _median_seconds(lambda a=a, b=b: F.linear(a, b)) / 1e9)
    return rates[0], rates[1]


def _cpu_flags() -> set[str]:
    """The feature flags of the first CPU in /proc/cpuinfo (x86 "flags", Arm "Features"); empty elsewhere."""
    return set((cpuinfo_value("flags", "Features") or "").split())


def cpuinfo_value(*keys: str) -> str | None:
    """The value of the first /proc/cpuinfo line whose key is one of ``keys``; None where there is none."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() in keys:
                    return value.strip()
    except OSError:
        pass
    return None


def _check_available(text: str, kind: str, index: str | None, name: str) -> None:
    import torch

    if kind == "cpu":
        return
    if kind == "cuda" and torch.cuda.is_available():
        count = torch.cuda.device_count()
        if index is None or int(index) < count:
            return
        problem = f"cuda:{index} is not on this machine (it has {count} CUDA device{'s' if count > 1 else ''})"
    elif kind == "mps" and _mps_available():
        return
    else:
        problem = f"{text} is not available on this machine (torch {torch.__version__})"
    raise ValueError(f"{problem}; use {' or '.join(_spell(name, d) for d in available_devices())}")


def _mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return mps is not None and bool(mps.is_available())


def _spell(name: str, value: object) -> str:
    """``--device cuda`` for a flag, ``device='cuda'`` for an argument."""
    return f"{name} {value}" if name.startswith("--") else f"{name}={value!r}"
