"""ALBERT in Flax (linen), read top to bottom: embeddings, attention, layer, group, transformer, base model, heads.

Axis legend used in shape comments (the PyTorch file's letters, plus the Flax-only ones):
    B batch, C choices, S sequence length, E embedding_size, H hidden_size, N heads, D head size (H / N),
    I intermediate_size, V vocab_size, L applied layers (num_hidden_layers x inner_group_num),
    G groups (num_hidden_groups), J inner layers per group (inner_group_num).

Parameter paths equal the PyTorch state_dict names (``albert/encoder/albert_layer_groups/0/albert_layers/0/
attention/query/kernel`` is ``albert.encoder.albert_layer_groups.0.albert_layers.0.attention.query.weight``
transposed), so conversion is the rule in ``albertlite.checkpoints.flax_names``.

Every parameter is created by the module that uses it, at its PyTorch path. The transformer runs each group's
applications as one lifted ``nn.scan`` that broadcasts the group's parameters (no stacked layer axis), so a forward
pass has the same jaxpr for 4 and for 24 layers (transformers 4.x unrolled them: its compile time grows with depth).

Packed batches are model inputs, as in Flax's lm1b example: ``segment_ids`` keeps attention within each sequence
of a row, ``position_ids`` restart per sequence.

Only the linen modules live here. The user-facing classes at the end (``FlaxAlbert*``, Hugging Face's Flax API:
``model(input_ids, ...)``, ``.params``, ``.module``, ``from_pretrained`` / ``save_pretrained``) only name their module
and labels; their machinery is :mod:`albertlite.flax_wrappers` (call, init) and :mod:`albertlite.checkpoints.flax_io`
(loading, saving), losses and activations :mod:`albertlite.flax_ops`, the padding-free path
:mod:`albertlite.fast.packed_flax`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from albertlite.config import AlbertConfig
from albertlite.flax_ops import (
    ACTIVATIONS,
    FlaxAlbertForPreTrainingOutput,
    classifier_dropout,
    cross_entropy,
    masked_mean,
    question_answering_loss,
    sequence_classification_loss,
    token_classifier_dropout,
)
from albertlite.flax_wrappers import FlaxAlbertPreTrainedModel
from albertlite.heads import HEADS
from albertlite.outputs import (
    BaseModelOutputWithPooling,
    MaskedLMOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)

Array = jax.Array


def _normal(config: AlbertConfig) -> Callable[..., Array]:
    return jax.nn.initializers.normal(stddev=config.initializer_range)


def _dense(features: int, config: AlbertConfig, dtype: Any, **kwargs: Any) -> nn.Dense:
    return nn.Dense(features, dtype=dtype, param_dtype=jnp.float32, kernel_init=_normal(config), **kwargs)


def _layer_norm(config: AlbertConfig, dtype: Any, **kwargs: Any) -> nn.LayerNorm:
    return nn.LayerNorm(epsilon=config.layer_norm_eps, dtype=dtype, param_dtype=jnp.float32, **kwargs)


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
        intermediate = ACTIVATIONS[self.config.hidden_act](self.ffn(attention_output))  # (B, S, I)
        ffn_output = self.ffn_output(intermediate)  # (B, S, H)
        # The original (and transformers' TF/Flax) drop out the FFN output; transformers' PyTorch omits it.
        ffn_output = self.dropout(ffn_output, deterministic=deterministic)
        return self.full_layer_layer_norm(ffn_output + attention_output), probs


# ----------------------------------------------------------------------------------------------- group
class FlaxAlbertLayerList(nn.Module):
    """PyTorch's ``albert_layers`` ModuleList: a group's J inner layers named "0".."J-1" (a list attribute of the
    group would name them ``albert_layers_0``...), so that paths are the state_dict's."""

    config: AlbertConfig
    dtype: Any = jnp.float32

    def setup(self) -> None:
        self.layers = [
            FlaxAlbertLayer(self.config, self.dtype, name=str(j)) for j in range(self.config.inner_group_num)
        ]


