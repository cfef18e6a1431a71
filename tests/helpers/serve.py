"""What the server tests share: tiny task model directories, an in-process app on a background event loop, and a
server subprocess on a free loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import torch

from albertlite import (
    AlbertForMultipleChoice,
    AlbertForQuestionAnswering,
    AlbertForSequenceClassification,
    AlbertForTokenClassification,
    AlbertModel,
    AlbertTokenizerFast,
)

SRC = Path(__file__).parents[2] / "src"
NER_LABELS = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}


def task_model_dir(base: Path, directory: Path, head: str) -> Path:
    """A head on the tiny base model's encoder, saved with its tokenizer (config.json's architectures name the
    task, as a fine-tuned directory's do); random heads, scaled so tagging and span heads predict something."""
    torch.manual_seed(3)
    if head == "classification":
        model = AlbertForSequenceClassification.from_pretrained(base, id2label={0: "neg", 1: "mid", 2: "pos"})
    elif head == "score":
        model = AlbertForSequenceClassification.from_pretrained(base, num_labels=1)
    elif head == "ner":
        model = AlbertForTokenClassification.from_pretrained(base, id2label=NER_LABELS)
        with torch.no_grad():
            model.classifier.weight.normal_(0, 2.0)
    elif head == "qa":
        model = AlbertForQuestionAnswering.from_pretrained(base)
    elif head == "choice":
        model = AlbertForMultipleChoice.from_pretrained(base)
    elif head == "base":
        model = AlbertModel.from_pretrained(base)
    else:
        raise ValueError(head)
    model.save_pretrained(directory)
    AlbertTokenizerFast.from_pretrained(base).save_pretrained(directory)
    return directory


class InProcess:
    """An app's lifespan and an httpx ASGI client, on an event loop in a thread of its own (tests stay sync)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.lifespan = app.router.lifespan_context(app)
        self.run(self.lifespan.__aenter__())
        transport = httpx.ASGITransport(app=app)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://albertlite.test", timeout=60)

    def run(self, coroutine: Any, timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.run(self.client.post(path, **kwargs))

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.run(self.client.get(path, **kwargs))

    def post_many(self, path: str, bodies: list[Any], **kwargs: Any) -> list[httpx.Response]:
        """All at once (concurrent on the app's event loop)."""

        async def everything() -> list[httpx.Response]:
            return await asyncio.gather(*(self.client.post(path, json=body, **kwargs) for body in bodies))

        return self.run(everything())

    def close(self) -> None:
        self.run(self.client.aclose())
        self.run(self.lifespan.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def metric(text: str, name: str) -> float:
    """The value of an unlabelled sample of the Prometheus text (``albertlite_forward_passes_total`` ...)."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise KeyError(name)


class Subprocess:
    """A server process (``python -m albertlite serve MODEL --port <free> FLAGS`` unless ``argv`` is given);
    :meth:`wait` until /health answers 200."""

    def __init__(self, model: Path, *flags: str, log: Path, argv: list[str] | None = None, port: int = 0) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        path = [str(SRC), str(SRC.parent), os.environ.get("PYTHONPATH", "")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
        command = argv or ["-m", "albertlite", "serve", str(model), "--port", str(self.port), *flags]
        self.log = log
        with log.open("w") as output:  # the child holds its own copy of the descriptor
            self.process = subprocess.Popen(
                [sys.executable, *command], stdout=output, stderr=subprocess.STDOUT, env=env, cwd=SRC.parent
            )

    def wait(self, timeout: float = 180) -> Subprocess:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log.read_text()}")
            if self.healthy(self.url):
                return self
            time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"the server did not become healthy:\n{self.log.read_text()}")

    @staticmethod
    def healthy(url: str) -> bool:
        with contextlib.suppress(httpx.HTTPError):
            return httpx.get(url + "/health", timeout=5).status_code == 200
        return False

    @staticmethod
    def wait_url(url: str, timeout: float = 120) -> None:
        """Until another server of a process already waited for answers /health (``serve_many``'s others)."""
        deadline = time.monotonic() + timeout
        while not Subprocess.healthy(url):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not become healthy")
            time.sleep(0.2)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 60) -> int:
        """``signum`` (SIGTERM or SIGINT), then the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@contextlib.contextmanager
def in_process(app: Any) -> Iterator[InProcess]:
    served = InProcess(app)
    try:
        yield served
    finally:
        served.close()
