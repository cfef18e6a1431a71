"""Checks on model inputs, shared by the three frameworks so that they raise the same errors.

Each framework computes shapes and value ranges of its (concrete) tensors and hands them here
before any embedding lookup, where an out-of-range id would otherwise fail deep inside (PyTorch),
be clamped silently (TensorFlow on CPU) or turn into NaN (JAX).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from albertlite.config import AlbertConfig

Shape = tuple[int, ...]
Range = tuple[int, int]  # (min, max) of an integer tensor


@dataclass(frozen=True)
class InputSummary:
    """Shapes and value ranges of one call's inputs; ``None`` where the input was not given."""

    input_ids_shape: Shape | None = None
    input_ids_range: Range | None = None
    inputs_embeds_shape: Shape | None = None
    attention_mask_shape: Shape | None = None
    token_type_ids_shape: Shape | None = None
    token_type_ids_range: Range | None = None
    position_ids_shape: Shape | None = None
    position_ids_range: Range | None = None
    head_mask_shape: Shape | None = None

    @classmethod
    def of(
        cls,
        shape: Callable[[Any], Shape | None],
        value_range: Callable[[Any], Range | None],
        *,
        input_ids: Any,
        attention_mask: Any,
        token_type_ids: Any,
        position_ids: Any,
        head_mask: Any,
        inputs_embeds: Any,
    ) -> InputSummary:
        """The summary of one call, from a framework's own ``shape`` and ``value_range`` of a tensor (or None)."""
        return cls(
            input_ids_shape=shape(input_ids), input_ids_range=value_range(input_ids),
            inputs_embeds_shape=shape(inputs_embeds), attention_mask_shape=shape(attention_mask),
            token_type_ids_shape=shape(token_type_ids), token_type_ids_range=value_range(token_type_ids),
            position_ids_shape=shape(position_ids), position_ids_range=value_range(position_ids),
            head_mask_shape=shape(head_mask),
        )  # fmt: skip


ID_INPUTS = ("input_ids", "token_type_ids", "position_ids")


def dtype_kind(name: str) -> str:
    """The kind of a dtype, named as numpy, TensorFlow, JAX or PyTorch (without ``torch.``) spell it: ``bool``,
    ``integer`` (``int64``, ``uint8`` ...), ``floating`` (``bfloat16``, ``float8_e4m3fn`` ...) or ``other``."""
    if name == "bool":
        return "bool"
    if re.fullmatch(r"u?int\d+", name):
        return "integer"
    return "floating" if "float" in name or name == "half" else "other"


def check_input_dtypes(dtypes: Mapping[str, str | None], float_dtype: str) -> None:
    """Raise ValueError for an input whose dtype the model cannot use, naming it and what works.

    Ids (input_ids, token_type_ids, position_ids) take any integer dtype, not bool or floats (a float id has no
    embedding row; a bool one would silently look up rows 0 and 1); attention_mask takes bool, integer or floating
    0/1 values; inputs_embeds must be in the model's floating dtype ``float_dtype``, as the embedding table is.

    Args:
        dtypes: input name -> its dtype name (see :func:`dtype_kind`); None or missing for inputs not given.
        float_dtype: the model's floating dtype name (``float32``, ``bfloat16`` ...).
    """
    for name in ID_INPUTS:
        dtype = dtypes.get(name)
        if dtype is not None and dtype_kind(dtype) != "integer":
            raise ValueError(
                f"Expected an integer tensor of ids, got dtype {dtype} ({name}): pass {name} as int32 or int64 "
                f"token ids (bool and floating dtypes are refused)."
            )
    mask = dtypes.get("attention_mask")
    if mask is not None and dtype_kind(mask) == "other":
        raise ValueError(f"attention_mask has dtype {mask}; pass it as bool, integer or floating 0/1 values.")
    embeds = dtypes.get("inputs_embeds")
    if embeds is not None and embeds != float_dtype:
        raise ValueError(
            f"inputs_embeds has dtype {embeds}, but the model computes in {float_dtype}: cast inputs_embeds to "
            f"{float_dtype} (the dtype of its embedding table)."
        )


def stray_mask_value(mask: np.ndarray) -> float | None:
    """The first value of a (host) attention mask other than 0 and 1 (NaN included), or None."""
    mask = np.asarray(mask)
    if mask.dtype == bool:
        return None
    stray = mask[(mask != 0) & (mask != 1)]
    return float(stray.flat[0]) if stray.size else None


def check_attention_mask_values(stray: float | None) -> None:
    """Raise ValueError when the attention mask holds ``stray``, a value other than 0 (padding) and 1 (real token).

    A mask of 0.5, 2 or -1 would otherwise count as 1 (the models test mask != 0), hiding a wrong mask.
    """
    if stray is not None:
        shown = int(stray) if float(stray).is_integer() else stray
        raise ValueError(
            f"attention_mask holds {shown}; it must hold only 0 (padding) and 1 (real token), as bool, integer or "
            f"float values."
        )


def check_choices(shape: Shape | None) -> None:
    """Raise ValueError for multiple-choice inputs ``(batch, num_choices, sequence_length[, embedding_size])`` with
    no choice: there is nothing to choose from (the rank itself is the model's own check)."""
    if shape is not None and len(shape) >= 3 and shape[1] == 0:
        raise ValueError(f"The multiple-choice input has shape {tuple(shape)}: num_choices is 0; give at least one.")


