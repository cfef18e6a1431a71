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
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from albertlite.checkpoints.files import MODEL_FILES, atomic_write, staged_directory
from albertlite.checkpoints.hub import HUB_KWARGS
from albertlite.checkpoints.names import TIED_DECODER_KEYS, LoadReport, check_shapes, match_keys
from albertlite.checkpoints.state_dict import (
    FLAX_WEIGHTS_NAME,
    PT_WEIGHTS_NAME,
    TF_WEIGHTS_NAME,
    locate_weights,
    read_weight_files,
    write_safetensors,
)
from albertlite.config import AlbertConfig
from albertlite.fast import fast_path_enabled, packed
from albertlite.outputs import (
    OUTPUT_CLASSES,
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

logger = logging.getLogger("albertlite")

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


def _gelu_fast(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)))


# "gelu_new" is the tanh approximation the original ALBERT uses; PyTorch's fused kernel computes it.
ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": F.gelu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_fast": _gelu_fast,
    "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "linear": lambda x: x,
}


def _register_outputs_as_pytrees() -> None:
    """Let torch.export, DDP and torch.compile see through the output dataclasses."""
    from torch.utils import _pytree

    for cls in OUTPUT_CLASSES:
        if cls in _pytree.SUPPORTED_NODES:
            continue
        field_names = list(cls.__dataclass_fields__)
        _pytree.register_pytree_node(
            cls,
            lambda out, names=field_names: ([getattr(out, n) for n in names], names),
            lambda values, names, cls=cls: cls(**dict(zip(names, values))),
            serialized_type_name=f"albertlite.{cls.__name__}",
        )


_register_outputs_as_pytrees()


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
        seq_len = query.shape[2]
        positions = torch.arange(seq_len, device=query.device)
        distance = positions[:, None] - positions[None, :]  # (S, S)
        table = self.distance_embedding(distance + self.max_position_embeddings - 1).to(query.dtype)  # (S, S, D)
        scores = torch.einsum("bhld,lrd->bhlr", query, table)
        if self.position_embedding_type == "relative_key_query":
            scores = scores + torch.einsum("bhrd,lrd->bhlr", key, table)
        return scores  # (B, N, S, S)

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

    def execution_order(self) -> list[AlbertLayer]:
        """The applied layers in order: weight sharing written out as the list of modules run."""
        config = self.config
        return [
            layer
            for i in range(config.num_hidden_layers)
            for layer in self.albert_layer_groups[config.group_of_layer(i)].albert_layers
        ]

    def forward(
        self,
        embeddings: torch.Tensor,
        attention_mask: torch.Tensor | None,
        head_mask: torch.Tensor | None,
        output_attentions: bool,
        output_hidden_states: bool,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...] | None, tuple[torch.Tensor, ...] | None]:
        hidden_states = self.embedding_hidden_mapping_in(embeddings)  # (B, S, H)
        all_hidden = [hidden_states] if output_hidden_states else None
        all_attentions = [] if output_attentions else None
        for k, layer in enumerate(self.execution_order()):
            layer_head_mask = None if head_mask is None else head_mask[k]
            if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
                hidden_states, probs = checkpoint(
                    layer, hidden_states, attention_mask, layer_head_mask, output_attentions, use_reentrant=False
                )
            else:
                hidden_states, probs = layer(hidden_states, attention_mask, layer_head_mask, output_attentions)
            if all_hidden is not None:
                all_hidden.append(hidden_states)
            if all_attentions is not None:
                all_attentions.append(probs)
        return (
            hidden_states,
            tuple(all_hidden) if all_hidden is not None else None,
            tuple(all_attentions) if all_attentions is not None else None,
        )


