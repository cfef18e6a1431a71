"""Features to padded numpy batches (dynamic padding, length-grouped order), ``tf.data``, and MLM masking.

Batches are numpy arrays, which PyTorch, TensorFlow and JAX all take: :func:`collate` pads one batch to its
longest row, :func:`batch_indices` orders features (shuffled, grouped by length), :func:`numpy_batches` and
:func:`to_tf_dataset` feed Flax/optax and Keras loops.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from albertlite.tasks.features import IGNORE_INDEX


def mask_batch(batch: dict[str, np.ndarray], masker: Any, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Whole-word mask a collated MLM batch in place of its ids; ``labels`` are -100 except at masked positions.

    Args:
        batch: a batch from :func:`collate` (``input_ids``, ``attention_mask``).
        masker: an :class:`albertlite.data.masking.NgramMasker` (whole-word n-gram masking).
        rng: the generator of every draw (new masks each epoch: dynamic masking).

    Returns:
        The batch with masked ``input_ids`` and ``labels``.
    """
    input_ids = batch["input_ids"].copy()
    labels = np.full_like(input_ids, IGNORE_INDEX)
    for row in range(len(input_ids)):
        length = int(batch["attention_mask"][row].sum())
        masked = masker(input_ids[row, :length], rng)
        input_ids[row, :length] = masked.input_ids
        labels[row, masked.masked_lm_positions] = masked.masked_lm_labels
    return {**batch, "input_ids": input_ids, "labels": labels}


MODEL_INPUTS = ("input_ids", "token_type_ids", "attention_mask")
LABEL_KEYS = ("labels", "start_positions", "end_positions")


def feature_length(feature: Mapping[str, Any]) -> int:
    """Tokens in a feature (its longest choice for multiple choice)."""
    ids = feature["input_ids"]
    return max(len(row) for row in ids) if ids and isinstance(ids[0], list) else len(ids)


