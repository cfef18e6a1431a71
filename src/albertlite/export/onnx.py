"""ONNX export of every albertlite PyTorch model, with the shared layer stored once.

The graph is captured by ``torch.export`` (the plain, padded path: graph capture cannot follow the padding-free
packing) and translated by ``torch.onnx``'s exporter, with dynamic batch and sequence axes. ALBERT's point is that its
layers share one set of weights; exporters that unroll the layer loop can store a copy of those weights per applied
layer (albert-base: 45 MB becoming 340 MB). After export, initializers with equal contents are merged, so each weight
(and each constant derived from it, such as a transposed kernel) is stored once whatever the exporter did.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from albertlite.checkpoints.files import atomic_write
from albertlite.fast import fast_path

__all__ = ["check_opset", "dedupe_initializers", "export_onnx", "onnx_inputs", "opset_range", "run_onnx"]

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
# From opset 23 the exporter writes scaled_dot_product_attention as ONNX's Attention op, which onnxruntime (1.32)
# refuses for ALBERT's (B, 1, 1, S) padding mask ("inconsistent q_sequence_length"): such a file would not run.
_LAST_RUNNABLE_OPSET = 22


def opset_range() -> tuple[int, int, int]:
    """(lowest, highest, default) opset this exporter writes ALBERT in.

    The lowest is the one torch.onnx implements its operators in (18 in torch 2.13): below it, torch converts the
    graph afterwards, and where that fails it keeps 18 without an error (``--opset 1`` wrote opset 18). The highest
    is torch.onnx's newest, capped at 22 (see ``_LAST_RUNNABLE_OPSET``).
    """
    from torch.onnx import _constants
    from torch.onnx._internal.exporter import _constants as exporter_constants

    lowest = int(exporter_constants.TORCHLIB_OPSET)
    return lowest, min(int(_constants.ONNX_MAX_OPSET), _LAST_RUNNABLE_OPSET), int(_constants.ONNX_DEFAULT_OPSET)


def check_opset(opset: int | None, name: str = "opset") -> None:
    """Refuse an opset the exporter does not write (ValueError), or one that is not a whole number (TypeError)."""
    if opset is None:
        return
    lowest, highest, default = opset_range()
    if isinstance(opset, bool) or not isinstance(opset, int):
        raise TypeError(f"{name} must be a whole number from {lowest} to {highest}, got {type(opset).__name__}")
    if not lowest <= opset <= highest:
        raise ValueError(f"{name} {opset} is outside the ONNX opsets this exporter writes: give {lowest} to {highest} "
                         f"(default {default}; torch {torch.__version__})")  # fmt: skip


class _Exportable(nn.Module):
    """The model called with the three id tensors by keyword, returning a flat tuple of tensors."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        output = self.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        return tuple(output.values())


def _is_multiple_choice(model: nn.Module) -> bool:
    return type(model).__name__ == "AlbertForMultipleChoice"


