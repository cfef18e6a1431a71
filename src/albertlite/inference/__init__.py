"""Inference: the task pipelines, predictions over files, and the one batched forward pass they share.

``pipeline()`` and ``predict()`` (``albertlite predict``) look tasks up in :mod:`albertlite.tasks.registry`;
the server builds on the same pipelines.
"""

from albertlite.inference.forward import OUTPUTS, forward_features
from albertlite.inference.pipelines import (
    PIPELINE_TASKS,
    FeatureExtractionPipeline,
    FillMaskPipeline,
    MultipleChoicePipeline,
    Pipeline,
    QuestionAnsweringPipeline,
    TextClassificationPipeline,
    TokenClassificationPipeline,
    default_max_length,
    pipeline,
)
from albertlite.inference.predict import predict

__all__ = [
    "OUTPUTS",
    "PIPELINE_TASKS",
    "FeatureExtractionPipeline",
    "FillMaskPipeline",
    "MultipleChoicePipeline",
    "Pipeline",
    "QuestionAnsweringPipeline",
    "TextClassificationPipeline",
    "TokenClassificationPipeline",
    "default_max_length",
    "forward_features",
    "pipeline",
    "predict",
]
