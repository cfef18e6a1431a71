"""Padding-free ALBERT inference: the real tokens of a batch are packed into one (T, H) sequence.

Every linear layer then runs on the T real rows only (a real batch is often more than half padding), with Q, K and V
fused into one GEMM on the backend :mod:`albertlite.fast.gemm` measured fastest. Attention is computed within each
sequence, the result is scattered back to (B, S, H) at the end.

Outputs at real positions equal the plain path within 1e-4 (fp32). **Padded positions of ``last_hidden_state`` (and of
``hidden_states``) are zeros** here, whereas the plain path fills them with values no-one should read.

Axis legend: B batch, S padded length, T real tokens in the batch, E embedding size, H hidden size, N heads,
D head size, Lmax longest real length.
"""

from __future__ import annotations

import dataclasses
import itertools
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from albertlite.fast import attention_choice
from albertlite.fast.gemm import Linear, make_linear
from albertlite.fast.quantized import QuantizedLinear, is_dynamic_quantized, quantized_linear
from albertlite.outputs import BaseModelOutputWithPooling

__all__ = ["FastOptions", "Packing", "can_run", "mask_packs", "pack", "packed_forward"]


@dataclass(frozen=True)
class FastOptions:
    """How the fast path runs a model; :func:`albertlite.optimize` sets them.

    Attributes:
        compute_dtype: dtype of the linear layers, attention and the residual stream between them (None: the model's
            dtype). Embeddings, LayerNorm's statistics and the returned tensors are in the model's dtype.
        attention: "auto" (measured per batch shape class, see :mod:`albertlite.fast.attention_choice`; "padded"
            while ``torch.use_deterministic_algorithms`` is on, as ``pretrain --deterministic`` sets), "loop"
            (one SDPA call per sequence) or "padded" (one SDPA call on the real tokens re-padded to the longest
            sequence); "loop-unfused" and "padded-unfused" compute the same attention as matmul, softmax, matmul.
    """

    compute_dtype: torch.dtype | None = None
    attention: str = "auto"


# ----------------------------------------------------------------------------------------------- packing
@dataclass
class Packing:
    """Where the real tokens of a (B, S) batch are: ``index`` into the flattened batch, row by row."""

    batch: int
    seq_len: int
    index: torch.Tensor | None  # (T,) positions in B*S; None when there is no padding
    lengths: list[int]  # real tokens per row
    columns: torch.Tensor  # (T,) column of each real token in its row (its absolute position)
    rank: torch.Tensor  # (T,) index of each token among its row's real tokens
    cache: dict = field(default_factory=dict)  # per-batch tensors shared by all layers

    @property
    def offsets(self) -> list[int]:
        out = [0]
        for length in self.lengths:
            out.append(out[-1] + length)
        return out

    @property
    def total(self) -> int:
        return sum(self.lengths)


def pack(attention_mask: torch.Tensor | None, batch: int, seq_len: int, device: torch.device) -> Packing:
    """Locate the real tokens of a (B, S) attention mask (None: no padding)."""
    if attention_mask is None or bool(attention_mask.to(torch.bool).all()):
        columns = torch.arange(seq_len, device=device).repeat(batch)
        return Packing(batch, seq_len, None, [seq_len] * batch, columns, columns)
    keep = attention_mask.to(torch.bool)  # (B, S)
    index = keep.reshape(-1).nonzero().squeeze(1)  # (T,)
    lengths = keep.sum(dim=1).tolist()
    rank = (keep.cumsum(dim=1) - 1).reshape(-1)[index]
    return Packing(batch, seq_len, index, lengths, index % seq_len, rank)


def _gather(packing: Packing, tensor: torch.Tensor) -> torch.Tensor:
    """(B, S, ...) -> (T, ...): the rows of the real tokens."""
    flat = tensor.reshape(packing.batch * packing.seq_len, *tensor.shape[2:])
    return flat if packing.index is None else flat.index_select(0, packing.index)


