"""ALBERT in TensorFlow (Keras 3 on the TensorFlow backend), read top to bottom: embeddings, attention, layer,
group, transformer, base model, heads.

Layer names follow the PyTorch module paths (list elements as ``albert_layer_groups_._0``, as Hugging Face's TF
models named them), so one rule (``checkpoints.legacy_tf.tf_name_to_key``) turns every variable path into its
PyTorch state_dict key: checkpoints are the shared config.json + model.safetensors, handed over as numpy arrays
with dense kernels transposed.

Axis legend used in shape comments:
    B batch, S sequence length, E embedding_size, H hidden_size, N heads, D head size (H / N),
    I intermediate_size, V vocab_size, L applied layers (num_hidden_layers x inner_group_num), C choices.

Semantics are those of albertlite's PyTorch model (see its module docstring): relative positions and head_mask as
transformers 4.57 had them (a 2-D head_mask has one row per applied layer), one hidden state per applied layer,
dropout after the FFN output, the dtype's minimum as the attention-mask bias, and losses reduced as the PyTorch heads
reduce them (Hugging Face's TF heads returned per-example losses for some heads; these return the PyTorch scalar).
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import os
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # read once, when keras is first imported

import keras
import numpy as np
import tensorflow as tf

from albertlite.checkpoints.files import MODEL_FILES, staged_directory
from albertlite.checkpoints.hub import HUB_KWARGS
from albertlite.checkpoints.legacy_tf import tf_name_to_key
from albertlite.checkpoints.names import LoadReport, check_shapes, match_keys
from albertlite.checkpoints.state_dict import locate_weights, read_weight_files, write_safetensors
from albertlite.config import AlbertConfig
from albertlite.fast import fast_path, fast_path_enabled
from albertlite.fast.packing_plan import PackPlan, plan_packing
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
from albertlite.validation import InputSummary, validate_class_labels, validate_inputs

if keras.backend.backend() != "tensorflow":
    raise ImportError(
        f"albertlite.modeling_tf needs Keras on the TensorFlow backend, but Keras was loaded with the "
        f"{keras.backend.backend()!r} backend. Set KERAS_BACKEND=tensorflow before importing keras."
    )

__all__ = [
    "TFAlbertForMaskedLM",
    "TFAlbertForMultipleChoice",
    "TFAlbertForPreTraining",
    "TFAlbertForPreTrainingOutput",
    "TFAlbertForQuestionAnswering",
    "TFAlbertForSequenceClassification",
    "TFAlbertForTokenClassification",
    "TFAlbertModel",
    "TFAlbertPreTrainedModel",
    "export_saved_model",
]


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


def _initializer(config: AlbertConfig) -> keras.initializers.Initializer:
    # Hugging Face's PyTorch scheme (a plain normal); the original and HF TF used a truncated normal.
    return keras.initializers.RandomNormal(stddev=config.initializer_range)


def _dense(units: int, config: AlbertConfig, name: str, activation: str | None = None) -> keras.layers.Dense:
    return keras.layers.Dense(units, activation=activation, kernel_initializer=_initializer(config), name=name)


def _layer_norm(config: AlbertConfig, name: str) -> keras.layers.LayerNormalization:
    return keras.layers.LayerNormalization(epsilon=config.layer_norm_eps, name=name)


def _embedding(rows: int, width: int, config: AlbertConfig, name: str) -> keras.layers.Embedding:
    return keras.layers.Embedding(rows, width, embeddings_initializer=_initializer(config), name=name)


# ----------------------------------------------------------------------------------------------- embeddings
class TFAlbertEmbeddings(keras.layers.Layer):
    """Word + position + token-type embeddings of width E, then LayerNorm and dropout."""

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.word_embeddings = _embedding(config.vocab_size, config.embedding_size, config, "word_embeddings")
        self.position_embeddings = _embedding(
            config.max_position_embeddings, config.embedding_size, config, "position_embeddings"
        )
        self.token_type_embeddings = _embedding(
            config.type_vocab_size, config.embedding_size, config, "token_type_embeddings"
        )
        self.LayerNorm = _layer_norm(config, "LayerNorm")
        self.dropout = keras.layers.Dropout(config.hidden_dropout_prob)

    def build(self, input_shape: Any = None) -> None:
        # Built explicitly: under relative positions the position table is kept (and saved) but never called.
        for table in (self.word_embeddings, self.position_embeddings, self.token_type_embeddings):
            table.build(None)
        self.LayerNorm.build((None, None, self.config.embedding_size))

    def call(
        self,
        input_ids: tf.Tensor | None,
        token_type_ids: tf.Tensor | None = None,
        position_ids: tf.Tensor | None = None,
        inputs_embeds: tf.Tensor | None = None,
        training: bool = False,
    ) -> tf.Tensor:
        if inputs_embeds is None:
            inputs_embeds = tf.gather(self.word_embeddings.embeddings, input_ids)  # (B, S, E)
        if token_type_ids is None:
            embeddings = inputs_embeds + self.token_type_embeddings.embeddings[0]
        else:
            embeddings = inputs_embeds + tf.gather(self.token_type_embeddings.embeddings, token_type_ids)
        # transformers 4.57: relative-position models add no absolute positions.
        if self.config.position_embedding_type == "absolute":
            if position_ids is None:
                position_ids = tf.range(tf.shape(inputs_embeds)[1])[None]  # (1, S)
            embeddings = embeddings + tf.gather(self.position_embeddings.embeddings, position_ids)
        return self.dropout(self.LayerNorm(embeddings), training=training)


# ----------------------------------------------------------------------------------------------- attention
class TFAlbertAttention(keras.layers.Layer):
    """Multi-head self-attention with its output projection, dropout, residual and LayerNorm."""

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.num_heads = config.num_attention_heads
        self.head_size = config.head_dim
        self.query = _dense(config.hidden_size, config, "query")
        self.key = _dense(config.hidden_size, config, "key")
        self.value = _dense(config.hidden_size, config, "value")
        self.dense = _dense(config.hidden_size, config, "dense")
        self.LayerNorm = _layer_norm(config, "LayerNorm")
        self.attention_dropout = keras.layers.Dropout(config.attention_probs_dropout_prob)
        self.output_dropout = keras.layers.Dropout(config.hidden_dropout_prob)
        self.relative = config.position_embedding_type != "absolute"
        if self.relative:
            self.distance_embedding = _embedding(
                2 * config.max_position_embeddings - 1, self.head_size, config, "distance_embedding"
            )

    def build(self, input_shape: Any = None) -> None:
        hidden = (None, None, self.config.hidden_size)
        for projection in (self.query, self.key, self.value, self.dense):
            projection.build(hidden)
        self.LayerNorm.build(hidden)
        if self.relative:
            self.distance_embedding.build(None)

    def _split_heads(self, x: tf.Tensor) -> tf.Tensor:
        batch, seq_len = tf.shape(x)[0], tf.shape(x)[1]
        x = tf.reshape(x, (batch, seq_len, self.num_heads, self.head_size))
        return tf.transpose(x, (0, 2, 1, 3))  # (B, N, S, D)

    def _relative_scores(self, query: tf.Tensor, key: tf.Tensor) -> tf.Tensor:
        # transformers 4.57: scores from a learned table of distances, added after the 1/sqrt(D) scaling.
        positions = tf.range(tf.shape(query)[2])
        distance = positions[:, None] - positions[None, :]  # (S, S)
        table = tf.gather(self.distance_embedding.embeddings, distance + self.config.max_position_embeddings - 1)
        scores = tf.einsum("bhld,lrd->bhlr", query, table)  # table: (S, S, D)
        if self.config.position_embedding_type == "relative_key_query":
            scores = scores + tf.einsum("bhrd,lrd->bhlr", key, table)
        return scores  # (B, N, S, S)

    def call(
        self,
        hidden_states: tf.Tensor,
        attention_mask: tf.Tensor | None = None,
        head_mask: tf.Tensor | None = None,
        training: bool = False,
    ) -> tuple[tf.Tensor, tf.Tensor]:
        query = self._split_heads(self.query(hidden_states))
        key = self._split_heads(self.key(hidden_states))
        value = self._split_heads(self.value(hidden_states))
        scores = tf.matmul(query, key, transpose_b=True) / math.sqrt(self.head_size)  # (B, N, S, S)
        if attention_mask is not None:
            scores = scores + attention_mask
        if self.relative:
            scores = scores + self._relative_scores(query, key)
        probs = self.attention_dropout(tf.nn.softmax(scores, axis=-1), training=training)
        if head_mask is not None:
            probs = probs * tf.reshape(head_mask, (1, -1, 1, 1))
        context = tf.transpose(tf.matmul(probs, value), (0, 2, 1, 3))  # (B, S, N, D)
        context = tf.reshape(context, (tf.shape(context)[0], tf.shape(context)[1], self.config.hidden_size))
        output = self.output_dropout(self.dense(context), training=training)
        return self.LayerNorm(hidden_states + output), probs


# ----------------------------------------------------------------------------------------------- layer, group
class TFAlbertLayer(keras.layers.Layer):
    """attention -> FFN (H -> I -> H) with dropout, residual and LayerNorm."""

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.attention = TFAlbertAttention(config, name="attention")
        self.ffn = _dense(config.intermediate_size, config, "ffn")
        self.ffn_output = _dense(config.hidden_size, config, "ffn_output")
        self.activation = ACTIVATIONS[config.hidden_act]
        # The original applies dropout to the FFN output before the residual (HF PyTorch omits it).
        self.dropout = keras.layers.Dropout(config.hidden_dropout_prob)
        self.full_layer_layer_norm = _layer_norm(config, "full_layer_layer_norm")

    def build(self, input_shape: Any = None) -> None:
        hidden = (None, None, self.config.hidden_size)
        self.attention.build(hidden)
        self.ffn.build(hidden)
        self.ffn_output.build((None, None, self.config.intermediate_size))
        self.full_layer_layer_norm.build(hidden)

    def call(
        self,
        hidden_states: tf.Tensor,
        attention_mask: tf.Tensor | None = None,
        head_mask: tf.Tensor | None = None,
        training: bool = False,
    ) -> tuple[tf.Tensor, tf.Tensor]:
        attention_output, probs = self.attention(
            hidden_states, attention_mask=attention_mask, head_mask=head_mask, training=training
        )
        ffn_output = self.ffn_output(self.activation(self.ffn(attention_output)))
        ffn_output = self.dropout(ffn_output, training=training)
        return self.full_layer_layer_norm(ffn_output + attention_output), probs


class TFAlbertLayerGroup(keras.layers.Layer):
    """One set of shared parameters: inner_group_num layers applied in order."""

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.albert_layers = [TFAlbertLayer(config, name=f"albert_layers_._{i}") for i in range(config.inner_group_num)]

    def build(self, input_shape: Any = None) -> None:
        for layer in self.albert_layers:
            layer.build(input_shape)


# ----------------------------------------------------------------------------------------------- transformer
class TFAlbertTransformer(keras.layers.Layer):
    """Projects E -> H, then applies the shared groups num_hidden_layers times."""

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.embedding_hidden_mapping_in = _dense(config.hidden_size, config, "embedding_hidden_mapping_in")
        self.albert_layer_groups = [
            TFAlbertLayerGroup(config, name=f"albert_layer_groups_._{g}") for g in range(config.num_hidden_groups)
        ]

    def build(self, input_shape: Any = None) -> None:
        self.embedding_hidden_mapping_in.build((None, None, self.config.embedding_size))
        for group in self.albert_layer_groups:
            group.build((None, None, self.config.hidden_size))

    def execution_order(self) -> list[TFAlbertLayer]:
        """The applied layers in order: weight sharing written out as the list of layers run."""
        config = self.config
        return [
            layer
            for i in range(config.num_hidden_layers)
            for layer in self.albert_layer_groups[config.group_of_layer(i)].albert_layers
        ]

    def call(
        self,
        embeddings: tf.Tensor,
        attention_mask: tf.Tensor | None = None,
        head_mask: tf.Tensor | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        training: bool = False,
    ) -> tuple[tf.Tensor, tuple[tf.Tensor, ...] | None, tuple[tf.Tensor, ...] | None]:
        hidden_states = self.embedding_hidden_mapping_in(embeddings)  # (B, S, H)
        all_hidden = [hidden_states] if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        for k, layer in enumerate(self.execution_order()):
            layer_head_mask = None if head_mask is None else head_mask[k]
            hidden_states, probs = layer(
                hidden_states, attention_mask=attention_mask, head_mask=layer_head_mask, training=training
            )
            if all_hidden is not None:
                all_hidden.append(hidden_states)
            if all_attentions is not None:
                all_attentions.append(probs)
        return (
            hidden_states,
            tuple(all_hidden) if all_hidden is not None else None,
            tuple(all_attentions) if all_attentions is not None else None,
        )


# ----------------------------------------------------------------------------------------------- base model
class TFAlbertMainLayer(keras.layers.Layer):
    """The bare ALBERT encoder (``albert.*`` weights): embeddings, shared layers and an optional tanh pooler."""

    def __init__(self, config: AlbertConfig, add_pooling_layer: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.embeddings = TFAlbertEmbeddings(config, name="embeddings")
        self.encoder = TFAlbertTransformer(config, name="encoder")
        self.pooler = _dense(config.hidden_size, config, "pooler", activation="tanh") if add_pooling_layer else None

    def build(self, input_shape: Any = None) -> None:
        self.embeddings.build(None)
        self.encoder.build(None)
        if self.pooler is not None:
            self.pooler.build((None, self.config.hidden_size))

    def call(
        self,
        input_ids: tf.Tensor | None = None,
        attention_mask: tf.Tensor | None = None,
        token_type_ids: tf.Tensor | None = None,
        position_ids: tf.Tensor | None = None,
        head_mask: tf.Tensor | None = None,
        inputs_embeds: tf.Tensor | None = None,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        training: bool = False,
    ) -> TFBaseModelOutputWithPooling:
        if not (training or output_attentions or head_mask is not None or inputs_embeds is not None):
            plan = self._packing_plan(input_ids, attention_mask, token_type_ids, position_ids)
            if plan is not None:
                return self._packed_call(plan, tuple(input_ids.shape), bool(output_hidden_states))
        embeddings = self.embeddings(
            input_ids,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            training=training,
        )
        mask = _additive_mask(attention_mask, embeddings.dtype)  # (B, 1, 1, S)
        head_mask = _expand_head_mask(head_mask, self.config)  # (L, N)
        sequence_output, hidden_states, attentions = self.encoder(
            embeddings,
            attention_mask=mask,
            head_mask=head_mask,
            output_attentions=bool(output_attentions),
            output_hidden_states=bool(output_hidden_states),
            training=training,
        )
        pooled = self.pooler(sequence_output[:, 0]) if self.pooler is not None else None
        return TFBaseModelOutputWithPooling(sequence_output, pooled, hidden_states, attentions)

    # --------------------------------------------------------------------------- fast path
    def _packing_plan(
        self,
        input_ids: tf.Tensor | None,
        attention_mask: tf.Tensor | None,
        token_type_ids: tf.Tensor | None,
        position_ids: tf.Tensor | None,
    ) -> PackPlan | None:
        """The packing of this inference call, or None when the plain path must run (see docs/fast_inference.md)."""
        if not fast_path_enabled() or input_ids is None or input_ids.shape.rank != 2 or not tf.executing_eagerly():
            return None
        given = [t for t in (input_ids, attention_mask, token_type_ids, position_ids) if t is not None]
        if any(tf.is_symbolic_tensor(t) for t in given):
            return None  # traced by the caller's tf.function: packing needs the mask's values
        mask = np.ones(input_ids.shape, bool) if attention_mask is None else attention_mask.numpy()
        if mask.shape != tuple(input_ids.shape):
            return None
        relative = self.config.position_embedding_type != "absolute"
        return plan_packing(
            mask,
            input_ids.numpy(),
            None if token_type_ids is None else token_type_ids.numpy(),
            None if position_ids is None else position_ids.numpy(),
            max_row_len=self.config.max_position_embeddings if relative else max(512, mask.shape[1]),
            first_real=self.pooler is not None,
            contiguous=relative,
        )

    def _packed_call(
        self, plan: PackPlan, shape: tuple[int, int], output_hidden_states: bool
    ) -> TFBaseModelOutputWithPooling:
        """The encoder on packed rows (compiled once per (R, P) shape), unpacked to (B, S, ...), zeros at padding."""
        encode = _packed_encoder(self, output_hidden_states)
        last, hidden = encode(
            tf.constant(plan.input_ids), tf.constant(plan.token_type_ids),
            tf.constant(plan.position_ids), tf.constant(plan.segments),
        )  # fmt: skip
        index, width = tf.constant(plan.index), self.config.hidden_size

        def unpack(states: tf.Tensor) -> tf.Tensor:
            flat = tf.concat([tf.reshape(states, (-1, width)), tf.zeros((1, width), states.dtype)], axis=0)
            return tf.reshape(tf.gather(flat, index), (*shape, width))

        pooled = None
        if self.pooler is not None:
            pooled = self.pooler(tf.gather(tf.reshape(last, (-1, width)), tf.constant(plan.first)))
        hidden_states = tuple(unpack(h) for h in hidden) if output_hidden_states else None
        return TFBaseModelOutputWithPooling(unpack(last), pooled, hidden_states, None)


#: XLA-compile the packed encoder (ALBERTLITE_TF_JIT=1). Off by default: on 2-core AMD EPYC, ALBERT-base, 6 x 128
#: packed rows took 1.36-1.40 s with and without XLA, and XLA's first call compiled a second longer.
PACKED_JIT_COMPILE = os.environ.get("ALBERTLITE_TF_JIT", "0") == "1"
_PACKED_ENCODERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _packed_encoder(layer: TFAlbertMainLayer, output_hidden_states: bool) -> Callable[..., Any]:
    """A tf.function running ``layer``'s embeddings and encoder on packed (R, P) rows; one per layer and flag.

    Attention is kept within each sequence by a block-diagonal mask built from the segment ids; it retraces (and
    compiles) once per packed shape, of which a plan uses few.
    """
    cache = _PACKED_ENCODERS.setdefault(layer, {})
    if output_hidden_states not in cache:
        owner = weakref.ref(layer)  # a strong reference from the cached function would keep the model alive

        def encode(ids: tf.Tensor, types: tf.Tensor, positions: tf.Tensor, segments: tf.Tensor) -> tuple:
            layer = owner()
            embeddings = layer.embeddings(ids, token_type_ids=types, position_ids=positions, training=False)
            same = tf.equal(segments[:, :, None], segments[:, None, :])[:, None]  # (R, 1, P, P)
            mask = tf.where(same, tf.zeros((), embeddings.dtype), tf.constant(embeddings.dtype.min, embeddings.dtype))
            last, hidden, _ = layer.encoder(
                embeddings, attention_mask=mask, output_hidden_states=output_hidden_states, training=False
            )
            return last, (hidden if output_hidden_states else ())

        cache[output_hidden_states] = tf.function(encode, jit_compile=PACKED_JIT_COMPILE)
    return cache[output_hidden_states]


def _as_tensor(value: Any, dtype: tf.DType | None = None) -> tf.Tensor | None:
    if value is None:
        return None
    return tf.convert_to_tensor(value) if dtype is None else tf.cast(tf.convert_to_tensor(value), dtype)


def _validate(
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

    validate_inputs(
        config,
        InputSummary(
            input_ids_shape=shape(input_ids),
            input_ids_range=value_range(input_ids),
            inputs_embeds_shape=shape(inputs_embeds),
            attention_mask_shape=shape(attention_mask),
            token_type_ids_shape=shape(token_type_ids),
            token_type_ids_range=value_range(token_type_ids),
            position_ids_shape=shape(position_ids),
            position_ids_range=value_range(position_ids),
            head_mask_shape=shape(head_mask),
        ),
    )


def _additive_mask(attention_mask: tf.Tensor | None, dtype: tf.DType) -> tf.Tensor | None:
    """(B, S) of 1 = attend, 0 = padding  ->  (B, 1, 1, S) of 0 and the dtype's minimum (as PyTorch)."""
    if attention_mask is None:
        return None
    keep = tf.cast(attention_mask, tf.bool)[:, None, None, :]
    return tf.where(keep, tf.zeros((), dtype), tf.constant(dtype.min, dtype))


