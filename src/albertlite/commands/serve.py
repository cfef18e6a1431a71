"""``albertlite serve``: the HTTP inference server (routes and limits: docs/serving.md)."""

from __future__ import annotations

import argparse

from albertlite.serve.settings import DTYPES, QUANTIZATIONS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="Serve a model over HTTP with token-budget batching.",
        description="Serve MODEL (a fine-tuned directory, a base or masked-LM directory, or a Hub id) over HTTP: "
        "text-embeddings-inference's /embed /predict /rerank /tokenize /decode, OpenAI's /v1/embeddings, the "
        "Inference API's task routes, /health /info /metrics /docs and a web page at /. Limits and /metrics are "
        "per worker process.",
    )
    parser.add_argument("model", metavar="MODEL", help="A model directory or Hub id.")
    parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
    parser.add_argument("--port", type=int, default=8080, help="Port (default 8080).")
    parser.add_argument("--max-batch-tokens", type=int, default=16384, help="Real tokens per forward pass.")
    parser.add_argument("--max-batch-requests", type=int, default=64, help="Requests per forward pass.")
    parser.add_argument("--max-wait-ms", type=float, default=5.0, help="Longest wait for a batch to fill.")
    parser.add_argument("--max-concurrent-requests", type=int, default=512, help="Beyond: 429 at once.")
    parser.add_argument("--max-client-batch-size", type=int, default=32, help="Inputs per request (413 beyond).")
    parser.add_argument("--max-input-length", type=int, help="Tokens per input (default: the model's maximum).")
    parser.add_argument("--dtype", choices=DTYPES, default="float32", help="Compute dtype (default float32).")
    parser.add_argument("--quantize", choices=QUANTIZATIONS, help="int8: dynamic int8 encoder layers.")
    parser.add_argument("--api-key", help="Require Authorization: Bearer KEY on the API routes.")
    parser.add_argument("--graceful-timeout", type=float, default=30.0, help="Seconds to finish requests on stop.")
    parser.add_argument("--workers", type=int, default=1, help="Processes on one port, each with its own model.")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from albertlite.serve.server import run_server
    from albertlite.serve.settings import ServeSettings

    run_server(
        ServeSettings(
            model=args.model, host=args.host, port=args.port, max_batch_tokens=args.max_batch_tokens,
            max_batch_requests=args.max_batch_requests, max_wait_ms=args.max_wait_ms,
            max_concurrent_requests=args.max_concurrent_requests, max_client_batch_size=args.max_client_batch_size,
            max_input_length=args.max_input_length, dtype=args.dtype, quantize=args.quantize, api_key=args.api_key,
            graceful_timeout=args.graceful_timeout, workers=args.workers,
        )
    )  # fmt: skip
    return 0
