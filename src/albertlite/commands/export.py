"""``albertlite export onnx MODEL_DIR OUTPUT.onnx``: an ONNX file for onnxruntime and other ONNX runtimes."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("export", help="Export a model for other runtimes (ONNX).")
    formats = parser.add_subparsers(dest="export_format", metavar="FORMAT")
    onnx = formats.add_parser(
        "onnx",
        help="One .onnx file with dynamic batch and sequence axes; the shared layer is stored once.",
        description="Export a model directory (or Hub id) to ONNX and check it with onnxruntime.",
    )
    onnx.add_argument("model", help="Model directory or Hub id (config.json + weights).")
    onnx.add_argument("output", help="The .onnx file to write.")
    onnx.add_argument("--task", metavar="TASK", help="Head to export: a task (text-classification, ...), 'base' or "
                      "'pretraining' (default: the head config.json names).")  # fmt: skip
    onnx.add_argument("--opset", type=int, help="ONNX opset version (default: the exporter's; torch 2.13 writes "
                      "18 to 22 and refuses others).")  # fmt: skip
    onnx.add_argument("--no-check", action="store_true", help="Skip the onnxruntime comparison with PyTorch.")
    onnx.set_defaults(handler=run_onnx)
    parser.set_defaults(handler=lambda args: _usage(parser))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_onnx(args: argparse.Namespace) -> int:
    import albertlite
    from albertlite.checkpoints.run_dir import check_apart
    from albertlite.export.onnx import check_opset, export_onnx
    from albertlite.tasks import registry

    check_opset(args.opset, "--opset")  # before the model loads
    check_apart(args.output, "OUTPUT", {"MODEL": args.model})

    config = albertlite.AlbertConfig.from_pretrained(args.model)
    architectures = config.extra.get("architectures") or []
    heads = {task.head for task in registry.REGISTRY} | {registry.PRETRAINING_HEAD}
    if args.task:
        class_name = registry.head_for(args.task)
    elif architectures and architectures[0] in heads:
        class_name = architectures[0]
    else:
        class_name = registry.get_task("feature-extraction").head
    model = getattr(albertlite, class_name).from_pretrained(args.model)
    path = export_onnx(model, args.output, opset=args.opset, check=not args.no_check)
    checked = "" if args.no_check else ", checked against PyTorch with onnxruntime"
    print(f"wrote {path} ({class_name}, {path.stat().st_size / 1e6:.1f} MB{checked})")
    return 0