def _expand_head_mask(head_mask: tf.Tensor | None, config: AlbertConfig) -> tf.Tensor | None:
    """[N] or [L, N] -> [L, N]: row k masks the k-th applied layer."""
    if head_mask is None:
        return None
    head_mask = tf.cast(head_mask, tf.float32)
    if head_mask.shape.rank == 1:
        head_mask = tf.tile(head_mask[None], (config.num_applied_layers, 1))
    return head_mask


# ----------------------------------------------------------------------------------------------- base class
_INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids", "position_ids", "head_mask", "inputs_embeds")
_FLOAT_INPUTS = ("head_mask", "inputs_embeds")


class TFAlbertPreTrainedModel(keras.Model):
    """Weights, checkpoint loading and saving, and Keras training for every TensorFlow ALBERT model.

    Weights are created at construction. ``model.fit`` trains on the model's own loss: pass labels inside the
    input dict or as ``y`` (a tensor, a tuple in the order of the label arguments, or a dict), and compile with
    an optimizer only.

    Example:
        >>> model = TFAlbertForSequenceClassification.from_pretrained("path/or/hub-id", num_labels=3)
        >>> model.compile(optimizer=keras.optimizers.Adam(3e-5))
        >>> model.fit(dataset, epochs=2)  # dataset yields ({"input_ids": ..., "attention_mask": ...}, labels)
        >>> model.save_pretrained("my-model")
    """

    base_model_prefix = "albert"
    #: the label arguments of ``call``, in the order a tuple ``y`` is matched to them
    label_names: tuple[str, ...] = ("labels",)

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        if not isinstance(config, AlbertConfig):
            raise TypeError(f"{type(self).__name__} expects an AlbertConfig, got {type(config).__name__}.")
        super().__init__(**kwargs)
        self.config = config
        self._loss_tracker = keras.metrics.Mean(name="loss")

    # --------------------------------------------------------------------------- construction
    def _build_weights(self) -> None:
        """Create every weight now (so that they can be loaded) and zero the padding row, as PyTorch does."""
        with fast_path(False):  # the weights are created by the plain path; nothing to compile yet
            self._dummy_call()
        pad = self.config.pad_token_id
        if pad is not None:
            table = self.albert.embeddings.word_embeddings.embeddings
            table.assign(tf.tensor_scatter_nd_update(table, [[pad]], tf.zeros((1, table.shape[1]), table.dtype)))

    def _dummy_call(self) -> None:
        # One tiny eager call creates every weight under its final name (Keras names variables when built).
        seq_len = min(2, self.config.max_position_embeddings)
        self(input_ids=tf.zeros((1, seq_len), tf.int32), training=False)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Keras (fit, predict) passes one dict of inputs: spread it into keyword arguments.
        if args and isinstance(args[0], Mapping):
            kwargs = {**args[0], **kwargs}
            args = args[1:]
        arguments = inspect.signature(self.call).bind(*args, **kwargs).arguments
        self._check_call(arguments)
        if any(arguments.get(name) is not None for name in self.label_names):
            # Labels may sit at padded positions, where the fast path leaves zeros: losses use the plain path.
            with fast_path(False):
                return super().__call__(*args, **kwargs)
        return super().__call__(*args, **kwargs)

    def _check_call(self, arguments: dict[str, Any]) -> None:
        """Raise the shared ValueErrors for bad inputs and labels (values only when they are concrete)."""
        _validate(self.config, **self._base_inputs(**arguments))
        for name, num_classes in self._label_classes(arguments):
            _check_class_labels(_as_tensor(arguments[name]), num_classes, name)

    def _label_classes(self, arguments: dict[str, Any]) -> list[tuple[str, int]]:
        """(label argument, number of classes) pairs to check; heads with class labels override it."""
        return []

    def _base_inputs(self, **inputs: Any) -> dict[str, Any]:
        """Tensors for the base model's inputs (numpy and lists accepted)."""
        return {
            name: _as_tensor(inputs.get(name), tf.float32 if name in _FLOAT_INPUTS else None) for name in _INPUT_NAMES
        }

    # --------------------------------------------------------------------------- checkpoint names
    def _variables_by_key(self) -> dict[str, tuple[Any, bool]]:
        """PyTorch state_dict key -> (variable, transposed) for every weight of the model."""
        found: dict[str, tuple[Any, bool]] = {}
        for variable in self.weights:
            parts = variable.path.split("/")
            if self.name not in parts:
                raise RuntimeError(f"Variable {variable.path} was not created under the model's scope {self.name!r}.")
            key, transposed = tf_name_to_key("/".join(parts[parts.index(self.name) + 1 :]))
            found[key] = (variable, transposed)
        return found

    def state_dict(self) -> dict[str, np.ndarray]:
        """The weights as numpy arrays under their PyTorch names and layouts (no tied decoder)."""
        return {
            key: (variable.numpy().T if transposed else variable.numpy())
            for key, (variable, transposed) in self._variables_by_key().items()
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> LoadReport:
        """Assign a PyTorch-named state dict (numpy arrays); returns what was missing or unused."""
        variables = self._variables_by_key()
        renamed, report = match_keys(dict(state), variables.keys(), self.config)
        shapes = {
            key: tuple(reversed(variable.shape)) if transposed else tuple(variable.shape)
            for key, (variable, transposed) in variables.items()
        }
        check_shapes(renamed, shapes)
        for key, value in renamed.items():
            variable, transposed = variables[key]
            array = np.asarray(value, dtype=np.float32)
            variable.assign(array.T if transposed else array)
        return report

    # --------------------------------------------------------------------------- saving and loading
    def save_pretrained(self, save_directory: str | os.PathLike, max_shard_size: int | None = None) -> Path:
        """Write config.json and model.safetensors with the PyTorch names, loadable by every framework.

        Args:
            save_directory: directory to create or overwrite files in.
            max_shard_size: shard the weights into files of at most this many bytes.

        Returns:
            The directory.
        """
        directory = Path(save_directory)
        if directory.exists() and not directory.is_dir():
            raise ValueError(f"save_pretrained expects a directory, but {directory} is a file.")
        # The PyTorch class name, as transformers' TF models wrote it, so that every framework picks the same head.
        self.config.extra["architectures"] = [type(self).__name__.removeprefix("TF")]
        state = self.state_dict()
        with staged_directory(directory, replaces=MODEL_FILES) as staging:  # all or nothing, as in PyTorch
            self.config.save_pretrained(staging)
            write_safetensors(state, staging, framework="np", max_shard_bytes=max_shard_size)
        return directory

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        *,
        config: AlbertConfig | None = None,
        output_loading_info: bool = False,
        **kwargs: Any,
    ) -> TFAlbertPreTrainedModel | tuple[TFAlbertPreTrainedModel, dict[str, list[str]]]:
        """Load a model from a directory or Hub id holding config.json and weights.

        Reads model.safetensors (or shards), and otherwise pytorch_model.bin or Hugging Face's legacy tf_model.h5.

        Args:
            pretrained_model_name_or_path: a local directory or a Hub repository id.
            config: use this config instead of the checkpoint's config.json.
            output_loading_info: also return {"missing_keys": [...], "unexpected_keys": [...]}.
            **kwargs: Hub options (cache_dir, revision, token, local_files_only, force_download) and
                config overrides (e.g. num_labels=3).

        Returns:
            The model (and the loading info when asked).
        """
        hub_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in HUB_KWARGS}
        if config is None:
            config = AlbertConfig.from_pretrained(pretrained_model_name_or_path, **hub_kwargs, **kwargs)
        elif kwargs:
            config = config.copy(**kwargs)
        kind, files = locate_weights(pretrained_model_name_or_path, **hub_kwargs)
        state = read_weight_files(kind, files, framework="np")
        model = cls(config)
        report = model.load_state_dict(state)
        report.log(cls.__name__)
        if output_loading_info:
            return model, {"missing_keys": report.missing_keys, "unexpected_keys": report.unexpected_keys}
        return model

    # --------------------------------------------------------------------------- Keras training
    def _fit_inputs(self, data: Any) -> dict[str, Any]:
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if sample_weight is not None:
            raise ValueError(
                "sample_weight is not supported: the loss is the model's own (labels of -100 are ignored)."
            )
        inputs = dict(x) if isinstance(x, Mapping) else {"input_ids": x}
        if isinstance(y, Mapping):
            inputs.update(y)
        elif isinstance(y, (tuple, list)):
            inputs.update(zip(self.label_names, y))
        elif y is not None:
            inputs[self.label_names[0]] = y
        return inputs

    def _loss_of(self, outputs: ModelOutput) -> tf.Tensor:
        if outputs.loss is None:
            raise ValueError(
                f"{type(self).__name__} computed no loss: give {', '.join(self.label_names)} in the input dict or as y."
            )
        return outputs.loss

    def train_step(self, data: Any) -> dict[str, tf.Tensor]:
        inputs = self._fit_inputs(data)
        with tf.GradientTape() as tape:
            loss = self._loss_of(self(**inputs, training=True))
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        self._loss_tracker.update_state(loss)
        return {"loss": self._loss_tracker.result()}

    def test_step(self, data: Any) -> dict[str, tf.Tensor]:
        self._loss_tracker.update_state(self._loss_of(self(**self._fit_inputs(data), training=False)))
        return {"loss": self._loss_tracker.result()}

    def predict_step(self, data: Any) -> dict[str, Any]:
        # A plain dict: Keras' structure utilities, which concatenate predict batches, know no dataclasses.
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return dict(self(x if isinstance(x, Mapping) else {"input_ids": x}, training=False).items())

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self._loss_tracker]


