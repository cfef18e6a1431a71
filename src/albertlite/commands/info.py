"""``albertlite info``: version, installed frameworks and devices, and a summary of a model directory."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

import albertlite


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("info", help="Show the version, installed frameworks and a model summary.")
    parser.add_argument("model", nargs="?", help="A model directory (or Hub id) to summarise.")
    parser.add_argument(
        "--fast-path",
        action="store_true",
        help="Also measure and print what the padding-free path runs on this machine (GEMM backends, attention "
        "kernel per dtype; a few seconds).",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    print(f"albertlite {albertlite.__version__}")
    for package, label in (("torch", "PyTorch"), ("tensorflow", "TensorFlow"), ("jax", "JAX"), ("flax", "Flax")):
        print(f"  {label:<10} {_version(package)}")
    print(f"  devices    {', '.join(_devices())}")
    if args.fast_path:
        from albertlite.fast.machine_report import report

        print("fast path (measured now, on ALBERT-base shapes):")
        print("\n".join(f"  {line}" for line in report()))
    if args.model:
        print(summarize_model(args.model))
    return 0


def _version(package: str) -> str:
    if importlib.util.find_spec(package) is None:
        return "not installed"
    from importlib.metadata import PackageNotFoundError, version

    for dist in (package, f"{package}-cpu"):
        try:
            return version(dist)
        except PackageNotFoundError:
            continue
    return "installed"


def _devices() -> list[str]:
    devices = ["cpu"]
    if importlib.util.find_spec("torch") is not None:
        import torch

        if torch.cuda.is_available():
            devices += [f"cuda:{i} ({torch.cuda.get_device_name(i)})" for i in range(torch.cuda.device_count())]
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            devices.append("mps")
    return devices


def summarize_model(name_or_path: str) -> str:
    """A few lines describing a model directory: shape, parameter count, files."""
    from albertlite.checkpoints.state_dict import locate_weights, read_weight_files

    config = albertlite.AlbertConfig.from_pretrained(name_or_path)
    kind, files = locate_weights(name_or_path)
    lines = [
        f"model      {name_or_path}",
        f"shape      E={config.embedding_size} H={config.hidden_size} layers={config.num_hidden_layers} "
        f"groups={config.num_hidden_groups} inner={config.inner_group_num} heads={config.num_attention_heads} "
        f"FFN={config.intermediate_size} vocab={config.vocab_size}",
        f"positions  {config.position_embedding_type}, max {config.max_position_embeddings}",
        f"labels     {json.dumps(config.id2label)}",
        f"weights    {kind} ({', '.join(Path(f).name for f in files)})",
    ]
    if kind.startswith("model.safetensors"):
        state = read_weight_files(kind, files, framework="np")
        lines.append(f"parameters {sum(v.size for v in state.values()):,}")
    return "\n".join(lines)
