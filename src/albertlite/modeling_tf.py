"""ALBERT in TensorFlow (Keras 3 on the TensorFlow backend), read top to bottom: embeddings, attention, layer,
group, transformer, base model, heads.

Layer names follow the PyTorch module paths (list elements as ``albert_layer_groups_._0``, as Hugging Face's TF
models named them), so one rule (``checkpoints.tf_names.tf_name_to_key``) turns every variable path into its
PyTorch state_dict key: checkpoints are the shared config.json + model.safetensors, handed over as numpy arrays
with dense kernels transposed (``checkpoints.tf_io``).

Axis legend used in shape comments:
    B batch, S sequence length, E embedding_size, H hidden_size, N heads, D head size (H / N),
    I intermediate_size, V vocab_size, L applied layers (num_hidden_layers x inner_group_num);
    C choices (multiple choice only).

Semantics are those of albertlite's PyTorch model (see its module docstring): relative positions and head_mask as
transformers 4.57 had them (a 2-D head_mask has one row per applied layer), one hidden state per applied layer,
dropout after the FFN output, the dtype's minimum as the attention-mask bias, and losses reduced as the PyTorch heads
reduce them (Hugging Face's TF heads returned per-example losses for some heads; these return the PyTorch scalar).
Inference calls run the padding-free path of ``albertlite.fast.packed_tf`` when it gives the same outputs.
"""

from __future__ import annotations

import math
import os
from typing import Any, ClassVar

os.environ.setdefault("KERAS_BACKEND", "tensorflow")  # read once, when keras is first imported

import keras
import tensorflow as tf

from albertlite import tf_ops
from albertlite.checkpoints.tf_io import TFCheckpointMixin
from albertlite.config import AlbertConfig
from albertlite.fast.packed_tf import packed_forward, packing_plan
from albertlite.fast.packing_plan import PackPlan
from albertlite.heads import HEADS, HeadSpec
from albertlite.outputs import LayerRecord
from albertlite.tf_model_calls import TFModelCalls
from albertlite.tf_ops import (
    TFAlbertForPreTrainingOutput,
    TFBaseModelOutputWithPooling,
    TFMaskedLMOutput,
    TFMultipleChoiceModelOutput,
    TFQuestionAnsweringModelOutput,
    TFSequenceClassifierOutput,
    TFTokenClassifierOutput,
)
from albertlite.tf_training import KerasTrainingMixin

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
]


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
        self.activation = tf_ops.ACTIVATIONS[config.hidden_act]
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
        groups = self.albert_layer_groups
        return [groups[group].albert_layers[inner] for group, inner in self.config.layer_schedule()]

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
        record = LayerRecord(hidden_states, output_hidden_states, output_attentions)
        for k, layer in enumerate(self.execution_order()):
            layer_head_mask = None if head_mask is None else head_mask[k]
            hidden_states, probs = layer(
                hidden_states, attention_mask=attention_mask, head_mask=layer_head_mask, training=training
            )
            record.add(hidden_states, probs)
        return record.result(hidden_states)


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
        self, input_ids: tf.Tensor | None = None, attention_mask: tf.Tensor | None = None,
        token_type_ids: tf.Tensor | None = None, position_ids: tf.Tensor | None = None,
        head_mask: tf.Tensor | None = None, inputs_embeds: tf.Tensor | None = None,
        output_attentions: bool | None = False, output_hidden_states: bool | None = False, training: bool = False,
    ) -> TFBaseModelOutputWithPooling:  # fmt: skip
        # Only these inference calls can be packed: the packed path returns no attentions and masks no heads.
        if not (training or output_attentions or head_mask is not None or inputs_embeds is not None):
            plan = packing_plan(self, input_ids, attention_mask, token_type_ids, position_ids)
            if plan is not None:
                return self._packed_call(plan, tuple(input_ids.shape), bool(output_hidden_states))
        embeddings = self.embeddings(
            input_ids,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            inputs_embeds=inputs_embeds,
            training=training,
        )
        sequence_output, hidden_states, attentions = self.encoder(
            embeddings,
            attention_mask=tf_ops.additive_mask(attention_mask, embeddings.dtype),  # (B, 1, 1, S)
            head_mask=tf_ops.expand_head_mask(head_mask, self.config),  # (L, N)
            output_attentions=bool(output_attentions),
            output_hidden_states=bool(output_hidden_states),
            training=training,
        )
        return TFBaseModelOutputWithPooling(
            last_hidden_state=sequence_output,
            pooler_output=self.pooler(sequence_output[:, 0]) if self.pooler is not None else None,
            hidden_states=hidden_states,
            attentions=attentions,
        )

    def _packed_call(
        self, plan: PackPlan, shape: tuple[int, int], output_hidden_states: bool
    ) -> TFBaseModelOutputWithPooling:
        """The fast-path hook: this call on the packed rows of ``plan`` (albertlite.fast.packed_tf)."""
        return packed_forward(self, plan, shape, output_hidden_states)