def _scatter(packing: Packing, packed: torch.Tensor) -> torch.Tensor:
    """(T, H) -> (B, S, H) with zeros at padded positions."""
    if packing.index is None:  # (the width is spelt out: -1 cannot be inferred for an empty batch)
        return packed.view(packing.batch, packing.seq_len, packed.shape[1])
    out = packed.new_zeros(packing.batch * packing.seq_len, packed.shape[1])
    out.index_copy_(0, packing.index, packed)
    return out.view(packing.batch, packing.seq_len, -1)


# ----------------------------------------------------------------------------------------------- prepared weights
def _linear(modules: list[nn.Module], dtype: torch.dtype) -> Linear | QuantizedLinear:
    """One GEMM for several linear layers reading the same input (their outputs concatenated)."""
    if all(is_dynamic_quantized(m) for m in modules):
        return quantized_linear(modules)
    weight = torch.cat([m.weight.detach() for m in modules]).to(dtype)
    bias = torch.cat([m.bias.detach() for m in modules]).to(dtype)
    return make_linear(weight, bias)


class FastLayer:
    """One AlbertLayer's weights laid out for the packed path: fused QKV, pre-packed GEMM weights."""

    def __init__(self, layer: nn.Module, hidden_act: str, dtype: torch.dtype) -> None:
        attention = layer.attention
        self.heads = attention.num_attention_heads
        self.head_size = attention.attention_head_size
        self.qkv = _linear([attention.query, attention.key, attention.value], dtype)
        self.dense = _linear([attention.dense], dtype)
        self.ffn = _linear([layer.ffn], dtype)
        self.ffn_output = _linear([layer.ffn_output], dtype)
        self.attention_norm = attention.LayerNorm
        self.output_norm = layer.full_layer_layer_norm
        self.activation = layer.activation
        self.hidden_act = hidden_act
        self.relative = attention.position_embedding_type if attention.position_embedding_type != "absolute" else None
        self.distance = attention.distance_embedding.weight.detach() if self.relative else None
        self.max_positions = attention.max_position_embeddings


class FastEncoder:
    """The weights of an AlbertModel prepared for :func:`packed_forward` (built once, reused while unchanged)."""

    def __init__(self, model: nn.Module, options: FastOptions) -> None:
        model_dtype = model.embeddings.word_embeddings.weight.dtype
        self.dtype = options.compute_dtype or model_dtype
        self.options = options
        encoder = model.encoder
        self.mapping_in = _linear([encoder.embedding_hidden_mapping_in], self.dtype)
        config = model.config
        groups = [
            [FastLayer(layer, config.hidden_act, self.dtype) for layer in group.albert_layers]
            for group in encoder.albert_layer_groups
        ]
        self.layers = [layer for i in range(config.num_hidden_layers) for layer in groups[config.group_of_layer(i)]]
        self.pooler = _linear([model.pooler], self.dtype) if model.pooler is not None else None


_ENCODERS: weakref.WeakKeyDictionary[nn.Module, tuple[tuple, FastEncoder]] = weakref.WeakKeyDictionary()


def _signature(model: nn.Module, options: FastOptions) -> tuple:
    # data_ptr and _version change on reassignment and on in-place updates (optimizer steps, load_state_dict).
    # Tensors made under torch.inference_mode keep no version counter: only their storage is checked.
    return (
        options,
        *((p.data_ptr(), -1 if p.is_inference() else p._version, p.dtype, p.device) for p in model.parameters()),
    )


def call_options(model: nn.Module, device: torch.device) -> FastOptions:
    """The model's options for a call made now: inside ``torch.autocast`` (pretraining's held-out evaluation under
    ``--bf16``) and with no compute dtype of its own, the fast path computes in the autocast dtype."""
    options = getattr(model, "fast_options", None) or FastOptions()
    if options.compute_dtype is None and torch.is_autocast_enabled(device.type):
        options = dataclasses.replace(options, compute_dtype=torch.get_autocast_dtype(device.type))
    return options


def fast_encoder(model: nn.Module, options: FastOptions) -> FastEncoder:
    """The prepared weights of ``model`` for ``options``, rebuilt when its parameters or the options changed."""
    signature = _signature(model, options)
    cached = _ENCODERS.get(model)
    if cached is None or cached[0] != signature:
        cached = (signature, FastEncoder(model, options))
        _ENCODERS[model] = cached
    return cached[1]


