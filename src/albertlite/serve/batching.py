"""The batching worker: one thread per process that runs every request's forward pass in token-budget batches.

A request runs its task's pipeline in a thread of its own (tokenizing, then decoding, off the event loop and off
the model's thread). When the pipeline reaches its forward pass, :meth:`Batcher.attach`'s hook queues the
request's features instead of running them; the worker takes the oldest queued work, adds work of the same kind
(same model, same output, same feature shape) while the batch holds at most ``max_batch_tokens`` real tokens and
``max_batch_requests`` items, runs one forward pass (the torch models skip the padding by themselves) and hands each
request its rows. The pipeline then decodes those rows exactly as it decodes its own, so a request's result is the
pipeline's result for that request alone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import torch

from albertlite.inference.forward import OUTPUTS
from albertlite.inference.pipelines import Pipeline
from albertlite.serve.metrics import ServerMetrics
from albertlite.serve.settings import ServeSettings
from albertlite.tasks.batching import MODEL_INPUTS, collate, feature_length

logger = logging.getLogger(__name__)


class RequestCancelled(Exception):
    """The request's client went away, so its queued work was dropped."""


@dataclass
class Job:
    """One request's work: whether it was cancelled, and every forward output it received, in call order."""

    cancelled: bool = False
    submitted: bool = False
    outputs: list[list[Any]] = field(default_factory=list)


@dataclass
class _Item:
    """Some of a job's features (at most a batch's token budget), waiting for a forward pass."""

    job: Job
    model: torch.nn.Module
    pad_token_id: int
    output: str
    features: list[Any]
    tokens: int
    enqueued: float
    future: Future = field(default_factory=Future)

    @property
    def kind(self) -> tuple[int, str, int]:
        """Items of one kind share a forward pass: same model, same output, same number of choices (0: none)."""
        ids = self.features[0]["input_ids"]
        return id(self.model), self.output, len(ids) if ids and isinstance(ids[0], list) else 0


def _tokens(feature: Any) -> int:
    ids = feature["input_ids"]
    return sum(len(row) for row in ids) if ids and isinstance(ids[0], list) else len(ids)


