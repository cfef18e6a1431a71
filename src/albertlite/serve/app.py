"""``create_app``: the ASGI app of ``albertlite serve`` (FastAPI), which any ASGI server can run.

Example:
    >>> app = create_app(ServeSettings("my-model"))  # doctest: +SKIP
    >>> uvicorn.run(app, port=8080)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

import albertlite
from albertlite.serve import routes
from albertlite.serve.batching import Batcher, Job
from albertlite.serve.errors import install_error_handlers
from albertlite.serve.metrics import ServerMetrics
from albertlite.serve.model import ServedModel, load_model
from albertlite.serve.settings import SETTINGS_VARIABLE, ServeSettings
from albertlite.serve.state import ServerState

STATIC = Path(__file__).parent / "static"
logger = logging.getLogger("uvicorn.error")  # uvicorn prints this logger; other ASGI servers log it as usual


def create_app(settings: ServeSettings, served: ServedModel | None = None) -> FastAPI:
    """The server's ASGI app; the model loads here, the batching worker starts (and warms up) with the app.

    Args:
        settings: the model and the limits.
        served: an already loaded model (default: ``load_model(settings)``).

    Returns:
        A FastAPI app; ``/health`` answers 200 once its lifespan startup has warmed the model up.
    """
    served = served or _in_passing_thread(load_model, settings)
    metrics = ServerMetrics()
    batcher = Batcher(settings, metrics)
    for pipe in {id(p): p for p in (served.pipeline, served.embedder)}.values():
        batcher.attach(pipe)
    state = ServerState(settings, served, metrics, batcher)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        batcher.start()
        await state.call(Job(), served.embedder, ["warm up"])  # the first pass allocates; no request should wait
        state.ready = True
        logger.info(
            "albertlite serve: %s (%s) ready; batching: max_batch_tokens=%d, max_batch_requests=%d, max_wait_ms=%s",
            served.name, served.task.name, settings.max_batch_tokens, settings.max_batch_requests,
            settings.max_wait_ms,
        )  # fmt: skip
        try:
            yield
        finally:  # the ASGI server has answered the requests in flight by now
            state.ready = False
            batcher.stop()
            state.executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="albertlite", version=albertlite.__version__, lifespan=lifespan,
        description=f"ALBERT inference: {served.name} ({served.task.name}).",
    )  # fmt: skip
    app.state.server = state
    install_error_handlers(app)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.include_router(routes.public)
    app.include_router(routes.api)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app


def _in_passing_thread(function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)`` in a thread that ends when it returns.

    Loading runs torch operations large enough to start an OpenMP team, and the thread that starts one keeps it
    for as long as it lives. With the loading thread's team alive beside the batching worker's, OpenMP has more
    threads than cores and stops spinning between parallel regions: every small operation of the worker's forward
    pass then waits for its threads to wake (twice the latency on 2 cores). So only the worker's team may outlive
    its work.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="albertlite-load") as loader:
        return loader.submit(function, *args).result()


def app_from_environment() -> FastAPI:
    """The app of the settings in ``$ALBERTLITE_SERVE_SETTINGS`` (how each ``--workers`` process builds its own)."""
    text = os.environ.get(SETTINGS_VARIABLE)
    if not text:
        raise RuntimeError(f"{SETTINGS_VARIABLE} is not set: start the server with albertlite serve.")
    return create_app(ServeSettings.from_json(text))


class MetricsMiddleware:
    """Counts every HTTP request by route and status and times it (pure ASGI: the body stream stays untouched)."""

    def __init__(self, app: Any, metrics: ServerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = _route_label(scope)
        status = 500
        started = time.perf_counter()

        async def send_status(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.request_seconds.labels(route).observe(time.perf_counter() - started)


_KNOWN = {*routes.schemas.REQUESTS, "/", "/health", "/info", "/metrics", "/docs", "/openapi.json"}


def _route_label(scope: dict) -> str:
    """The route a path is (unknown paths share one label, so a scan cannot grow the metrics without bound)."""
    path = scope.get("path", "")
    if path in _KNOWN:
        return path
    return "/static" if path.startswith("/static/") else "other"
