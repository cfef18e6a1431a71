"""Predictions over a data file: the examples a fine-tuning file holds, through the task's pipeline, one row each.

``albertlite predict`` is this function; it is :func:`albertlite.pipeline` run over the examples of a file (read
with the task's columns, as fine-tuning reads them), so a file and a call give the same results.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from albertlite.inference.pipelines import pipeline
from albertlite.tasks import registry

if TYPE_CHECKING:
    from albertlite.tokenization_base import Tokenizer


def predict(
    model: str | os.PathLike | Any,
    inputs: Any,
    *,
    task: str | None = None,
    tokenizer: Tokenizer | str | os.PathLike | None = None,
    batch_size: int = 32,
    max_length: int | None = None,
    device: str | None = None,
    **params: Any,
) -> list[dict[str, Any]]:
    """Predictions of a model on examples (a file, a list of dicts or a ``datasets.Dataset``).

    Args:
        model: a fine-tuned directory or Hub id (its task is read from it), or a model object with ``tokenizer``.
        inputs: examples with the task's input columns (as fine-tuning reads them); labels are not needed.
        task: the task, when the model records none (a conflicting one is refused).
        tokenizer: a tokenizer object or directory (default: the model's).
        batch_size: examples per forward pass.
        max_length: the longest sequence (default: the model's maximum).
        device: where to run (default: CPU).
        **params: the pipeline's call parameters (``top_k``, ``handle_impossible_answer``, ``pooling`` ...);
            feature extraction pools with the mean unless ``pooling`` is given.

    Returns:
        One dict per example: what the task's pipeline returns for it (``label``/``score``; ``tokens``/``tags``;
        ``answer``/``start``/``end``/``score``; ``label``/``choice``/``score``/``scores``), or, where that is not
        a dict, ``{"predictions": ...}`` (fill-mask) or ``{"embedding": ...}``; plus the example's ``id`` when it
        has one.
    """
    pipe = pipeline(task, model, tokenizer=tokenizer, device=device, batch_size=batch_size, max_length=max_length)
    examples = registry.load_examples(inputs, pipe.task, require_labels=False)
    label = pipe.task.label_column
    for example in examples:  # labels in a prediction file are not needed, and may be unseen
        example.pop(label, None)
    results = pipe(examples, **{**pipe.task.predict_defaults, **params})
    rows = [result if isinstance(result, dict) else {pipe.task.result_key: result} for result in results]
    for example, row in zip(examples, rows):
        if example.get("id") is not None:
            row["id"] = example["id"]
    return rows
