"""The contenders of the inference benchmark: albertlite's modes and the engines a user would pick instead.

Every contender runs the same ALBERT weights on the same int64 numpy batch and gives the pooled output, so the
benchmark can time them side by side and compare their pooled vectors with transformers' fp32 ones:

- transformers 5 (fp32, and bf16 weights);
- albertlite: the plain padded path, the padding-free fast path in fp32, ``optimize(dtype=bfloat16)`` and
  ``optimize(quantize="int8")``;
- ONNX Runtime on albertlite's ONNX export: the plain graph with ORT's own graph optimisations, the graph after
  ORT's transformer optimizer (its attention / LayerNorm / GELU fusions), and ORT's dynamic int8 quantization;
- OpenVINO on the same ONNX file with f32 and bf16 inference precision (bf16 is its default on CPUs that have it).

Each contender has a ``precision`` (fp32, bf16 or int8): the GEMM peak its GFLOP/s is held against.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import albertlite
from albertlite.fast import fast_path, optimize

Batch = dict[str, np.ndarray]


@dataclass
class Contender:
    """One way to run the encoder.

    Args:
        name: the row's name in the tables.
        precision: fp32, bf16 or int8 (which GEMM peak it is measured against).
        bind: batch -> a zero-argument call that runs it (inputs converted beforehand, outside the timing).
        pooled: batch -> the pooled output (B, H) as float32 numpy, for the cosine against fp32.
        note: what the engine reported about itself (fusions made, precision actually used).
    """

    name: str
    precision: str
    bind: Callable[[Batch], Callable[[], Any]]
    pooled: Callable[[Batch], np.ndarray]
    note: str = ""


def _torch_batch(batch: Batch) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v) for k, v in batch.items()}


def torch_contender(name: str, precision: str, model: torch.nn.Module, fast: bool = True) -> Contender:
    def bind(batch: Batch) -> Callable[[], Any]:
        inputs = _torch_batch(batch)

        def run() -> Any:
            with torch.inference_mode(), fast_path(fast):
                return model(**inputs)

        return run

    def pooled(batch: Batch) -> np.ndarray:
        return bind(batch)().pooler_output.float().numpy()

    return Contender(name, precision, bind, pooled)


def torch_contenders(hf: torch.nn.Module, ours: torch.nn.Module) -> list[Contender]:
    hf_bf16 = copy.deepcopy(hf).to(torch.bfloat16)
    return [
        torch_contender("transformers fp32", "fp32", hf),
        torch_contender("transformers bf16", "bf16", hf_bf16),
        torch_contender("albertlite plain fp32", "fp32", ours, fast=False),
        torch_contender("albertlite fp32", "fp32", ours),
        torch_contender("albertlite bf16", "bf16", optimize(ours, dtype=torch.bfloat16)),
        torch_contender("albertlite int8", "int8", optimize(ours, quantize="int8")),
    ]


def export(ours: torch.nn.Module, directory: Path) -> Path:
    from albertlite.export.onnx import export_onnx

    return export_onnx(ours, directory / "albert.onnx")


# ----------------------------------------------------------------------------------------------- ONNX Runtime
def _ort_contender(name: str, precision: str, path: Path, threads: int, note: str = "") -> Contender:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    outputs = [o.name for o in session.get_outputs()]

    def bind(batch: Batch) -> Callable[[], Any]:
        feed = {i.name: batch[i.name] for i in session.get_inputs()}
        return lambda: session.run(None, feed)

    def pooled(batch: Batch) -> np.ndarray:
        return np.asarray(bind(batch)()[outputs.index("pooler_output")], dtype=np.float32)

    return Contender(name, precision, bind, pooled, note)


def onnxruntime_contenders(onnx_path: Path, config: albertlite.AlbertConfig, threads: int) -> list[Contender]:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    optimized = optimize_model(
        str(onnx_path), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
    )
    fusions = {op: n for op, n in optimized.get_fused_operator_statistics().items() if n}
    optimized_path = onnx_path.with_name("albert-ort-optimized.onnx")
    optimized.save_model_to_file(str(optimized_path))
    int8_path = onnx_path.with_name("albert-ort-int8.onnx")
    quantize_dynamic(str(onnx_path), str(int8_path), weight_type=QuantType.QInt8, per_channel=True)
    fused = ", ".join(f"{op} {n}" for op, n in sorted(fusions.items())) or "none"
    return [
        _ort_contender("onnxruntime fp32", "fp32", onnx_path, threads),
        _ort_contender("onnxruntime fp32, transformer optimizer", "fp32", optimized_path, threads, f"fused: {fused}"),
        _ort_contender("onnxruntime int8 (dynamic)", "int8", int8_path, threads),
    ]


# ----------------------------------------------------------------------------------------------- OpenVINO
def _openvino_contender(core: Any, model: Any, precision: str, threads: int) -> Contender:
    hint = {"fp32": "f32", "bf16": "bf16"}[precision]
    compiled = core.compile_model(
        model,
        "CPU",
        {"INFERENCE_PRECISION_HINT": hint, "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"},
    )
    used = compiled.get_property("INFERENCE_PRECISION_HINT")
    used = used.get_type_name() if hasattr(used, "get_type_name") else str(used)
    request = compiled.create_infer_request()
    pooler = compiled.output("pooler_output")

    def bind(batch: Batch) -> Callable[[], Any]:
        return lambda: request.infer(batch)

    def pooled(batch: Batch) -> np.ndarray:
        return np.asarray(bind(batch)()[pooler], dtype=np.float32)

    return Contender(f"OpenVINO {hint}", precision, bind, pooled, f"inference precision used: {used}")


def openvino_contenders(onnx_path: Path, threads: int, bf16: bool) -> list[Contender]:
    import openvino

    core = openvino.Core()
    model = openvino.convert_model(str(onnx_path))
    precisions = ["fp32", "bf16"] if bf16 else ["fp32"]
    return [_openvino_contender(core, model, precision, threads) for precision in precisions]


def available_peers() -> dict[str, bool]:
    import importlib.util

    return {name: importlib.util.find_spec(name) is not None for name in ("onnxruntime", "openvino")}
