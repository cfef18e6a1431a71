"""Named pretraining recipes: ``albertlite pretrain --recipe small-cpu``.

A recipe is a set of :class:`~albertlite.train.PretrainConfig` values chosen by measurement; options from
``--config`` and flags given on the command line override them. The data settings it was measured with belong to
``albertlite pretrain-data`` and are listed beside it (``data``), with the command that builds such shards.
How each value was chosen: docs/pretraining.md, "Choosing a recipe", and benchmarks/results/pretrain_recipes.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["PRETRAIN_RECIPES", "PretrainRecipe", "get_pretrain_recipe"]

# The model the small-cpu measurements trained: ALBERT-base's shape rules at 4 layers and width 128.
SMALL_MODEL = {
    "base": "albert-base-v2",
    "embedding_size": 128,
    "hidden_size": 128,
    "num_hidden_layers": 4,
    "num_attention_heads": 2,
    "intermediate_size": 512,
    "max_position_embeddings": 128,
}


@dataclass(frozen=True)
class PretrainRecipe:
    """Pretraining settings chosen together.

    Args:
        name: what ``--recipe`` takes.
        summary: one line on what it is for.
        settings: PretrainConfig field values.
        data: the ``albertlite pretrain-data`` settings it was measured with (flag names without dashes).
    """

    name: str
    summary: str
    settings: Mapping[str, Any]
    data: Mapping[str, Any]

    def data_flags(self) -> list[str]:
        """The ``pretrain-data`` flags of :attr:`data`."""
        flags: list[str] = []
        for key, value in self.data.items():
            flag = "--" + key.replace("_", "-")
            flags.extend([flag] if value is True else [flag, str(value)])
        return flags


PRETRAIN_RECIPES: dict[str, PretrainRecipe] = {
    r.name: r
    for r in (
        PretrainRecipe(
            name="small-cpu",
            summary="A 4-layer, 128-wide ALBERT learning as much as it can in minutes on a few CPU cores "
            "(give --max-time).",
            settings={
                "model_config": json.dumps(SMALL_MODEL),
                "batch_size": 16,
                "lr": 5e-3,
                "optimizer": "lamb",
                "schedule": "linear",
                "warmup_share": 0.05,
            },
            data={
                "max_seq_length": 128,
                "ngram": 3,
                "masked_lm_prob": 0.15,
                "max_predictions_per_seq": 19,
                "short_seq_prob": 0.1,
                "dynamic_masking": True,
            },
        ),
    )
}


def get_pretrain_recipe(name: str) -> PretrainRecipe:
    """The recipe called ``name`` (case-insensitive).

    Raises:
        ValueError: no such recipe (the message lists them).
    """
    key = name.strip().lower()
    if key not in PRETRAIN_RECIPES:
        raise ValueError(f"Unknown pretraining recipe {name!r}; choose one of {', '.join(PRETRAIN_RECIPES)}.")
    return PRETRAIN_RECIPES[key]
