"""The server's settings: the model to load and the limits that hold under load (``albertlite serve``'s flags)."""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass

DTYPES = ("float32", "bfloat16")
QUANTIZATIONS = ("int8",)
SETTINGS_VARIABLE = "ALBERTLITE_SERVE_SETTINGS"  # hands the settings to ``--workers`` processes (JSON)


@dataclass(frozen=True)
class ServeSettings:
    """What ``albertlite serve`` runs; every limit is per process (``--workers N`` runs N of them).

    Args:
        model: a fine-tuned directory, a base or masked-LM directory, or a Hub id.
        host / port: where uvicorn listens.
        max_batch_tokens: real tokens one forward pass may hold.
        max_batch_requests: requests one forward pass may hold.
        max_wait_ms: how long the batching worker waits for more requests while a batch is not full.
        max_concurrent_requests: requests in flight beyond which a request is answered 429 at once.
        max_client_batch_size: inputs one request may hold (413 beyond).
        max_input_length: the longest input in tokens (None: the model's maximum); longer inputs are truncated
            when the request says ``truncate``, otherwise answered 413.
        dtype: "float32" or "bfloat16" (the fast path's compute dtype).
        quantize: None or "int8" (dynamic int8 encoder layers).
        api_key: when set, every API request needs ``Authorization: Bearer <api_key>``.
        graceful_timeout: seconds a shutdown waits for the requests in flight.
        workers: uvicorn processes on one port, each with its own model and batching worker.

    Example:
        >>> ServeSettings("my-model", max_batch_tokens=4096).max_batch_requests
        64
    """

    model: str
    host: str = "127.0.0.1"
    port: int = 8080
    max_batch_tokens: int = 16384
    max_batch_requests: int = 64
    max_wait_ms: float = 5.0
    max_concurrent_requests: int = 512
    max_client_batch_size: int = 32
    max_input_length: int | None = None
    dtype: str = "float32"
    quantize: str | None = None
    api_key: str | None = None
    graceful_timeout: float = 30.0
    workers: int = 1

    def __post_init__(self) -> None:
        for name in ("max_batch_tokens", "max_batch_requests", "max_concurrent_requests", "max_client_batch_size",
                     "workers"):  # fmt: skip
            _check_positive(name, getattr(self, name))
        if self.max_input_length is not None:
            _check_positive("max_input_length", self.max_input_length)
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be 0 to 65535, got {self.port}.")
        for name in ("max_wait_ms", "graceful_timeout"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value}.")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}.")
        if self.quantize not in (None, *QUANTIZATIONS):
            raise ValueError(f"quantize must be int8 or left out, got {self.quantize!r}.")
        if self.quantize is not None and self.dtype != "float32":
            raise ValueError("Choose one of --dtype bfloat16 and --quantize int8: int8 layers compute in int8.")
        if self.api_key is not None and not self.api_key.strip():
            raise ValueError("api_key must not be empty.")

    def to_json(self) -> str:
        """The settings as JSON (what a worker process reads back with :meth:`from_json`)."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeSettings:
        """Settings written by :meth:`to_json`."""
        return cls(**json.loads(text))


def _check_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}.")
