"""The TensorFlow pieces of :mod:`albertlite.modeling_tf` that are not layers.

Output types holding TF tensors, the activation table, input conversion and checks (the messages of
:mod:`albertlite.validation`), attention and head masks, the PyTorch heads' losses, and sentence pooling.

Axis legend: B batch, S sequence length, H hidden_size, N heads, L applied layers, C choices.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import tensorflow as tf

from albertlite import heads
from albertlite.config import AlbertConfig
from albertlite.heads import HEADS, HeadSpec, LabelValues
from albertlite.outputs import (
    AlbertForPreTrainingOutput,
    BaseModelOutputWithPooling,
    MaskedLMOutput,
    ModelOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from albertlite.validation import InputSummary, validate_inputs


# ----------------------------------------------------------------------------------------------- outputs
class _TFNestable:
    """tf.nest protocol, so that the output dataclasses can leave a tf.function (and Keras' tree utilities)."""

    def __tf_flatten__(self) -> tuple[tuple[str, ...], tuple[Any, ...]]:
        names = tuple(f.name for f in dataclasses.fields(self))
        return names, tuple(getattr(self, name) for name in names)

    @classmethod
    def __tf_unflatten__(cls, metadata: tuple[str, ...], components: tuple[Any, ...]) -> Any:
        return cls(**dict(zip(metadata, components)))


class TFAlbertForPreTrainingOutput(_TFNestable, AlbertForPreTrainingOutput):
    """AlbertForPreTrainingOutput holding TensorFlow tensors.

    Args:
        loss: MLM + sentence-order loss (scalar), when both label sets are given.
        prediction_logits: (B, S, V) MLM logits.
        sop_logits: (B, 2) sentence-order logits.
        hidden_states: L + 1 tensors (B, S, H) when asked for.
        attentions: L tensors (B, N, S, S) when asked for.
    """


class TFBaseModelOutputWithPooling(_TFNestable, BaseModelOutputWithPooling):
    """BaseModelOutputWithPooling holding TensorFlow tensors."""


class TFMaskedLMOutput(_TFNestable, MaskedLMOutput):
    """MaskedLMOutput holding TensorFlow tensors."""


class TFSequenceClassifierOutput(_TFNestable, SequenceClassifierOutput):
    """SequenceClassifierOutput holding TensorFlow tensors."""


class TFTokenClassifierOutput(_TFNestable, TokenClassifierOutput):
    """TokenClassifierOutput holding TensorFlow tensors."""


class TFMultipleChoiceModelOutput(_TFNestable, MultipleChoiceModelOutput):
    """MultipleChoiceModelOutput holding TensorFlow tensors."""


class TFQuestionAnsweringModelOutput(_TFNestable, QuestionAnsweringModelOutput):
    """QuestionAnsweringModelOutput holding TensorFlow tensors."""


def finish(output: ModelOutput, return_dict: bool | None) -> ModelOutput | tuple:
    """The output dataclass, or its tuple when ``return_dict=False`` (as transformers' heads)."""
    return output if return_dict is not False else output.to_tuple()


# ----------------------------------------------------------------------------------------------- activations
def _gelu_fast(x: tf.Tensor) -> tf.Tensor:
    return 0.5 * x * (1.0 + tf.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)))


# "gelu_new" is the tanh approximation the original ALBERT uses.
ACTIVATIONS: dict[str, Callable[[tf.Tensor], tf.Tensor]] = {
    "gelu": lambda x: tf.nn.gelu(x, approximate=False),
    "gelu_new": lambda x: tf.nn.gelu(x, approximate=True),
    "gelu_pytorch_tanh": lambda x: tf.nn.gelu(x, approximate=True),
    "gelu_fast": _gelu_fast,
    "quick_gelu": lambda x: x * tf.sigmoid(1.702 * x),
    "relu": tf.nn.relu,
    "silu": tf.nn.silu,
    "swish": tf.nn.silu,
    "tanh": tf.tanh,
    "sigmoid": tf.sigmoid,
    "linear": lambda x: x,
}


# ----------------------------------------------------------------------------------------------- inputs
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids", "position_ids", "head_mask", "inputs_embeds")
_FLOAT_INPUTS = ("head_mask", "inputs_embeds")


def as_tensor(value: Any, dtype: tf.DType | None = None) -> tf.Tensor | None:
    """``value`` (a tensor, numpy array or list) as a tensor, cast to ``dtype`` when given; None stays None."""
    if value is None:
        return None
    return tf.convert_to_tensor(value) if dtype is None else tf.cast(tf.convert_to_tensor(value), dtype)


