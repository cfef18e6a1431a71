"""The model a server holds: its task (from the task registry), the task's pipeline and the encoder's pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from albertlite.inference.pipelines import FeatureExtractionPipeline, Pipeline, pipeline
from albertlite.serve.settings import ServeSettings
from albertlite.tasks import registry

EMBED_TASK = "feature-extraction"  # what a directory that records no task serves (a base checkpoint)


@dataclass
class ServedModel:
    """A loaded model and what the routes need of it.

    Attributes:
        name: the directory or Hub id it was loaded from.
        task: its registry entry (feature extraction for a checkpoint that records no task).
        pipeline: the task's pipeline.
        embedder: the feature-extraction pipeline on the same encoder (shares its weights).
        dtype: "float32" or "bfloat16"; quantize: None or "int8".
    """

    name: str
    task: registry.Task
    pipeline: Pipeline
    embedder: FeatureExtractionPipeline
    dtype: str
    quantize: str | None

    @property
    def tokenizer(self) -> Any:
        return self.pipeline.tokenizer

    @property
    def max_input_length(self) -> int:
        return self.pipeline.max_length

    @property
    def routes(self) -> tuple[str, ...]:
        """Every route this model serves: the encoder's and its task's (the registry's ``routes``)."""
        return (*registry.COMMON_ROUTES, *self.task.routes)

    @property
    def default_route(self) -> str:
        """The route ``POST /`` answers as: the task's first, or ``/embed`` for the encoder alone."""
        return self.task.routes[0] if self.task.routes else "/embed"

    @property
    def labels(self) -> list[str] | None:
        """The label names of a classification or tagging head, in id order (None for other heads)."""
        if not self.task.named_labels:
            return None
        id2label = self.pipeline.model.config.id2label
        return [str(id2label[i]) for i in range(len(id2label))]

    def serves(self, route: str) -> bool:
        return route in self.routes


def load_model(settings: ServeSettings) -> ServedModel:
    """Load ``settings.model`` for its recorded task (or the encoder alone), at the settings' dtype/quantization.

    Raises:
        ValueError / OSError: the model cannot be found or loaded, or ``max_input_length`` is beyond it.
    """
    recorded, _ = registry.directory_task(settings.model)
    task = recorded or registry.get_task(EMBED_TASK)
    pipe = pipeline(task.name, model=settings.model, max_length=settings.max_input_length)
    if settings.dtype != "float32" or settings.quantize:
        from albertlite.fast.optimization import optimize

        dtype = torch.bfloat16 if settings.dtype == "bfloat16" else None
        optimize(pipe.model, dtype=dtype, quantize=settings.quantize, inplace=True)
    if isinstance(pipe, FeatureExtractionPipeline):
        embedder = pipe
    else:  # the head's own encoder: one copy of the weights serves both
        embedder = FeatureExtractionPipeline(pipe.model.base_model, pipe.tokenizer, max_length=pipe.max_length)
    return ServedModel(settings.model, task, pipe, embedder, settings.dtype, settings.quantize)
