"""ALBERT in Flax (linen): the base model and its six heads, on the Hugging Face PyTorch checkpoint format.

Read top to bottom: embeddings, attention, layer, group, transformer, base model, heads, then the
user-facing wrappers (``FlaxAlbert*``) with Hugging Face's Flax API (``model(input_ids, ...)``, ``.params``,
``.module``, ``from_pretrained`` / ``save_pretrained``).

Parameter paths equal the PyTorch state_dict names (``albert/encoder/albert_layer_groups/0/albert_layers/0/
attention/query/kernel`` is ``albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight``
transposed), so conversion is the rule in ``albertlite.checkpoints.legacy_flax``.

The shared layer is traced once: the transformer runs ``lax.scan`` over the applied layers
(num_hidden_layers x inner_group_num) and, when there are several groups or inner layers, stacks their
parameters and selects each step's (group, inner layer) by index. A forward pass therefore has the same jaxpr
for 4 and for 24 layers (transformers 4.x unrolled them: its compile time grows with depth).

Axis legend: B batch, C choices, S sequence, E embedding width, H hidden width, N heads, D head width,
F intermediate (FFN) width, V vocabulary, K applied layers, G groups, J inner layers per group.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import os
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from albertlite.checkpoints import legacy_flax
from albertlite.checkpoints.files import MODEL_FILES, staged_directory
from albertlite.checkpoints.hub import HUB_KWARGS
from albertlite.checkpoints.names import LoadReport, check_shapes, match_keys
from albertlite.checkpoints.state_dict import locate_weights, read_weight_files, write_safetensors
from albertlite.config import AlbertConfig
from albertlite.fast import fast_path_enabled
from albertlite.fast.packing_plan import plan_packing
from albertlite.outputs import (
    OUTPUT_CLASSES,
    AlbertForPreTrainingOutput,
    BaseModelOutputWithPooling,
    MaskedLMOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from albertlite.validation import InputSummary, validate_class_labels, validate_inputs

Array = jax.Array
Params = dict[str, Any]


@dataclasses.dataclass
class FlaxAlbertForPreTrainingOutput(AlbertForPreTrainingOutput):
    """Output of ``FlaxAlbertForPreTraining``: loss (when both label kinds are given), MLM and SOP logits."""


def _register_pytrees() -> None:
    # Registered so that jitted functions can return the output dataclasses.
    for cls in (*OUTPUT_CLASSES, FlaxAlbertForPreTrainingOutput):
        names = [f.name for f in dataclasses.fields(cls)]
        with contextlib.suppress(ValueError):  # already registered, e.g. when this module is re-imported
            jax.tree_util.register_dataclass(cls, data_fields=names, meta_fields=[])


_register_pytrees()


def _gelu_fast(x: Array) -> Array:
    return 0.5 * x * (1.0 + jnp.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)))


# Hugging Face's activation names; "gelu" is the exact erf form there, "gelu_new" the tanh approximation.
ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "gelu": partial(jax.nn.gelu, approximate=False),
    "gelu_new": partial(jax.nn.gelu, approximate=True),
    "gelu_pytorch_tanh": partial(jax.nn.gelu, approximate=True),
    "gelu_fast": _gelu_fast,
    "quick_gelu": lambda x: x * jax.nn.sigmoid(1.702 * x),
    "relu": jax.nn.relu,
    "silu": jax.nn.silu,
    "swish": jax.nn.silu,
    "tanh": jnp.tanh,
    "sigmoid": jax.nn.sigmoid,
    "linear": lambda x: x,
}


def _normal(config: AlbertConfig) -> Callable[..., Array]:
    return jax.nn.initializers.normal(stddev=config.initializer_range)


def _dense(features: int, config: AlbertConfig, dtype: Any, **kwargs: Any) -> nn.Dense:
    return nn.Dense(features, dtype=dtype, param_dtype=jnp.float32, kernel_init=_normal(config), **kwargs)


def _layer_norm(config: AlbertConfig, dtype: Any, **kwargs: Any) -> nn.LayerNorm:
    return nn.LayerNorm(epsilon=config.layer_norm_eps, dtype=dtype, param_dtype=jnp.float32, **kwargs)


def _classifier_dropout(config: AlbertConfig) -> float:
    return float(config.classifier_dropout_prob or 0.0)


def _token_classifier_dropout(config: AlbertConfig) -> float:
    # As PyTorch: only the token classifier falls back to hidden_dropout_prob when classifier_dropout_prob is None.
    rate = config.classifier_dropout_prob
    return float(config.hidden_dropout_prob if rate is None else rate)


# ----------------------------------------------------------------------------------------------- embeddings
class FlaxAlbertEmbeddings(nn.Module):
    """Word + token type (+ absolute position) embeddings, LayerNorm and dropout, width E."""

    config: AlbertConfig
    dtype: Any = jnp.float32

    def setup(self) -> None:
        config = self.config
        pad = config.pad_token_id

        def word_init(key: Array, shape: tuple[int, ...], dtype: Any = jnp.float32) -> Array:
            table = _normal(config)(key, shape, dtype)
            return table if pad is None else table.at[pad].set(0.0)  # as PyTorch's padding_idx

        embed = partial(nn.Embed, features=config.embedding_size, dtype=self.dtype, param_dtype=jnp.float32)
        self.word_embeddings = embed(config.vocab_size, embedding_init=word_init)
        self.position_embeddings = embed(config.max_position_embeddings, embedding_init=_normal(config))
        self.token_type_embeddings = embed(config.type_vocab_size, embedding_init=_normal(config))
        self.LayerNorm = _layer_norm(config, self.dtype)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def __call__(self, input_ids: Array, token_type_ids: Array, position_ids: Array, deterministic: bool) -> Array:
        words = self.word_embeddings(input_ids)  # (B, S, E)
        pad = self.config.pad_token_id
        if pad is not None:
            # PyTorch's Embedding(padding_idx=pad) never updates the padding row; neither do we.
            words = jnp.where((input_ids == pad)[..., None], jax.lax.stop_gradient(words), words)
        embeddings = words + self.token_type_embeddings(token_type_ids)
        absolute = self.config.position_embedding_type == "absolute"
        if absolute or self.is_initializing():
            # Relative configs keep (and save) the absolute table, unused, as transformers 4.x does.
            positions = self.position_embeddings(position_ids)
            if absolute:
                embeddings = embeddings + positions
        return self.dropout(self.LayerNorm(embeddings), deterministic=deterministic)


# ----------------------------------------------------------------------------------------------- attention
class FlaxAlbertAttention(nn.Module):
    """Self-attention with output projection, residual and LayerNorm (PyTorch ``AlbertAttention``)."""

    config: AlbertConfig
    dtype: Any = jnp.float32

    def setup(self) -> None:
        config = self.config
        hidden = config.hidden_size
        self.query = _dense(hidden, config, self.dtype)
        self.key = _dense(hidden, config, self.dtype)
        self.value = _dense(hidden, config, self.dtype)
        self.dense = _dense(hidden, config, self.dtype)
        self.LayerNorm = _layer_norm(config, self.dtype)
        if config.position_embedding_type != "absolute":
            self.distance_embedding = nn.Embed(
                2 * config.max_position_embeddings - 1,
                config.head_dim,
                dtype=self.dtype,
                param_dtype=jnp.float32,
                embedding_init=_normal(config),
            )
        self.attention_dropout = nn.Dropout(config.attention_probs_dropout_prob)
        self.output_dropout = nn.Dropout(config.hidden_dropout_prob)

    def __call__(
        self, hidden_states: Array, mask_bias: Array, head_mask: Array | None, deterministic: bool
    ) -> tuple[Array, Array]:
        config = self.config
        batch, seq_len, _ = hidden_states.shape
        heads_shape = (batch, seq_len, config.num_attention_heads, config.head_dim)
        query = self.query(hidden_states).reshape(heads_shape)  # (B, S, N, D)
        key = self.key(hidden_states).reshape(heads_shape)
        value = self.value(hidden_states).reshape(heads_shape)

        # Scores and softmax in float32 whatever the computation dtype: bf16 softmax loses too much.
        scores = jnp.einsum("bqnd,bknd->bnqk", query, key) / math.sqrt(config.head_dim)  # (B, N, S, S)
        scores = scores.astype(jnp.float32) + mask_bias
        if config.position_embedding_type != "absolute":
            scores = scores + self._relative_scores(query, key, seq_len)
        probs = jax.nn.softmax(scores, axis=-1)
        probs = self.attention_dropout(probs, deterministic=deterministic)
        if head_mask is not None:
            probs = probs * head_mask[None, :, None, None]  # after dropout, as transformers 4.x
        context = jnp.einsum("bnqk,bknd->bqnd", probs.astype(self.dtype), value)  # (B, S, N, D)
        projected = self.dense(context.reshape(batch, seq_len, config.hidden_size))
        projected = self.output_dropout(projected, deterministic=deterministic)
        return self.LayerNorm(hidden_states + projected), probs

    def _relative_scores(self, query: Array, key: Array, seq_len: int) -> Array:
        # transformers 4.x: added after the 1/sqrt(d) scaling and the mask, and not scaled themselves.
        positions = jnp.arange(seq_len)
        distance = positions[:, None] - positions[None, :] + self.config.max_position_embeddings - 1
        table = self.distance_embedding(distance)  # (S, S, D)
        scores = jnp.einsum("bqnd,qkd->bnqk", query, table)
        if self.config.position_embedding_type == "relative_key_query":
            scores = scores + jnp.einsum("bknd,qkd->bnqk", key, table)
        return scores.astype(jnp.float32)


# ----------------------------------------------------------------------------------------------- layer
class FlaxAlbertLayer(nn.Module):
    """One transformer layer: attention, then FFN with dropout, residual and LayerNorm."""

    config: AlbertConfig
    dtype: Any = jnp.float32

    def setup(self) -> None:
        config = self.config
        self.attention = FlaxAlbertAttention(config, self.dtype)
        self.ffn = _dense(config.intermediate_size, config, self.dtype)
        self.ffn_output = _dense(config.hidden_size, config, self.dtype)
        self.full_layer_layer_norm = _layer_norm(config, self.dtype)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def __call__(
        self, hidden_states: Array, mask_bias: Array, head_mask: Array | None, deterministic: bool
    ) -> tuple[Array, Array]:
        attention_output, probs = self.attention(hidden_states, mask_bias, head_mask, deterministic)
        ffn_output = self.ffn_output(ACTIVATIONS[self.config.hidden_act](self.ffn(attention_output)))
        # The original (and transformers' TF/Flax) drop out the FFN output; transformers' PyTorch omits it.
        ffn_output = self.dropout(ffn_output, deterministic=deterministic)
        return self.full_layer_layer_norm(ffn_output + attention_output), probs


# ----------------------------------------------------------------------------------------------- group
class FlaxAlbertLayerList(nn.Module):
    """The inner layers of one group, named "0".."J-1" (PyTorch ``albert_layers`` ModuleList)."""

    config: AlbertConfig
    dtype: Any = jnp.float32

    def setup(self) -> None:
        self.layers = [
            FlaxAlbertLayer(self.config, self.dtype, name=str(i)) for i in range(self.config.inner_group_num)
        ]

    def __call__(self, hidden_states: Array, mask_bias: Array) -> None:
        # Only used at initialisation to create every layer's parameters; the transformer's scan runs them.
        for layer in self.layers:
            layer(hidden_states, mask_bias, None, True)


class FlaxAlbertLayerGroup(nn.Module):
    """One parameter group (PyTorch ``AlbertLayerGroup``)."""

    config: AlbertConfig
    dtype: Any = jnp.float32

    def setup(self) -> None:
        self.albert_layers = FlaxAlbertLayerList(self.config, self.dtype)

    def __call__(self, hidden_states: Array, mask_bias: Array) -> None:
        self.albert_layers(hidden_states, mask_bias)


class FlaxAlbertLayerGroups(nn.Module):
    """The parameter groups, named "0".."G-1" (PyTorch ``albert_layer_groups`` ModuleList)."""

    config: AlbertConfig
    dtype: Any = jnp.float32

    def setup(self) -> None:
        self.groups = [
            FlaxAlbertLayerGroup(self.config, self.dtype, name=str(g)) for g in range(self.config.num_hidden_groups)
        ]

    def __call__(self, hidden_states: Array, mask_bias: Array) -> None:
        for group in self.groups:
            group(hidden_states, mask_bias)


# ----------------------------------------------------------------------------------------------- transformer
def layer_schedule(config: AlbertConfig) -> tuple[np.ndarray, np.ndarray]:
    """(group, inner layer) of each applied layer k, in execution order: the weight-sharing plan."""
    groups = [config.group_of_layer(j) for j in range(config.num_hidden_layers) for _ in range(config.inner_group_num)]
    inner = [i for _ in range(config.num_hidden_layers) for i in range(config.inner_group_num)]
    return np.asarray(groups, np.int32), np.asarray(inner, np.int32)


class FlaxAlbertTransformer(nn.Module):
    """Projection E -> H, then the applied layers as one ``lax.scan`` over the shared parameters."""

    config: AlbertConfig
    dtype: Any = jnp.float32

    def setup(self) -> None:
        self.embedding_hidden_mapping_in = _dense(self.config.hidden_size, self.config, self.dtype)
        self.albert_layer_groups = FlaxAlbertLayerGroups(self.config, self.dtype)

    def __call__(
        self,
        embeddings: Array,
        mask_bias: Array,
        head_mask: Array | None,
        deterministic: bool,
        output_attentions: bool,
        output_hidden_states: bool,
    ) -> tuple[Array, tuple[Array, ...] | None, tuple[Array, ...] | None]:
        hidden_states = self.embedding_hidden_mapping_in(embeddings)  # (B, S, H)
        if self.is_initializing():
            self.albert_layer_groups(hidden_states, mask_bias)
        groups, inner = layer_schedule(self.config)
        num_applied = len(groups)
        keys = None
        if not deterministic and self._uses_dropout():
            keys = jax.random.split(self.make_rng("dropout"), num_applied)
        layer = FlaxAlbertLayer(self.config, self.dtype, parent=None)  # applied functionally inside the scan
        select = self._layer_selector()

        def step(hidden: Array, xs: tuple) -> tuple[Array, tuple]:
            group, index, head_row, key = xs
            params = select(group, index)
            rngs = {} if key is None else {"dropout": key}
            hidden, probs = layer.apply({"params": params}, hidden, mask_bias, head_row, deterministic, rngs=rngs)
            return hidden, (hidden if output_hidden_states else None, probs if output_attentions else None)

        xs = (jnp.asarray(groups), jnp.asarray(inner), head_mask, keys)
        last, (all_hidden, all_attentions) = jax.lax.scan(step, hidden_states, xs)
        hidden_tuple = None
        if output_hidden_states:  # the projected embedding, then one entry per applied layer
            hidden_tuple = (hidden_states, *(all_hidden[k] for k in range(num_applied)))
        attention_tuple = tuple(all_attentions[k] for k in range(num_applied)) if output_attentions else None
        return last, hidden_tuple, attention_tuple

    def _layer_selector(self) -> Callable[[Array, Array], Params]:
        """A function (group, inner index) -> that layer's parameters, usable inside the scan."""
        tree = self.albert_layer_groups.variables["params"]
        config = self.config
        if config.num_hidden_groups == 1 and config.inner_group_num == 1:
            shared = tree["0"]["albert_layers"]["0"]  # the released models: one layer, nothing to select
            return lambda group, index: shared
        rows = [
            [tree[str(g)]["albert_layers"][str(i)] for i in range(config.inner_group_num)]
            for g in range(config.num_hidden_groups)
        ]
        stacked = jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *[self._stack(row) for row in rows])
        return lambda group, index: jax.tree_util.tree_map(lambda leaf: leaf[group, index], stacked)  # (G, J, ...)

    @staticmethod
    def _stack(layers: list[Params]) -> Params:
        return jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *layers)

    def _uses_dropout(self) -> bool:
        return self.config.hidden_dropout_prob > 0 or self.config.attention_probs_dropout_prob > 0