def onnx_inputs(model: nn.Module, batch: int = 2, seq_len: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """Example int64 inputs for ``model``: random ids, a right-padded attention mask, two segments."""
    config = model.config
    seq_len = min(seq_len, config.max_position_embeddings)
    shape = (batch, 2, seq_len) if _is_multiple_choice(model) else (batch, seq_len)
    rng = np.random.default_rng(seed)
    input_ids = rng.integers(5, config.vocab_size, size=shape, dtype=np.int64)
    lengths = rng.integers(max(2, seq_len // 2), seq_len + 1, size=shape[:-1])
    lengths.reshape(-1)[0] = seq_len
    attention_mask = (np.arange(seq_len) < lengths[..., None]).astype(np.int64)
    token_type_ids = ((np.arange(seq_len) >= lengths[..., None] // 2) * attention_mask).astype(np.int64)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}


def _dynamic_shapes(model: nn.Module) -> dict[str, dict[int, Any]]:
    batch = torch.export.Dim("batch", max=1 << 16)
    sequence = torch.export.Dim("sequence", max=model.config.max_position_embeddings)
    if _is_multiple_choice(model):
        choices = torch.export.Dim("choices", max=64)
        axes = {0: batch, 1: choices, 2: sequence}
    else:
        axes = {0: batch, 1: sequence}
    return {name: dict(axes) for name in INPUT_NAMES}


def _output_names(model: nn.Module, inputs: dict[str, torch.Tensor]) -> list[str]:
    with torch.no_grad(), fast_path(False):
        return list(model(**inputs).keys())


def export_onnx(
    model: nn.Module,
    path: str | os.PathLike,
    opset: int | None = None,
    check: bool = True,
    tolerance: float = 1e-4,
) -> Path:
    """Write ``model`` as one ONNX file with dynamic batch (and choices) and sequence axes.

    Args:
        model: any albertlite PyTorch ALBERT model (float32; bf16/int8 models are not exportable).
        path: the .onnx file to write (weights inside the file).
        opset: ONNX opset version (None: the exporter's default); :func:`opset_range` gives those accepted.
        check: run the file with onnxruntime on a padded example batch and compare with PyTorch.
        tolerance: largest absolute difference ``check`` accepts, relative to the output's scale.

    Returns:
        The path written. Inputs are ``input_ids``, ``attention_mask`` and ``token_type_ids`` (int64); outputs are
        named as the model's output fields (``last_hidden_state``, ``pooler_output``, ``logits``, ...).
    """
    import onnx

    check_opset(opset)
    model = model.eval()
    example = {k: torch.from_numpy(v) for k, v in onnx_inputs(model).items()}
    output_names = _output_names(model, example)
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)  # it lists every torchvision op it skips when torchvision is absent
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.filterwarnings("ignore", category=FutureWarning, message=r".*treespec")
            warnings.filterwarnings("ignore", category=UserWarning, message=r".*axis name")
            program = torch.onnx.export(
                _Exportable(model).eval(),
                (),
                kwargs=example,
                dynamic_shapes=_dynamic_shapes(model),
                input_names=list(INPUT_NAMES),
                output_names=output_names,
                opset_version=opset,
                dynamo=True,
                external_data=False,
                verbose=False,
            )
    finally:
        registration.setLevel(level)
    proto = dedupe_initializers(program.model_proto)
    _check_written_opset(proto, opset)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: onnx.save_model(proto, str(tmp)))
    if check:
        _check(model, path, tolerance)
    return path


def _check_written_opset(proto: Any, opset: int | None) -> None:
    """The exporter keeps another opset than asked when a conversion fails; refuse that rather than write it."""
    written = next((entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx")), None)
    if opset is not None and written != opset:
        raise ValueError(f"the exporter wrote opset {written} instead of the requested {opset}; nothing was written")


def dedupe_initializers(proto: Any) -> Any:
    """Merge initializers with equal dtype, shape and bytes; their uses point to the one kept. Returns ``proto``."""
    from onnx import numpy_helper

    graph = proto.graph
    first: dict[tuple, str] = {}
    renamed: dict[str, str] = {}
    kept = []
    for initializer in graph.initializer:
        array = numpy_helper.to_array(initializer)
        key = (array.dtype.str, array.shape, hashlib.sha256(array.tobytes()).hexdigest())
        if key in first:
            renamed[initializer.name] = first[key]
        else:
            first[key] = initializer.name
            kept.append(initializer)
    if not renamed:
        return proto
    del graph.initializer[:]
    graph.initializer.extend(kept)
    _rename_uses(graph, renamed)
    return proto


def _rename_uses(graph: Any, renamed: dict[str, str]) -> None:
    """Point node inputs (subgraphs included) at the kept initializer names."""
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renamed:
                node.input[i] = renamed[name]
        for attribute in node.attribute:
            if attribute.g is not None and attribute.g.node:
                _rename_uses(attribute.g, renamed)
            for subgraph in attribute.graphs:
                _rename_uses(subgraph, renamed)
    outputs = [o for o in graph.output if o.name in renamed]
    if outputs:
        raise ValueError(f"An initializer is also a graph output: {outputs[0].name}; cannot merge it.")


def run_onnx(path: str | os.PathLike, inputs: dict[str, np.ndarray], optimized: bool = True) -> dict[str, np.ndarray]:
    """Run an exported file with onnxruntime on CPU; returns outputs by name.

    Args:
        path: the .onnx file.
        inputs: int64 arrays named as :data:`INPUT_NAMES`.
        optimized: enable onnxruntime's graph optimisations (all levels).
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = (
        ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimized else ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    )
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, inputs)))


def _check(model: nn.Module, path: Path, tolerance: float) -> None:
    inputs = onnx_inputs(model, batch=3, seq_len=11, seed=1)
    got = run_onnx(path, inputs)
    with torch.no_grad(), fast_path(False):
        expected = model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
    mask = inputs["attention_mask"].astype(bool)
    for name, value in expected.items():
        reference = value.numpy()
        actual = got[name]
        if reference.shape[: mask.ndim] == mask.shape:  # per-token outputs: compare real positions
            reference, actual = reference[mask], actual[mask]
        error = float(np.abs(actual - reference).max()) / max(1.0, float(np.abs(reference).max()))
        if error > tolerance:
            raise ValueError(f"onnxruntime's {name} differs from PyTorch by {error:.2e} (> {tolerance}) in {path}.")