class FlaxAlbertLayerGroup(nn.Module):
    """One parameter group (PyTorch ``AlbertLayerGroup``): its inner layers applied in order."""

    config: AlbertConfig
    dtype: Any = jnp.float32

    def setup(self) -> None:
        self.albert_layers = FlaxAlbertLayerList(self.config, self.dtype)

    def __call__(
        self, hidden_states: Array, mask_bias: Array, head_mask: Array | None, deterministic: bool
    ) -> tuple[Array, Array, Array]:
        """(B, S, H) and head_mask (J, N) or None -> the last hidden state, every inner layer's (J, B, S, H) and its
        attentions (J, B, N, S, S)."""
        states, attentions = [], []
        for j, layer in enumerate(self.albert_layers.layers):
            rows = None if head_mask is None else head_mask[j]
            hidden_states, probs = layer(hidden_states, mask_bias, rows, deterministic)
            states.append(hidden_states)
            attentions.append(probs)
        return hidden_states, jnp.stack(states), jnp.stack(attentions)


class FlaxAlbertLayerGroups(nn.Module):
    """PyTorch's ``albert_layer_groups`` ModuleList: the G groups, named "0".."G-1"; the transformer runs them."""

    config: AlbertConfig
    dtype: Any = jnp.float32

    def setup(self) -> None:
        self.groups = [
            FlaxAlbertLayerGroup(self.config, self.dtype, name=str(g)) for g in range(self.config.num_hidden_groups)
        ]


# ----------------------------------------------------------------------------------------------- transformer
def group_runs(config: AlbertConfig) -> list[tuple[int, int, int]]:
    """(group, first, end) of each group's applications, in execution order: the original's rule gives every group
    one contiguous run (config.layer_schedule() is the same plan, layer by layer)."""
    groups = [config.group_of_layer(i) for i in range(config.num_hidden_layers)]
    return [(g, groups.index(g), len(groups) - groups[::-1].index(g)) for g in range(config.num_hidden_groups)]