# ----------------------------------------------------------------------------------------------- base model
class FlaxAlbertModule(nn.Module):
    """The base model: embeddings, transformer and (optionally) the tanh pooler on the first token."""

    config: AlbertConfig
    dtype: Any = jnp.float32
    add_pooling_layer: bool = True

    def setup(self) -> None:
        self.embeddings = FlaxAlbertEmbeddings(self.config, self.dtype)
        self.encoder = FlaxAlbertTransformer(self.config, self.dtype)
        if self.add_pooling_layer:
            self.pooler = _dense(self.config.hidden_size, self.config, self.dtype)

    def __call__(
        self,
        input_ids: Array,
        attention_mask: Array,
        token_type_ids: Array,
        position_ids: Array,
        head_mask: Array | None = None,
        deterministic: bool = True,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        packing: dict[str, Array] | None = None,
    ) -> BaseModelOutputWithPooling:
        if packing is not None:
            return self._packed(packing, input_ids.shape, output_hidden_states)
        embeddings = self.embeddings(input_ids, token_type_ids, position_ids, deterministic)  # (B, S, E)
        # Additive mask with float32's minimum, as transformers' PyTorch model.
        mask_bias = (1.0 - attention_mask.astype(jnp.float32))[:, None, None, :] * jnp.finfo(jnp.float32).min
        last, hidden_states, attentions = self.encoder(
            embeddings, mask_bias, head_mask, deterministic, output_attentions, output_hidden_states
        )
        pooled = jnp.tanh(self.pooler(last[:, 0])) if self.add_pooling_layer else None
        return BaseModelOutputWithPooling(
            last_hidden_state=last, pooler_output=pooled, hidden_states=hidden_states, attentions=attentions
        )

    def _packed(
        self, packing: dict[str, Array], shape: tuple[int, int], output_hidden_states: bool
    ) -> BaseModelOutputWithPooling:
        """Inference on packed (R, P) rows (albertlite.fast.packing_plan), unpacked to (B, S, H), zeros at padding."""
        embeddings = self.embeddings(
            packing["input_ids"], packing["token_type_ids"], packing["position_ids"], True
        )  # (R, P, E)
        segments = packing["segments"]
        same = segments[:, None, :, None] == segments[:, None, None, :]  # (R, 1, P, P): within each sequence
        mask_bias = jnp.where(same, 0.0, jnp.finfo(jnp.float32).min)
        last, hidden_states, _ = self.encoder(embeddings, mask_bias, None, True, False, output_hidden_states)
        width = self.config.hidden_size

        def flat(states: Array) -> Array:
            return states.reshape(-1, width)  # (R * P, H)

        def unpack(states: Array) -> Array:
            padded = jnp.concatenate([flat(states), jnp.zeros((1, width), states.dtype)])  # slot R * P is zero
            return padded[packing["index"]].reshape(*shape, width)

        pooled = jnp.tanh(self.pooler(flat(last)[packing["first"]])) if self.add_pooling_layer else None
        return BaseModelOutputWithPooling(
            last_hidden_state=unpack(last),
            pooler_output=pooled,
            hidden_states=None if hidden_states is None else tuple(unpack(h) for h in hidden_states),
            attentions=None,
        )

    def word_embedding_table(self) -> Array:
        return self.embeddings.word_embeddings.embedding  # (V, E)


