"""``albertlite evaluate``: score a pretrained model on text files (MLM, SOP, and a unigram baseline)."""

from __future__ import annotations

import argparse
import json
from typing import Any

_ROWS = (
    ("mlm_loss", "MLM loss"),
    ("mlm_acc", "MLM accuracy"),
    ("sop_loss", "SOP loss"),
    ("sop_acc", "SOP accuracy"),
    ("unigram_mlm_loss", "unigram baseline MLM loss (add-one)"),
)
_UNAVAILABLE = {
    "sop_loss": "unavailable (no SOP head)",
    "sop_acc": "unavailable (no SOP head)",
    "unigram_mlm_loss": "unavailable (no unigram_counts.npy: not a pretrain output)",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="Score a pretrained model on text: masked-LM loss and accuracy, sentence order, unigram baseline.",
        description="Build sentence-order instances with fixed seeded masks from text files (the pretrain-data "
        "pipeline), so that runs and models compare on the same masked positions, and score a pretrained model "
        "directory on them: masked-LM loss and accuracy, sentence-order accuracy (unavailable for a masked-LM-only "
        "model), and beside them the masked-LM loss a unigram model of the model's training text scores on the same "
        "positions (add-one smoothed counts that `albertlite pretrain` writes to unigram_counts.npy).",
    )
    add = parser.add_argument
    add("model", metavar="MODEL", help="Model directory with its tokenizer (a pretrain output, or a masked-LM model).")
    add("--input", nargs="+", required=True, metavar="FILE", help="Text files: a sentence per line, documents "
        "separated by blank lines.")  # fmt: skip
    add("--max-seq-length", type=int, help="Longest instance in tokens (default 128, or the model's "
        "max_position_embeddings when smaller).")  # fmt: skip
    add("--seed", type=int, default=12345, help="Seed of the instances and masks (default 12345).")
    add("--masked-lm-prob", type=float, default=0.15, help="Fraction of tokens masked (default 0.15).")
    add("--max-predictions-per-seq", type=int, default=20, help="Most masked tokens per instance (default 20).")
    add("--batch-size", type=int, default=32, help="Instances per forward pass (default 32).")
    add("--output", choices=("table", "json"), default="table", help="A table (default) or JSON for scripts.")
    add("--device", help="cpu, cuda or mps (default cpu).")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from albertlite.train.evaluation import evaluate_model

    result = evaluate_model(
        args.model, args.input, max_seq_length=args.max_seq_length, masked_lm_prob=args.masked_lm_prob,
        max_predictions_per_seq=args.max_predictions_per_seq, seed=args.seed, batch_size=args.batch_size,
        device=args.device,
    )  # fmt: skip
    print(json.dumps(result, indent=2) if args.output == "json" else table(result))
    return 0


def table(result: dict[str, Any]) -> str:
    """The figures of :func:`~albertlite.train.evaluation.evaluate_model` as a readable table."""
    lines = [
        f"{result['model']}: {result['instances']:,} instances, {result['masked']:,} masked positions "
        f"(seed {result['seed']}, max-seq-length {result['max_seq_length']}, masked-lm-prob {result['masked_lm_prob']})"
    ]
    width = max(len(label) for _, label in _ROWS)
    for key, label in _ROWS:
        value = result[key]
        lines.append(f"  {label:<{width}}  {_UNAVAILABLE[key] if value is None else f'{value:.4f}'}")
    return "\n".join(lines)
