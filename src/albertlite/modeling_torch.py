"""ALBERT in PyTorch, read top to bottom: embeddings, attention, layer, group, transformer, base model, heads.

Module paths equal the Hugging Face state_dict keys, so checkpoints load with no renaming table.

Axis legend used in shape comments:
    B batch, S sequence length, E embedding_size, H hidden_size, N heads, D head size (H / N),
    I intermediate_size, V vocab_size, L applied layers (num_hidden_layers x inner_group_num).

Differences from transformers 5 (all deliberate, see docs/architecture.md):
- relative_key / relative_key_query positions and head_mask are kept, with transformers 4.57's semantics
  (transformers 5 dropped them and silently mis-loads relative checkpoints);
- a 2-D head_mask has one row per *applied* layer (4.57 indexed rows per group);
- dropout is applied to the FFN output before the residual, as the original does (HF PyTorch omits it;
  eval outputs are identical);
- inputs are validated before any lookup, with messages that say what to change;
- gradient checkpointing is available.
- config.classifier_pooling="mean" (default "cls") feeds the sequence-classification and multiple-choice heads'
  pooler the mean over real tokens instead of the first token; AlbertModel's pooler_output stays the CLS one.
- in eval mode with gradients off, AlbertModel (so every head) runs the padding-free fast path of albertlite.fast
  when it gives the same outputs (within 1e-4 at real positions; padded positions of last_hidden_state are zeros);
  albertlite.set_fast_path(False), `with albertlite.fast_path(False)` or ALBERTLITE_FAST_PATH=0 turn it off.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from albertlite.checkpoints.torch_io import TorchCheckpointIO
from albertlite.config import AlbertConfig
from albertlite.fast import fast_path_enabled, packed, packed_training
from albertlite.heads import HEADS
from albertlite.outputs import (
    AlbertForPreTrainingOutput,
    BaseModelOutputWithPooling,
    LayerRecord,
    MaskedLMOutput,
    MultipleChoiceModelOutput,
    QuestionAnsweringModelOutput,
    SequenceClassifierOutput,
    TokenClassifierOutput,
)
from albertlite.torch_model_utils import TorchModelUtilities
from albertlite.torch_ops import (
    ACTIVATIONS,
    additive_mask,
    check_labels,
    expand_head_mask,
    finish,
    register_outputs_as_pytrees,
    sentence_pooled,
    sequence_classification_loss,
    span_loss,
    tensor_shape,
    value_range,
)
from albertlite.validation import InputSummary, validate_inputs

logger = logging.getLogger("albertlite")
register_outputs_as_pytrees()  # torch.export, DDP and torch.compile see through the output dataclasses

__all__ = [
    "AlbertForMaskedLM",
    "AlbertForMultipleChoice",
    "AlbertForPreTraining",
    "AlbertForPreTrainingOutput",
    "AlbertForQuestionAnswering",
    "AlbertForSequenceClassification",
    "AlbertForTokenClassification",
    "AlbertModel",
    "AlbertPreTrainedModel",
]


# ----------------------------------------------------------------------------------------------- embeddings
class AlbertEmbeddings(nn.Module):
    """Word + position + token-type embeddings of width E, then LayerNorm and dropout."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.embedding_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.embedding_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.embedding_size)
        self.LayerNorm = nn.LayerNorm(config.embedding_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        # Relative configs keep (and save) the absolute table but do not add it, as transformers 4.57.
        self.add_absolute_positions = config.position_embedding_type == "absolute"
        self.register_buffer("position_ids", torch.arange(config.max_position_embeddings)[None], persistent=False)

    def forward(
        self,
        input_ids: torch.Tensor | None,
        token_type_ids: torch.Tensor | None,
        position_ids: torch.Tensor | None,
        inputs_embeds: torch.Tensor | None,
    ) -> torch.Tensor:
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)  # (B, S, E)
        embeddings = inputs_embeds
        if self.add_absolute_positions:
            if position_ids is None:
                position_ids = self.position_ids[:, : inputs_embeds.shape[1]]  # (1, S)
            embeddings = embeddings + self.position_embeddings(position_ids)
        if token_type_ids is None:
            embeddings = embeddings + self.token_type_embeddings.weight[0]
        else:
            embeddings = embeddings + self.token_type_embeddings(token_type_ids)
        return self.dropout(self.LayerNorm(embeddings))


