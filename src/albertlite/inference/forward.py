"""The one batched forward pass of inference and evaluation: features in, one unpadded output per feature out.

Features run longest first in padded batches of similar length (little padding); a task's registry entry names
which part of the model's output each feature keeps (:data:`OUTPUTS`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from albertlite.tasks.batching import MODEL_INPUTS, batch_indices, collate, feature_length
from albertlite.tasks.features import IGNORE_INDEX

# (model output, padded batch, row, the row's real length) -> what one feature keeps, as float32 numpy
Take = Callable[[Any, Mapping[str, np.ndarray], int, int], Any]


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.float().cpu().numpy()


def _masked(out: Any, batch: Mapping[str, np.ndarray], row: int, length: int) -> tuple[np.ndarray, np.ndarray]:
    labels = batch["labels"][row]
    chosen = labels != IGNORE_INDEX
    return _numpy(out.logits[row][torch.as_tensor(chosen, device=out.logits.device)]), labels[chosen]


OUTPUTS: dict[str, Take] = {
    "sequence": lambda out, batch, row, n: _numpy(out.logits[row]),  # class logits (a choice's, for MC)
    "tokens": lambda out, batch, row, n: _numpy(out.logits[row, :n]),  # per-token logits
    "span": lambda out, batch, row, n: (_numpy(out.start_logits[row, :n]), _numpy(out.end_logits[row, :n])),
    "masked": _masked,  # logits and true ids at the masked positions (the batch carries labels)
    "hidden": lambda out, batch, row, n: _numpy(out.last_hidden_state[row, :n]),  # (tokens, hidden)
}


@torch.no_grad()
def forward_features(
    model: torch.nn.Module,
    features: Sequence[Mapping[str, Any]],
    output: str | Take,
    *,
    pad_token_id: int,
    batch_size: int = 64,
    prepare: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]] | None = None,
) -> list[Any]:
    """Run ``model`` over ``features`` and keep, per feature, what ``output`` takes of its row.

    Args:
        model: a PyTorch ALBERT model (put in eval mode here).
        features: unpadded features (``input_ids``, ``token_type_ids``; choice features nest one level).
        output: a key of :data:`OUTPUTS` or a function of (output, batch, row, length).
        pad_token_id: the tokenizer's pad id.
        batch_size: features per forward pass.
        prepare: changes a collated batch before the pass (masking, for masked-LM evaluation).

    Returns:
        One output per feature, in the order of ``features``.
    """
    take = OUTPUTS[output] if isinstance(output, str) else output
    model.eval()
    device = next(model.parameters()).device
    results: list[Any] = [None] * len(features)
    for indices in batch_indices(features, batch_size, group_by_length=True):
        batch = collate([features[i] for i in indices], pad_token_id)
        if prepare is not None:
            batch = prepare(batch)
        inputs = {k: torch.as_tensor(batch[k], device=device) for k in MODEL_INPUTS}
        result = model(**inputs)
        for row, index in enumerate(indices):
            results[index] = take(result, batch, row, feature_length(features[index]))
    return results
