"""Several servers in one process (torch and the app import once for all): ``python -m tests.helpers.serve_many
MODEL_DIR=PORT ...``. Each is ``create_app``'s app under uvicorn, as ``albertlite serve`` runs it."""

from __future__ import annotations

import asyncio
import sys

import uvicorn

from albertlite.serve import ServeSettings, create_app


async def _serve(pairs: list[tuple[str, int]]) -> None:
    servers = [
        uvicorn.Server(uvicorn.Config(create_app(ServeSettings(model, port=port)), port=port, log_level="warning"))
        for model, port in pairs
    ]
    await asyncio.gather(*(server.serve() for server in servers))


if __name__ == "__main__":
    asyncio.run(_serve([(arg.rsplit("=", 1)[0], int(arg.rsplit("=", 1)[1])) for arg in sys.argv[1:]]))