def validate_inputs(config: AlbertConfig, inputs: InputSummary) -> Shape:
    """Raise ValueError for inputs the model cannot run; return the (batch, seq_len) shape.

    An empty batch (batch size 0) is valid and gives empty outputs; an empty sequence (length 0) is refused."""
    has_ids = inputs.input_ids_shape is not None
    has_embeds = inputs.inputs_embeds_shape is not None
    if has_ids == has_embeds:
        raise ValueError(
            f"Pass exactly one of input_ids and inputs_embeds ({'both were' if has_ids else 'neither was'} given)."
        )
    if has_ids:
        shape = tuple(inputs.input_ids_shape)
        if len(shape) != 2:
            raise ValueError(f"input_ids must have shape (batch, sequence_length), got {shape}.")
        _check_range("input_ids", inputs.input_ids_range, config.vocab_size, "vocab_size")
    else:
        embeds = tuple(inputs.inputs_embeds_shape)
        if len(embeds) != 3 or embeds[-1] != config.embedding_size:
            raise ValueError(
                f"inputs_embeds must have shape (batch, sequence_length, embedding_size={config.embedding_size}), "
                f"got {embeds}."
            )
        shape = embeds[:2]
    if shape[1] == 0:
        name = "input_ids" if has_ids else "inputs_embeds"
        raise ValueError(
            f"{name} has shape {tuple(getattr(inputs, f'{name}_shape'))}: sequence_length is 0, and every sequence "
            f"needs at least one token (a batch of 0 sequences is fine)."
        )
    for name in ("attention_mask", "token_type_ids", "position_ids"):
        other = getattr(inputs, f"{name}_shape")
        if (
            other is not None
            and tuple(other) != shape
            and not (name == "position_ids" and _broadcastable(other, shape))
        ):
            raise ValueError(f"{name} has shape {tuple(other)} but the input has shape {shape}; they must match.")
    _check_range("token_type_ids", inputs.token_type_ids_range, config.type_vocab_size, "type_vocab_size")
    if inputs.position_ids_shape is not None:
        _check_range(
            "position_ids", inputs.position_ids_range, config.max_position_embeddings, "max_position_embeddings"
        )
    elif shape[1] > config.max_position_embeddings:
        raise ValueError(
            f"The sequence has {shape[1]} tokens but the model accepts at most max_position_embeddings="
            f"{config.max_position_embeddings}; truncate the input (tokenizer truncation=True, max_length=...)."
        )
    if inputs.head_mask_shape is not None:
        _check_head_mask(config, tuple(inputs.head_mask_shape))
    return shape


def _check_head_mask(config: AlbertConfig, shape: Shape) -> None:
    heads, layers = config.num_attention_heads, config.num_applied_layers
    if shape == (heads,) or shape == (layers, heads):
        return
    raise ValueError(
        f"head_mask has shape {shape}; expected ({heads},) to mask heads in every layer, or ({layers}, {heads}) "
        f"with one row per applied layer (num_hidden_layers x inner_group_num = {layers})."
    )


def _broadcastable(other: Shape, shape: Shape) -> bool:
    # position_ids of shape (1, seq_len) apply to every row, as in Hugging Face.
    return len(other) == 2 and other[0] == 1 and other[1] == shape[1]


def _check_range(name: str, value_range: Range | None, limit: int, limit_name: str) -> None:
    if value_range is None:
        return
    low, high = (int(v) for v in value_range)
    if low < 0 or high >= limit:
        bad = low if low < 0 else high
        raise ValueError(
            f"{name} holds {bad}, outside [0, {limit_name}={limit}). "
            f"Check that the tokenizer matches the model (its vocabulary and special tokens)."
            if name == "input_ids"
            else f"{name} holds {bad}, outside [0, {limit_name}={limit})."
        )


def validate_class_labels(values: np.ndarray, num_classes: int, name: str = "labels") -> None:
    """Raise ValueError unless every class id lies in [0, num_classes) or is -100 (ignored by the losses)."""
    values = np.asarray(values)
    valid = (values == -100) | ((values >= 0) & (values < num_classes))
    if not valid.all():
        bad = int(values[~valid].flat[0])
        raise ValueError(f"{name} holds {bad}; expected values in [0, {num_classes}) or -100 (ignored).")


def unknown_keys_error(what: str, unknown: Iterable[str], known: Iterable[str]) -> ValueError:
    """The error for keys a user wrote that mean nothing here, each with its likeliest intended key.

    Args:
        what: where the keys were written (``--model-config``, ``the pretraining options in run.json``).
        unknown: the keys that are not known.
        known: every key that is.
    """
    known = sorted(known)
    parts = []
    for key in sorted(unknown):
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        parts.append(f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key))
    return ValueError(f"{what}: unknown key(s) {', '.join(parts)}; known keys: {', '.join(known)}.")


def check_number(name: str, value: float, *, minimum: float | None = None, above: float | None = None,
                 maximum: float | None = None) -> None:  # fmt: skip
    """Refuse a setting that is not a finite number in its range (NaN and infinities included), naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}.")
    if above is not None and value <= above:
        raise ValueError(f"{name} must be greater than {above}, got {value}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}.")