class TFAlbertPreTrainedModel(TFModelCalls, TFCheckpointMixin, KerasTrainingMixin, keras.Model):
    """Every TensorFlow ALBERT model: weights built at construction, checked inputs, checkpoints and Keras training.

    How it is called comes from :class:`~albertlite.tf_model_calls.TFModelCalls`, checkpoint loading and saving
    from :class:`~albertlite.checkpoints.tf_io.TFCheckpointMixin`, ``fit`` on
    the model's own loss from :class:`~albertlite.tf_training.KerasTrainingMixin`: pass labels inside the input
    dict or as ``y``, and compile with an optimizer only.

    Example:
        >>> model = TFAlbertForSequenceClassification.from_pretrained("path/or/hub-id", num_labels=3)
        >>> model.compile(optimizer=keras.optimizers.Adam(3e-5))
        >>> model.fit(dataset, epochs=2)  # dataset yields ({"input_ids": ..., "attention_mask": ...}, labels)
        >>> model.save_pretrained("my-model")
    """

    base_model_prefix = "albert"
    spec: ClassVar[HeadSpec]  # this head's entry of albertlite.heads.HEADS

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        if not isinstance(config, AlbertConfig):
            raise TypeError(f"{type(self).__name__} expects an AlbertConfig, got {type(config).__name__}.")
        super().__init__(**kwargs)
        self.config = config


class TFAlbertModel(TFAlbertPreTrainedModel):
    """The bare ALBERT encoder: last hidden state and tanh pooler output.

    Args:
        config: the model's hyper-parameters.
        add_pooling_layer: build the pooler (``albert.pooler``).

    Returns (from ``call``):
        TFBaseModelOutputWithPooling with last_hidden_state (B, S, H), pooler_output (B, H), and hidden_states
        (L + 1 entries) / attentions (L entries) when asked for.
    """

    spec = HEADS["Model"]

    def __init__(self, config: AlbertConfig, add_pooling_layer: bool = True, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.albert = TFAlbertMainLayer(config, add_pooling_layer=add_pooling_layer, name="albert")
        self._build_weights()

    def _variables_by_key(self) -> dict[str, tuple[Any, bool]]:
        # A base model's state dict has no "albert." prefix, as AlbertModel's.
        return {key.removeprefix("albert."): value for key, value in super()._variables_by_key().items()}

    def call(
        self, input_ids: tf.Tensor | None = None, attention_mask: tf.Tensor | None = None,
        token_type_ids: tf.Tensor | None = None, position_ids: tf.Tensor | None = None,
        head_mask: tf.Tensor | None = None, inputs_embeds: tf.Tensor | None = None,
        output_attentions: bool | None = None, output_hidden_states: bool | None = None,
        return_dict: bool | None = None, training: bool | None = False,
    ) -> TFBaseModelOutputWithPooling | tuple:  # fmt: skip
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states, training=training,
        )  # fmt: skip
        return tf_ops.finish(outputs, return_dict)