# ----------------------------------------------------------------------------------------------- losses
def cross_entropy(logits: Array, labels: Array, ignore_index: int = -100) -> Array:
    """Mean cross-entropy over labels != ignore_index (NaN when none is left, as PyTorch)."""
    logits = logits.astype(jnp.float32)
    labels = labels.astype(jnp.int32)
    valid = labels != ignore_index
    log_probs = jax.nn.log_softmax(logits, axis=-1)
    picked = jnp.take_along_axis(log_probs, jnp.where(valid, labels, 0)[..., None], axis=-1)[..., 0]
    return -jnp.sum(jnp.where(valid, picked, 0.0)) / jnp.sum(valid)


def problem_type_for(config: AlbertConfig, labels: Array) -> str:
    """PyTorch's rule when problem_type is unset, decided on the labels' dtype (static under jit)."""
    if config.problem_type is not None:
        return config.problem_type
    if config.num_labels == 1:
        return "regression"
    if jnp.issubdtype(labels.dtype, jnp.integer):
        return "single_label_classification"
    return "multi_label_classification"


def _sequence_classification_loss(logits: Array, labels: Array, config: AlbertConfig) -> Array:
    problem_type = problem_type_for(config, labels)
    logits = logits.astype(jnp.float32)
    if problem_type == "regression":
        if config.num_labels == 1:
            logits, labels = jnp.squeeze(logits), jnp.squeeze(labels)
        return jnp.mean((logits - labels.astype(jnp.float32)) ** 2)
    if problem_type == "single_label_classification":
        return cross_entropy(logits.reshape(-1, config.num_labels), labels.reshape(-1))
    targets = labels.astype(jnp.float32)
    return jnp.mean(jax.nn.softplus(logits) - logits * targets)  # BCEWithLogits, numerically stable


