"""Fast inference: padding-free execution, the fastest GEMM per device, bf16/int8, ONNX export.

The plain PyTorch models use the padding-free path (:mod:`albertlite.fast.packed`) by themselves whenever it gives the
same result: eval mode, gradients off, and no ``output_attentions``, ``head_mask`` or ``inputs_embeds``. One switch
turns it off, in three spellings:

- ``albertlite.set_fast_path(False)`` for the rest of the process;
- ``with albertlite.fast_path(False): ...`` for a block;
- the environment variable ``ALBERTLITE_FAST_PATH=0`` (read at import; the two above override it).

The TensorFlow and Flax models pack several sequences per row under the same switch (:mod:`.packing_plan`;
docs/fast_inference.md). This module imports no framework; the torch parts load on first use.
"""

from __future__ import annotations

import contextlib
import importlib
import os
from collections.abc import Iterator
from typing import Any

__all__ = ["export_onnx", "fast_path", "fast_path_enabled", "optimize", "set_fast_path"]

_ENABLED = os.environ.get("ALBERTLITE_FAST_PATH", "1").strip().lower() not in ("0", "false", "no", "off")


def set_fast_path(enabled: bool) -> None:
    """Turn the padding-free fast path on or off for the whole process."""
    global _ENABLED
    _ENABLED = bool(enabled)


def fast_path_enabled() -> bool:
    """Whether models may use the fast path (see the module docstring for when they do)."""
    return _ENABLED


@contextlib.contextmanager
def fast_path(enabled: bool) -> Iterator[None]:
    """Turn the fast path on or off inside a ``with`` block, restoring the previous setting after it.

    Example:
        >>> with albertlite.fast_path(False):
        ...     reference = model(**batch)
    """
    previous = _ENABLED
    set_fast_path(enabled)
    try:
        yield
    finally:
        set_fast_path(previous)


# The function optimize lives in optimization.py: a submodule named optimize would shadow it once imported.
_LAZY = {"optimize": "albertlite.fast.optimization", "export_onnx": "albertlite.export.onnx"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'albertlite.fast' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