# ----------------------------------------------------------------------------------------------- heads
class TFAlbertMLMHead(keras.layers.Layer):
    """H -> E transform, activation, LayerNorm, then the decoder tied to the word embeddings, plus a bias."""

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.dense = _dense(config.embedding_size, config, "dense")
        self.activation = tf_ops.ACTIVATIONS[config.hidden_act]
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


class TFAlbertForPreTraining(TFAlbertPreTrainedModel):
    """ALBERT with the masked-LM and sentence-order heads used in pretraining.

    Args:
        config: the model's hyper-parameters (num_labels is the number of sentence-order classes, 2).

    Returns (from ``call``):
        TFAlbertForPreTrainingOutput; its loss is CE(MLM, -100 ignored) + CE(SOP) when ``labels`` and
        ``sentence_order_label`` are both given.
    """

    spec = HEADS["ForPreTraining"]

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.albert = TFAlbertMainLayer(config, add_pooling_layer=self.spec.pooler, name="albert")
        self.predictions = TFAlbertMLMHead(config, name="predictions")
        self.sop_classifier = TFAlbertSOPHead(config, name="sop_classifier")
        self._build_weights()

    def call(
        self, input_ids: tf.Tensor | None = None, attention_mask: tf.Tensor | None = None,
        token_type_ids: tf.Tensor | None = None, position_ids: tf.Tensor | None = None,
        head_mask: tf.Tensor | None = None, inputs_embeds: tf.Tensor | None = None,
        output_attentions: bool | None = None, output_hidden_states: bool | None = None,
        return_dict: bool | None = None, labels: tf.Tensor | None = None,
        sentence_order_label: tf.Tensor | None = None, training: bool | None = False,
    ) -> TFAlbertForPreTrainingOutput | tuple:  # fmt: skip
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states, training=training,
        )  # fmt: skip
        prediction_logits = self.predictions(
            outputs.last_hidden_state, self.albert.embeddings.word_embeddings.embeddings
        )
        sop_logits = self.sop_classifier(outputs.pooler_output, training=bool(training))
        loss = None
        if labels is not None and sentence_order_label is not None:
            mlm_loss = tf_ops.cross_entropy(prediction_logits, labels)
            loss = mlm_loss + tf_ops.cross_entropy(sop_logits, sentence_order_label)
        output = TFAlbertForPreTrainingOutput(
            loss=loss,
            prediction_logits=prediction_logits,
            sop_logits=sop_logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return tf_ops.finish(output, return_dict)


class TFAlbertForMaskedLM(TFAlbertPreTrainedModel):
    """ALBERT with the masked-LM head (no pooler).

    Returns (from ``call``):
        TFMaskedLMOutput with logits (B, S, V); loss = CE over labels that are not -100.
    """

    spec = HEADS["ForMaskedLM"]

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.albert = TFAlbertMainLayer(config, add_pooling_layer=self.spec.pooler, name="albert")
        self.predictions = TFAlbertMLMHead(config, name="predictions")
        self._build_weights()

    def call(
        self, input_ids: tf.Tensor | None = None, attention_mask: tf.Tensor | None = None,
        token_type_ids: tf.Tensor | None = None, position_ids: tf.Tensor | None = None,
        head_mask: tf.Tensor | None = None, inputs_embeds: tf.Tensor | None = None,
        output_attentions: bool | None = None, output_hidden_states: bool | None = None,
        return_dict: bool | None = None, labels: tf.Tensor | None = None, training: bool | None = False,
    ) -> TFMaskedLMOutput | tuple:  # fmt: skip
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states, training=training,
        )  # fmt: skip
        logits = self.predictions(outputs.last_hidden_state, self.albert.embeddings.word_embeddings.embeddings)
        loss = None if labels is None else tf_ops.cross_entropy(logits, labels)
        output = TFMaskedLMOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return tf_ops.finish(output, return_dict)