def _question_answering_loss(start_logits: Array, end_logits: Array, start: Array, end: Array) -> Array:
    ignored = start_logits.shape[1]  # positions outside the input are clamped to S and ignored, as PyTorch
    start = jnp.clip(start.reshape(-1), 0, ignored)
    end = jnp.clip(end.reshape(-1), 0, ignored)
    return (cross_entropy(start_logits, start, ignored) + cross_entropy(end_logits, end, ignored)) / 2


# ----------------------------------------------------------------------------------------------- heads
class FlaxAlbertMLMHead(nn.Module):
    """Dense H -> E, activation, LayerNorm, decoder E -> V (tied to the word embeddings) plus ``bias``."""

    config: AlbertConfig
    dtype: Any = jnp.float32

    def setup(self) -> None:
        config = self.config
        self.dense = _dense(config.embedding_size, config, self.dtype)
        self.LayerNorm = _layer_norm(config, self.dtype)
        self.bias = self.param("bias", jax.nn.initializers.zeros, (config.vocab_size,), jnp.float32)

    def __call__(self, hidden_states: Array, word_embeddings: Array) -> Array:
        hidden_states = self.LayerNorm(ACTIVATIONS[self.config.hidden_act](self.dense(hidden_states)))  # (B, S, E)
        logits = hidden_states @ word_embeddings.astype(self.dtype).T  # the decoder is always tied, as in PyTorch
        return logits + self.bias.astype(self.dtype)  # (B, S, V)


class FlaxAlbertSOPHead(nn.Module):
    """Sentence-order classifier on the pooled output."""

    config: AlbertConfig
    dtype: Any = jnp.float32

    def setup(self) -> None:
        self.dropout = nn.Dropout(_classifier_dropout(self.config))
        self.classifier = _dense(self.config.num_labels, self.config, self.dtype)

    def __call__(self, pooled_output: Array, deterministic: bool) -> Array:
        return self.classifier(self.dropout(pooled_output, deterministic=deterministic))


def masked_mean(hidden_states: Array, attention_mask: Array) -> Array:
    """Mean of (B, S, H) states over the real tokens (attention_mask 1) -> (B, H).

    Summed in float32 and returned in the states' dtype; a row with no real token gives zeros. Padded positions are
    excluded by selection, so the plain path's values there and the fast path's zeros give the same mean.
    """
    keep = attention_mask.astype(bool)[..., None]  # (B, S, 1)
    total = jnp.where(keep, hidden_states.astype(jnp.float32), 0.0).sum(axis=1)  # (B, H)
    count = jnp.maximum(keep.sum(axis=1), 1).astype(jnp.float32)  # (B, 1)
    return (total / count).astype(hidden_states.dtype)


class _HeadModule(nn.Module):
    """Shared plumbing of the head modules: the base model under the name ``albert``."""

    config: AlbertConfig
    dtype: Any = jnp.float32
    pooling: ClassVar[bool] = True

    def _albert(self) -> FlaxAlbertModule:
        return FlaxAlbertModule(self.config, self.dtype, add_pooling_layer=self.pooling)

    def _sentence_pooled(self, outputs: BaseModelOutputWithPooling, attention_mask: Array) -> Array:
        """The classification heads' sentence vector: the CLS pooler output or, with classifier_pooling="mean", the
        same pooler (dense + tanh) on the masked mean of the last hidden states."""
        if self.config.classifier_pooling == "cls":
            return outputs.pooler_output
        return jnp.tanh(self.albert.pooler(masked_mean(outputs.last_hidden_state, attention_mask)))


class FlaxAlbertForPreTrainingModule(_HeadModule):
    def setup(self) -> None:
        self.albert = self._albert()
        self.predictions = FlaxAlbertMLMHead(self.config, self.dtype)
        self.sop_classifier = FlaxAlbertSOPHead(self.config, self.dtype)

    def __call__(
        self,
        input_ids,
        attention_mask,
        token_type_ids,
        position_ids,
        head_mask=None,
        deterministic=True,
        output_attentions=False,
        output_hidden_states=False,
        packing=None,
        labels=None,
        sentence_order_label=None,
    ) -> FlaxAlbertForPreTrainingOutput:
        outputs = self.albert(
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            head_mask,
            deterministic,
            output_attentions,
            output_hidden_states,
            packing=packing,
        )
        logits = self.predictions(outputs.last_hidden_state, self.albert.word_embedding_table())
        sop_logits = self.sop_classifier(outputs.pooler_output, deterministic)
        loss = None
        if labels is not None and sentence_order_label is not None:
            loss = cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1)) + cross_entropy(
                sop_logits.reshape(-1, sop_logits.shape[-1]), sentence_order_label.reshape(-1)
            )
        return FlaxAlbertForPreTrainingOutput(
            loss=loss,
            prediction_logits=logits,
            sop_logits=sop_logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )


class FlaxAlbertForMaskedLMModule(_HeadModule):
    pooling: ClassVar[bool] = False

    def setup(self) -> None:
        self.albert = self._albert()
        self.predictions = FlaxAlbertMLMHead(self.config, self.dtype)

    def __call__(
        self,
        input_ids,
        attention_mask,
        token_type_ids,
        position_ids,
        head_mask=None,
        deterministic=True,
        output_attentions=False,
        output_hidden_states=False,
        packing=None,
        labels=None,
    ) -> MaskedLMOutput:
        outputs = self.albert(
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            head_mask,
            deterministic,
            output_attentions,
            output_hidden_states,
            packing=packing,
        )
        logits = self.predictions(outputs.last_hidden_state, self.albert.word_embedding_table())
        loss = None if labels is None else cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        return MaskedLMOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class FlaxAlbertForSequenceClassificationModule(_HeadModule):
    def setup(self) -> None:
        self.albert = self._albert()
        self.dropout = nn.Dropout(_classifier_dropout(self.config))
        self.classifier = _dense(self.config.num_labels, self.config, self.dtype)

    def __call__(
        self,
        input_ids,
        attention_mask,
        token_type_ids,
        position_ids,
        head_mask=None,
        deterministic=True,
        output_attentions=False,
        output_hidden_states=False,
        packing=None,
        labels=None,
    ) -> SequenceClassifierOutput:
        outputs = self.albert(
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            head_mask,
            deterministic,
            output_attentions,
            output_hidden_states,
            packing=packing,
        )
        pooled = self._sentence_pooled(outputs, attention_mask)
        logits = self.classifier(self.dropout(pooled, deterministic=deterministic))
        loss = None if labels is None else _sequence_classification_loss(logits, labels, self.config)
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class FlaxAlbertForMultipleChoiceModule(_HeadModule):
    def setup(self) -> None:
        self.albert = self._albert()
        self.dropout = nn.Dropout(_classifier_dropout(self.config))
        self.classifier = _dense(1, self.config, self.dtype)

    def __call__(
        self,
        input_ids,
        attention_mask,
        token_type_ids,
        position_ids,
        head_mask=None,
        deterministic=True,
        output_attentions=False,
        output_hidden_states=False,
        packing=None,
        labels=None,
    ) -> MultipleChoiceModelOutput:
        num_choices = input_ids.shape[1]
        flat = [x.reshape(-1, x.shape[-1]) for x in (input_ids, attention_mask, token_type_ids, position_ids)]
        outputs = self.albert(
            *flat, head_mask, deterministic, output_attentions, output_hidden_states, packing=packing
        )  # (B*C, ...)
        pooled = self._sentence_pooled(outputs, flat[1])  # (B*C, H)
        logits = self.classifier(self.dropout(pooled, deterministic=deterministic))
        logits = logits.reshape(-1, num_choices)  # (B, C)
        loss = None if labels is None else cross_entropy(logits, labels.reshape(-1))
        return MultipleChoiceModelOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class FlaxAlbertForTokenClassificationModule(_HeadModule):
    pooling: ClassVar[bool] = False

    def setup(self) -> None:
        self.albert = self._albert()
        self.dropout = nn.Dropout(_token_classifier_dropout(self.config))
        self.classifier = _dense(self.config.num_labels, self.config, self.dtype)

    def __call__(
        self,
        input_ids,
        attention_mask,
        token_type_ids,
        position_ids,
        head_mask=None,
        deterministic=True,
        output_attentions=False,
        output_hidden_states=False,
        packing=None,
        labels=None,
    ) -> TokenClassifierOutput:
        outputs = self.albert(
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            head_mask,
            deterministic,
            output_attentions,
            output_hidden_states,
            packing=packing,
        )
        logits = self.classifier(self.dropout(outputs.last_hidden_state, deterministic=deterministic))
        loss = None
        if labels is not None:
            loss = cross_entropy(logits.reshape(-1, self.config.num_labels), labels.reshape(-1))
        return TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class FlaxAlbertForQuestionAnsweringModule(_HeadModule):
    pooling: ClassVar[bool] = False

    def setup(self) -> None:
        self.albert = self._albert()
        self.qa_outputs = _dense(self.config.num_labels, self.config, self.dtype)

    def __call__(
        self,
        input_ids,
        attention_mask,
        token_type_ids,
        position_ids,
        head_mask=None,
        deterministic=True,
        output_attentions=False,
        output_hidden_states=False,
        packing=None,
        start_positions=None,
        end_positions=None,
    ) -> QuestionAnsweringModelOutput:
        outputs = self.albert(
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            head_mask,
            deterministic,
            output_attentions,
            output_hidden_states,
            packing=packing,
        )
        logits = self.qa_outputs(outputs.last_hidden_state)  # (B, S, 2)
        start_logits, end_logits = logits[..., 0], logits[..., 1]
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = _question_answering_loss(start_logits, end_logits, start_positions, end_positions)
        return QuestionAnsweringModelOutput(
            loss=loss,
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )


# ----------------------------------------------------------------------------------------------- wrappers
def _as_array(value: Any) -> Array:
    return value if isinstance(value, jax.Array) else jnp.asarray(np.asarray(value))


def _is_traced(value: Array) -> bool:
    return isinstance(value, jax.core.Tracer)


def _value_range(value: Array | None) -> tuple[int, int] | None:
    # Only concrete inputs can be range-checked; under jit the shapes are still validated.
    if value is None or _is_traced(value) or value.size == 0:
        return None
    if not jnp.issubdtype(value.dtype, jnp.integer):
        raise ValueError(f"Expected an integer tensor of ids, got dtype {value.dtype}.")
    host = np.asarray(value)
    return int(host.min()), int(host.max())


def _check_class_labels(labels: Array | None, num_classes: int, name: str = "labels") -> None:
    """The PyTorch heads' check: class ids in [0, num_classes) or -100 (concrete labels only)."""
    if labels is None or _is_traced(labels):
        return
    validate_class_labels(np.asarray(labels), num_classes, name)


def _flat_shape(value: Array | None, rank: int) -> tuple[int, ...] | None:
    if value is None:
        return None
    return tuple(value.shape) if rank == 2 or value.ndim < 2 else (math.prod(value.shape[:-1]), value.shape[-1])