def as_tensors(arguments: Mapping[str, Any], names: Iterable[str]) -> dict[str, tf.Tensor]:
    """The ``names`` given in ``arguments`` as tensors (head_mask and inputs_embeds as float32); None left out."""
    return {
        name: as_tensor(arguments[name], tf.float32 if name in _FLOAT_INPUTS else None)
        for name in names
        if arguments.get(name) is not None
    }


def check_inputs(
    config: AlbertConfig,
    input_ids: tf.Tensor | None,
    attention_mask: tf.Tensor | None,
    token_type_ids: tf.Tensor | None,
    position_ids: tf.Tensor | None,
    head_mask: tf.Tensor | None,
    inputs_embeds: tf.Tensor | None,
) -> None:
    """The shared checks (same messages as PyTorch) on concrete inputs; static shapes only while tracing.

    Runs in the models' ``__call__``, before Keras wraps ``call`` (its wrapper rewrites error messages) and so
    before any embedding lookup: TensorFlow would clamp an out-of-range id on GPU and fail obscurely on CPU.
    """
    tensors = (input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds)
    concrete = all(t is None or not tf.is_symbolic_tensor(t) for t in tensors)
    if not concrete and not all(t is None or t.shape.is_fully_defined() for t in tensors):
        return  # a traced call with dynamic shapes: the eager call (or the caller) checked the values
    for name, ids in (("input_ids", input_ids), ("token_type_ids", token_type_ids), ("position_ids", position_ids)):
        if ids is not None and not ids.dtype.is_integer:
            raise ValueError(f"Expected an integer tensor of ids, got dtype {ids.dtype.name} ({name}).")

    def value_range(t: tf.Tensor | None) -> tuple[int, int] | None:
        if not concrete or t is None or t.shape.num_elements() == 0:
            return None
        values = t.numpy()
        return int(values.min()), int(values.max())

    def shape(t: tf.Tensor | None) -> tuple[int, ...] | None:
        return None if t is None else tuple(t.shape)

    inputs = dict(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                  position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds)  # fmt: skip
    validate_inputs(config, InputSummary.of(shape, value_range, **inputs))


def check_labels(spec: HeadSpec, config: AlbertConfig, arguments: Mapping[str, Any]) -> None:
    """:func:`albertlite.heads.check_labels` on the call's label tensors (values only when concrete: TF would fail on
    CPU and give NaN on GPU); batch size and number of choices are the input's static first and second sizes."""
    reference = arguments.get("input_ids")
    if reference is None:
        reference = arguments.get("inputs_embeds")
    sizes = tuple(reference.shape) if reference is not None else (None, None)
    labels = {
        arg.name: LabelValues(
            tuple(t.shape), t.dtype.is_integer, lambda t=t: None if tf.is_symbolic_tensor(t) else t.numpy()
        )
        for arg in spec.labels
        if (t := arguments.get(arg.name)) is not None
    }
    heads.check_labels(spec, config, labels, batch_size=sizes[0], num_choices=sizes[1] if len(sizes) > 1 else None)


def flatten_choices(tensor: tf.Tensor | None) -> tf.Tensor | None:
    """(B, C, S, ...) -> (B*C, S, ...); static trailing sizes kept for shape checks."""
    if tensor is None:
        return None
    dynamic = tf.shape(tensor)
    trailing = [size if size is not None else dynamic[i + 2] for i, size in enumerate(tensor.shape[2:])]
    return tf.reshape(tensor, [-1, *trailing])


def flatten_choice_inputs(inputs: Mapping[str, Any]) -> dict[str, tf.Tensor | None]:
    """Base-model inputs with the choices folded into the batch: (B, C, S, ...) -> (B*C, S, ...)."""
    ids = inputs.get("input_ids")
    reference = ids if ids is not None else inputs.get("inputs_embeds")
    rank = None if reference is None else reference.shape.rank
    if rank is None or rank < 3 or (ids is None and rank != 4):
        raise ValueError(
            "AlbertForMultipleChoice expects input_ids shaped (batch, num_choices, sequence_length) "
            "or inputs_embeds shaped (batch, num_choices, sequence_length, embedding_size)."
        )
    flat = {name: inputs.get(name) for name in INPUT_NAMES}
    for name in ("input_ids", "attention_mask", "token_type_ids", "position_ids", "inputs_embeds"):
        flat[name] = flatten_choices(flat[name])
    return flat


# ----------------------------------------------------------------------------------------------- masks
def additive_mask(attention_mask: tf.Tensor | None, dtype: tf.DType) -> tf.Tensor | None:
    """(B, S) of 1 = attend, 0 = padding  ->  (B, 1, 1, S) of 0 and the dtype's minimum (as PyTorch)."""
    if attention_mask is None:
        return None
    keep = tf.cast(attention_mask, tf.bool)[:, None, None, :]
    return tf.where(keep, tf.zeros((), dtype), tf.constant(dtype.min, dtype))