# ----------------------------------------------------------------------------------------------- when it applies
def can_run(
    model: nn.Module,
    input_ids: torch.Tensor | None,
    attention_mask: torch.Tensor | None,
    head_mask: torch.Tensor | None,
    inputs_embeds: torch.Tensor | None,
    output_attentions: bool,
) -> bool:
    """Whether :func:`packed_forward` reproduces the plain path for this call (otherwise the plain path runs)."""
    if model.training or torch.is_grad_enabled() or output_attentions or head_mask is not None:
        return False
    if inputs_embeds is not None or input_ids is None or input_ids.dim() != 2:
        return False
    # Graph capture (torch.export, ONNX, torch.compile, jit) cannot follow the data-dependent packing.
    if torch.jit.is_tracing() or torch.jit.is_scripting() or torch.compiler.is_compiling():
        return False
    if attention_mask is None:
        return True
    if attention_mask.shape != input_ids.shape:
        return False
    keep = attention_mask.to(torch.bool)
    if keep.numel() and not bool(keep.any()):  # nothing to pack (an empty batch packs into empty outputs)
        return False
    return mask_packs(model, keep)


def mask_packs(model: nn.Module, keep: torch.Tensor) -> bool:
    """Whether the real tokens ``keep`` (B, S) marks give the padded result when packed: the pooler reads position 0,
    which must then be real, and relative distances, taken between ranks, equal those between columns only in
    right-padded rows."""
    if model.pooler is not None and not bool(keep[:, 0].all()):
        return False
    if model.config.position_embedding_type != "absolute":
        prefix = torch.arange(keep.shape[1], device=keep.device)[None, :] < keep.sum(dim=1, keepdim=True)
        return bool((prefix == keep).all())
    return True


# ----------------------------------------------------------------------------------------------- forward
def _embed(
    model: nn.Module,
    packing: Packing,
    input_ids: torch.Tensor,
    token_type_ids: torch.Tensor | None,
    position_ids: torch.Tensor | None,
) -> torch.Tensor:
    """The embeddings of the real tokens, (T, E), computed with AlbertEmbeddings' own modules (before its dropout,
    which the training path applies: :mod:`albertlite.fast.packed_training`)."""
    embeddings = model.embeddings
    x = embeddings.word_embeddings(_gather(packing, input_ids))
    if embeddings.add_absolute_positions:
        if position_ids is None:
            positions = packing.columns
        else:
            positions = _gather(packing, position_ids.expand(packing.batch, packing.seq_len))
        x = x + embeddings.position_embeddings(positions)
    if token_type_ids is None:
        x = x + embeddings.token_type_embeddings.weight[0]
    else:
        x = x + embeddings.token_type_embeddings(_gather(packing, token_type_ids))
    return embeddings.LayerNorm(x)