class Batcher:
    """The batching worker of one process.

    Args:
        settings: its budget (``max_batch_tokens``, ``max_batch_requests``, ``max_wait_ms``).
        metrics: where queue depth, batch sizes, times and tokens are recorded.
    """

    def __init__(self, settings: ServeSettings, metrics: ServerMetrics) -> None:
        self.max_tokens = settings.max_batch_tokens
        self.max_requests = settings.max_batch_requests
        self.max_wait = settings.max_wait_ms / 1000
        self.metrics = metrics
        self._queue: deque[_Item] = deque()
        self._changed = threading.Condition()
        self._unsubmitted = 0  # jobs running that have queued nothing yet: work that is about to arrive
        self._stopping = False
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------------------- request side
    def attach(self, pipe: Pipeline) -> None:
        """Route ``pipe``'s forward passes through this worker (the pipeline's ``batch_size`` no longer applies)."""
        pipe._forward = lambda features, batch_size, output: self.submit(pipe, features, output)  # type: ignore[method-assign]

    def run(self, job: Job, function: Callable[..., Any], *args: Any) -> Any:
        """Call ``function(*args)`` (a pipeline call) in this thread as ``job``'s work."""
        _current.job = job
        with self._changed:
            self._unsubmitted += 1
        try:
            return function(*args)
        finally:
            _current.job = None
            with self._changed:
                if not job.submitted:
                    self._unsubmitted -= 1
                self._changed.notify_all()

    def submit(self, pipe: Pipeline, features: Sequence[Any], output: str) -> list[Any]:
        """Queue features for the worker and wait for their outputs (one per feature, as ``forward_features``)."""
        job = getattr(_current, "job", None) or Job()
        if not features:
            return []
        items = [
            _Item(
                job, pipe.model, pipe.tokenizer.pad_token_id, output, chunk, sum(map(_tokens, chunk)), time.monotonic()
            )
            for chunk in self._chunks(list(features))
        ]
        with self._changed:
            if job.cancelled:
                raise RequestCancelled
            if self._stopping or not self.alive:
                raise RuntimeError("The batching worker is not running.")
            if not job.submitted:
                job.submitted = True
                self._unsubmitted -= 1 if _current_is(job) else 0
            self._queue.extend(items)
            self.metrics.queue_depth.set(len(self._queue))
            self._changed.notify_all()
        results = [row for item in items for row in item.future.result()]
        job.outputs.append(results)
        return results

    def cancel(self, job: Job) -> None:
        """Drop ``job``'s queued work (its client disconnected); work already in a forward pass completes."""
        with self._changed:
            job.cancelled = True
            dropped = [item for item in self._queue if item.job is job]
            for item in dropped:
                self._queue.remove(item)
                item.future.set_exception(RequestCancelled())
            self.metrics.dropped.inc(len(dropped))
            self.metrics.queue_depth.set(len(self._queue))

    def _chunks(self, features: list[Any]) -> list[list[Any]]:
        """Consecutive runs of features within the token budget (a longer feature runs alone)."""
        chunks: list[list[Any]] = [[]]
        tokens = 0
        for feature in features:
            count = _tokens(feature)
            if chunks[-1] and tokens + count > self.max_tokens:
                chunks.append([])
                tokens = 0
            chunks[-1].append(feature)
            tokens += count
        return chunks

    # -------------------------------------------------------------------------------------------- worker side
    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="albertlite-batcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the queued work is done (the server stops accepting requests first)."""
        with self._changed:
            self._stopping = True
            self._changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            try:
                self._forward(batch)
            except Exception as error:  # the requests of this batch fail; the worker lives on for the next ones
                logger.exception("forward pass of %d requests failed", len(batch))
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(error)

    def _next_batch(self) -> list[_Item] | None:
        with self._changed:
            while not self._queue:
                if self._stopping:
                    return None
                self._changed.wait()
            deadline = time.monotonic() + self.max_wait
            batch, full = self._select()
            # wait for more only while requests that have queued nothing yet are on their way
            while not full and self._unsubmitted > 0 and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
                batch, full = self._select()
            for item in batch:
                self._queue.remove(item)
            self.metrics.queue_depth.set(len(self._queue))
            return batch

    def _select(self) -> tuple[list[_Item], bool]:
        """The oldest item and the next ones of its kind within the budget; whether the batch is full."""
        kind = self._queue[0].kind
        batch: list[_Item] = []
        tokens = 0
        for item in self._queue:
            if item.kind != kind:
                continue
            if batch and tokens + item.tokens > self.max_tokens:
                return batch, True
            batch.append(item)
            tokens += item.tokens
            if len(batch) == self.max_requests:
                return batch, True
        return batch, False

    @torch.no_grad()
    def _forward(self, batch: list[_Item]) -> None:
        """One forward pass over the batch's features; each item gets its own rows."""
        first = batch[0]
        features = [feature for item in batch for feature in item.features]
        padded = collate(features, first.pad_token_id)
        device = next(first.model.parameters()).device
        started = time.monotonic()
        for item in batch:
            self.metrics.queue_seconds.observe(started - item.enqueued)
        out = first.model(**{key: torch.as_tensor(padded[key], device=device) for key in MODEL_INPUTS})
        take = OUTPUTS[first.output]
        row = 0
        for item in batch:
            item.future.set_result([take(out, padded, row + i, feature_length(f)) for i, f in enumerate(item.features)])
            row += len(item.features)
        tokens = sum(item.tokens for item in batch)
        self.metrics.inference_seconds.observe(time.monotonic() - started)
        self.metrics.batch_requests.observe(len(batch))
        self.metrics.batch_tokens.observe(tokens)
        self.metrics.forward_passes.inc()
        self.metrics.tokens.inc(tokens)


_current = threading.local()  # the job of the request this thread is answering


def _current_is(job: Job) -> bool:
    return getattr(_current, "job", None) is job


def current_job() -> Job:
    """The job of the request this thread is answering (its forward outputs, for ``raw_scores``)."""
    job = getattr(_current, "job", None)
    if job is None:
        raise RuntimeError("current_job() is only known inside Batcher.run.")
    return job