# ----------------------------------------------------------------------------------------------- base class
class AlbertPreTrainedModel(nn.Module):
    """Weights initialisation, checkpoint loading and saving, and the utilities every ALBERT model shares.

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

    # --------------------------------------------------------------------------- properties
    @property
    def base_model(self) -> AlbertModel:
        return getattr(self, self.base_model_prefix, self)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def num_parameters(self, only_trainable: bool = False) -> int:
        """Distinct parameters (shared tensors counted once)."""
        unique = {id(p): p for p in self.parameters() if p.requires_grad or not only_trainable}
        return sum(p.numel() for p in unique.values())

    def get_input_embeddings(self) -> nn.Embedding:
        return self.base_model.embeddings.word_embeddings

    def set_input_embeddings(self, value: nn.Embedding) -> None:
        self.base_model.embeddings.word_embeddings = value
        self.tie_weights()

    def set_attn_implementation(self, name: str) -> None:
        """ "sdpa" (default; falls back to eager when attentions or head_mask are requested) or "eager"."""
        if name not in ("sdpa", "eager"):
            raise ValueError(f"attn_implementation must be 'sdpa' or 'eager', got {name!r}.")
        for module in self.modules():
            if isinstance(module, AlbertAttention):
                module.attn_implementation = name

    # --------------------------------------------------------------------------- training utilities
    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs: dict | None = None) -> None:
        """Recompute each applied layer in the backward pass instead of storing its activations."""
        self.base_model.encoder.gradient_checkpointing = True

    def gradient_checkpointing_disable(self) -> None:
        self.base_model.encoder.gradient_checkpointing = False

    @property
    def is_gradient_checkpointing(self) -> bool:
        return self.base_model.encoder.gradient_checkpointing

    def resize_token_embeddings(self, new_num_tokens: int, pad_to_multiple_of: int | None = None) -> nn.Embedding:
        """Grow or shrink the vocabulary; new rows are initialised, the MLM bias follows, ties are kept."""
        if pad_to_multiple_of:
            new_num_tokens = math.ceil(new_num_tokens / pad_to_multiple_of) * pad_to_multiple_of
        if new_num_tokens <= 0:
            raise ValueError(f"new_num_tokens must be positive, got {new_num_tokens}.")
        old = self.get_input_embeddings()
        new = nn.Embedding(
            new_num_tokens,
            old.embedding_dim,
            padding_idx=old.padding_idx,
            device=old.weight.device,
            dtype=old.weight.dtype,
        )
        self._init_weights(new)
        keep = min(old.num_embeddings, new_num_tokens)
        with torch.no_grad():
            new.weight[:keep] = old.weight[:keep]
        self.base_model.embeddings.word_embeddings = new
        head = getattr(self, "predictions", None)
        if isinstance(head, AlbertMLMHead):
            bias = torch.zeros(new_num_tokens, device=head.bias.device, dtype=head.bias.dtype)
            bias[:keep] = head.bias.detach()[:keep]
            head.bias = nn.Parameter(bias)
            head.decoder = nn.Linear(old.embedding_dim, new_num_tokens, device=bias.device, dtype=bias.dtype)
        self.config.vocab_size = new_num_tokens
        self.tie_weights()
        return new

    def prune_heads(self, heads_to_prune: dict[int, list[int]]) -> None:
        """Remove heads; keys are Hugging Face's flattened layer index ``group * inner_group_num + inner``."""
        pruned = {int(k): set(v) for k, v in self.config.extra.get("pruned_heads", {}).items()}
        for layer, heads in heads_to_prune.items():
            group, inner = divmod(int(layer), self.config.inner_group_num)
            if group >= self.config.num_hidden_groups:
                raise ValueError(
                    f"Layer {layer} does not exist: there are {self.config.num_hidden_groups} groups of "
                    f"{self.config.inner_group_num} layers."
                )
            self.base_model.encoder.albert_layer_groups[group].albert_layers[inner].attention.prune_heads(heads)
            pruned[int(layer)] = pruned.get(int(layer), set()) | set(heads)
        # Saved in config.json (Hugging Face's "pruned_heads") so that from_pretrained rebuilds the same shapes.
        self.config.extra["pruned_heads"] = {str(k): sorted(v) for k, v in sorted(pruned.items())}

    def _apply_pruned_heads(self) -> None:
        pruned = self.config.extra.get("pruned_heads") or {}
        if pruned:
            self.prune_heads({int(k): list(v) for k, v in pruned.items()})

    # --------------------------------------------------------------------------- saving
    def save_pretrained(
        self,
        save_directory: str | os.PathLike,
        safe_serialization: bool = True,
        max_shard_size: int | str | None = None,
    ) -> Path:
        """Write config.json and model.safetensors (the tied decoder left out, as transformers does)."""
        directory = Path(save_directory)
        if directory.exists() and not directory.is_dir():
            raise ValueError(f"save_pretrained expects a directory, but {directory} is a file.")
        self.config.extra["architectures"] = [type(self).__name__]
        state = {k: v.detach().cpu() for k, v in self.state_dict().items() if k not in TIED_DECODER_KEYS}
        # config and weights replace the previous ones together: a failed save leaves the old model loadable
        with staged_directory(directory, replaces=MODEL_FILES) as staging:
            self.config.save_pretrained(staging)
            if safe_serialization:
                write_safetensors(state, staging, framework="pt", max_shard_bytes=_parse_size(max_shard_size))
            else:
                atomic_write(staging / PT_WEIGHTS_NAME, lambda tmp: torch.save(state, tmp))
        return directory

    # --------------------------------------------------------------------------- loading
    @classmethod
    def from_pretrained(
        cls,
        pretrained_model_name_or_path: str | os.PathLike,
        *model_args: Any,
        config: AlbertConfig | None = None,
        dtype: torch.dtype | str | None = None,
        torch_dtype: torch.dtype | str | None = None,
        device: torch.device | str | None = None,
        output_loading_info: bool = False,
        attn_implementation: str = "sdpa",
        **kwargs: Any,
    ) -> AlbertPreTrainedModel | tuple[AlbertPreTrainedModel, dict[str, list[str]]]:
        """Load a model from a directory or Hub id holding config.json and weights.

        Args:
            pretrained_model_name_or_path: a local directory or a Hub repository id.
            config: use this config instead of the checkpoint's config.json.
            dtype / torch_dtype: parameter dtype (a torch.dtype, its name, or "auto" for the stored dtype).
            device: where to put the model.
            output_loading_info: also return {"missing_keys": [...], "unexpected_keys": [...]}.
            attn_implementation: "sdpa" or "eager".
            **kwargs: Hub options (cache_dir, revision, token, local_files_only, force_download) and
                config overrides (e.g. num_labels=3).

        Returns:
            The model in eval mode (and the loading info when asked).
        """
        if model_args:
            raise TypeError("from_pretrained takes the model path as its only positional argument.")
        hub_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in HUB_KWARGS}
        if config is None:
            config = AlbertConfig.from_pretrained(pretrained_model_name_or_path, **hub_kwargs, **kwargs)
        elif kwargs:
            config = config.copy(**kwargs)
        state = _read_checkpoint(pretrained_model_name_or_path, hub_kwargs)
        model = cls(config)
        report = model._load_checkpoint_state(state)
        report.log(cls.__name__)
        target_dtype = _resolve_dtype(dtype if dtype is not None else torch_dtype, state)
        if target_dtype is not None:
            model.to(target_dtype)
        if device is not None:
            model.to(device)
        model.set_attn_implementation(attn_implementation)
        model.eval()
        if output_loading_info:
            return model, {"missing_keys": report.missing_keys, "unexpected_keys": report.unexpected_keys}
        return model

    def _load_checkpoint_state(self, state: dict[str, torch.Tensor]) -> LoadReport:
        model_state = self.state_dict()
        renamed, report = match_keys(state, model_state.keys(), self.config)
        check_shapes(renamed, {k: tuple(v.shape) for k, v in model_state.items()})
        with torch.no_grad():
            for key, value in renamed.items():
                model_state[key].copy_(value.to(model_state[key].dtype))
        self.tie_weights()
        return report


