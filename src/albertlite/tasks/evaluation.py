"""Validation scores per task, from the per-feature model outputs that :func:`albertlite.inference.forward` keeps.

Each function has the signature ``(examples, features, outputs, options) -> {metric: value}``; the task registry
names which one a task uses. The formulas themselves are in :mod:`albertlite.scoring`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from albertlite import scoring
from albertlite.tasks.decoding import DecodeSettings, decode_answers, word_tags


@dataclass(frozen=True)
class ScoreOptions:
    """What scoring needs beyond the outputs.

    Args:
        label_list: the model's label names (None: regression, or a task without named labels).
        decode: question answering's span decoding.
        version_2: SQuAD 2 scoring (unanswerable questions count).
    """

    label_list: Sequence[str] | None = None
    decode: DecodeSettings = field(default_factory=DecodeSettings)
    version_2: bool = False


def classification_scores(examples, features, outputs, options: ScoreOptions) -> dict[str, float]:
    """Accuracy, Matthews correlation and F1; Pearson and Spearman for regression (no label names)."""
    labels = [f["labels"] for f in features]
    if options.label_list is None:
        return scoring.regression_metrics(labels, [float(o[0]) for o in outputs])
    predictions = [int(np.argmax(o)) for o in outputs]
    return scoring.classification_metrics(labels, predictions, len(options.label_list))


def choice_scores(examples, features, outputs, options: ScoreOptions) -> dict[str, float]:
    """Accuracy of the best-scored choice."""
    labels = [f["labels"] for f in features]
    return {"accuracy": scoring.accuracy(labels, [int(np.argmax(o)) for o in outputs])}


def tagging_scores(examples, features, outputs, options: ScoreOptions) -> dict[str, float]:
    """Entity-level precision, recall and F1 (seqeval's default mode) and tag accuracy, over the words."""
    true_tags = [list(map(str, e["tags"])) for e in examples]
    predicted = [
        word_tags(f["word_ids"], o, options.label_list or [], len(e["tokens"]))
        for e, f, o in zip(examples, features, outputs)
    ]
    scores = scoring.entity_scores(true_tags, predicted)
    return {k: float(v) for k, v in scores.items() if k != "per_type"}


def answer_scores(examples, features, outputs, options: ScoreOptions) -> dict[str, float]:
    """SQuAD exact match and F1 (v1, or v2 with unanswerable questions) of the decoded answers."""
    decode = dataclasses.replace(options.decode, allow_no_answer=options.version_2)
    answers = decode_answers(examples, features, [o[0] for o in outputs], [o[1] for o in outputs], decode)
    predictions = {e["id"]: a["answer"] for e, a in zip(examples, answers)}
    references = {e["id"]: e["answers"]["text"] for e in examples}
    score = scoring.squad_v2 if options.version_2 else scoring.squad_v1
    scores = score(predictions, references)
    return {"exact_match": scores["exact_match"], "f1": scores["f1"]}


def masked_lm_scores(
    examples: Sequence[Mapping[str, Any]], features, outputs: Sequence[tuple[np.ndarray, np.ndarray]], options
) -> dict[str, float]:
    """Accuracy, loss and perplexity on the masked positions (outputs: their logits and true ids per feature)."""
    correct = total = 0
    loss = 0.0
    for logits, labels in outputs:
        logits = logits.astype(np.float64)
        shifted = logits - logits.max(axis=-1, keepdims=True)
        log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        loss -= float(log_probabilities[np.arange(len(labels)), labels].sum())
        correct += int((logits.argmax(-1) == labels).sum())
        total += len(labels)
    mean = loss / max(1, total)
    return {"accuracy": correct / max(1, total), "loss": mean, "perplexity": float(math.exp(min(mean, 50)))}


def check_answerable(examples: Sequence[Mapping[str, Any]], options: ScoreOptions, source: str) -> None:
    """SQuAD v1 scoring needs a gold answer for every question: say so before training, not after an epoch."""
    if options.version_2:
        return
    for index, example in enumerate(examples):
        answers = example.get("answers")
        if answers is not None and not answers["text"]:
            raise ValueError(
                f"{source}, example {index}: a question without an answer, which SQuAD v1 cannot score; "
                "set version_2=True (--recipe squad2) to train and score unanswerable questions."
            )
