"""Rules that map a checkpoint's keys onto a model's keys, shared by all three frameworks.

Every framework names its parameters with the Hugging Face PyTorch state_dict keys, so matching
is the same everywhere: add or strip the base-model prefix ``albert.``, drop keys that are derived
(``position_ids`` buffers, the tied decoder), and report what is missing or left over.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

BASE_PREFIX = "albert."
logger = logging.getLogger("albertlite")

# Keys a checkpoint may hold that no model needs as a parameter.
_IGNORED_SUFFIXES = ("embeddings.position_ids",)
# The MLM decoder is tied: its weight is the word embedding, its bias is predictions.bias.
TIED_DECODER_KEYS = ("predictions.decoder.weight", "predictions.decoder.bias")


@dataclass
class LoadReport:
    """What happened to the keys while loading a checkpoint into a model."""

    missing_keys: list[str] = field(default_factory=list)  # newly initialised
    unexpected_keys: list[str] = field(default_factory=list)  # present in the file, not used

    def log(self, model_name: str) -> None:
        if self.missing_keys:
            logger.warning(
                "Some weights of %s were not in the checkpoint and are newly initialised: %s. "
                "Train the model on a downstream task before using it for predictions.",
                model_name,
                self.missing_keys,
            )
        if self.unexpected_keys:
            logger.warning("Some checkpoint weights were not used by %s: %s", model_name, self.unexpected_keys)


def match_keys(
    checkpoint: dict[str, Any], model_keys: Iterable[str], config: Any = None
) -> tuple[dict[str, Any], LoadReport]:
    """Rename ``checkpoint`` onto ``model_keys``; returns the renamed dict and the report.

    Raises ValueError when a checkpoint holds relative-position weights while ``config`` says
    absolute positions: transformers 5 silently drops them and gives wrong outputs.
    """
    model_keys = list(model_keys)
    model_has_prefix = any(k.startswith(BASE_PREFIX) for k in model_keys)
    ckpt_has_prefix = any(k.startswith(BASE_PREFIX) for k in checkpoint)
    if config is not None:
        check_position_embedding_type(checkpoint, config)

    renamed: dict[str, Any] = {}
    unexpected: list[str] = []
    for key, value in checkpoint.items():
        if key.endswith(_IGNORED_SUFFIXES):
            continue
        new_key = key
        if model_has_prefix and not ckpt_has_prefix:
            new_key = BASE_PREFIX + key  # a base checkpoint into a head model
        elif ckpt_has_prefix and not model_has_prefix:
            if not key.startswith(BASE_PREFIX):
                unexpected.append(key)  # a head's weight: a base model has no use for it
                continue
            new_key = key[len(BASE_PREFIX) :]
        renamed[new_key] = value

    # The tied decoder is derived from the word embeddings and predictions.bias: pytorch_model.bin files
    # carry it, safetensors files from transformers do not, and no model loads it as its own weight.
    for key in TIED_DECODER_KEYS:
        renamed.pop(key, None)
    model_keys = [k for k in model_keys if k not in TIED_DECODER_KEYS]
    expected = set(model_keys)
    unexpected += sorted(k for k in renamed if k not in expected)
    for key in unexpected:
        renamed.pop(key, None)
    missing = sorted(k for k in model_keys if k not in renamed)
    return renamed, LoadReport(missing_keys=missing, unexpected_keys=sorted(unexpected))


def check_position_embedding_type(checkpoint: dict[str, Any], config: Any) -> None:
    has_relative = any(k.endswith("attention.distance_embedding.weight") for k in checkpoint)
    if has_relative and config.position_embedding_type == "absolute":
        raise ValueError(
            "The checkpoint holds relative-position weights (attention.distance_embedding) but the config "
            "says position_embedding_type='absolute'. Set position_embedding_type to 'relative_key' or "
            "'relative_key_query' (as the model was trained) in config.json."
        )


def check_shapes(checkpoint: dict[str, Any], model_shapes: dict[str, tuple[int, ...]]) -> None:
    """Raise ValueError naming every key whose shape differs between checkpoint and model."""
    problems = [
        f"{key}: checkpoint {tuple(value.shape)} vs model {tuple(model_shapes[key])}"
        for key, value in checkpoint.items()
        if key in model_shapes and tuple(value.shape) != tuple(model_shapes[key])
    ]
    if problems:
        raise ValueError(
            "Checkpoint shapes do not match the model (is config.json the one the weights were saved with?): "
            + "; ".join(problems)
        )
