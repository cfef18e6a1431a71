"""The ALBERT paper's fine-tuning recipes (Table 14), by name: ``albertlite finetune --recipe squad2``.

AdamW throughout, classifier dropout 0.1; "dropout" below is ALBERT's own (hidden and attention) dropout.
SQuAD recipes add the paper's decoding settings: doc stride 128, max query 64, n-best 20, max answer 30.
The paper counts steps, so a recipe fixes ``max_steps`` and ``warmup_steps``; ``--epochs`` is then ignored.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Recipe:
    """One task's fine-tuning hyper-parameters.

    Args:
        name: the recipe's name (lower-case task name).
        task: the albertlite task it trains.
        learning_rate: AdamW's peak learning rate.
        batch_size: examples per optimizer step.
        dropout: ALBERT's hidden and attention dropout.
        max_steps: optimizer steps.
        warmup_steps: linear warm-up steps.
        max_length: the longest sequence.
        metric: the metric that selects the best checkpoint.
        extra: task settings (doc stride, version 2 ...).
    """

    name: str
    task: str
    learning_rate: float
    batch_size: int
    dropout: float
    max_steps: int
    warmup_steps: int
    max_length: int
    metric: str
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The recipe as plain data (what a fine-tuned directory records)."""
        return asdict(self)


_CLS = "text-classification"
_SQUAD = {"doc_stride": 128, "max_query_length": 64, "n_best": 20, "max_answer_length": 30}

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe("cola", _CLS, 1e-5, 16, 0.0, 5336, 320, 512, "matthews_correlation"),
        Recipe("sts-b", _CLS, 2e-5, 16, 0.0, 3598, 214, 512, "pearson", {"regression": True}),
        Recipe("sst-2", _CLS, 1e-5, 32, 0.0, 20935, 1256, 512, "accuracy"),
        Recipe("mnli", _CLS, 3e-5, 128, 0.0, 10000, 1000, 512, "accuracy"),
        Recipe("qnli", _CLS, 1e-5, 32, 0.0, 33112, 1986, 512, "accuracy"),
        Recipe("qqp", _CLS, 5e-5, 128, 0.1, 14000, 1000, 512, "accuracy"),
        Recipe("rte", _CLS, 3e-5, 32, 0.1, 800, 200, 512, "accuracy"),
        Recipe("mrpc", _CLS, 2e-5, 32, 0.0, 800, 200, 512, "f1"),
        Recipe("wnli", _CLS, 2e-5, 16, 0.1, 2000, 250, 512, "accuracy"),
        Recipe("squad1", "question-answering", 5e-5, 48, 0.0, 3649, 365, 384, "f1", dict(_SQUAD)),
        Recipe("squad2", "question-answering", 3e-5, 48, 0.0, 8144, 814, 512, "f1", {**_SQUAD, "version_2": True}),
        Recipe("race", "multiple-choice", 2e-5, 32, 0.1, 12000, 1000, 512, "accuracy"),
    )
}
_ALIASES = {"stsb": "sts-b", "sst2": "sst-2", "squad": "squad1", "squad1.1": "squad1", "squad2.0": "squad2"}


def get_recipe(name: str) -> Recipe:
    """The recipe called ``name`` (case-insensitive; ``stsb``, ``sst2``, ``squad`` also work).

    Raises:
        ValueError: no such recipe (the message lists them).
    """
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in RECIPES:
        raise ValueError(f"Unknown recipe {name!r}; choose one of {', '.join(RECIPES)}.")
    return RECIPES[key]