def _finish(output: ModelOutput, return_dict: bool | None) -> ModelOutput | tuple:
    return output if return_dict is not False else output.to_tuple()


class TFAlbertModel(TFAlbertPreTrainedModel):
    """The bare ALBERT encoder: last hidden state and tanh pooler output.

    Args:
        config: the model's hyper-parameters.
        add_pooling_layer: build the pooler (``albert.pooler``).

    Returns (from ``call``):
        TFBaseModelOutputWithPooling with last_hidden_state (B, S, H), pooler_output (B, H), and hidden_states
        (L + 1 entries) / attentions (L entries) when asked for.
    """

    def __init__(self, config: AlbertConfig, add_pooling_layer: bool = True, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.albert = TFAlbertMainLayer(config, add_pooling_layer=add_pooling_layer, name="albert")
        self._build_weights()

    def _variables_by_key(self) -> dict[str, tuple[Any, bool]]:
        # A base model's state dict has no "albert." prefix, as AlbertModel's.
        return {key.removeprefix("albert."): value for key, value in super()._variables_by_key().items()}

    def call(
        self,
        input_ids: Any = None,
        attention_mask: Any = None,
        token_type_ids: Any = None,
        position_ids: Any = None,
        head_mask: Any = None,
        inputs_embeds: Any = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        training: bool | None = False,
    ) -> TFBaseModelOutputWithPooling | tuple:
        outputs = self.albert(
            **self._base_inputs(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
            ),
            output_attentions=bool(output_attentions), output_hidden_states=bool(output_hidden_states),
            training=bool(training),
        )  # fmt: skip
        return _finish(outputs, return_dict)


# ----------------------------------------------------------------------------------------------- losses
def _check_class_labels(labels: tf.Tensor, num_classes: int, name: str = "labels") -> None:
    """Same check and message as PyTorch, on concrete labels (TF would fail on CPU and give NaN on GPU)."""
    if tf.is_symbolic_tensor(labels):
        return
    validate_class_labels(labels.numpy(), num_classes, name)


def _cross_entropy(logits: tf.Tensor, labels: tf.Tensor, ignore_index: int | tf.Tensor = -100) -> tf.Tensor:
    """Mean cross-entropy over the labels that are not ``ignore_index`` (PyTorch's CrossEntropyLoss)."""
    num_classes = tf.shape(logits)[-1]
    logits = tf.reshape(tf.cast(logits, tf.float32), (-1, num_classes))
    labels = tf.reshape(tf.cast(labels, tf.int32), (-1,))
    keep = tf.not_equal(labels, tf.cast(ignore_index, tf.int32))
    per_label = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.where(keep, labels, 0), logits=logits)
    keep = tf.cast(keep, tf.float32)
    return tf.reduce_sum(per_label * keep) / tf.reduce_sum(keep)  # 0/0 = NaN when nothing is kept, as PyTorch