class TFAlbertForSequenceClassification(TFAlbertPreTrainedModel):
    """ALBERT with a linear classifier (or regressor) on the pooled output (see config.classifier_pooling).

    Returns (from ``call``):
        TFSequenceClassifierOutput with logits (B, num_labels); the loss follows config.problem_type (or
        Hugging Face's rule when unset): MSE, cross-entropy (-100 ignored) or binary cross-entropy.
    """

    spec = HEADS["ForSequenceClassification"]

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.albert = TFAlbertMainLayer(config, add_pooling_layer=self.spec.pooler, name="albert")
        self.dropout = keras.layers.Dropout(config.classifier_dropout_prob or 0.0)
        self.classifier = _dense(config.num_labels, config, "classifier")
        self._build_weights()

    def call(
        self, input_ids: tf.Tensor | None = None, attention_mask: tf.Tensor | None = None,
        token_type_ids: tf.Tensor | None = None, position_ids: tf.Tensor | None = None,
        head_mask: tf.Tensor | None = None, inputs_embeds: tf.Tensor | None = None,
        output_attentions: bool | None = None, output_hidden_states: bool | None = None,
        return_dict: bool | None = None, labels: tf.Tensor | None = None, training: bool | None = False,
    ) -> TFSequenceClassifierOutput | tuple:  # fmt: skip
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states, training=training,
        )  # fmt: skip
        pooled = tf_ops.sentence_pooled(self.config, self.albert.pooler, outputs, attention_mask)  # (B, H)
        logits = self.classifier(self.dropout(pooled, training=bool(training)))  # (B, num_labels)
        loss = None if labels is None else tf_ops.sequence_classification_loss(logits, labels, self.config)
        output = TFSequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return tf_ops.finish(output, return_dict)


class TFAlbertForTokenClassification(TFAlbertPreTrainedModel):
    """ALBERT with a linear classifier on every token (named entities, tags).

    Returns (from ``call``):
        TFTokenClassifierOutput with logits (B, S, num_labels); loss = CE over labels that are not -100.
    """

    spec = HEADS["ForTokenClassification"]

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.albert = TFAlbertMainLayer(config, add_pooling_layer=self.spec.pooler, name="albert")
        rate = config.classifier_dropout_prob
        self.dropout = keras.layers.Dropout(config.hidden_dropout_prob if rate is None else rate)
        self.classifier = _dense(config.num_labels, config, "classifier")
        self._build_weights()

    def call(
        self, input_ids: tf.Tensor | None = None, attention_mask: tf.Tensor | None = None,
        token_type_ids: tf.Tensor | None = None, position_ids: tf.Tensor | None = None,
        head_mask: tf.Tensor | None = None, inputs_embeds: tf.Tensor | None = None,
        output_attentions: bool | None = None, output_hidden_states: bool | None = None,
        return_dict: bool | None = None, labels: tf.Tensor | None = None, training: bool | None = False,
    ) -> TFTokenClassifierOutput | tuple:  # fmt: skip
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states, training=training,
        )  # fmt: skip
        logits = self.classifier(self.dropout(outputs.last_hidden_state, training=bool(training)))  # (B, S, num_labels)
        loss = None if labels is None else tf_ops.cross_entropy(logits, labels)
        output = TFTokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return tf_ops.finish(output, return_dict)


