"""The server's Prometheus metrics, one registry per app (so per process under ``--workers N``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_TIME_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ServerMetrics:
    """Requests by route and status, queue depth, batch sizes, batch tokens, queue and inference times, tokens."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.requests = Counter(
            "albertlite_requests", "HTTP requests answered, by route and status.", ["route", "status"],
            registry=registry,
        )  # fmt: skip
        self.request_seconds = Histogram(
            "albertlite_request_seconds", "Time from a request's arrival to its response.", ["route"],
            buckets=_TIME_BUCKETS, registry=registry,
        )  # fmt: skip
        self.in_flight = Gauge("albertlite_requests_in_flight", "Inference requests being answered.", registry=registry)
        self.queue_depth = Gauge(
            "albertlite_queue_depth", "Work items waiting for the batching worker.", registry=registry
        )
        self.batch_requests = Histogram(
            "albertlite_batch_requests", "Requests per forward pass.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), registry=registry,
        )  # fmt: skip
        self.batch_tokens = Histogram(
            "albertlite_batch_tokens", "Real (unpadded) tokens per forward pass.",
            buckets=tuple(2**k for k in range(4, 18)), registry=registry,
        )  # fmt: skip
        self.queue_seconds = Histogram(
            "albertlite_queue_seconds", "Time a work item waits before its forward pass.", buckets=_TIME_BUCKETS,
            registry=registry,
        )  # fmt: skip
        self.inference_seconds = Histogram(
            "albertlite_inference_seconds", "Time of one batched forward pass.", buckets=_TIME_BUCKETS,
            registry=registry,
        )  # fmt: skip
        self.forward_passes = Counter("albertlite_forward_passes", "Batched forward passes run.", registry=registry)
        self.tokens = Counter("albertlite_tokens", "Real tokens run through the model.", registry=registry)
        self.dropped = Counter(
            "albertlite_dropped_items", "Queued work dropped because its client disconnected.", registry=registry
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