def problem_type_for(config: AlbertConfig, labels: tf.Tensor) -> str:
    """Hugging Face's rule when problem_type is unset: 1 label regresses, integer labels classify, else multi-label."""
    if config.problem_type is not None:
        return config.problem_type
    if config.num_labels == 1:
        return "regression"
    if labels.dtype.is_integer:
        return "single_label_classification"
    return "multi_label_classification"


def sequence_classification_loss(logits: tf.Tensor, labels: tf.Tensor, config: AlbertConfig) -> tf.Tensor:
    """MSE, cross-entropy or binary cross-entropy as the PyTorch head chooses them."""
    problem_type = problem_type_for(config, labels)
    if problem_type == "regression":
        labels = tf.cast(labels, tf.float32)
        if config.num_labels == 1:
            return tf.reduce_mean(tf.square(tf.squeeze(logits) - tf.squeeze(labels)))
        return tf.reduce_mean(tf.square(logits - labels))
    if problem_type == "single_label_classification":
        return _cross_entropy(logits, labels)
    labels = tf.cast(labels, tf.float32)
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits))


def span_loss(
    start_logits: tf.Tensor, end_logits: tf.Tensor, start_positions: tf.Tensor, end_positions: tf.Tensor
) -> tf.Tensor:
    """Mean of start and end cross-entropy; positions outside the sequence are clamped to S and ignored."""
    ignored = tf.shape(start_logits)[1]
    start = tf.clip_by_value(tf.reshape(tf.cast(start_positions, tf.int32), (-1,)), 0, ignored)
    end = tf.clip_by_value(tf.reshape(tf.cast(end_positions, tf.int32), (-1,)), 0, ignored)
    return (_cross_entropy(start_logits, start, ignored) + _cross_entropy(end_logits, end, ignored)) / 2