def batch_indices(
    features: Sequence[Mapping[str, Any]],
    batch_size: int,
    *,
    shuffle: bool = False,
    group_by_length: bool = False,
    seed: int = 0,
    drop_last: bool = False,
) -> list[list[int]]:
    """Split feature indices into batches.

    With ``group_by_length``, shuffled indices are cut into mega-batches of 50 batches, each sorted by
    length, so a batch holds rows of similar length and pads little (Hugging Face's LengthGroupedSampler);
    batch order is then shuffled too. Without shuffling, grouping sorts everything longest first
    (inference).

    Returns:
        A list of index lists.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    rng = np.random.default_rng(seed)
    order = list(rng.permutation(len(features))) if shuffle else list(range(len(features)))
    if group_by_length:
        lengths = [feature_length(f) for f in features]
        mega = batch_size * 50 if shuffle else len(order)
        order = [i for s in range(0, len(order), mega) for i in sorted(order[s : s + mega], key=lambda i: -lengths[i])]
    batches = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    if drop_last and batches and len(batches[-1]) < batch_size:
        batches.pop()
    if shuffle and group_by_length:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return [[int(i) for i in b] for b in batches]


def collate(features: Sequence[Mapping[str, Any]], pad_token_id: int = 0, pad_to_multiple_of: int = 1) -> dict:
    """Pad a list of features to the batch's longest row and stack them as numpy int64/float32 arrays.

    Token-level labels are padded with -100; multiple-choice features become (batch, choices, length).

    Returns:
        ``input_ids``, ``token_type_ids``, ``attention_mask`` and whichever label keys the features have.
    """
    length = max(feature_length(f) for f in features)
    length = -(-length // pad_to_multiple_of) * pad_to_multiple_of
    choice = isinstance(features[0]["input_ids"][0], list)

    def pad(rows: Sequence[Sequence[int]], value: int) -> np.ndarray:
        out = np.full((len(rows), length), value, dtype=np.int64)
        for r, row in enumerate(rows):
            out[r, : len(row)] = row
        return out

    def stack(key: str, value: int) -> np.ndarray:
        if choice:
            return np.stack([pad(f[key], value) for f in features])  # (B, choices, S)
        return pad([f[key] for f in features], value)

    batch = {"input_ids": stack("input_ids", pad_token_id), "token_type_ids": stack("token_type_ids", 0)}
    batch["attention_mask"] = stack("input_ids", -1) != -1
    batch["attention_mask"] = batch["attention_mask"].astype(np.int64)
    if "labels" in features[0]:
        first = features[0]["labels"]
        if isinstance(first, list):
            batch["labels"] = pad([f["labels"] for f in features], IGNORE_INDEX)
        else:
            dtype = np.float32 if isinstance(first, float) else np.int64
            batch["labels"] = np.asarray([f["labels"] for f in features], dtype=dtype)
    for key in ("start_positions", "end_positions"):
        if key in features[0]:
            batch[key] = np.asarray([f[key] for f in features], dtype=np.int64)
    return batch


def numpy_batches(
    features: Sequence[Mapping[str, Any]],
    batch_size: int,
    pad_token_id: int = 0,
    *,
    shuffle: bool = False,
    group_by_length: bool = False,
    seed: int = 0,
    masker: Any = None,
) -> Iterator[dict[str, np.ndarray]]:
    """Padded numpy batches, for a Flax/optax loop (or anything that takes numpy).

    Args:
        features: from :func:`prepare_features`.
        batch_size: rows per batch.
        pad_token_id: the tokenizer's pad id.
        shuffle / group_by_length / seed: see :func:`batch_indices`.
        masker: an ``NgramMasker`` for masked-LM features (fresh masks each call).

    Returns:
        An iterator of dicts of arrays.
    """
    rng = np.random.default_rng(seed)
    for indices in batch_indices(features, batch_size, shuffle=shuffle, group_by_length=group_by_length, seed=seed):
        batch = collate([features[i] for i in indices], pad_token_id)
        if masker is not None:
            batch = mask_batch(batch, masker, rng)
        yield batch


def to_tf_dataset(
    features: Sequence[Mapping[str, Any]],
    batch_size: int,
    pad_token_id: int = 0,
    *,
    shuffle: bool = False,
    group_by_length: bool = False,
    seed: int = 0,
    masker: Any = None,
) -> Any:
    """A ``tf.data.Dataset`` of ``(inputs, labels)`` batches for Keras ``model.fit``.

    The batches are the same padded numpy batches as :func:`numpy_batches` (dynamic padding: the
    sequence axis varies from batch to batch). ``labels`` is the task's label array, or a dict
    ``{"start_positions", "end_positions"}`` for question answering.

    Returns:
        A ``tf.data.Dataset``.
    """
    import tensorflow as tf

    batches = list(
        numpy_batches(
            features, batch_size, pad_token_id, shuffle=shuffle, group_by_length=group_by_length, seed=seed,
            masker=masker,
        )
    )  # fmt: skip
    if not batches:
        raise ValueError("to_tf_dataset needs at least one feature.")
    first = batches[0]
    label_keys = [k for k in LABEL_KEYS if k in first]

    def split(batch: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], Any]:
        inputs = {k: batch[k] for k in MODEL_INPUTS}
        if not label_keys:
            return inputs, None
        labels = batch["labels"] if label_keys == ["labels"] else {k: batch[k] for k in label_keys}
        return inputs, labels

    def spec(value: np.ndarray) -> tf.TensorSpec:
        return tf.TensorSpec(shape=(None,) * value.ndim, dtype=tf.as_dtype(value.dtype))

    example_inputs, example_labels = split(first)
    signature: Any = {k: spec(v) for k, v in example_inputs.items()}
    if example_labels is not None:
        label_spec = (
            spec(example_labels)
            if isinstance(example_labels, np.ndarray)
            else {k: spec(v) for k, v in example_labels.items()}
        )
        signature = (signature, label_spec)
        return tf.data.Dataset.from_generator(lambda: (split(b) for b in batches), output_signature=signature)
    return tf.data.Dataset.from_generator(lambda: (split(b)[0] for b in batches), output_signature=signature)