class FlaxAlbertTransformer(nn.Module):
    """Projection E -> H, then each group's run of applications as one lifted ``nn.scan`` over its (shared) layers.

    The scan broadcasts the group's parameters, so they keep their PyTorch paths (no stacked layer axis), and
    traces the group once: the jaxpr holds G x J layers whatever num_hidden_layers (transformers 4.x unrolled them).
    """

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
        """``head_mask``: (L, N), row l for the l-th applied layer, or None."""
        hidden_states = self.embedding_hidden_mapping_in(embeddings)  # (B, S, H)
        inner = self.config.inner_group_num
        head_rows = None if head_mask is None else head_mask.reshape(-1, inner, head_mask.shape[-1])  # (L / J, J, N)

        def apply_group(group: FlaxAlbertLayerGroup, hidden: Array, mask_bias: Array, rows: Array | None) -> tuple:
            hidden, states, attentions = group(hidden, mask_bias, rows, deterministic)
            return hidden, (states if output_hidden_states else None, attentions if output_attentions else None)

        last, outputs = hidden_states, []
        for group, first, end in group_runs(self.config):
            scan = nn.scan(
                apply_group,
                variable_broadcast="params",
                split_rngs={"params": False, "dropout": True},  # one dropout key per application
                in_axes=(nn.broadcast, 0),
                length=end - first,
            )
            rows = None if head_rows is None else head_rows[first:end]
            last, run_outputs = scan(self.albert_layer_groups.groups[group], last, mask_bias, rows)
            outputs.append(run_outputs)  # each (applications, J, ...) or None
        states, attentions = (self._per_layer([run[k] for run in outputs]) for k in (0, 1))
        hidden_tuple = (hidden_states, *states) if output_hidden_states else None  # the projection, then L layers
        return last, hidden_tuple, tuple(attentions) if output_attentions else None

    @staticmethod
    def _per_layer(runs: list[Array | None]) -> list[Array]:
        """The runs' stacked (applications, J, ...) outputs as one entry per applied layer, in execution order."""
        if runs[0] is None:
            return []
        stacked = jnp.concatenate(runs)
        return list(stacked.reshape(-1, *stacked.shape[2:]))  # L x (...)


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
        *,
        deterministic: bool = True,
        output_attentions: bool = False,
        output_hidden_states: bool = False,
        segment_ids: Array | None = None,
    ) -> BaseModelOutputWithPooling:
        """(B, S) inputs -> last_hidden_state (B, S, H) and pooler_output (B, H).

        ``segment_ids`` (B, S) packs several sequences per row, as Flax's lm1b example (``inputs_segmentation``): a
        token attends only to tokens of its own segment (and, as always, not to masked ones); ``position_ids``
        should then restart at each segment (lm1b's ``inputs_positions``). Relative position scores use column
        distances, right within a segment whose tokens are contiguous. The pooler reads each row's first token.
        """
        embeddings = self.embeddings(input_ids, token_type_ids, position_ids, deterministic)  # (B, S, E)
        # Additive mask with float32's minimum, as transformers' PyTorch model.
        mask_bias = (1.0 - attention_mask.astype(jnp.float32))[:, None, None, :] * jnp.finfo(jnp.float32).min
        if segment_ids is not None:
            same = segment_ids[:, None, :, None] == segment_ids[:, None, None, :]  # (B, 1, S, S)
            mask_bias = jnp.where(same, mask_bias, jnp.finfo(jnp.float32).min)
        last, hidden_states, attentions = self.encoder(
            embeddings, mask_bias, head_mask, deterministic, output_attentions, output_hidden_states
        )
        pooled = jnp.tanh(self.pooler(last[:, 0])) if self.add_pooling_layer else None
        return BaseModelOutputWithPooling(
            last_hidden_state=last, pooler_output=pooled, hidden_states=hidden_states, attentions=attentions
        )

    def word_embedding_table(self) -> Array:
        return self.embeddings.word_embeddings.embedding  # (V, E)


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
        self.dropout = nn.Dropout(classifier_dropout(self.config))
        self.classifier = _dense(self.config.num_labels, self.config, self.dtype)

    def __call__(self, pooled_output: Array, deterministic: bool) -> Array:
        return self.classifier(self.dropout(pooled_output, deterministic=deterministic))