# ----------------------------------------------------------------------------------------------- heads
class TFAlbertMLMHead(keras.layers.Layer):
    """H -> E transform, activation, LayerNorm, then the decoder tied to the word embeddings, plus a bias."""

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.dense = _dense(config.embedding_size, config, "dense")
        self.activation = ACTIVATIONS[config.hidden_act]
        self.LayerNorm = _layer_norm(config, "LayerNorm")

    def build(self, input_shape: Any = None) -> None:
        self.dense.build((None, None, self.config.hidden_size))
        self.LayerNorm.build((None, None, self.config.embedding_size))
        self.bias = self.add_weight(shape=(self.config.vocab_size,), initializer="zeros", name="bias")

    def call(self, hidden_states: tf.Tensor, word_embeddings: tf.Variable) -> tf.Tensor:
        hidden_states = self.LayerNorm(self.activation(self.dense(hidden_states)))  # (B, S, E)
        return tf.einsum("bse,ve->bsv", hidden_states, word_embeddings) + self.bias  # (B, S, V)


class TFAlbertSOPHead(keras.layers.Layer):
    """Sentence-order prediction on the pooled output."""

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dropout = keras.layers.Dropout(config.classifier_dropout_prob or 0.0)
        self.classifier = _dense(config.num_labels, config, "classifier")

    def call(self, pooled_output: tf.Tensor, training: bool = False) -> tf.Tensor:
        return self.classifier(self.dropout(pooled_output, training=training))


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


