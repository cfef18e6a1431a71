"""``albertlite predict``: run a model over a data file through its task's pipeline, one JSON line per example."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from albertlite.checkpoints.files import atomic_write_text
from albertlite.checkpoints.run_dir import check_apart
from albertlite.tasks.registry import TASKS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="Predict with a (fine-tuned) model over a JSONL/CSV/TSV file.",
        description="Write one JSON object per input example, as albertlite.pipeline returns it: label/score "
        "(text-classification), tokens/tags (token-classification), answer/start/end/score (question-answering), "
        "label/choice/score/scores (multiple-choice), predictions (masked-lm: fill-mask), embedding "
        "(feature-extraction). Input columns are the ones fine-tuning reads.",
    )
    parser.add_argument("--task", choices=TASKS, help="The task (default: the one the model records).")
    parser.add_argument("--model", required=True, metavar="DIR", help="A fine-tuned model directory or Hub id.")
    parser.add_argument("--input", required=True, metavar="FILE", help="Examples (.jsonl, .json, .csv, .tsv).")
    parser.add_argument("--output", required=True, metavar="FILE", help="Where the JSON lines go ('-': stdout).")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, help="Longest sequence (default: the model's maximum).")
    parser.add_argument("--version-2", action="store_true", help="QA: allow 'no answer' (SQuAD 2).")
    parser.add_argument("--top-k", type=int, help="fill-mask: predictions per mask (default 5).")
    parser.add_argument("--pooling", choices=("mean", "cls"), help="feature-extraction: how tokens become one "
                        "embedding (default mean).")  # fmt: skip
    parser.add_argument("--device", help="cpu, cuda, cuda:N or mps (default cpu).")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from albertlite.devices import resolve_device
    from albertlite.inference import predict

    resolve_device(args.device)  # named as the flag, before the model loads
    if not Path(args.input).is_file():
        raise FileNotFoundError(f"--input {args.input}: no such file.")
    if args.output != "-":
        check_apart(args.output, "--output", {"--input": args.input, "--model": args.model})
    rows = predict(
        args.model, args.input, task=args.task, batch_size=args.batch_size, max_length=args.max_length,
        device=args.device, **_call_parameters(args),
    )  # fmt: skip
    text = "".join(json.dumps(row) + "\n" for row in rows)
    if args.output == "-":
        print(text, end="")
    else:
        atomic_write_text(args.output, text)  # a reader never sees half the predictions
        print(f"wrote {len(rows)} predictions to {args.output}")
    return 0


def _call_parameters(args: argparse.Namespace) -> dict:
    """The pipeline parameters the flags given set."""
    given = {"handle_impossible_answer": args.version_2 or None, "top_k": args.top_k, "pooling": args.pooling}
    return {name: value for name, value in given.items() if value is not None}