# ----------------------------------------------------------------------------------------------- attention
class AlbertAttention(nn.Module):
    """Multi-head self-attention with its output projection, dropout, residual and LayerNorm."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.attention_head_size = config.head_dim
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.pruned_heads: set[int] = set()
        self.query = nn.Linear(config.hidden_size, self.all_head_size)
        self.key = nn.Linear(config.hidden_size, self.all_head_size)
        self.value = nn.Linear(config.hidden_size, self.all_head_size)
        self.dense = nn.Linear(self.all_head_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.attention_dropout = nn.Dropout(config.attention_probs_dropout_prob)
        self.output_dropout = nn.Dropout(config.hidden_dropout_prob)
        self.position_embedding_type = config.position_embedding_type
        self.max_position_embeddings = config.max_position_embeddings
        if self.position_embedding_type != "absolute":
            self.distance_embedding = nn.Embedding(2 * config.max_position_embeddings - 1, self.attention_head_size)
        self.attn_implementation = "sdpa"

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, seq_len, _ = x.shape
        return x.view(batch, seq_len, self.num_attention_heads, self.attention_head_size).transpose(1, 2)  # (B,N,S,D)

    def _relative_scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        # transformers 4.57: scores from a learned table of distances, added after the 1/sqrt(D) scaling.
        seq_len = query.shape[-2]  # (..., N, S, D): the padding-free training path passes unbatched (N, S, D) too
        positions = torch.arange(seq_len, device=query.device)
        distance = positions[:, None] - positions[None, :]  # (S, S)
        table = self.distance_embedding(distance + self.max_position_embeddings - 1).to(query.dtype)  # (S, S, D)
        scores = torch.einsum("...hld,lrd->...hlr", query, table)
        if self.position_embedding_type == "relative_key_query":
            scores = scores + torch.einsum("...hrd,lrd->...hlr", key, table)
        return scores  # (..., N, S, S)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        head_mask: torch.Tensor | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        query = self._split_heads(self.query(hidden_states))
        key = self._split_heads(self.key(hidden_states))
        value = self._split_heads(self.value(hidden_states))
        bias = attention_mask  # additive, (B, 1, 1, S) or None
        if self.position_embedding_type != "absolute":
            relative = self._relative_scores(query, key)
            bias = relative if bias is None else bias + relative
        dropout = self.attention_dropout.p if self.training else 0.0
        if output_attentions or head_mask is not None or self.attn_implementation == "eager":
            scores = torch.matmul(query, key.transpose(-1, -2)) / math.sqrt(self.attention_head_size)
            if bias is not None:
                scores = scores + bias
            probs = self.attention_dropout(torch.softmax(scores, dim=-1))  # (B, N, S, S)
            if head_mask is not None:
                probs = probs * head_mask.view(1, -1, 1, 1).to(probs.dtype)
            context = torch.matmul(probs, value)
        else:
            context = F.scaled_dot_product_attention(query, key, value, attn_mask=bias, dropout_p=dropout)
            probs = None
        batch, _, seq_len, _ = context.shape
        context = context.transpose(1, 2).reshape(batch, seq_len, self.all_head_size)  # (B, S, N*D)
        output = self.output_dropout(self.dense(context))
        return self.LayerNorm(hidden_states + output), (probs if output_attentions else None)

    def prune_heads(self, heads: list[int] | set[int]) -> None:
        """Remove attention heads (indices as originally numbered) from this layer."""
        heads = set(heads) - self.pruned_heads
        if not heads:
            return
        keep_heads = [h for h in range(self.num_attention_heads + len(self.pruned_heads)) if h not in self.pruned_heads]
        keep_heads = [h for h in keep_heads if h not in heads]
        # Positions of the kept heads among the heads still present.
        present = [h for h in range(self.num_attention_heads + len(self.pruned_heads)) if h not in self.pruned_heads]
        index = torch.cat(
            [
                torch.arange(
                    present.index(h) * self.attention_head_size, (present.index(h) + 1) * self.attention_head_size
                )
                for h in keep_heads
            ]
        ).long()
        self.query = _prune_linear(self.query, index, dim=0)
        self.key = _prune_linear(self.key, index, dim=0)
        self.value = _prune_linear(self.value, index, dim=0)
        self.dense = _prune_linear(self.dense, index, dim=1)
        self.num_attention_heads = len(keep_heads)
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.pruned_heads |= heads


def _prune_linear(layer: nn.Linear, index: torch.Tensor, dim: int) -> nn.Linear:
    """A smaller copy of ``layer`` keeping ``index`` along its output (dim 0) or input (dim 1) features."""
    index = index.to(layer.weight.device)
    weight = layer.weight.index_select(dim, index).detach().clone()
    bias = layer.bias.detach().clone() if dim == 1 else layer.bias[index].detach().clone()
    new = nn.Linear(weight.shape[1], weight.shape[0], device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        new.weight.copy_(weight)
        new.bias.copy_(bias)
    return new


# ----------------------------------------------------------------------------------------------- layer, group
class AlbertLayer(nn.Module):
    """attention -> FFN (H -> I -> H) with dropout, residual and LayerNorm."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        self.attention = AlbertAttention(config)
        self.ffn = nn.Linear(config.hidden_size, config.intermediate_size)
        self.ffn_output = nn.Linear(config.intermediate_size, config.hidden_size)
        self.activation = ACTIVATIONS[config.hidden_act]
        # The original applies dropout to the FFN output before the residual; HF PyTorch omits it.
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.full_layer_layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(
        self,
        hidden_states: torch.Tensor,
        attention_mask: torch.Tensor | None,
        head_mask: torch.Tensor | None = None,
        output_attentions: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        attention_output, probs = self.attention(hidden_states, attention_mask, head_mask, output_attentions)
        ffn_output = self.dropout(self.ffn_output(self.activation(self.ffn(attention_output))))
        return self.full_layer_layer_norm(ffn_output + attention_output), probs


class AlbertLayerGroup(nn.Module):
    """One set of shared parameters: inner_group_num layers applied in order."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        self.albert_layers = nn.ModuleList([AlbertLayer(config) for _ in range(config.inner_group_num)])


# ----------------------------------------------------------------------------------------------- transformer
class AlbertTransformer(nn.Module):
    """Projects E -> H, then applies the shared groups num_hidden_layers times."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding_hidden_mapping_in = nn.Linear(config.embedding_size, config.hidden_size)
        self.albert_layer_groups = nn.ModuleList([AlbertLayerGroup(config) for _ in range(config.num_hidden_groups)])
        self.gradient_checkpointing = False
        self.checkpoint_kwargs: dict[str, Any] = {"use_reentrant": False}

    def execution_order(self) -> list[AlbertLayer]:
        """The applied layers in order: weight sharing written out as the list of modules run."""
        groups = self.albert_layer_groups
        return [groups[group].albert_layers[inner] for group, inner in self.config.layer_schedule()]

    def forward(
        self,
        embeddings: torch.Tensor,
        attention_mask: torch.Tensor | None,
        head_mask: torch.Tensor | None,
        output_attentions: bool,
        output_hidden_states: bool,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None, tuple[torch.Tensor, ...] | None]:
        hidden_states = self.embedding_hidden_mapping_in(embeddings)  # (B, S, H)
        record = LayerRecord(hidden_states, output_hidden_states, output_attentions)
        for k, layer in enumerate(self.execution_order()):
            layer_head_mask = None if head_mask is None else head_mask[k]
            if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
                hidden_states, probs = checkpoint(
                    layer, hidden_states, attention_mask, layer_head_mask, output_attentions, **self.checkpoint_kwargs
                )
            else:
                hidden_states, probs = layer(hidden_states, attention_mask, layer_head_mask, output_attentions)
            record.add(hidden_states, probs)
        return record.result(hidden_states)


# ----------------------------------------------------------------------------------------------- base class
class AlbertPreTrainedModel(TorchCheckpointIO, TorchModelUtilities, nn.Module):
    """Weights initialisation and tying; loading and saving come from ``checkpoints/torch_io.py``, the shared model
    operations (resizing, pruning, gradient checkpointing ...) from ``torch_model_utils.py``.

    Example:
        >>> model = AlbertForSequenceClassification.from_pretrained("path/or/hub-id", num_labels=3)
        >>> model.save_pretrained("my-model")
    """

    config_class = AlbertConfig
    base_model_prefix = "albert"

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        if not isinstance(config, AlbertConfig):
            raise TypeError(f"{type(self).__name__} expects an AlbertConfig, got {type(config).__name__}.")
        self.config = config
        self._check_config_and_calls()  # torch_model_utils.check_call: every call's inputs checked on entry

    # --------------------------------------------------------------------------- initialisation
    def post_init(self) -> None:
        self.apply(self._init_weights)
        self._apply_pruned_heads()
        self.tie_weights()

    def _init_weights(self, module: nn.Module) -> None:
        """Hugging Face's scheme: normal(0, initializer_range), zero biases and padding row, LayerNorm 1/0."""
        std = self.config.initializer_range
        with torch.no_grad():
            if isinstance(module, nn.Linear):
                module.weight.normal_(0.0, std)
                if module.bias is not None:
                    module.bias.zero_()
            elif isinstance(module, nn.Embedding):
                module.weight.normal_(0.0, std)
                if module.padding_idx is not None:
                    module.weight[module.padding_idx].zero_()
            elif isinstance(module, nn.LayerNorm):
                module.weight.fill_(1.0)
                module.bias.zero_()
            elif isinstance(module, AlbertMLMHead):
                module.bias.zero_()

    def tie_weights(self) -> None:
        """Share the MLM decoder with the word embeddings (and its bias with predictions.bias)."""
        head = getattr(self, "predictions", None)
        if isinstance(head, AlbertMLMHead):
            head.decoder.weight = self.albert.embeddings.word_embeddings.weight
            head.decoder.bias = head.bias


# ----------------------------------------------------------------------------------------------- base model
class AlbertModel(AlbertPreTrainedModel):
    """The bare ALBERT encoder: embeddings, shared transformer layers, and an optional tanh pooler."""

    spec = HEADS["Model"]

    def __init__(self, config: AlbertConfig, add_pooling_layer: bool = True) -> None:
        super().__init__(config)
        self.embeddings = AlbertEmbeddings(config)
        self.encoder = AlbertTransformer(config)
        self.pooler = nn.Linear(config.hidden_size, config.hidden_size) if add_pooling_layer else None
        self.pooler_activation = nn.Tanh() if add_pooling_layer else None
        self.packed_training = True  # train on the real tokens only when >= 20% of the batch is padding (fast path on)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> BaseModelOutputWithPooling | tuple:
        self._validate(input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds)
        # The padding-free paths (albertlite/fast/packed.py, packed_training.py) when they reproduce this one; off with
        # albertlite.set_fast_path(False), `with albertlite.fast_path(False)` or ALBERTLITE_FAST_PATH=0. Graph capture
        # cannot follow their data-dependent packing (nor read the switch's context variable): checked first.
        if not torch.compiler.is_compiling() and fast_path_enabled():
            args = (self, input_ids, attention_mask, head_mask, inputs_embeds, bool(output_attentions))
            inputs = (self, input_ids, attention_mask, token_type_ids, position_ids, bool(output_hidden_states))
            output = None
            if packed.can_run(*args):
                output = packed.packed_forward(*inputs)
            elif packed_training.can_train(*args):  # training on the real tokens only (packed_training = False: off)
                output = packed_training.packed_train_forward(*inputs)
            if output is not None:
                return output if return_dict is not False else output.to_tuple()
        embeddings = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)  # (B, S, E)
        mask = additive_mask(attention_mask, embeddings.dtype)
        head_mask = expand_head_mask(head_mask, self.config)
        sequence_output, hidden_states, attentions = self.encoder(
            embeddings, mask, head_mask, bool(output_attentions), bool(output_hidden_states)
        )
        pooled = self.pooler_activation(self.pooler(sequence_output[:, 0])) if self.pooler is not None else None
        output = BaseModelOutputWithPooling(
            last_hidden_state=sequence_output, pooler_output=pooled, hidden_states=hidden_states, attentions=attentions
        )
        return output if return_dict is not False else output.to_tuple()

    def _validate(self, input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds) -> None:
        summary = InputSummary.of(
            tensor_shape, value_range, input_ids=input_ids, attention_mask=attention_mask,
            token_type_ids=token_type_ids, position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
        )  # fmt: skip
        validate_inputs(self.config, summary)