def _sentence_pooled(
    albert: TFAlbertMainLayer, outputs: TFBaseModelOutputWithPooling, attention_mask: tf.Tensor | None
) -> tf.Tensor:
    """The classification heads' sentence vector: the CLS pooler output or, with classifier_pooling="mean", the same
    pooler (dense + tanh) on the masked mean of the last hidden states."""
    if albert.config.classifier_pooling == "cls":
        return outputs.pooler_output
    return albert.pooler(masked_mean(outputs.last_hidden_state, attention_mask))


class _TFAlbertHeadModel(TFAlbertPreTrainedModel):
    """Shared plumbing of the heads: the base layer call with the same arguments in every head."""

    def _run_base(self, inputs: dict[str, Any], output_attentions: Any, output_hidden_states: Any, training: Any):
        return self.albert(
            **self._base_inputs(**inputs),
            output_attentions=bool(output_attentions),
            output_hidden_states=bool(output_hidden_states),
            training=bool(training),
        )

    def _mlm_logits(self, sequence_output: tf.Tensor) -> tf.Tensor:
        return self.predictions(sequence_output, word_embeddings=self.albert.embeddings.word_embeddings.embeddings)


class TFAlbertForPreTraining(_TFAlbertHeadModel):
    """ALBERT with the masked-LM and sentence-order heads used in pretraining.

    Args:
        config: the model's hyper-parameters (num_labels is the number of sentence-order classes, 2).

    Returns (from ``call``):
        TFAlbertForPreTrainingOutput; its loss is CE(MLM, -100 ignored) + CE(SOP) when ``labels`` and
        ``sentence_order_label`` are both given.
    """

    label_names = ("labels", "sentence_order_label")

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.albert = TFAlbertMainLayer(config, name="albert")
        self.predictions = TFAlbertMLMHead(config, name="predictions")
        self.sop_classifier = TFAlbertSOPHead(config, name="sop_classifier")
        self._build_weights()

    def _label_classes(self, arguments: dict[str, Any]) -> list[tuple[str, int]]:
        if arguments.get("labels") is None or arguments.get("sentence_order_label") is None:
            return []  # the loss needs both, as in PyTorch
        return [("labels", self.config.vocab_size), ("sentence_order_label", self.config.num_labels)]

    def call(
        self,
        input_ids: Any = None,
        attention_mask: Any = None,
        token_type_ids: Any = None,
        position_ids: Any = None,
        head_mask: Any = None,
        inputs_embeds: Any = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        labels: Any = None,
        sentence_order_label: Any = None,
        training: bool | None = False,
    ) -> TFAlbertForPreTrainingOutput | tuple:
        inputs = dict(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
        )  # fmt: skip
        outputs = self._run_base(inputs, output_attentions, output_hidden_states, training)
        prediction_logits = self._mlm_logits(outputs.last_hidden_state)
        sop_logits = self.sop_classifier(outputs.pooler_output, training=bool(training))
        loss = None
        if labels is not None and sentence_order_label is not None:
            loss = _cross_entropy(prediction_logits, _as_tensor(labels)) + _cross_entropy(
                sop_logits, _as_tensor(sentence_order_label)
            )
        output = TFAlbertForPreTrainingOutput(
            loss, prediction_logits, sop_logits, outputs.hidden_states, outputs.attentions
        )
        return _finish(output, return_dict)