class _HeadModule(nn.Module):
    """Shared plumbing of the head modules: the base model under the name ``albert``."""

    config: AlbertConfig
    dtype: Any = jnp.float32
    add_pooling_layer: ClassVar[bool] = True  # as FlaxAlbertModule's field, read by the fast path's plan

    def _albert(self) -> FlaxAlbertModule:
        return FlaxAlbertModule(self.config, self.dtype, add_pooling_layer=self.add_pooling_layer)

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
        self, input_ids: Array, attention_mask: Array, token_type_ids: Array, position_ids: Array,
        head_mask: Array | None = None, *, deterministic: bool = True, output_attentions: bool = False,
        output_hidden_states: bool = False, segment_ids: Array | None = None,
        labels: Array | None = None, sentence_order_label: Array | None = None,
    ) -> FlaxAlbertForPreTrainingOutput:  # fmt: skip
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, deterministic=deterministic,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states, segment_ids=segment_ids,
        )  # fmt: skip
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
    add_pooling_layer: ClassVar[bool] = False

    def setup(self) -> None:
        self.albert = self._albert()
        self.predictions = FlaxAlbertMLMHead(self.config, self.dtype)

    def __call__(
        self, input_ids: Array, attention_mask: Array, token_type_ids: Array, position_ids: Array,
        head_mask: Array | None = None, *, deterministic: bool = True, output_attentions: bool = False,
        output_hidden_states: bool = False, segment_ids: Array | None = None, labels: Array | None = None,
    ) -> MaskedLMOutput:  # fmt: skip
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, deterministic=deterministic,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states, segment_ids=segment_ids,
        )  # fmt: skip
        logits = self.predictions(outputs.last_hidden_state, self.albert.word_embedding_table())  # (B, S, V)
        loss = None if labels is None else cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        return MaskedLMOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class FlaxAlbertForSequenceClassificationModule(_HeadModule):
    def setup(self) -> None:
        self.albert = self._albert()
        self.dropout = nn.Dropout(classifier_dropout(self.config))
        self.classifier = _dense(self.config.num_labels, self.config, self.dtype)

    def __call__(
        self, input_ids: Array, attention_mask: Array, token_type_ids: Array, position_ids: Array,
        head_mask: Array | None = None, *, deterministic: bool = True, output_attentions: bool = False,
        output_hidden_states: bool = False, segment_ids: Array | None = None, labels: Array | None = None,
    ) -> SequenceClassifierOutput:  # fmt: skip
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, deterministic=deterministic,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states, segment_ids=segment_ids,
        )  # fmt: skip
        pooled = self._sentence_pooled(outputs, attention_mask)  # (B, H)
        logits = self.classifier(self.dropout(pooled, deterministic=deterministic))
        loss = None if labels is None else sequence_classification_loss(logits, labels, self.config)
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class FlaxAlbertForMultipleChoiceModule(_HeadModule):
    def setup(self) -> None:
        self.albert = self._albert()
        self.dropout = nn.Dropout(classifier_dropout(self.config))
        self.classifier = _dense(1, self.config, self.dtype)

    def __call__(
        self, input_ids: Array, attention_mask: Array, token_type_ids: Array, position_ids: Array,
        head_mask: Array | None = None, *, deterministic: bool = True, output_attentions: bool = False,
        output_hidden_states: bool = False, segment_ids: Array | None = None, labels: Array | None = None,
    ) -> MultipleChoiceModelOutput:  # fmt: skip
        num_choices = input_ids.shape[1]
        input_ids, attention_mask, token_type_ids, position_ids = (
            x.reshape(-1, x.shape[-1]) for x in (input_ids, attention_mask, token_type_ids, position_ids)
        )  # (B, C, S) -> (B*C, S)
        segment_ids = None if segment_ids is None else segment_ids.reshape(-1, segment_ids.shape[-1])
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, deterministic=deterministic,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states, segment_ids=segment_ids,
        )  # fmt: skip
        pooled = self._sentence_pooled(outputs, attention_mask)  # (B*C, H)
        logits = self.classifier(self.dropout(pooled, deterministic=deterministic))
        logits = logits.reshape(-1, num_choices)  # (B, C)
        loss = None if labels is None else cross_entropy(logits, labels.reshape(-1))
        return MultipleChoiceModelOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class FlaxAlbertForTokenClassificationModule(_HeadModule):
    add_pooling_layer: ClassVar[bool] = False

    def setup(self) -> None:
        self.albert = self._albert()
        self.dropout = nn.Dropout(token_classifier_dropout(self.config))
        self.classifier = _dense(self.config.num_labels, self.config, self.dtype)

    def __call__(
        self, input_ids: Array, attention_mask: Array, token_type_ids: Array, position_ids: Array,
        head_mask: Array | None = None, *, deterministic: bool = True, output_attentions: bool = False,
        output_hidden_states: bool = False, segment_ids: Array | None = None, labels: Array | None = None,
    ) -> TokenClassifierOutput:  # fmt: skip
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, deterministic=deterministic,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states, segment_ids=segment_ids,
        )  # fmt: skip
        logits = self.classifier(self.dropout(outputs.last_hidden_state, deterministic=deterministic))
        loss = None
        if labels is not None:
            loss = cross_entropy(logits.reshape(-1, self.config.num_labels), labels.reshape(-1))
        return TokenClassifierOutput(
            loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions
        )


