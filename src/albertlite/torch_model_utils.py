"""What every PyTorch ALBERT class can do besides its forward pass, as in transformers' ``PreTrainedModel``.

Device and dtype, parameter counts, the input embeddings, the attention implementation, gradient checkpointing,
vocabulary resizing and head pruning; and the checks every call gets on entry (:func:`check_call`: tensors of usable
dtypes, a 0/1 attention mask, int32 labels cast to int64), before any head touches its inputs.
``AlbertPreTrainedModel`` in ``modeling_torch.py`` inherits this mixin (and ``checkpoints/torch_io.py``'s loading and
saving); it needs the model's ``config``, ``spec``, ``base_model_prefix``, ``_init_weights`` and ``tie_weights``.
"""

from __future__ import annotations

import functools
import inspect
import math
from typing import Any

import torch
from torch import nn

from albertlite.heads import HeadSpec, check_head_config
from albertlite.validation import (
    ID_INPUTS,
    check_attention_mask_values,
    check_choices,
    check_input_dtypes,
)

# what torch.utils.checkpoint.checkpoint accepts besides the function and its arguments
CHECKPOINT_OPTIONS = frozenset({"use_reentrant", "preserve_rng_state", "context_fn", "determinism_check", "debug",
                                "early_stop"})  # fmt: skip


TENSOR_INPUTS = ("input_ids", "attention_mask", "token_type_ids", "position_ids", "head_mask", "inputs_embeds")


def dtype_name(dtype: torch.dtype) -> str:
    """The dtype as numpy spells it (``int64``), the spelling of :mod:`albertlite.validation`."""
    return str(dtype).removeprefix("torch.")


def _stray_mask_value(mask: torch.Tensor) -> float | None:
    """A value of ``mask`` other than 0 and 1 (NaN included), or None; not read while a graph is captured."""
    if mask.dtype == torch.bool or mask.numel() == 0 or torch.compiler.is_compiling():
        return None
    stray = (mask != 0) & (mask != 1)
    return float(mask[stray][0]) if bool(stray.any()) else None


def check_call(
    model: nn.Module, args: tuple, kwargs: dict[str, Any], *, names: tuple[str, ...]
) -> tuple[tuple, dict[str, Any]] | None:
    """Forward pre-hook of every PyTorch ALBERT class: refuse inputs it cannot use, with the shared messages.

    Inputs must be tensors (a list or numpy array is refused, naming ``torch.tensor``: PyTorch modules take
    tensors, as transformers' do); ids of any integer dtype, a 0/1 attention mask and embeddings in the model's
    dtype (:func:`albertlite.validation.check_input_dtypes`). Narrow integer ids and int32 labels become int64, the
    dtype PyTorch's embedding lookup and losses index with, so they give the int64 results.

    Args:
        model, args, kwargs: the module and its call's arguments, as torch hands them to the hook.
        names: the forward's parameter names (without self), to name positional arguments.

    Returns:
        The call's arguments with those casts, or None when nothing changed.
    """
    given = {**dict(zip(names, args)), **kwargs}
    spec: HeadSpec = model.spec
    for name in (*TENSOR_INPUTS, *spec.label_names):
        value = given.get(name)
        if value is not None and not isinstance(value, torch.Tensor):
            raise TypeError(
                f"{type(model).__name__} takes {name} as a torch.Tensor, got {type(value).__name__}: pass "
                f"torch.tensor({name}) (the TensorFlow and Flax models are the ones that take numpy arrays and lists)."
            )
    dtypes = {name: dtype_name(given[name].dtype) for name in TENSOR_INPUTS if given.get(name) is not None}
    check_input_dtypes(dtypes, dtype_name(model.get_input_embeddings().weight.dtype))
    if given.get("attention_mask") is not None:
        check_attention_mask_values(_stray_mask_value(given["attention_mask"]))
    if spec.name == "ForMultipleChoice":
        reference = given.get("input_ids") if given.get("input_ids") is not None else given.get("inputs_embeds")
        check_choices(None if reference is None else tuple(reference.shape))
    casts = {name: given[name].long() for name in ID_INPUTS if _narrow_integer(given.get(name))}
    casts.update({name: given[name].long() for name in spec.label_names if _is_int32(given.get(name))})
    if not casts:
        return None
    args = tuple(casts.pop(name) if name in casts else value for name, value in zip(names, args))
    return args, {**kwargs, **casts}


def _narrow_integer(tensor: torch.Tensor | None) -> bool:
    return tensor is not None and tensor.dtype not in (torch.int32, torch.int64)  # dtypes were checked: an integer


def _is_int32(tensor: torch.Tensor | None) -> bool:
    return tensor is not None and tensor.dtype == torch.int32


class TorchModelUtilities:
    """The model-level operations every PyTorch ALBERT class shares (see the module docstring)."""

    def _check_config_and_calls(self) -> None:
        """Refuse a config the head cannot follow now, and check every call's inputs on entry (:func:`check_call`)."""
        spec = getattr(self, "spec", None)
        if spec is not None:
            check_head_config(spec, self.config, type(self).__name__)
            # The names are read here, once: graph capture (torch.compile, torch.export) then traces no inspect.
            names = tuple(inspect.signature(type(self).forward).parameters)[1:]  # without self
            self.register_forward_pre_hook(functools.partial(check_call, names=names), with_kwargs=True)

    # --------------------------------------------------------------------------- properties
    @property
    def base_model(self) -> nn.Module:
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
            if hasattr(module, "attn_implementation"):  # every AlbertAttention
                module.attn_implementation = name

    # --------------------------------------------------------------------------- training utilities
    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs: dict[str, Any] | None = None) -> None:
        """Recompute each applied layer in the backward pass instead of storing its activations.

        Args:
            gradient_checkpointing_kwargs: keyword arguments of ``torch.utils.checkpoint.checkpoint``
                (``use_reentrant`` defaults to False; ``preserve_rng_state``, ``determinism_check`` ...).
        """
        kwargs = {"use_reentrant": False, **(gradient_checkpointing_kwargs or {})}
        unknown = sorted(set(kwargs) - CHECKPOINT_OPTIONS)
        if unknown:
            raise ValueError(f"gradient_checkpointing_kwargs: torch.utils.checkpoint takes no {', '.join(unknown)}.")
        encoder = self.base_model.encoder
        encoder.gradient_checkpointing, encoder.checkpoint_kwargs = True, kwargs

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
        head = getattr(self, "predictions", None)  # the MLM head of the models that have one
        if head is not None:
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