class TFAlbertForMaskedLM(_TFAlbertHeadModel):
    """ALBERT with the masked-LM head (no pooler).

    Returns (from ``call``):
        TFMaskedLMOutput with logits (B, S, V); loss = CE over labels that are not -100.
    """

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.albert = TFAlbertMainLayer(config, add_pooling_layer=False, name="albert")
        self.predictions = TFAlbertMLMHead(config, name="predictions")
        self._build_weights()

    def _label_classes(self, arguments: dict[str, Any]) -> list[tuple[str, int]]:
        return [] if arguments.get("labels") is None else [("labels", self.config.vocab_size)]

    def call(
        self,
        input_ids: Any = None,
        attention_mask: Any = None,
        token_type_ids: Any = None,
        position_ids: Any = None,
        head_mask: Any = None,
        inputs_embeds: Any = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        labels: Any = None,
        training: bool | None = False,
    ) -> TFMaskedLMOutput | tuple:
        inputs = dict(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
        )  # fmt: skip
        outputs = self._run_base(inputs, output_attentions, output_hidden_states, training)
        logits = self._mlm_logits(outputs.last_hidden_state)
        loss = None
        if labels is not None:
            loss = _cross_entropy(logits, _as_tensor(labels))
        return _finish(TFMaskedLMOutput(loss, logits, outputs.hidden_states, outputs.attentions), return_dict)


class TFAlbertForSequenceClassification(_TFAlbertHeadModel):
    """ALBERT with a linear classifier (or regressor) on the pooled output (see config.classifier_pooling).

    Returns (from ``call``):
        TFSequenceClassifierOutput with logits (B, num_labels); the loss follows config.problem_type (or
        Hugging Face's rule when unset): MSE, cross-entropy (-100 ignored) or binary cross-entropy.
    """

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.albert = TFAlbertMainLayer(config, name="albert")
        self.dropout = keras.layers.Dropout(config.classifier_dropout_prob or 0.0)
        self.classifier = _dense(config.num_labels, config, "classifier")
        self._build_weights()

    def _check_call(self, arguments: dict[str, Any]) -> None:
        super()._check_call(arguments)
        labels = _as_tensor(arguments.get("labels"))
        if labels is None:
            return
        problem_type = problem_type_for(self.config, labels)
        if problem_type == "single_label_classification":
            _check_class_labels(labels, self.config.num_labels)
        elif problem_type == "multi_label_classification":
            reference = _as_tensor(arguments.get("input_ids"))
            if reference is None:
                reference = _as_tensor(arguments.get("inputs_embeds"))
            logits_shape = (reference.shape[0], self.config.num_labels)
            if labels.shape.rank != 2 or not labels.shape.is_compatible_with(logits_shape):
                raise ValueError(
                    f"multi_label_classification expects labels shaped like the logits {logits_shape} "
                    f"(one 0/1 column per label), got {tuple(labels.shape)}."
                )

    def call(
        self,
        input_ids: Any = None,
        attention_mask: Any = None,
        token_type_ids: Any = None,
        position_ids: Any = None,
        head_mask: Any = None,
        inputs_embeds: Any = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        labels: Any = None,
        training: bool | None = False,
    ) -> TFSequenceClassifierOutput | tuple:
        inputs = dict(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
        )  # fmt: skip
        outputs = self._run_base(inputs, output_attentions, output_hidden_states, training)
        pooled = _sentence_pooled(self.albert, outputs, _as_tensor(attention_mask))
        logits = self.classifier(self.dropout(pooled, training=bool(training)))
        loss = None if labels is None else sequence_classification_loss(logits, _as_tensor(labels), self.config)
        return _finish(TFSequenceClassifierOutput(loss, logits, outputs.hidden_states, outputs.attentions), return_dict)


class TFAlbertForTokenClassification(_TFAlbertHeadModel):
    """ALBERT with a linear classifier on every token (named entities, tags).

    Returns (from ``call``):
        TFTokenClassifierOutput with logits (B, S, num_labels); loss = CE over labels that are not -100.
    """

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.albert = TFAlbertMainLayer(config, add_pooling_layer=False, name="albert")
        rate = config.classifier_dropout_prob
        self.dropout = keras.layers.Dropout(config.hidden_dropout_prob if rate is None else rate)
        self.classifier = _dense(config.num_labels, config, "classifier")
        self._build_weights()

    def _label_classes(self, arguments: dict[str, Any]) -> list[tuple[str, int]]:
        return [] if arguments.get("labels") is None else [("labels", self.config.num_labels)]

    def call(
        self,
        input_ids: Any = None,
        attention_mask: Any = None,
        token_type_ids: Any = None,
        position_ids: Any = None,
        head_mask: Any = None,
        inputs_embeds: Any = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        labels: Any = None,
        training: bool | None = False,
    ) -> TFTokenClassifierOutput | tuple:
        inputs = dict(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
        )  # fmt: skip
        outputs = self._run_base(inputs, output_attentions, output_hidden_states, training)
        logits = self.classifier(self.dropout(outputs.last_hidden_state, training=bool(training)))
        loss = None
        if labels is not None:
            loss = _cross_entropy(logits, _as_tensor(labels))
        return _finish(TFTokenClassifierOutput(loss, logits, outputs.hidden_states, outputs.attentions), return_dict)