class FlaxAlbertForQuestionAnsweringModule(_HeadModule):
    add_pooling_layer: ClassVar[bool] = False

    def setup(self) -> None:
        self.albert = self._albert()
        self.qa_outputs = _dense(self.config.num_labels, self.config, self.dtype)

    def __call__(
        self, input_ids: Array, attention_mask: Array, token_type_ids: Array, position_ids: Array,
        head_mask: Array | None = None, *, deterministic: bool = True, output_attentions: bool = False,
        output_hidden_states: bool = False, segment_ids: Array | None = None,
        start_positions: Array | None = None, end_positions: Array | None = None,
    ) -> QuestionAnsweringModelOutput:  # fmt: skip
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, deterministic=deterministic,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states, segment_ids=segment_ids,
        )  # fmt: skip
        logits = self.qa_outputs(outputs.last_hidden_state)  # (B, S, 2)
        start_logits, end_logits = logits[..., 0], logits[..., 1]
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = question_answering_loss(start_logits, end_logits, start_positions, end_positions)
        return QuestionAnsweringModelOutput(
            loss=loss,
            start_logits=start_logits,
            end_logits=end_logits,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
        )


# ----------------------------------------------------------------------------------------------- user-facing classes
# Each names its module and its spec (labels and their checks, albertlite.heads); the machinery is flax_wrappers.py.
class FlaxAlbertModel(FlaxAlbertPreTrainedModel):
    """The bare ALBERT encoder: ``last_hidden_state`` (B, S, H) and ``pooler_output`` (B, H).

    Example:
        >>> model = FlaxAlbertModel(AlbertConfig.from_preset("albert-base-v2"))
        >>> model(np.array([[2, 10, 3]])).last_hidden_state.shape
        (1, 3, 768)
    """

    module_class = FlaxAlbertModule
    spec = HEADS["Model"]


class FlaxAlbertForPreTraining(FlaxAlbertPreTrainedModel):
    """MLM and sentence-order heads; ``labels`` (B, S, -100 ignored) with ``sentence_order_label`` (B,) add the loss.

    Example:
        >>> out = model(ids, labels=mlm_labels, sentence_order_label=np.array([0, 1]))
        >>> out.loss, out.prediction_logits.shape, out.sop_logits.shape
    """

    module_class = FlaxAlbertForPreTrainingModule
    spec = HEADS["ForPreTraining"]


class FlaxAlbertForMaskedLM(FlaxAlbertPreTrainedModel):
    """Masked language modelling; ``labels`` (B, S) with -100 at positions to ignore.

    Example:
        >>> model(ids, labels=mlm_labels).loss
    """

    module_class = FlaxAlbertForMaskedLMModule
    spec = HEADS["ForMaskedLM"]


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
    spec = HEADS["ForSequenceClassification"]


class FlaxAlbertForMultipleChoice(FlaxAlbertPreTrainedModel):
    """Scores each choice: inputs (B, C, S), ``logits`` (B, C), ``labels`` (B,) the correct choice; each choice is
    pooled as ``config.classifier_pooling`` says.

    Example:
        >>> model(np.ones((2, 4, 16), int), labels=np.array([0, 3])).loss
    """

    module_class = FlaxAlbertForMultipleChoiceModule
    spec = HEADS["ForMultipleChoice"]
    input_rank = 3


class FlaxAlbertForTokenClassification(FlaxAlbertPreTrainedModel):
    """Per-token classifier; ``labels`` (B, S) with -100 at positions to ignore.

    Example:
        >>> model(ids).logits.shape  # (B, S, num_labels)
    """

    module_class = FlaxAlbertForTokenClassificationModule
    spec = HEADS["ForTokenClassification"]


class FlaxAlbertForQuestionAnswering(FlaxAlbertPreTrainedModel):
    """Extractive QA: ``start_logits`` / ``end_logits`` (B, S); positions outside the input are ignored.

    Example:
        >>> out = model(ids, start_positions=np.array([3]), end_positions=np.array([5]))
        >>> out.loss, out.start_logits.shape
    """

    module_class = FlaxAlbertForQuestionAnsweringModule
    spec = HEADS["ForQuestionAnswering"]