def _relative_bias(layer: FastLayer, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
    """transformers 4.57's relative scores for (..., N, L, D) queries and keys of right-padded rows."""
    length = query.shape[-2]
    positions = torch.arange(length, device=query.device)
    distance = positions[:, None] - positions[None, :] + layer.max_positions - 1  # (L, L)
    table = F.embedding(distance, layer.distance).to(query.dtype)  # (L, L, D)
    scores = torch.einsum("...hld,lrd->...hlr", query, table)
    if layer.relative == "relative_key_query":
        scores = scores + torch.einsum("...hrd,lrd->...hlr", key, table)
    return scores


def _unfused_sdpa(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, attn_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """``softmax(q k^T / sqrt(D) + attn_mask) v`` as two batched GEMMs and a softmax: on short sequences some CPUs
    run this faster than SDPA's fused kernel (measured per shape class, never assumed)."""
    scores = torch.matmul(q, k.transpose(-1, -2)).mul_(q.shape[-1] ** -0.5)  # (..., N, L, L)
    if attn_mask is not None:
        scores = scores + attn_mask
    return torch.matmul(torch.softmax(scores, dim=-1), v)  # (..., N, L, D)


# attention kernel -> the SDPA implementation it calls
_SDPA = {"fused": F.scaled_dot_product_attention, "unfused": _unfused_sdpa}


def _attention_loop(layer: FastLayer, qkv: torch.Tensor, packing: Packing, kernel: str = "fused") -> torch.Tensor:
    """One SDPA call per sequence on its slice of the packed (T, 3H) projections."""
    sdpa = _SDPA[kernel]
    heads, size = layer.heads, layer.head_size
    context = qkv.new_empty(qkv.shape[0], heads * size)  # (T, H)
    offsets = packing.offsets
    for start, end in itertools.pairwise(offsets):
        if end == start:
            continue
        # 4-D (1, N, L, D) views: CPU SDPA runs its fused (flash) kernel on 4-D inputs only, 3-D ones take the
        # unfused math path (several ops per call).
        q, k, v = qkv[start:end].view(1, end - start, 3, heads, size).permute(2, 0, 3, 1, 4)  # each (1, N, L, D)
        bias = _relative_bias(layer, q, k) if layer.relative else None
        out = sdpa(q, k, v, attn_mask=bias)  # (1, N, L, D)
        context[start:end].view(1, end - start, heads, size).copy_(out.transpose(1, 2))
    return context


def _padded_layout(packing: Packing, qkv: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Slots of the real tokens in (B * Lmax), a zeroed (B * Lmax, 3H) buffer, the key mask and each token's row;
    made once per batch and shared by all layers."""
    key = (qkv.shape[1], qkv.dtype)
    if key not in packing.cache:
        longest = max(packing.lengths)
        lengths = torch.tensor(packing.lengths, device=qkv.device)
        rows = torch.arange(packing.batch, device=qkv.device).repeat_interleave(lengths)
        slots = rows * longest + packing.rank  # (T,)
        buffer = qkv.new_zeros(packing.batch * longest, qkv.shape[1])
        keys = torch.arange(longest, device=qkv.device)[None, :] < lengths[:, None]  # (B, Lmax)
        bias = torch.zeros(keys.shape, dtype=qkv.dtype, device=qkv.device)
        bias = bias.masked_fill(~keys, torch.finfo(qkv.dtype).min)[:, None, None, :]  # (B, 1, 1, Lmax)
        packing.cache[key] = (slots, buffer, bias, rows)
    return packing.cache[key]


def _attention_padded(layer: FastLayer, qkv: torch.Tensor, packing: Packing, kernel: str = "fused") -> torch.Tensor:
    """One SDPA call on the projections re-padded to the longest sequence (B, N, Lmax, D), masked."""
    heads, size, sdpa = layer.heads, layer.head_size, _SDPA[kernel]
    longest = max(packing.lengths)
    if min(packing.lengths) == longest:  # no padding: the packed rows already are (B, S)
        q, k, v = qkv.view(packing.batch, longest, 3, heads, size).permute(2, 0, 3, 1, 4)
        bias = _relative_bias(layer, q, k) if layer.relative else None
        out = sdpa(q, k, v, attn_mask=bias)  # (B, N, S, D)
        return out.transpose(1, 2).reshape(qkv.shape[0], heads * size)
    slots, padded, bias, rows = _padded_layout(packing, qkv)
    padded.index_copy_(0, slots, qkv)  # the padded rows stay zero from layer to layer
    q, k, v = padded.view(packing.batch, longest, 3, heads, size).permute(2, 0, 3, 1, 4)  # each (B, N, Lmax, D)
    if layer.relative:
        bias = bias + _relative_bias(layer, q, k)
    out = sdpa(q, k, v, attn_mask=bias)  # (B, N, Lmax, D)
    # One gather straight from the (B, Lmax, N, D) view: no intermediate contiguous copy.
    return out.transpose(1, 2)[rows, packing.rank].view(-1, heads * size)  # (T, H)


def _attention_kernels(layer: FastLayer, qkv: torch.Tensor, packing: Packing) -> dict[str, Callable[[], torch.Tensor]]:
    """The exact ways to attend within each sequence of this batch, by mode name (see attention_choice)."""
    kernels = {
        "padded": lambda: _attention_padded(layer, qkv, packing),
        "padded-unfused": lambda: _attention_padded(layer, qkv, packing, "unfused"),
    }
    if packing.batch > 1 and min(packing.lengths) < max(packing.lengths):  # no padding: the loop is padded's work
        kernels["loop"] = lambda: _attention_loop(layer, qkv, packing)
        kernels["loop-unfused"] = lambda: _attention_loop(layer, qkv, packing, "unfused")
    return kernels


def _attention(layer: FastLayer, qkv: torch.Tensor, packing: Packing, mode: str) -> torch.Tensor:
    """The (T, H) context of every token, in ``qkv``'s dtype."""
    if packing.batch == 0:  # an empty batch: no token, nothing to attend (and no lengths to choose a kernel by)
        return qkv.new_zeros(0, layer.heads * layer.head_size)
    if mode == "auto" and torch.are_deterministic_algorithms_enabled():
        mode = "padded"  # the kernels differ in the last bits: a timed choice could flip between reruns and resumes
    if mode == "auto":
        key = attention_choice.shape_class(packing.lengths, qkv.dtype, qkv.device)
        mode, measured = attention_choice.choose(key, _attention_kernels(layer, qkv, packing))
        if measured is not None:
            return measured
    placement, _, kernel = mode.partition("-")
    if placement == "loop":
        return _attention_loop(layer, qkv, packing, kernel or "fused")
    return _attention_padded(layer, qkv, packing, kernel or "fused")


def _run_layer(layer: FastLayer, x: torch.Tensor, packing: Packing, mode: str) -> torch.Tensor:
    """One AlbertLayer on packed (T, H) states: attention, residual + LayerNorm, FFN, residual + LayerNorm."""
    context = _attention(layer, layer.qkv(x), packing, mode)  # (T, H)
    attended = layer.attention_norm(layer.dense.add(context, x))
    hidden = layer.ffn.activated(attended, layer.hidden_act, layer.activation)  # (T, I)
    return layer.output_norm(layer.ffn_output.add(hidden, attended))


def packed_forward(
    model: nn.Module,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor | None,
    token_type_ids: torch.Tensor | None,
    position_ids: torch.Tensor | None,
    output_hidden_states: bool = False,
) -> BaseModelOutputWithPooling:
    """AlbertModel's forward pass on the real tokens only (call when :func:`can_run` holds).

    Args:
        model: an ``albertlite.AlbertModel`` in eval mode.
        input_ids, attention_mask, token_type_ids, position_ids: as for ``AlbertModel.forward``.
        output_hidden_states: also return the states after the embedding projection and after every applied layer.

    Returns:
        The same output as the plain path, with zeros at padded positions of the (B, S, H) tensors.
    """
    # The fast path chooses its own dtypes: autocast's per-op casts would mix dtypes inside its fused GEMMs (a bf16
    # activation against a float32 bias), so it computes in the autocast dtype with autocast off.
    encoder = fast_encoder(model, call_options(model, input_ids.device))
    with torch.autocast(input_ids.device.type, enabled=False):
        batch, seq_len = input_ids.shape
        packing = pack(attention_mask, batch, seq_len, input_ids.device)
        embedded = _embed(model, packing, input_ids, token_type_ids, position_ids)  # (T, E)
        residual_dtype = embedded.dtype
        # The residual stream stays in the compute dtype from layer to layer: the residual adds run in the GEMMs' output
        # pass, and LayerNorm (float32 weights) normalizes in float32 internally, with no conversion op in between.
        x = encoder.mapping_in(embedded.to(encoder.dtype))  # (T, H)
        states = [x.to(residual_dtype)] if output_hidden_states else None
        for layer in encoder.layers:
            x = _run_layer(layer, x, packing, encoder.options.attention)
            if states is not None:
                states.append(x.to(residual_dtype))
        pooled = None
        if encoder.pooler is not None:
            first = x[torch.tensor(packing.offsets[:-1], dtype=torch.long, device=x.device)]  # (B, H): each row's 1st
            pooled = torch.tanh(encoder.pooler(first)).to(residual_dtype)
        return BaseModelOutputWithPooling(
            last_hidden_state=_scatter(packing, x.to(residual_dtype)),
            pooler_output=pooled,
            hidden_states=None if states is None else tuple(_scatter(packing, s) for s in states),
        )