def _has_pooler(module: nn.Module) -> bool:
    """Whether the base model inside ``module`` has a pooler (it reads position 0 of every row)."""
    return module.add_pooling_layer if isinstance(module, FlaxAlbertModule) else type(module).pooling


@functools.lru_cache(maxsize=32)
def _jitted_apply(module_class: type[nn.Module], config_json: str, dtype_name: str) -> Callable[..., Any]:
    """One jitted ``module.apply`` per (head, config, dtype), shared by every wrapper built with them.

    Keyed on the config's JSON, so a model re-created with the same config (or its config edited in place)
    compiles again only when the computation really differs.
    """
    config = AlbertConfig.from_dict(json.loads(config_json))
    module = module_class(config=config, dtype=jnp.dtype(dtype_name))

    def apply(
        params: Params,
        inputs: tuple[Array, Array, Array, Array],
        head_mask: Array | None,
        rngs: dict[str, Array],
        labels: dict[str, Array],
        packing: dict[str, Array] | None,
        *,
        deterministic: bool,
        output_attentions: bool,
        output_hidden_states: bool,
    ) -> Any:
        flags = (deterministic, output_attentions, output_hidden_states)
        return module.apply({"params": params}, *inputs, head_mask, *flags, rngs=rngs, packing=packing, **labels)

    return jax.jit(apply, static_argnames=("deterministic", "output_attentions", "output_hidden_states"))


@functools.lru_cache(maxsize=32)
def _param_shapes(
    module_class: type[nn.Module], config_json: str, dtype_name: str, input_shape: tuple[int, ...]
) -> Params:
    module = module_class(config=AlbertConfig.from_dict(json.loads(config_json)), dtype=jnp.dtype(dtype_name))
    ids = jax.ShapeDtypeStruct(input_shape, jnp.int32)
    return dict(jax.eval_shape(partial(module.init, jax.random.PRNGKey(0)), ids, ids, ids, ids)["params"])


