"""Padding-free training: the forward (and so the backward) pass on the real tokens of a padded batch only.

A fine-tuning batch of varied-length sentences is often more than half padding, and the padded path computes every
padded position forward and backward. Here the real tokens are packed into one (T, ...) sequence as the inference
path does (:mod:`albertlite.fast.packed`), but every operation is the model's own differentiable module: the
embeddings, each linear layer, LayerNorm and dropout run on T rows; attention stays within each sequence. Gradients
reach the same parameters as the padded step's and equal them (tests); the outputs equal the padded path's at real
positions and are zeros at padded ones.

It runs when the model trains with gradients on, at least :data:`MIN_PADDING_SHARE` of the batch's positions are
padding, the fast-path switch is on
(:func:`albertlite.fast_path`) and ``AlbertModel.packed_training`` is True (the default; ``finetune --no-packed`` and
``pretrain --no-packed`` set it False), and the call has no ``head_mask``, ``output_attentions`` or ``inputs_embeds``.
Below that share packing may not pay: packing and re-padding around each layer's attention cost about what the few
skipped positions save. Measured twice on a 2-core AMD EPYC (training step, packed vs padded, same weights,
alternating rounds; 128 wide and 4 layers, 256 wide, ALBERT-base): at 5% padding 0.85-0.94x, 1.01-1.02x,
0.98-1.01x; at 10% 0.92-1.01x, 0.96-1.06x, 1.08-1.12x; at 20% 1.11-1.14x, 1.17x, 1.17-1.18x; at 50% 1.61-1.74x,
1.97x, 1.88-1.98x (``benchmarks/bench_training.py``, sweep). 20% is the lowest share measured where every size gains
in both runs.
Dropout draws from torch's generator as the padded path does, one mask per real token, so a seeded run repeats
exactly (its masks differ from the padded path's, whose draws also cover padded positions).

Axis legend: B batch, S padded length, T real tokens, E embedding size, H hidden size, N heads, D head size,
Lmax longest real length.
"""

from __future__ import annotations

import contextvars
import itertools

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from albertlite.fast.packed import Packing, _embed, _scatter, mask_packs, pack
from albertlite.outputs import BaseModelOutputWithPooling

__all__ = ["MIN_PADDING_SHARE", "can_train", "packed_layout", "packed_train_forward"]

# Packing pays from about this share of padded positions on (measured, see the module docstring).
MIN_PADDING_SHARE = 0.20

# While the packed encoder runs: (row of each real token, its column), so that dropout keyed by sample position
# (albertlite.train.sample_dropout) draws for a (T, ...) input the masks the padded (B, S, ...) input gets there.
_LAYOUT: contextvars.ContextVar[tuple[torch.Tensor, torch.Tensor] | None] = contextvars.ContextVar(
    "albertlite_packed_layout", default=None
)


def packed_layout() -> tuple[torch.Tensor, torch.Tensor] | None:
    """(rows, columns) of the real tokens while the packed training encoder runs, else None."""
    return _LAYOUT.get()


def can_train(
    model: nn.Module,
    input_ids: torch.Tensor | None,
    attention_mask: torch.Tensor | None,
    head_mask: torch.Tensor | None,
    inputs_embeds: torch.Tensor | None,
    output_attentions: bool,
) -> bool:
    """Whether :func:`packed_train_forward` gives this training call's result (otherwise the padded path runs)."""
    if not (model.training and torch.is_grad_enabled() and getattr(model, "packed_training", True)):
        return False
    if output_attentions or head_mask is not None or inputs_embeds is not None or attention_mask is None:
        return False
    if input_ids is None or input_ids.dim() != 2 or attention_mask.shape != input_ids.shape:
        return False
    if torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling():
        return False
    if any(layer.attention.attn_implementation != "sdpa" for layer in model.encoder.execution_order()):
        return False
    keep = attention_mask.to(torch.bool)
    if not bool(keep.any(dim=1).all()):
        return False  # a row without real tokens: the padded path defines its output
    if 1.0 - float(keep.float().mean()) < MIN_PADDING_SHARE:
        return False  # too little padding to pay for the packing

    return mask_packs(model, keep)


def packed_train_forward(
    model: nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    token_type_ids: torch.Tensor | None,
    position_ids: torch.Tensor | None,
    output_hidden_states: bool = False,
) -> BaseModelOutputWithPooling:
    """AlbertModel's training forward pass on the real tokens only (call when :func:`can_train` holds)."""
    batch, seq_len = input_ids.shape
    packing = pack(attention_mask, batch, seq_len, input_ids.device)
    rows = torch.arange(batch, device=input_ids.device).repeat_interleave(
        torch.tensor(packing.lengths, device=input_ids.device)
    )  # (T,)
    token = _LAYOUT.set((rows, packing.columns))
    try:
        return _encode(model, packing, input_ids, token_type_ids, position_ids, output_hidden_states)
    finally:
        _LAYOUT.reset(token)


