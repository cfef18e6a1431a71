"""``run_server``: uvicorn running the app, in one process or ``workers`` processes on one port.

SIGTERM and SIGINT stop accepting connections, let uvicorn answer the requests in flight (up to
``graceful_timeout``), stop the batching worker, and return: ``albertlite serve`` then exits 0.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
from collections.abc import Iterator

from albertlite.serve.settings import SETTINGS_VARIABLE, ServeSettings


class _Stopped(Exception):
    """A stop signal arrived (after uvicorn's graceful shutdown, which re-raises the signal it caught)."""


@contextlib.contextmanager
def _stop_signals_return() -> Iterator[None]:
    def stop(signum: int, frame: object) -> None:
        raise _Stopped

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    except _Stopped:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_server(settings: ServeSettings) -> None:
    """Serve ``settings.model`` on ``settings.host:settings.port`` until SIGTERM or SIGINT.

    Raises:
        ValueError / OSError: the model cannot be loaded (before anything listens).
    """
    import uvicorn

    from albertlite.serve.app import create_app

    options = {
        "host": settings.host, "port": settings.port, "log_level": "info", "access_log": False,
        "timeout_graceful_shutdown": math.ceil(settings.graceful_timeout),
    }  # fmt: skip
    if settings.workers == 1:
        app = create_app(settings)  # load errors surface here, as the command's one-line error
        _announce(settings)
        with _stop_signals_return():
            uvicorn.run(app, **options)
        return
    # each worker process loads its own model and runs its own batching worker, so it needs the settings again;
    # a model that cannot be found is refused here, before workers that would fail (and be restarted) start
    from albertlite.checkpoints.hub import resolve_file

    resolve_file(settings.model, "config.json")
    os.environ[SETTINGS_VARIABLE] = settings.to_json()
    _announce(settings)
    uvicorn.run("albertlite.serve.app:app_from_environment", factory=True, workers=settings.workers, **options)


def _announce(settings: ServeSettings) -> None:
    print(
        f"albertlite serve: {settings.model} on http://{settings.host}:{settings.port} ({settings.workers} "
        f"worker process(es)); batching: max_batch_tokens={settings.max_batch_tokens}, "
        f"max_batch_requests={settings.max_batch_requests}, max_wait_ms={settings.max_wait_ms}",
        file=sys.stderr, flush=True,
    )  # fmt: skip