# ----------------------------------------------------------------------------------------------- heads
class AlbertMLMHead(nn.Module):
    """H -> E transform, activation, LayerNorm, then the decoder tied to the word embeddings."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        self.LayerNorm = nn.LayerNorm(config.embedding_size, eps=config.layer_norm_eps)
        self.bias = nn.Parameter(torch.zeros(config.vocab_size))
        self.dense = nn.Linear(config.hidden_size, config.embedding_size)
        self.decoder = nn.Linear(config.embedding_size, config.vocab_size)
        self.activation = ACTIVATIONS[config.hidden_act]

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        hidden_states = self.LayerNorm(self.activation(self.dense(hidden_states)))  # (B, S, E)
        return self.decoder(hidden_states)  # (B, S, V)


class AlbertSOPHead(nn.Module):
    """Sentence-order prediction on the pooled output."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__()
        self.dropout = nn.Dropout(config.classifier_dropout_prob or 0.0)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, pooled_output: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(pooled_output))


class AlbertForPreTraining(AlbertPreTrainedModel):
    """ALBERT with the masked-LM and sentence-order heads used in pretraining."""

    spec = HEADS["ForPreTraining"]

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__(config)
        self.albert = AlbertModel(config, add_pooling_layer=self.spec.pooler)
        self.predictions = AlbertMLMHead(config)
        self.sop_classifier = AlbertSOPHead(config)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.predictions.decoder

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        sentence_order_label: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> AlbertForPreTrainingOutput | tuple:
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states,
        )  # fmt: skip
        prediction_scores = self.predictions(outputs.last_hidden_state)
        sop_scores = self.sop_classifier(outputs.pooler_output)
        loss = None
        if labels is not None and sentence_order_label is not None:
            check_labels(self.spec, self.config, {"labels": labels, "sentence_order_label": sentence_order_label})
            mlm_loss = F.cross_entropy(prediction_scores.view(-1, self.config.vocab_size).float(), labels.view(-1))
            sop_loss = F.cross_entropy(
                sop_scores.view(-1, self.config.num_labels).float(), sentence_order_label.view(-1)
            )
            loss = mlm_loss + sop_loss
        return finish(
            AlbertForPreTrainingOutput(loss, prediction_scores, sop_scores, outputs.hidden_states, outputs.attentions),
            return_dict,
        )