def _read_checkpoint(name_or_path: str | os.PathLike, hub_kwargs: dict[str, Any]) -> dict[str, torch.Tensor]:
    kind, files = locate_weights(name_or_path, **hub_kwargs)
    if kind in (TF_WEIGHTS_NAME, FLAX_WEIGHTS_NAME):
        import numpy as np

        state = read_weight_files(kind, files, framework="np")
        return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}
    return read_weight_files(kind, files, framework="pt")


def _resolve_dtype(dtype: torch.dtype | str | None, state: dict[str, torch.Tensor]) -> torch.dtype | None:
    if dtype is None:
        return None
    if dtype == "auto":
        floating = [v.dtype for v in state.values() if v.is_floating_point()]
        return floating[0] if floating else None
    if isinstance(dtype, str):
        resolved = getattr(torch, dtype, None)
        if not isinstance(resolved, torch.dtype):
            raise ValueError(f"Unknown dtype {dtype!r}; use e.g. 'float32', 'bfloat16', 'float16' or 'auto'.")
        return resolved
    return dtype


def _parse_size(size: int | str | None) -> int | None:
    if size is None or isinstance(size, int):
        return size
    units = {"KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}
    text = size.strip().upper()
    for unit, factor in sorted(units.items(), key=lambda item: -len(item[0])):
        if text.endswith(unit):
            return int(float(text[: -len(unit)]) * factor)
    return int(text)


# ----------------------------------------------------------------------------------------------- base model
class AlbertModel(AlbertPreTrainedModel):
    """The bare ALBERT encoder: embeddings, shared transformer layers, and an optional tanh pooler."""

    def __init__(self, config: AlbertConfig, add_pooling_layer: bool = True) -> None:
        super().__init__(config)
        self.embeddings = AlbertEmbeddings(config)
        self.encoder = AlbertTransformer(config)
        self.pooler = nn.Linear(config.hidden_size, config.hidden_size) if add_pooling_layer else None
        self.pooler_activation = nn.Tanh() if add_pooling_layer else None
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
        # The padding-free fast path (albertlite/fast/packed.py) when it reproduces this one; off with
        # albertlite.set_fast_path(False), `with albertlite.fast_path(False)` or ALBERTLITE_FAST_PATH=0.
        if fast_path_enabled() and packed.can_run(
            self, input_ids, attention_mask, head_mask, inputs_embeds, bool(output_attentions)
        ):
            output = packed.packed_forward(
                self, input_ids, attention_mask, token_type_ids, position_ids, bool(output_hidden_states)
            )
            return output if return_dict is not False else output.to_tuple()
        embeddings = self.embeddings(input_ids, token_type_ids, position_ids, inputs_embeds)  # (B, S, E)
        mask = _additive_mask(attention_mask, embeddings.dtype)
        head_mask = _expand_head_mask(head_mask, self.config)
        sequence_output, hidden_states, attentions = self.encoder(
            embeddings, mask, head_mask, bool(output_attentions), bool(output_hidden_states)
        )
        pooled = self.pooler_activation(self.pooler(sequence_output[:, 0])) if self.pooler is not None else None
        output = BaseModelOutputWithPooling(
            last_hidden_state=sequence_output, pooler_output=pooled, hidden_states=hidden_states, attentions=attentions
        )
        return output if return_dict is not False else output.to_tuple()

    def _validate(self, input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds) -> None:
        validate_inputs(
            self.config,
            InputSummary(
                input_ids_shape=_shape(input_ids),
                input_ids_range=_value_range(input_ids),
                inputs_embeds_shape=_shape(inputs_embeds),
                attention_mask_shape=_shape(attention_mask),
                token_type_ids_shape=_shape(token_type_ids),
                token_type_ids_range=_value_range(token_type_ids),
                position_ids_shape=_shape(position_ids),
                position_ids_range=_value_range(position_ids),
                head_mask_shape=_shape(head_mask),
            ),
        )


def _shape(tensor: torch.Tensor | None) -> tuple[int, ...] | None:
    return None if tensor is None else tuple(tensor.shape)


def _value_range(tensor: torch.Tensor | None) -> tuple[int, int] | None:
    if tensor is None or tensor.numel() == 0:
        return None
    if torch.compiler.is_compiling():  # graph capture (torch.export, ONNX) cannot read values; eager calls do
        return None
    if tensor.is_floating_point():
        raise ValueError(f"Expected an integer tensor of ids, got dtype {tensor.dtype}.")
    return int(tensor.min()), int(tensor.max())


def _additive_mask(attention_mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    """(B, S) of 1 = attend, 0 = padding  ->  (B, 1, 1, S) of 0 and the dtype's minimum."""
    if attention_mask is None:
        return None
    keep = attention_mask.to(torch.bool)[:, None, None, :]
    return torch.zeros(keep.shape, dtype=dtype, device=keep.device).masked_fill(~keep, torch.finfo(dtype).min)


def _expand_head_mask(head_mask: torch.Tensor | None, config: AlbertConfig) -> torch.Tensor | None:
    """[N] or [L, N] -> [L, N]: row k masks the k-th applied layer."""
    if head_mask is None:
        return None
    if head_mask.dim() == 1:
        head_mask = head_mask[None].expand(config.num_applied_layers, -1)
    return head_mask


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


def masked_mean(hidden_states: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """Mean of (B, S, H) states over the real tokens (attention_mask 1; all tokens when None) -> (B, H).

    Summed in float32 (bf16 sums drift) and returned in the states' dtype; a row with no real token gives zeros.
    Padded positions are excluded by selection, not multiplication, so whatever they hold (the plain path's values,
    the fast path's zeros) cannot leak in.
    """
    states = hidden_states.float()
    if attention_mask is None:
        return states.mean(dim=1).to(hidden_states.dtype)
    keep = attention_mask.to(torch.bool)[..., None]  # (B, S, 1)
    total = torch.where(keep, states, 0.0).sum(dim=1)  # (B, H)
    count = keep.sum(dim=1).clamp(min=1).to(torch.float32)  # (B, 1)
    return (total / count).to(hidden_states.dtype)


def _sentence_pooled(
    albert: AlbertModel, outputs: BaseModelOutputWithPooling, attention_mask: torch.Tensor | None
) -> torch.Tensor:
    """The sentence vector of the classification heads: the CLS pooler output or, with classifier_pooling="mean",
    the same pooler (dense + tanh) applied to the masked mean of the last hidden states."""
    if albert.config.classifier_pooling == "cls":
        return outputs.pooler_output
    return albert.pooler_activation(albert.pooler(masked_mean(outputs.last_hidden_state, attention_mask)))


def _check_class_labels(labels: torch.Tensor, num_classes: int, name: str = "labels") -> None:
    validate_class_labels(labels.detach().cpu().numpy(), num_classes, name)


def _finish(output: ModelOutput, return_dict: bool | None) -> ModelOutput | tuple:
    return output if return_dict is not False else output.to_tuple()


_BASE_ARGS = ("attention_mask", "token_type_ids", "position_ids", "head_mask", "inputs_embeds")


class AlbertForPreTraining(AlbertPreTrainedModel):
    """ALBERT with the masked-LM and sentence-order heads used in pretraining."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__(config)
        self.albert = AlbertModel(config)
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
            input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
            output_attentions, output_hidden_states,
        )  # fmt: skip
        prediction_scores = self.predictions(outputs.last_hidden_state)
        sop_scores = self.sop_classifier(outputs.pooler_output)
        loss = None
        if labels is not None and sentence_order_label is not None:
            _check_class_labels(labels, self.config.vocab_size)
            _check_class_labels(sentence_order_label, self.config.num_labels, "sentence_order_label")
            mlm_loss = F.cross_entropy(prediction_scores.view(-1, self.config.vocab_size).float(), labels.view(-1))
            sop_loss = F.cross_entropy(
                sop_scores.view(-1, self.config.num_labels).float(), sentence_order_label.view(-1)
            )
            loss = mlm_loss + sop_loss
        return _finish(
            AlbertForPreTrainingOutput(loss, prediction_scores, sop_scores, outputs.hidden_states, outputs.attentions),
            return_dict,
        )


class AlbertForMaskedLM(AlbertPreTrainedModel):
    """ALBERT with the masked-LM head (no pooler)."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__(config)
        self.albert = AlbertModel(config, add_pooling_layer=False)
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
            input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
            output_attentions, output_hidden_states,
        )  # fmt: skip
        logits = self.predictions(outputs.last_hidden_state)
        loss = None
        if labels is not None:
            _check_class_labels(labels, self.config.vocab_size)
            loss = F.cross_entropy(logits.view(-1, self.config.vocab_size).float(), labels.view(-1))
        return _finish(MaskedLMOutput(loss, logits, outputs.hidden_states, outputs.attentions), return_dict)


class AlbertForSequenceClassification(AlbertPreTrainedModel):
    """ALBERT with a linear classifier (or regressor) on the pooled output (see config.classifier_pooling)."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.albert = AlbertModel(config)
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
            input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
            output_attentions, output_hidden_states,
        )  # fmt: skip
        pooled = _sentence_pooled(self.albert, outputs, attention_mask)
        logits = self.classifier(self.dropout(pooled))
        loss = None if labels is None else sequence_classification_loss(logits, labels, self.config)
        return _finish(SequenceClassifierOutput(loss, logits, outputs.hidden_states, outputs.attentions), return_dict)


def problem_type_for(config: AlbertConfig, labels: torch.Tensor) -> str:
    """Hugging Face's rule when problem_type is unset: 1 label regresses, integer labels classify, else multi-label."""
    if config.problem_type is not None:
        return config.problem_type
    if config.num_labels == 1:
        return "regression"
    if labels.dtype in (torch.long, torch.int):
        return "single_label_classification"
    return "multi_label_classification"


def sequence_classification_loss(logits: torch.Tensor, labels: torch.Tensor, config: AlbertConfig) -> torch.Tensor:
    problem_type = problem_type_for(config, labels)
    if problem_type == "regression":
        if config.num_labels == 1:
            return F.mse_loss(logits.squeeze().float(), labels.squeeze().to(torch.float32))
        return F.mse_loss(logits.float(), labels.to(torch.float32))
    if problem_type == "single_label_classification":
        _check_class_labels(labels, config.num_labels)
        return F.cross_entropy(logits.view(-1, config.num_labels).float(), labels.view(-1))
    if tuple(labels.shape) != tuple(logits.shape):
        raise ValueError(
            f"multi_label_classification expects labels shaped like the logits {tuple(logits.shape)} "
            f"(one 0/1 column per label), got {tuple(labels.shape)}."
        )
    return F.binary_cross_entropy_with_logits(logits.float(), labels.to(torch.float32))


class AlbertForTokenClassification(AlbertPreTrainedModel):
    """ALBERT with a linear classifier on every token (named entities, tags)."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.albert = AlbertModel(config, add_pooling_layer=False)
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
            input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
            output_attentions, output_hidden_states,
        )  # fmt: skip
        logits = self.classifier(self.dropout(outputs.last_hidden_state))
        loss = None
        if labels is not None:
            _check_class_labels(labels, self.num_labels)
            loss = F.cross_entropy(logits.view(-1, self.num_labels).float(), labels.view(-1))
        return _finish(TokenClassifierOutput(loss, logits, outputs.hidden_states, outputs.attentions), return_dict)


class AlbertForQuestionAnswering(AlbertPreTrainedModel):
    """ALBERT with a span head: start and end logits for every token."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__(config)
        self.num_labels = config.num_labels
        self.albert = AlbertModel(config, add_pooling_layer=False)
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
            input_ids, attention_mask, token_type_ids, position_ids, head_mask, inputs_embeds,
            output_attentions, output_hidden_states,
        )  # fmt: skip
        logits = self.qa_outputs(outputs.last_hidden_state)  # (B, S, 2)
        start_logits, end_logits = (t.squeeze(-1).contiguous() for t in logits.split(1, dim=-1))
        loss = None
        if start_positions is not None and end_positions is not None:
            loss = span_loss(start_logits, end_logits, start_positions, end_positions)
        return _finish(
            QuestionAnsweringModelOutput(loss, start_logits, end_logits, outputs.hidden_states, outputs.attentions),
            return_dict,
        )


def span_loss(
    start_logits: torch.Tensor, end_logits: torch.Tensor, start_positions: torch.Tensor, end_positions: torch.Tensor
) -> torch.Tensor:
    """Mean of start and end cross-entropy; positions outside the sequence are clamped to S and ignored."""
    ignored = start_logits.shape[1]
    start = start_positions.view(-1).clamp(0, ignored)
    end = end_positions.view(-1).clamp(0, ignored)
    start_loss = F.cross_entropy(start_logits.float(), start, ignore_index=ignored)
    end_loss = F.cross_entropy(end_logits.float(), end, ignore_index=ignored)
    return (start_loss + end_loss) / 2


class AlbertForMultipleChoice(AlbertPreTrainedModel):
    """ALBERT scoring each (context, choice) pair with one logit; inputs are (B, choices, S).

    The pooled vector of each choice follows config.classifier_pooling ("cls" or "mean" over its real tokens).
    """

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__(config)
        self.albert = AlbertModel(config)
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
            flat(input_ids), flat(attention_mask), flat(token_type_ids), flat(position_ids), head_mask,
            flat(inputs_embeds), output_attentions, output_hidden_states,
        )  # fmt: skip
        pooled = _sentence_pooled(self.albert, outputs, flat(attention_mask))  # (B*choices, H)
        logits = self.classifier(self.dropout(pooled)).view(-1, num_choices)  # (B, choices)
        loss = None
        if labels is not None:
            _check_class_labels(labels, num_choices)
            loss = F.cross_entropy(logits.float(), labels.view(-1))
        return _finish(MultipleChoiceModelOutput(loss, logits, outputs.hidden_states, outputs.attentions), return_dict)