class TFAlbertForQuestionAnswering(TFAlbertPreTrainedModel):
    """ALBERT with a span head: start and end logits for every token.

    Returns (from ``call``):
        TFQuestionAnsweringModelOutput with start_logits and end_logits (B, S); the loss is the mean of the start
        and end cross-entropies, positions clamped to [0, S] and S ignored (PyTorch's rule).
    """

    spec = HEADS["ForQuestionAnswering"]

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.albert = TFAlbertMainLayer(config, add_pooling_layer=self.spec.pooler, name="albert")
        self.qa_outputs = _dense(config.num_labels, config, "qa_outputs")
        self._build_weights()

    def call(
        self, input_ids: tf.Tensor | None = None, attention_mask: tf.Tensor | None = None,
        token_type_ids: tf.Tensor | None = None, position_ids: tf.Tensor | None = None,
        head_mask: tf.Tensor | None = None, inputs_embeds: tf.Tensor | None = None,
        output_attentions: bool | None = None, output_hidden_states: bool | None = None,
        return_dict: bool | None = None, start_positions: tf.Tensor | None = None,
        end_positions: tf.Tensor | None = None, training: bool | None = False,
    ) -> TFQuestionAnsweringModelOutput | tuple:  # fmt: skip
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states, training=training,
        )  # fmt: skip
        logits = self.qa_outputs(outputs.last_hidden_state)  # (B, S, 2)
        start_logits, end_logits = logits[..., 0], logits[..., 1]
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = tf_ops.span_loss(start_logits, end_logits, start_positions, end_positions)
        output = TFQuestionAnsweringModelOutput(
            loss=loss,
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )
        return tf_ops.finish(output, return_dict)


class TFAlbertForMultipleChoice(TFAlbertPreTrainedModel):
    """ALBERT scoring each (context, choice) pair with one logit; inputs are (B, C, S); each choice pooled as
    config.classifier_pooling says.

    Returns (from ``call``):
        TFMultipleChoiceModelOutput with logits (B, C); loss = CE over the choices.
    """

    spec = HEADS["ForMultipleChoice"]

    def __init__(self, config: AlbertConfig, **kwargs: Any) -> None:
        super().__init__(config, **kwargs)
        self.albert = TFAlbertMainLayer(config, add_pooling_layer=self.spec.pooler, name="albert")
        self.dropout = keras.layers.Dropout(config.classifier_dropout_prob or 0.0)
        self.classifier = _dense(1, config, "classifier")
        self._build_weights()

    def _dummy_call(self) -> None:
        seq_len = min(2, self.config.max_position_embeddings)
        self(input_ids=tf.zeros((1, 2, seq_len), tf.int32), training=False)

    def _base_inputs(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return tf_ops.flatten_choice_inputs(arguments)

    def call(
        self, input_ids: tf.Tensor | None = None, attention_mask: tf.Tensor | None = None,
        token_type_ids: tf.Tensor | None = None, position_ids: tf.Tensor | None = None,
        head_mask: tf.Tensor | None = None, inputs_embeds: tf.Tensor | None = None,
        output_attentions: bool | None = None, output_hidden_states: bool | None = None,
        return_dict: bool | None = None, labels: tf.Tensor | None = None, training: bool | None = False,
    ) -> TFMultipleChoiceModelOutput | tuple:  # fmt: skip
        flat = tf_ops.flatten_choice_inputs(
            {
                "input_ids": input_ids,
                "attention_mask": attention_mask,
                "token_type_ids": token_type_ids,
                "position_ids": position_ids,
                "head_mask": head_mask,
                "inputs_embeds": inputs_embeds,
            }
        )  # (B*C, S, ...)
        num_choices = tf.shape(input_ids if input_ids is not None else inputs_embeds)[1]
        outputs = self.albert(
            **flat,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            training=training,
        )
        pooled = tf_ops.sentence_pooled(self.config, self.albert.pooler, outputs, flat["attention_mask"])  # (B*C, H)
        pooled = self.dropout(pooled, training=bool(training))
        logits = tf.reshape(self.classifier(pooled), (-1, num_choices))  # (B, C)
        loss = None if labels is None else tf_ops.cross_entropy(logits, labels)
        output = TFMultipleChoiceModelOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )
        return tf_ops.finish(output, return_dict)