class AlbertForMaskedLM(AlbertPreTrainedModel):
    """ALBERT with the masked-LM head (no pooler)."""

    spec = HEADS["ForMaskedLM"]

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__(config)
        self.albert = AlbertModel(config, add_pooling_layer=self.spec.pooler)
        self.predictions = AlbertMLMHead(config)
        self.post_init()

    def get_output_embeddings(self) -> nn.Linear:
        return self.predictions.decoder

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> MaskedLMOutput | tuple:
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states,
        )  # fmt: skip
        logits = self.predictions(outputs.last_hidden_state)
        loss = None
        if labels is not None:
            check_labels(self.spec, self.config, {"labels": labels})
            loss = F.cross_entropy(logits.view(-1, self.config.vocab_size).float(), labels.view(-1))
        return finish(MaskedLMOutput(loss, logits, outputs.hidden_states, outputs.attentions), return_dict)


class AlbertForSequenceClassification(AlbertPreTrainedModel):
    """ALBERT with a linear classifier (or regressor) on the pooled output (see config.classifier_pooling)."""

    spec = HEADS["ForSequenceClassification"]

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.albert = AlbertModel(config, add_pooling_layer=self.spec.pooler)
        self.dropout = nn.Dropout(config.classifier_dropout_prob or 0.0)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> SequenceClassifierOutput | tuple:
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states,
        )  # fmt: skip
        pooled = sentence_pooled(self.albert, outputs, attention_mask)
        logits = self.classifier(self.dropout(pooled))
        loss = None if labels is None else sequence_classification_loss(logits, labels, self.config)
        return finish(SequenceClassifierOutput(loss, logits, outputs.hidden_states, outputs.attentions), return_dict)


