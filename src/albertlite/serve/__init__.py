"""``albertlite serve``: an HTTP inference server with token-budget batching (FastAPI + uvicorn).

Routes: text-embeddings-inference's (``/embed``, ``/predict``, ``/rerank``, ``/tokenize``, ``/decode``), OpenAI's
``/v1/embeddings``, Hugging Face's Inference API per task (``/fill-mask``, ``/token-classification``,
``/question-answering``, ``/multiple-choice``), ``POST /`` as the model's own task route, ``/health``, ``/info``,
``/metrics`` (Prometheus), ``/docs`` and a web page at ``GET /``. See docs/serving.md.

Only the settings import here; the app (FastAPI, torch) loads on first use, so the CLI starts fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from albertlite.serve.settings import ServeSettings

_LAZY = {
    "create_app": "albertlite.serve.app",
    "ServedModel": "albertlite.serve.model",
    "load_model": "albertlite.serve.model",
    "run_server": "albertlite.serve.server",
}

__all__ = ["ServeSettings", "ServedModel", "create_app", "load_model", "run_server"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'albertlite.serve' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
