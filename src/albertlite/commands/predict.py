"""``albertlite predict``: run a fine-tuned model over a data file and write one JSON line per example."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from albertlite.checkpoints.files import atomic_write_text
from albertlite.checkpoints.run_dir import check_apart
from albertlite.data.tasks import TASKS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="Predict with a fine-tuned model over a JSONL/CSV/TSV file.",
        description="Write one JSON object per input example: label/score (text-classification), tags "
        "(token-classification), answer/start/end/score (question-answering), label/scores (multiple-choice).",
    )
    parser.add_argument("--task", choices=TASKS, help="The task (default: the one recorded in the model's task.json).")
    parser.add_argument("--model", required=True, metavar="DIR", help="A fine-tuned model directory or Hub id.")
    parser.add_argument("--input", required=True, metavar="FILE", help="Examples (.jsonl, .json, .csv, .tsv).")
    parser.add_argument("--output", required=True, metavar="FILE", help="Where the JSON lines go ('-': stdout).")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, help="Longest sequence (default 128, capped by the model).")
    parser.add_argument("--version-2", action="store_true", help="QA: allow 'no answer' (SQuAD 2).")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from albertlite.train.finetune import FinetuneSettings, predict

    if not Path(args.input).is_file():
        raise FileNotFoundError(f"--input {args.input}: no such file.")
    if args.output != "-":
        check_apart(args.output, "--output", {"--input": args.input, "--model": args.model})
    task = args.task or _recorded_task(args.model)
    rows = predict(
        task, args.model, args.input, batch_size=args.batch_size, max_length=args.max_length,
        settings=FinetuneSettings(version_2=args.version_2),
    )  # fmt: skip
    text = "".join(json.dumps(row) + "\n" for row in rows)
    if args.output == "-":
        print(text, end="")
    else:
        atomic_write_text(args.output, text)  # a reader never sees half the predictions
        print(f"wrote {len(rows)} predictions to {args.output}")
    return 0


def _recorded_task(model: str) -> str:
    path = Path(model) / "task.json"
    if not path.is_file():
        raise ValueError(f"{model} records no task (no task.json): give --task.")
    return json.loads(path.read_text())["task"]