class AlbertForTokenClassification(AlbertPreTrainedModel):
    """ALBERT with a linear classifier on every token (named entities, tags)."""

    spec = HEADS["ForTokenClassification"]

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.albert = AlbertModel(config, add_pooling_layer=self.spec.pooler)
        dropout = config.classifier_dropout_prob
        self.dropout = nn.Dropout(config.hidden_dropout_prob if dropout is None else dropout)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> TokenClassifierOutput | tuple:
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states,
        )  # fmt: skip
        logits = self.classifier(self.dropout(outputs.last_hidden_state))
        loss = None
        if labels is not None:
            check_labels(self.spec, self.config, {"labels": labels})
            loss = F.cross_entropy(logits.view(-1, self.num_labels).float(), labels.view(-1))
        return finish(TokenClassifierOutput(loss, logits, outputs.hidden_states, outputs.attentions), return_dict)


class AlbertForQuestionAnswering(AlbertPreTrainedModel):
    """ALBERT with a span head: start and end logits for every token."""

    spec = HEADS["ForQuestionAnswering"]

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.albert = AlbertModel(config, add_pooling_layer=self.spec.pooler)
        # The span loss takes its softmax over every position, padded ones included (as transformers'), so the
        # packed step, whose padded positions hold zeros, would train another objective: this head trains padded.
        self.albert.packed_training = False
        self.qa_outputs = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        start_positions: torch.Tensor | None = None,
        end_positions: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> QuestionAnsweringModelOutput | tuple:
        outputs = self.albert(
            input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids,
            position_ids=position_ids, head_mask=head_mask, inputs_embeds=inputs_embeds,
            output_attentions=output_attentions, output_hidden_states=output_hidden_states,
        )  # fmt: skip
        logits = self.qa_outputs(outputs.last_hidden_state)  # (B, S, 2)
        start_logits, end_logits = (t.squeeze(-1).contiguous() for t in logits.split(1, dim=-1))
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = span_loss(start_logits, end_logits, start_positions, end_positions)
        return finish(
            QuestionAnsweringModelOutput(loss, start_logits, end_logits, outputs.hidden_states, outputs.attentions),
            return_dict,
        )


