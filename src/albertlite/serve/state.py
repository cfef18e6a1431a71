"""What one server process holds: its settings, model, batching worker, metrics and the requests in flight."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from albertlite.serve.batching import Batcher, Job, RequestCancelled
from albertlite.serve.errors import ApiError, first_line, validation_error
from albertlite.serve.metrics import ServerMetrics
from albertlite.serve.model import ServedModel
from albertlite.serve.settings import ServeSettings


@dataclass
class ServerState:
    """One process's server; ``app.state.server`` holds it."""

    settings: ServeSettings
    served: ServedModel
    metrics: ServerMetrics
    batcher: Batcher
    executor: ThreadPoolExecutor = field(init=False)
    ready: bool = False
    in_flight: int = 0

    def __post_init__(self) -> None:
        # a thread per request in flight: each tokenizes and decodes its own work, and waits for the worker
        limit = self.settings.max_concurrent_requests
        self.executor = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="albertlite-request")

    @property
    def healthy(self) -> bool:
        return self.ready and self.batcher.alive

    async def call(self, job: Job, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in a request thread, as ``job``'s work."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, self.batcher.run, job, function, *args)

    async def answer(self, request: Request, function: Callable[..., Any], *args: Any) -> Any:
        """Run a route's work for ``request``: 429 when too many are in flight, dropped when the client leaves.

        A pipeline's ValueError or TypeError is the request's fault (422); anything else is the server's (500).
        """
        if not self.healthy:
            raise ApiError(503, "The model is not ready (loading, warming up or shutting down).", "unhealthy")
        if self.in_flight >= self.settings.max_concurrent_requests:
            raise ApiError(
                429, f"Model is overloaded: {self.in_flight} requests in flight, the limit is "
                f"{self.settings.max_concurrent_requests} (--max-concurrent-requests).", "overloaded",
            )  # fmt: skip
        self.in_flight += 1
        self.metrics.in_flight.inc()
        job = Job()
        try:
            return await self._unless_disconnected(request, job, self.call(job, function, *args))
        except RequestCancelled:
            raise ApiError(499, "The client disconnected.", "cancelled") from None
        except (ValueError, TypeError) as error:
            raise validation_error(first_line(error)) from None
        finally:
            self.in_flight -= 1
            self.metrics.in_flight.dec()

    async def _unless_disconnected(self, request: Request, job: Job, work: Any) -> Any:
        task = asyncio.ensure_future(work)
        gone = asyncio.ensure_future(_disconnected(request))
        try:
            done, _ = await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # servers that cancel the handler of a client that went away
            self.batcher.cancel(job)
            raise
        finally:
            gone.cancel()
        if task in done:
            return task.result()
        self.batcher.cancel(job)  # its queued work is dropped; the thread ends at its next forward pass
        raise RequestCancelled


async def _disconnected(request: Request) -> None:
    """Returns when the client has gone (the body has been read, so the next message is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