def expand_head_mask(head_mask: tf.Tensor | None, config: AlbertConfig) -> tf.Tensor | None:
    """(N,) or (L, N) -> (L, N): row k masks the k-th applied layer."""
    if head_mask is None:
        return None
    head_mask = tf.cast(head_mask, tf.float32)
    if head_mask.shape.rank == 1:
        head_mask = tf.tile(head_mask[None], (config.num_applied_layers, 1))
    return head_mask


# ----------------------------------------------------------------------------------------------- losses
def cross_entropy(logits: tf.Tensor, labels: tf.Tensor, ignore_index: int | tf.Tensor = -100) -> tf.Tensor:
    """Mean cross-entropy over the labels that are not ``ignore_index`` (PyTorch's CrossEntropyLoss)."""
    num_classes = tf.shape(logits)[-1]
    logits = tf.reshape(tf.cast(logits, tf.float32), (-1, num_classes))
    labels = tf.reshape(tf.cast(labels, tf.int32), (-1,))
    keep = tf.not_equal(labels, tf.cast(ignore_index, tf.int32))
    per_label = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.where(keep, labels, 0), logits=logits)
    keep = tf.cast(keep, tf.float32)
    return tf.reduce_sum(per_label * keep) / tf.reduce_sum(keep)  # 0/0 = NaN when nothing is kept, as PyTorch


def sequence_classification_loss(logits: tf.Tensor, labels: tf.Tensor, config: AlbertConfig) -> tf.Tensor:
    """MSE, cross-entropy or binary cross-entropy as the PyTorch head chooses them."""
    problem_type = heads.problem_type(HEADS["ForSequenceClassification"], config, labels.dtype.is_integer)
    if problem_type == "regression":
        labels = tf.cast(labels, tf.float32)
        if config.num_labels == 1:
            return tf.reduce_mean(tf.square(tf.squeeze(logits) - tf.squeeze(labels)))
        return tf.reduce_mean(tf.square(logits - labels))
    if problem_type == "single_label_classification":
        return cross_entropy(logits, labels)
    labels = tf.cast(labels, tf.float32)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def span_loss(
    start_logits: tf.Tensor, end_logits: tf.Tensor, start_positions: tf.Tensor, end_positions: tf.Tensor
) -> tf.Tensor:
    """Mean of start and end cross-entropy; positions outside the sequence are clamped to S and ignored."""
    ignored = tf.shape(start_logits)[1]
    start = tf.clip_by_value(tf.reshape(tf.cast(start_positions, tf.int32), (-1,)), 0, ignored)
    end = tf.clip_by_value(tf.reshape(tf.cast(end_positions, tf.int32), (-1,)), 0, ignored)
    return (cross_entropy(start_logits, start, ignored) + cross_entropy(end_logits, end, ignored)) / 2


# ----------------------------------------------------------------------------------------------- pooling
def masked_mean(hidden_states: tf.Tensor, attention_mask: tf.Tensor | None) -> tf.Tensor:
    """Mean of (B, S, H) states over the real tokens (attention_mask 1; all tokens when None) -> (B, H).

    Summed in float32 and returned in the states' dtype; a row with no real token gives zeros. Padded positions are
    excluded by selection, so the plain path's values there and the fast path's zeros give the same mean.
    """
    states = tf.cast(hidden_states, tf.float32)
    if attention_mask is None:
        return tf.cast(tf.reduce_mean(states, axis=1), hidden_states.dtype)
    keep = tf.cast(attention_mask, tf.bool)[..., None]  # (B, S, 1)
    total = tf.reduce_sum(tf.where(keep, states, tf.zeros_like(states)), axis=1)  # (B, H)
    count = tf.maximum(tf.reduce_sum(tf.cast(keep, tf.float32), axis=1), 1.0)  # (B, 1)
    return tf.cast(total / count, hidden_states.dtype)


def sentence_pooled(
    config: AlbertConfig,
    pooler: Callable[[tf.Tensor], tf.Tensor],
    outputs: TFBaseModelOutputWithPooling,
    attention_mask: tf.Tensor | None,
) -> tf.Tensor:
    """The classification heads' sentence vector (B, H): the CLS pooler output or, with
    classifier_pooling="mean", the same pooler (dense + tanh) on the masked mean of the last hidden states."""
    if config.classifier_pooling == "cls":
        return outputs.pooler_output
    return pooler(masked_mean(outputs.last_hidden_state, attention_mask))
