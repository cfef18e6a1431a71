"""``albertlite.optimize``: the lossy (bf16, int8) and compiled inference modes of a PyTorch ALBERT model."""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn
from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

from albertlite.fast.packed import FastOptions

__all__ = ["optimize"]

_DTYPES = (None, torch.float32, torch.bfloat16, torch.float16)


def optimize(
    model: nn.Module,
    dtype: torch.dtype | None = None,
    quantize: str | None = None,
    compile: bool = False,
    inplace: bool = False,
) -> nn.Module:
    """An inference copy of ``model`` (any albertlite PyTorch class), called exactly as the original.

    Args:
        model: an ``albertlite`` PyTorch model (``AlbertModel`` or any head).
        dtype: ``torch.bfloat16`` (or ``torch.float16`` on GPU) runs the fast path's linear layers, attention and
            residual stream in that dtype, keeping embeddings, LayerNorm's statistics (float32 weights) and outputs
            in float32 (pooled outputs stay within cosine 0.999 of float32 on ALBERT-base shapes). None or float32:
            full precision.
        quantize: ``"int8"`` quantizes the encoder's linear layers with ``torch.ao`` dynamic quantization
            (int8 per-channel weights, activations quantized per call); the plain path and the fast path then run
            the same int8 kernels. Embeddings and heads stay float32.
        compile: wrap the result in ``torch.compile(dynamic=True)``. Graph capture cannot follow the
            data-dependent packing, so the compiled model runs the padded plain path through inductor.
        inplace: change ``model`` itself instead of a copy.

    Returns:
        The optimized model in eval mode. Calls that the fast path does not cover (training, gradients,
        ``output_attentions``, ``head_mask``, ``inputs_embeds``) run the plain path at the model's own precision.

    Example:
        >>> fast = albertlite.optimize(model, dtype=torch.bfloat16)
        >>> with torch.inference_mode():
        ...     pooled = fast(**batch).pooler_output
    """
    if dtype not in _DTYPES:
        raise ValueError(f"dtype must be None, torch.float32, torch.bfloat16 or torch.float16, got {dtype!r}.")
    if quantize not in (None, "int8"):
        raise ValueError(f"quantize must be None or 'int8', got {quantize!r}.")
    if quantize is not None and dtype not in (None, torch.float32):
        raise ValueError("Choose one of dtype=bfloat16/float16 and quantize='int8': int8 layers compute in int8.")
    base = getattr(model, "base_model", None)
    if base is None or not hasattr(base, "encoder"):
        raise TypeError(f"optimize expects an albertlite PyTorch ALBERT model, got {type(model).__name__}.")
    if not inplace:
        model = copy.deepcopy(model)
    model.eval()
    model.base_model.fast_options = FastOptions(compute_dtype=None if dtype == torch.float32 else dtype)
    if quantize == "int8":
        _quantize_encoder(model)
    if compile:
        return torch.compile(model, dynamic=True)
    return model


def _quantize_encoder(model: nn.Module) -> None:
    """int8 per-channel dynamic quantization of the encoder's linear layers (where almost all FLOPs are)."""
    names = {
        name: per_channel_dynamic_qconfig
        for name, module in model.named_modules()
        if isinstance(module, nn.Linear) and (".encoder." in f".{name}")
    }
    with warnings.catch_warnings():
        # torch 2.13 marks torch.ao.quantization deprecated in favour of the separate torchao package; its dynamic
        # int8 kernels are still the ones shipped with torch, and the only ones available without another dependency.
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=r".*torch\.ao\.quantization")
        warnings.filterwarnings("ignore", category=UserWarning, message=r".*quantized tensor creation")
        quantize_dynamic(model, qconfig_spec=names, dtype=torch.qint8, inplace=True)
