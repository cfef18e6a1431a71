"""PyTorch numerics the ALBERT model classes share: activations, masks, pooling, label checks and losses.

Written once for PyTorch here so that every head of ``modeling_torch.py`` (and the padding-free path in
``fast/packed.py``) computes them the same way; ``tf_ops.py`` and ``flax_ops.py`` are the other frameworks'.

Axis legend: B batch, S sequence length, E embedding_size, H hidden_size, N heads, D head size (H / N),
I intermediate_size, V vocab_size, L applied layers (num_hidden_layers x inner_group_num).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from albertlite import heads
from albertlite.config import AlbertConfig
from albertlite.heads import HEADS, HeadSpec, LabelValues
from albertlite.outputs import OUTPUT_CLASSES, BaseModelOutputWithPooling, ModelOutput


def gelu_fast(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x)))


# "gelu_new" is the tanh approximation the original ALBERT uses; PyTorch's fused kernel computes it.
ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": F.gelu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_fast": gelu_fast,
    "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "linear": lambda x: x,
}


def register_outputs_as_pytrees() -> None:
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


def tensor_shape(tensor: torch.Tensor | None) -> tuple[int, ...] | None:
    return None if tensor is None else tuple(tensor.shape)


def value_range(tensor: torch.Tensor | None) -> tuple[int, int] | None:
    if tensor is None or tensor.numel() == 0:
        return None
    if torch.compiler.is_compiling():  # graph capture (torch.export, ONNX) cannot read values; eager calls do
        return None
    if tensor.is_floating_point():
        raise ValueError(f"Expected an integer tensor of ids, got dtype {tensor.dtype}.")
    return int(tensor.min()), int(tensor.max())


def additive_mask(attention_mask: torch.Tensor | None, dtype: torch.dtype) -> torch.Tensor | None:
    """(B, S) of 1 = attend, 0 = padding  ->  (B, 1, 1, S) of 0 and the dtype's minimum."""
    if attention_mask is None:
        return None
    keep = attention_mask.to(torch.bool)[:, None, None, :]
    return torch.zeros(keep.shape, dtype=dtype, device=keep.device).masked_fill(~keep, torch.finfo(dtype).min)


def expand_head_mask(head_mask: torch.Tensor | None, config: AlbertConfig) -> torch.Tensor | None:
    """[N] or [L, N] -> [L, N]: row k masks the k-th applied layer."""
    if head_mask is None:
        return None
    if head_mask.dim() == 1:
        head_mask = head_mask[None].expand(config.num_applied_layers, -1)
    return head_mask


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


def sentence_pooled(
    albert: nn.Module, outputs: BaseModelOutputWithPooling, attention_mask: torch.Tensor | None
) -> torch.Tensor:
    """The sentence vector of the classification heads: the CLS pooler output or, with classifier_pooling="mean",
    the same pooler (dense + tanh) applied to the masked mean of the last hidden states."""
    if albert.config.classifier_pooling == "cls":
        return outputs.pooler_output
    return albert.pooler_activation(albert.pooler(masked_mean(outputs.last_hidden_state, attention_mask)))


def _is_integer(labels: torch.Tensor) -> bool:
    return labels.dtype in (torch.long, torch.int)  # Hugging Face's test: other integer dtypes count as multi-label


def check_labels(
    spec: HeadSpec,
    config: AlbertConfig,
    labels: Mapping[str, torch.Tensor | None],
    batch_size: int | None = None,
    num_choices: int | None = None,
) -> None:
    """:func:`albertlite.heads.check_labels` on tensors; values are copied to the host only where a bound is checked."""
    values = {
        name: LabelValues(tuple(t.shape), _is_integer(t), lambda t=t: t.detach().cpu().numpy())
        for name, t in labels.items()
        if t is not None
    }
    heads.check_labels(spec, config, values, batch_size, num_choices)


def finish(output: ModelOutput, return_dict: bool | None) -> ModelOutput | tuple:
    return output if return_dict is not False else output.to_tuple()


def sequence_classification_loss(logits: torch.Tensor, labels: torch.Tensor, config: AlbertConfig) -> torch.Tensor:
    """MSE, cross-entropy or BCE with logits by :func:`albertlite.heads.problem_type`, after the spec's label check."""
    spec = HEADS["ForSequenceClassification"]
    check_labels(spec, config, {"labels": labels}, batch_size=len(logits))
    problem_type = heads.problem_type(spec, config, _is_integer(labels))
    if problem_type == "regression":
        if config.num_labels == 1:
            return F.mse_loss(logits.squeeze().float(), labels.squeeze().to(torch.float32))
        return F.mse_loss(logits.float(), labels.to(torch.float32))
    if problem_type == "single_label_classification":
        return F.cross_entropy(logits.view(-1, config.num_labels).float(), labels.view(-1))
    return F.binary_cross_entropy_with_logits(logits.float(), labels.to(torch.float32))


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