def _encode(
    model: nn.Module,
    packing: Packing,
    input_ids: torch.Tensor,
    token_type_ids: torch.Tensor | None,
    position_ids: torch.Tensor | None,
    output_hidden_states: bool,
) -> BaseModelOutputWithPooling:
    x = model.encoder.embedding_hidden_mapping_in(
        model.embeddings.dropout(_embed(model, packing, input_ids, token_type_ids, position_ids))
    )
    states = [x] if output_hidden_states else None
    checkpointing = model.encoder.gradient_checkpointing
    options = getattr(model, "fast_options", None)
    mode = options.attention if options is not None else "auto"
    for layer in model.encoder.execution_order():
        if checkpointing:
            x = checkpoint(_layer, layer, x, packing, mode, **model.encoder.checkpoint_kwargs)
        else:
            x = _layer(layer, x, packing, mode)
        if states is not None:
            states.append(x)
    pooled = None
    if model.pooler is not None:
        first = x[torch.tensor(packing.offsets[:-1], device=x.device)]  # (B, H): position 0 of every row
        pooled = model.pooler_activation(model.pooler(first))
    return BaseModelOutputWithPooling(
        last_hidden_state=_scatter(packing, x),
        pooler_output=pooled,
        hidden_states=None if states is None else tuple(_scatter(packing, s) for s in states),
    )


def _layer(layer: nn.Module, x: torch.Tensor, packing: Packing, mode: str) -> torch.Tensor:
    """One AlbertLayer on packed (T, H) states, with the layer's own modules."""
    attention = layer.attention
    context = _attend(attention, attention.query(x), attention.key(x), attention.value(x), packing, mode)  # (T, H)
    attended = attention.LayerNorm(x + attention.output_dropout(attention.dense(context)))
    ffn = layer.dropout(layer.ffn_output(layer.activation(layer.ffn(attended))))
    return layer.full_layer_layer_norm(ffn + attended)


# ----------------------------------------------------------------------------------------------- attention
def _attend(
    attention: nn.Module, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, packing: Packing, mode: str
) -> torch.Tensor:
    """Attention within each sequence of the packed (T, H) projections.

    Unlike inference, training does not time the two kernels: their results differ in the last bits, and a choice
    that could flip between runs would break bit-exact reruns and resumes. "auto" is the one padded SDPA call;
    ``FastOptions(attention="loop")`` on the model selects one call per sequence (benchmarks/bench_training.py
    measures both).
    """
    if mode == "loop":
        return _attend_loop(attention, q, k, v, packing)
    return _attend_padded(attention, q, k, v, packing)


def _dropout(attention: nn.Module) -> float:
    return attention.attention_dropout.p if attention.training else 0.0


def _relative(attention: nn.Module, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor | None:
    """The layer's relative-position scores for right-padded (..., N, L, D) rows, or None for absolute positions."""
    return None if attention.position_embedding_type == "absolute" else attention._relative_scores(query, key)


def _attend_loop(
    attention: nn.Module, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, packing: Packing
) -> torch.Tensor:
    """One SDPA call per sequence on its slice of the packed projections."""
    heads, size = attention.num_attention_heads, attention.attention_head_size
    outputs = []
    for start, end in itertools.pairwise(packing.offsets):
        qs, ks, vs = (t[start:end].view(end - start, heads, size).transpose(0, 1) for t in (q, k, v))  # (N, L, D)
        out = F.scaled_dot_product_attention(
            qs, ks, vs, attn_mask=_relative(attention, qs, ks), dropout_p=_dropout(attention)
        )
        outputs.append(out.transpose(0, 1).reshape(end - start, heads * size))
    return torch.cat(outputs)  # (T, H)


def _attend_padded(
    attention: nn.Module, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, packing: Packing
) -> torch.Tensor:
    """One SDPA call on the projections re-padded to the longest sequence (B, N, Lmax, D), masked."""
    heads, size = attention.num_attention_heads, attention.attention_head_size
    batch, longest = packing.batch, max(packing.lengths)
    lengths = torch.tensor(packing.lengths, device=q.device)
    rows = torch.arange(batch, device=q.device).repeat_interleave(lengths)  # (T,)
    slots = rows * longest + packing.rank  # (T,) places in (B * Lmax)
    qkv = torch.cat([q, k, v], dim=1)  # (T, 3H)
    padded = qkv.new_zeros(batch * longest, qkv.shape[1]).index_copy(0, slots, qkv)
    qp, kp, vp = padded.view(batch, longest, 3, heads, size).permute(2, 0, 3, 1, 4)  # each (B, N, Lmax, D)
    keys = torch.arange(longest, device=q.device)[None, :] < lengths[:, None]  # (B, Lmax)
    bias = torch.zeros(keys.shape, dtype=q.dtype, device=q.device).masked_fill(~keys, torch.finfo(q.dtype).min)
    bias = bias[:, None, None, :]  # (B, 1, 1, Lmax)
    relative = _relative(attention, qp, kp)
    if relative is not None:
        bias = bias + relative
    out = F.scaled_dot_product_attention(qp, kp, vp, attn_mask=bias, dropout_p=_dropout(attention))  # (B, N, Lmax, D)
    return out.transpose(1, 2)[rows, packing.rank].reshape(-1, heads * size)  # (T, H)
