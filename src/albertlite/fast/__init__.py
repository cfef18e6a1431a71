"""Fast inference: padding-free execution, the fastest GEMM per device, bf16/int8, ONNX export.

The plain PyTorch models use the padding-free path (:mod:`albertlite.fast.packed`) by themselves whenever it gives the
same result: eval mode, gradients off, and no ``output_attentions``, ``head_mask`` or ``inputs_embeds``. One switch
turns it off, in three spellings:

- ``albertlite.set_fast_path(False)`` for the rest of the process;
- ``with albertlite.fast_path(False): ...`` for a block;
- the environment variable ``ALBERTLITE_FAST_PATH=0`` (read at import; the two above override it).

A ``with`` block is local to its thread (and asyncio task): it changes nothing for code running elsewhere, and
nested or overlapping blocks each restore what their own thread had before them. ``set_fast_path`` sets the
process default, which every thread follows outside its ``with`` blocks; called inside a block, it also takes
effect there until the block ends.

The TensorFlow and Flax models pack several sequences per row under the same switch (:mod:`.packing_plan`;
docs/fast_inference.md). This module imports no framework; the torch parts load on first use.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import os
from collections.abc import Iterator
from typing import Any

__all__ = ["export_onnx", "fast_path", "fast_path_enabled", "optimize", "set_fast_path"]

_DEFAULT = os.environ.get("ALBERTLITE_FAST_PATH", "1").strip().lower() not in ("0", "false", "no", "off")
# a ``with fast_path(...)`` block's setting, in its own thread or task only; None follows the process default
_BLOCK: contextvars.ContextVar[bool | None] = contextvars.ContextVar("albertlite_fast_path", default=None)


def set_fast_path(enabled: bool) -> None:
    """Turn the padding-free fast path on or off for the whole process (the default of every thread)."""
    global _DEFAULT
    _DEFAULT = bool(enabled)
    if _BLOCK.get() is not None:  # inside a block of this thread: the latest call wins there too
        _BLOCK.set(None)


def fast_path_enabled() -> bool:
    """Whether models may use the fast path here (see the module docstring for when they do)."""
    block = _BLOCK.get()
    return _DEFAULT if block is None else block


@contextlib.contextmanager
def fast_path(enabled: bool) -> Iterator[None]:
    """Turn the fast path on or off inside a ``with`` block, for this thread (or task) only.

    Blocks nest, and overlapping blocks in several threads do not see each other: each restores its own
    thread's setting when it ends.

    Example:
        >>> with albertlite.fast_path(False):
        ...     reference = model(**batch)
    """
    token = _BLOCK.set(bool(enabled))
    try:
        yield
    finally:
        _BLOCK.reset(token)


# The function optimize lives in optimization.py: a submodule named optimize would shadow it once imported.
_LAZY = {"optimize": "albertlite.fast.optimization", "export_onnx": "albertlite.export.onnx"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'albertlite.fast' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