class AlbertForMultipleChoice(AlbertPreTrainedModel):
    """ALBERT scoring each (context, choice) pair with one logit; inputs are (B, choices, S).

    The pooled vector of each choice follows config.classifier_pooling ("cls" or "mean" over its real tokens).
    """

    spec = HEADS["ForMultipleChoice"]

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__(config)
        self.albert = AlbertModel(config, add_pooling_layer=self.spec.pooler)
        self.dropout = nn.Dropout(config.classifier_dropout_prob or 0.0)
        self.classifier = nn.Linear(config.hidden_size, 1)
        self.post_init()

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        position_ids: torch.Tensor | None = None,
        head_mask: torch.Tensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        output_attentions: bool | None = None,
        output_hidden_states: bool | None = None,
        return_dict: bool | None = None,
    ) -> MultipleChoiceModelOutput | tuple:
        reference = input_ids if input_ids is not None else inputs_embeds
        if reference is None or reference.dim() < 3 or (input_ids is None and reference.dim() != 4):
            raise ValueError(
                "AlbertForMultipleChoice expects input_ids shaped (batch, num_choices, sequence_length) "
                "or inputs_embeds shaped (batch, num_choices, sequence_length, embedding_size)."
            )
        num_choices = reference.shape[1]

        def flat(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.reshape(-1, *t.shape[2:])  # (B*choices, S, ...)

        outputs = self.albert(
            input_ids=flat(input_ids), attention_mask=flat(attention_mask), token_type_ids=flat(token_type_ids),
            position_ids=flat(position_ids), head_mask=head_mask, inputs_embeds=flat(inputs_embeds),
            output_attentions=output_attentions, output_hidden_states=output_hidden_states,
        )  # fmt: skip
        pooled = sentence_pooled(self.albert, outputs, flat(attention_mask))  # (B*choices, H)
        logits = self.classifier(self.dropout(pooled)).view(-1, num_choices)  # (B, choices)
        loss = None
        if labels is not None:
            check_labels(self.spec, self.config, {"labels": labels}, num_choices=num_choices)
            loss = F.cross_entropy(logits.float(), labels.view(-1))
        return finish(MultipleChoiceModelOutput(loss, logits, outputs.hidden_states, outputs.attentions), return_dict)