class FlaxAlbertPreTrainedModel:
    """Base of the Flax wrappers: holds ``config``, ``module`` (a linen module) and ``params`` (a pytree).

    Args:
        config: the model's hyper-parameters.
        input_shape: shape of the dummy input used to initialise the parameters.
        seed: seed of the random initialisation.
        dtype: computation dtype (e.g. ``jnp.bfloat16``); parameters stay float32.
        _do_init: False leaves ``params`` unset (``from_pretrained`` fills them from a checkpoint).

    Example:
        >>> model = FlaxAlbertForMaskedLM.from_pretrained("albert-base-v2", dtype=jnp.bfloat16)
        >>> logits = model(input_ids, attention_mask=mask).logits
    """

    module_class: ClassVar[type[nn.Module]] = FlaxAlbertModule
    label_names: ClassVar[tuple[str, ...]] = ()
    input_rank: ClassVar[int] = 2  # (B, S); multiple choice takes (B, C, S)
    base_model_prefix: ClassVar[str] = "albert"

    def __init__(
        self,
        config: AlbertConfig,
        input_shape: tuple[int, ...] | None = None,
        seed: int = 0,
        dtype: Any = jnp.float32,
        _do_init: bool = True,
    ) -> None:
        self.config = config
        self.dtype = jnp.dtype(dtype)
        self.module = self.module_class(config=config, dtype=self.dtype)
        self.input_shape = tuple(input_shape) if input_shape is not None else (1,) * self.input_rank
        self.key = jax.random.PRNGKey(seed)
        self._params: Params | None = self.init_weights(self.key, self.input_shape) if _do_init else None

    # ------------------------------------------------------------------------------- parameters
    @property
    def params(self) -> Params:
        if self._params is None:
            raise ValueError(f"{type(self).__name__} was built with _do_init=False and has no parameters yet.")
        return self._params

    @params.setter
    def params(self, params: Params) -> None:
        self._params = params

    def init_weights(self, rng: Array, input_shape: tuple[int, ...]) -> Params:
        """Randomly initialised parameters with Hugging Face's scheme.

        Kernels and embeddings normal(0, initializer_range) with a zero padding row, biases 0, LayerNorm scales 1:
        the scheme of the modules' own initialisers, drawn on the host from a generator seeded by ``rng``. Running
        ``module.init`` under jit would instead compile one random-number kernel per parameter, which dominates
        start-up on CPU (seconds even for a tiny model).
        """
        generator = np.random.default_rng(np.asarray(jax.random.key_data(rng)).ravel().tolist())
        std, pad = self.config.initializer_range, self.config.pad_token_id
        params = {}
        for path, spec in legacy_flax.flatten(self.param_shapes(input_shape)).items():
            if path[-1] == "bias":
                value = np.zeros(spec.shape, np.float32)
            elif path[-1] == "scale":
                value = np.ones(spec.shape, np.float32)
            else:
                value = generator.normal(0.0, std, spec.shape).astype(np.float32)
                if path[-2:] == ("word_embeddings", "embedding") and pad is not None:
                    value[pad] = 0.0
            params[path] = jnp.asarray(value)
        return legacy_flax.unflatten(params)

    def param_shapes(self, input_shape: tuple[int, ...] | None = None) -> Params:
        """The parameter tree as ``jax.ShapeDtypeStruct`` leaves (traced, not computed)."""
        shape = tuple(input_shape or self.input_shape)
        return _param_shapes(type(self.module), self.config.to_json_string(), self.dtype.name, shape)

    def _uses_dropout(self) -> bool:
        config = self.config
        rates = (
            config.hidden_dropout_prob,
            config.attention_probs_dropout_prob,
            _classifier_dropout(config),
            _token_classifier_dropout(config),
        )
        return any(rate > 0 for rate in rates)

    # ------------------------------------------------------------------------------- call
    def __call__(
        self,
        input_ids: Any,
        attention_mask: Any = None,
        token_type_ids: Any = None,
        position_ids: Any = None,
        head_mask: Any = None,
        params: Params | None = None,
        dropout_rng: Array | None = None,
        train: bool = False,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        return_dict: bool = True,
        **labels: Any,
    ) -> Any:
        """Run the model; label keyword arguments (``label_names``) add the loss, as the PyTorch heads.

        Args:
            input_ids: token ids (B, S) ((B, C, S) for multiple choice).
            attention_mask / token_type_ids / position_ids: as input_ids; defaults all ones / zeros / 0..S-1.
            head_mask: (N,) or (num_hidden_layers * inner_group_num, N); row k scales the k-th applied layer's heads.
            params: parameters to use instead of ``self.params`` (e.g. inside a jitted train step).
            dropout_rng: key for dropout; needed with ``train=True`` when the config has dropout.
            train: apply dropout.
            output_attentions / output_hidden_states: also return them (one per applied layer; hidden
                states start with the projected embedding).
            return_dict: False returns ``outputs.to_tuple()``.

        Returns:
            The head's output dataclass (a registered pytree, so jitted functions may return it).
        """
        unknown = sorted(set(labels) - set(self.label_names))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unexpected keyword arguments {unknown}; "
                f"its label arguments are {list(self.label_names)}."
            )
        inputs = self._prepare_inputs(input_ids, attention_mask, token_type_ids, position_ids, head_mask)
        labels = {name: _as_array(value) for name, value in labels.items() if value is not None}
        self._check_labels(labels, inputs[0].shape)
        if train and dropout_rng is None and self._uses_dropout():
            raise ValueError("train=True applies dropout and needs dropout_rng (a jax.random key).")
        rngs = {} if dropout_rng is None else {"dropout": dropout_rng}
        outputs = _jitted_apply(type(self.module), self.config.to_json_string(), self.dtype.name)(
            self.params if params is None else params,
            inputs,
            None if head_mask is None else self._expand_head_mask(_as_array(head_mask)),
            rngs,
            labels,
            None if train or output_attentions or head_mask is not None or labels else self._packing(inputs),
            deterministic=not train,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
        )
        return outputs if return_dict else outputs.to_tuple()

    def _packing(self, inputs: tuple[Array, Array, Array, Array]) -> dict[str, Array] | None:
        """The fast path's packed inputs for an inference call, or None when the plain path must run.

        Packing needs the attention mask's values: inputs traced by the caller's own ``jax.jit`` run the plain path.
        """
        if not fast_path_enabled() or any(_is_traced(x) for x in inputs):
            return None
        ids, mask, types, positions = (np.asarray(x).reshape(-1, x.shape[-1]) for x in inputs)
        relative = self.config.position_embedding_type != "absolute"
        plan = plan_packing(
            mask,
            ids,
            types,
            positions,
            max_row_len=self.config.max_position_embeddings if relative else max(512, mask.shape[1]),
            first_real=_has_pooler(self.module),
            contiguous=relative,
        )
        return None if plan is None else {name: jnp.asarray(value) for name, value in vars(plan).items()}

    def _check_labels(self, labels: dict[str, Array], input_shape: tuple[int, ...]) -> None:
        """Raise the PyTorch heads' ValueError for out-of-range labels; heads with class labels override it."""

    def _prepare_inputs(
        self, input_ids: Any, attention_mask: Any, token_type_ids: Any, position_ids: Any, head_mask: Any
    ) -> tuple[Array, Array, Array, Array]:
        input_ids = _as_array(input_ids)
        if self.input_rank == 3 and input_ids.ndim != 3:
            raise ValueError(
                f"{type(self).__name__} expects input_ids of shape (batch, num_choices, sequence_length), "
                f"got {tuple(input_ids.shape)}."
            )
        given = [None if x is None else _as_array(x) for x in (attention_mask, token_type_ids, position_ids)]
        attention_mask, token_type_ids, position_ids = given
        rank = self.input_rank
        validate_inputs(
            self.config,
            InputSummary(
                input_ids_shape=_flat_shape(input_ids, rank),
                input_ids_range=_value_range(input_ids),
                attention_mask_shape=_flat_shape(attention_mask, rank),
                token_type_ids_shape=_flat_shape(token_type_ids, rank),
                token_type_ids_range=_value_range(token_type_ids),
                position_ids_shape=_flat_shape(position_ids, rank),
                position_ids_range=_value_range(position_ids),
                head_mask_shape=None if head_mask is None else tuple(np.shape(head_mask)),
            ),
        )
        shape = input_ids.shape
        if attention_mask is None:
            attention_mask = jnp.ones(shape, jnp.int32)
        if token_type_ids is None:
            token_type_ids = jnp.zeros(shape, jnp.int32)
        if position_ids is None:
            position_ids = jnp.arange(shape[-1], dtype=jnp.int32)
        position_ids = jnp.broadcast_to(position_ids, shape)
        return tuple(x.astype(jnp.int32) for x in (input_ids, attention_mask, token_type_ids, position_ids))

    def _expand_head_mask(self, head_mask: Array) -> Array:
        # validate_inputs accepted (N,) or (K, N): one row per applied layer.
        shape = (self.config.num_applied_layers, self.config.num_attention_heads)
        return jnp.broadcast_to(head_mask.astype(jnp.float32), shape)

    # ------------------------------------------------------------------------------- checkpoints
    def state_dict(self, params: Params | None = None) -> dict[str, np.ndarray]:
        """The parameters as numpy arrays under the PyTorch state_dict names (kernels transposed)."""
        return legacy_flax.flax_params_to_state_dict(jax.device_get(self.params if params is None else params))

    def load_state_dict(self, state: Mapping[str, Any]) -> LoadReport:
        """Set ``params`` from a PyTorch-named state dict (numpy arrays); missing weights are initialised."""
        abstract = legacy_flax.flatten(self.param_shapes())
        paths = {legacy_flax.flax_path_to_pt_name(path): path for path in abstract}
        renamed, report = match_keys(dict(state), paths, self.config)
        check_shapes(renamed, {name: legacy_flax.pt_shape(path, abstract[path].shape) for name, path in paths.items()})
        flat: dict[tuple[str, ...], Array] = {}
        if report.missing_keys:
            fresh = legacy_flax.flatten(self.init_weights(self.key, self.input_shape))
            flat.update({paths[name]: fresh[paths[name]] for name in report.missing_keys})
        for name, value in renamed.items():
            path = paths[name]
            flat[path] = jnp.asarray(legacy_flax.from_pt_array(path, value), dtype=jnp.float32)
        self._params = legacy_flax.unflatten(flat)
        return report

    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        *,
        dtype: Any = jnp.float32,
        config: AlbertConfig | None = None,
        seed: int = 0,
        output_loading_info: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Load config.json and weights from a directory or Hub id.

        Reads model.safetensors (PyTorch names, as every framework here writes it), or, when a directory holds
        only those, pytorch_model.bin or transformers' flax_model.msgpack. Hub keyword arguments (cache_dir,
        revision, token, local_files_only, force_download) are passed on; any other keyword overrides a config
        field (e.g. ``num_labels=3``).

        Returns:
            The model, or ``(model, {"missing_keys": [...], "unexpected_keys": [...]})`` with output_loading_info.
        """
        hub_kwargs = {key: kwargs.pop(key) for key in list(kwargs) if key in HUB_KWARGS}
        if config is None:
            config = AlbertConfig.from_pretrained(pretrained_model_name_or_path, **hub_kwargs, **kwargs)
        elif kwargs:
            config = config.copy(**kwargs)
        kind, files = locate_weights(pretrained_model_name_or_path, **hub_kwargs)
        state = read_weight_files(kind, files, framework="np")
        model = cls(config, dtype=dtype, seed=seed, _do_init=False)
        report = model.load_state_dict(state)
        report.log(cls.__name__)
        if output_loading_info:
            return model, {"missing_keys": report.missing_keys, "unexpected_keys": report.unexpected_keys}
        return model

    def save_pretrained(
        self, save_directory: str | os.PathLike, params: Params | None = None, max_shard_bytes: int | None = None
    ) -> None:
        """Write config.json and model.safetensors (PyTorch names) into ``save_directory``.

        The tied MLM decoder is written as transformers writes it: ``predictions.bias`` and no
        ``predictions.decoder.*``. The files load unchanged in the PyTorch and TensorFlow models.
        """
        directory = Path(save_directory)
        if directory.exists() and not directory.is_dir():
            raise ValueError(f"save_pretrained expects a directory, but {directory} is a file.")
        # Like transformers' Flax models, record the PyTorch class name so that AutoModel finds the head.
        config = self.config.copy(architectures=[type(self).__name__.removeprefix("Flax")])
        state = self.state_dict(params)
        with staged_directory(directory, replaces=MODEL_FILES) as staging:  # all or nothing, as in PyTorch
            config.save_pretrained(staging)
            write_safetensors(state, staging, framework="np", max_shard_bytes=max_shard_bytes)


class FlaxAlbertModel(FlaxAlbertPreTrainedModel):
    """The bare ALBERT encoder: ``last_hidden_state`` (B, S, H) and ``pooler_output`` (B, H).

    Example:
        >>> model = FlaxAlbertModel(AlbertConfig.from_preset("albert-base-v2"))
        >>> model(np.array([[2, 10, 3]])).last_hidden_state.shape
        (1, 3, 768)
    """

    module_class = FlaxAlbertModule


class FlaxAlbertForPreTraining(FlaxAlbertPreTrainedModel):
    """MLM and sentence-order heads; ``labels`` (B, S, -100 ignored) with ``sentence_order_label`` (B,) add the loss.

    Example:
        >>> out = model(ids, labels=mlm_labels, sentence_order_label=np.array([0, 1]))
        >>> out.loss, out.prediction_logits.shape, out.sop_logits.shape
    """

    module_class = FlaxAlbertForPreTrainingModule
    label_names = ("labels", "sentence_order_label")

    def _check_labels(self, labels: dict[str, Array], input_shape: tuple[int, ...]) -> None:
        if "labels" in labels and "sentence_order_label" in labels:
            _check_class_labels(labels["labels"], self.config.vocab_size)
            _check_class_labels(labels["sentence_order_label"], self.config.num_labels, "sentence_order_label")


class FlaxAlbertForMaskedLM(FlaxAlbertPreTrainedModel):
    """Masked language modelling; ``labels`` (B, S) with -100 at positions to ignore.

    Example:
        >>> model(ids, labels=mlm_labels).loss
    """

    module_class = FlaxAlbertForMaskedLMModule
    label_names = ("labels",)

    def _check_labels(self, labels: dict[str, Array], input_shape: tuple[int, ...]) -> None:
        _check_class_labels(labels.get("labels"), self.config.vocab_size)


class FlaxAlbertForSequenceClassification(FlaxAlbertPreTrainedModel):
    """Classifier on the pooled output (see ``config.classifier_pooling``); loss by ``config.problem_type`` or,
    unset, as PyTorch infers it.

    ``num_labels == 1``: regression (MSE); integer labels: single-label cross-entropy; float labels (B, num_labels):
    multi-label BCE with logits.

    Example:
        >>> model(ids, labels=np.array([1, 0])).logits.shape
        (2, 2)
    """

    module_class = FlaxAlbertForSequenceClassificationModule
    label_names = ("labels",)

    def _check_labels(self, labels: dict[str, Array], input_shape: tuple[int, ...]) -> None:
        if "labels" not in labels:
            return
        problem_type = problem_type_for(self.config, labels["labels"])
        if problem_type == "single_label_classification":
            _check_class_labels(labels["labels"], self.config.num_labels)
        logits_shape = (input_shape[0], self.config.num_labels)
        if problem_type == "multi_label_classification" and tuple(labels["labels"].shape) != logits_shape:
            raise ValueError(
                f"multi_label_classification expects labels shaped like the logits {logits_shape} "
                f"(one 0/1 column per label), got {tuple(labels['labels'].shape)}."
            )


class FlaxAlbertForMultipleChoice(FlaxAlbertPreTrainedModel):
    """Scores each choice: inputs (B, C, S), ``logits`` (B, C), ``labels`` (B,) the correct choice; each choice is
    pooled as ``config.classifier_pooling`` says.

    Example:
        >>> model(np.ones((2, 4, 16), int), labels=np.array([0, 3])).loss
    """

    module_class = FlaxAlbertForMultipleChoiceModule
    label_names = ("labels",)
    input_rank = 3

    def _check_labels(self, labels: dict[str, Array], input_shape: tuple[int, ...]) -> None:
        _check_class_labels(labels.get("labels"), input_shape[1])


class FlaxAlbertForTokenClassification(FlaxAlbertPreTrainedModel):
    """Per-token classifier; ``labels`` (B, S) with -100 at positions to ignore.

    Example:
        >>> model(ids).logits.shape  # (B, S, num_labels)
    """

    module_class = FlaxAlbertForTokenClassificationModule
    label_names = ("labels",)

    def _check_labels(self, labels: dict[str, Array], input_shape: tuple[int, ...]) -> None:
        _check_class_labels(labels.get("labels"), self.config.num_labels)


class FlaxAlbertForQuestionAnswering(FlaxAlbertPreTrainedModel):
    """Extractive QA: ``start_logits`` / ``end_logits`` (B, S); positions outside the input are ignored.

    Example:
        >>> out = model(ids, start_positions=np.array([3]), end_positions=np.array([5]))
        >>> out.loss, out.start_logits.shape
    """

    module_class = FlaxAlbertForQuestionAnsweringModule
    label_names = ("start_positions", "end_positions")