class TFAlbertForQuestionAnswering(_TFAlbertHeadModel):
    """ALBERT with a span head: start and end logits for every token.

    Returns (from ``call``):
        TFQuestionAnsweringModelOutput with start_logits and end_logits (B, S); the loss is the mean of the start
        and end cross-entropies, positions clamped to [0, S] and S ignored (PyTorch's rule).
    """

    label_names = ("start_positions", "end_positions")

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.albert = TFAlbertMainLayer(config, add_pooling_layer=False, name="albert")
        self.qa_outputs = _dense(config.num_labels, config, "qa_outputs")
        self._build_weights()

    def call(
        self,
        input_ids: Any = None,
        attention_mask: Any = None,
        token_type_ids: Any = None,
        position_ids: Any = None,
        head_mask: Any = None,
        inputs_embeds: Any = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        start_positions: Any = None,
        end_positions: Any = None,
        training: bool | None = False,
    ) -> TFQuestionAnsweringModelOutput | tuple:
        inputs = dict(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
        )  # fmt: skip
        outputs = self._run_base(inputs, output_attentions, output_hidden_states, training)
        logits = self.qa_outputs(outputs.last_hidden_state)  # (B, S, 2)
        start_logits, end_logits = logits[..., 0], logits[..., 1]
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = span_loss(start_logits, end_logits, _as_tensor(start_positions), _as_tensor(end_positions))
        output = TFQuestionAnsweringModelOutput(
            loss, start_logits, end_logits, outputs.hidden_states, outputs.attentions
        )
        return _finish(output, return_dict)


class TFAlbertForMultipleChoice(_TFAlbertHeadModel):
    """ALBERT scoring each (context, choice) pair with one logit; inputs are (B, C, S); each choice pooled as
    config.classifier_pooling says.

    Returns (from ``call``):
        TFMultipleChoiceModelOutput with logits (B, C); loss = CE over the choices.
    """

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.albert = TFAlbertMainLayer(config, name="albert")
        self.dropout = keras.layers.Dropout(config.classifier_dropout_prob or 0.0)
        self.classifier = _dense(1, config, "classifier")
        self._build_weights()

    def _dummy_call(self) -> None:
        seq_len = min(2, self.config.max_position_embeddings)
        self(input_ids=tf.zeros((1, 2, seq_len), tf.int32), training=False)

    def _flat_inputs(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Base-model inputs with the choices folded into the batch: (B, C, S, ...) -> (B*C, S, ...)."""
        inputs = self._base_inputs(**arguments)
        reference = inputs["input_ids"] if inputs["input_ids"] is not None else inputs["inputs_embeds"]
        rank = None if reference is None else reference.shape.rank
        if rank is None or rank < 3 or (inputs["input_ids"] is None and rank != 4):
            raise ValueError(
                "AlbertForMultipleChoice expects input_ids shaped (batch, num_choices, sequence_length) "
                "or inputs_embeds shaped (batch, num_choices, sequence_length, embedding_size)."
            )
        for name in ("input_ids", "attention_mask", "token_type_ids", "position_ids", "inputs_embeds"):
            inputs[name] = _flatten_choices(inputs[name])
        return inputs

    def _check_call(self, arguments: dict[str, Any]) -> None:
        inputs = self._flat_inputs(arguments)
        _validate(self.config, **inputs)
        reference = _as_tensor(arguments.get("input_ids"))
        if reference is None:
            reference = _as_tensor(arguments.get("inputs_embeds"))
        labels = _as_tensor(arguments.get("labels"))
        if labels is not None and reference.shape[1] is not None:
            _check_class_labels(labels, int(reference.shape[1]))

    def call(
        self,
        input_ids: Any = None,
        attention_mask: Any = None,
        token_type_ids: Any = None,
        position_ids: Any = None,
        head_mask: Any = None,
        inputs_embeds: Any = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
        labels: Any = None,
        training: bool | None = False,
    ) -> TFMultipleChoiceModelOutput | tuple:
        inputs = self._flat_inputs(
            dict(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
                position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
            )
        )  # fmt: skip
        reference = _as_tensor(input_ids) if input_ids is not None else _as_tensor(inputs_embeds)
        num_choices = tf.shape(reference)[1]
        outputs = self._run_base(inputs, output_attentions, output_hidden_states, training)
        pooled = _sentence_pooled(self.albert, outputs, inputs["attention_mask"])  # (B*C, H)
        pooled = self.dropout(pooled, training=bool(training))
        logits = tf.reshape(self.classifier(pooled), (-1, num_choices))  # (B, C)
        loss = None if labels is None else _cross_entropy(logits, _as_tensor(labels))
        return _finish(
            TFMultipleChoiceModelOutput(loss, logits, outputs.hidden_states, outputs.attentions), return_dict
        )


def _flatten_choices(tensor: tf.Tensor | None) -> tf.Tensor | None:
    """(B, C, S, ...) -> (B*C, S, ...); static trailing sizes kept for shape checks."""
    if tensor is None:
        return None
    dynamic = tf.shape(tensor)
    trailing = [size if size is not None else dynamic[i + 2] for i, size in enumerate(tensor.shape[2:])]
    return tf.reshape(tensor, [-1, *trailing])


# ----------------------------------------------------------------------------------------------- export
def export_saved_model(model: TFAlbertPreTrainedModel, path: str | os.PathLike) -> Path:
    """Export ``model`` as a SavedModel whose ``serving_default`` signature runs inference.

    The signature takes int32 ``input_ids``, ``attention_mask`` and ``token_type_ids`` of shape (B, S)
    ((B, C, S) for multiple choice), with any batch size and sequence length, and returns a dict of the output's
    tensors (logits, or start_logits/end_logits, ...; no loss, hidden states or attentions).

    Args:
        model: any TFAlbert model.
        path: the SavedModel directory to write.

    Returns:
        The path. Reload with ``tf.saved_model.load(path).signatures["serving_default"]``.

    Example:
        >>> export_saved_model(model, "exported")
        >>> serve = tf.saved_model.load("exported").signatures["serving_default"]
        >>> serve(input_ids=ids, attention_mask=mask, token_type_ids=types)["logits"]
    """
    rank = 3 if isinstance(model, TFAlbertForMultipleChoice) else 2
    spec = tf.TensorSpec([None] * rank, tf.int32)

    @tf.function(input_signature=[spec, spec, spec])
    def serve(input_ids: tf.Tensor, attention_mask: tf.Tensor, token_type_ids: tf.Tensor) -> dict[str, tf.Tensor]:
        outputs = model(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids, training=False
        )
        return {
            name: value
            for name, value in outputs.items()
            if name not in ("loss", "hidden_states", "attentions") and value is not None
        }

    module = tf.Module()
    # The variables, not the Keras model: saving a Keras model as a child also traces Keras' own default
    # signature from the inputs it was first built with.
    module.weights = list(model.weights)
    module.serve = serve
    tf.saved_model.save(module, str(path), signatures={"serving_default": serve})
    return Path(path)
