"""``albertlite finetune``: fine-tune a checkpoint on a task from data files (or by a paper recipe)."""

from __future__ import annotations

import argparse
from pathlib import Path

from albertlite.tasks.registry import TRAINABLE_TASKS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "finetune",
        help="Fine-tune a model on a task from JSONL/CSV/TSV files.",
        description="Fine-tune ALBERT (PyTorch) and keep the best epoch, with its tokenizer and label names, in "
        "--output. Columns use the Hugging Face names: text/text_pair/label; tokens/tags; "
        "id/question/context/answers; context/question/choices/label; text (masked-lm).",
    )
    parser.add_argument("--task", choices=TRAINABLE_TASKS, help="The task (default: the recipe's).")
    parser.add_argument("--model", required=True, metavar="DIR_OR_HUB_ID", help="The checkpoint to start from.")
    parser.add_argument("--train", required=True, metavar="FILE", help="Training examples (.jsonl, .json, .csv, .tsv).")
    parser.add_argument("--validation", metavar="FILE", help="Validation examples, evaluated after every epoch.")
    parser.add_argument("--output", required=True, metavar="DIR", help="Where the fine-tuned model goes.")
    parser.add_argument("--config", metavar="FILE", help="JSON file of settings keyed by FinetuneSettings' "
                        "fields (learning_rate, batch_size, epochs, weight_decay ...); flags given win.")  # fmt: skip
    parser.add_argument("--recipe", metavar="NAME", help="A paper recipe: cola, sts-b, sst-2, mnli, qnli, qqp, rte, "
                        "mrpc, wnli, squad1, squad2, race (flags below override it).")  # fmt: skip
    parser.add_argument("--epochs", type=float, help="Passes over the training data (default 3).")
    parser.add_argument("--max-steps", type=int, help="Optimizer steps (overrides --epochs).")
    parser.add_argument("--lr", type=float, help="Peak learning rate (default 3e-5).")
    parser.add_argument("--batch-size", type=int, help="Examples per optimizer step (default 32).")
    parser.add_argument("--grad-accum", type=int, help="Micro-batches per optimizer step (default 1).")
    parser.add_argument("--max-length", type=int, help="Longest sequence in tokens (default 128, capped by the model).")
    parser.add_argument("--warmup-ratio", type=float, help="Fraction of steps for linear warm-up (default 0.1).")
    parser.add_argument("--doc-stride", type=int, help="QA: tokens shared by consecutive windows (default 128).")
    parser.add_argument("--version-2", action="store_true", default=None, help="QA: unanswerable questions (SQuAD 2).")
    parser.add_argument("--metric", help="Validation metric that picks the best epoch (default: the task's).")
    parser.add_argument("--patience", type=int, help="Stop after this many epochs without improvement.")
    parser.add_argument("--classifier-pooling", choices=("cls", "mean"),
                        help="Sentence heads: ALBERT's first-token pooler or the mean of the tokens (default: the "
                        "checkpoint's, normally cls).")  # fmt: skip
    parser.add_argument("--bf16", action=argparse.BooleanOptionalAction, default=None,
                        help="bfloat16 autocast (default: off; with --recipe, on where the device has bf16 "
                        "arithmetic).")  # fmt: skip
    parser.add_argument("--seed", type=int, help="Random seed (default 42).")
    parser.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: CUDA when available).")
    parser.add_argument(
        "--no-resume",
        action="store_true",
        help="Start over even if --output holds a stopped run. Without it a stopped run resumes "
        "from its last finished epoch, and refuses (naming each difference) when the data, model, "
        "labels, batch size, learning rate, seed or other training settings differ from the "
        "stopped run's; --epochs, --max-steps, --patience, --device and --bf16 may change.",
    )
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="Replace --output whole when it holds another kind of model, run or data.",
    )
    parser.add_argument("--no-progress", action="store_true",
                        help="No progress bar (or, in a log, progress lines every few seconds).")  # fmt: skip
    parser.add_argument("--no-tensorboard", action="store_true", help="No TensorBoard events (metrics.jsonl stays).")
    parser.add_argument(
        "--no-packed",
        action="store_true",
        help="Train padded: compute the padded positions too (by default a batch with padding trains on its real "
        "tokens only, with the same gradients; question answering always trains padded).",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from albertlite.devices import resolve_device
    from albertlite.recipes import get_recipe
    from albertlite.train.finetune import FinetuneSettings, finetune
    from albertlite.train.options import read_options

    resolve_device(args.device)  # named as the flag (the settings would name it device=)
    overrides = {
        "epochs": args.epochs, "max_steps": args.max_steps, "learning_rate": args.lr, "batch_size": args.batch_size,
        "gradient_accumulation_steps": args.grad_accum, "max_length": args.max_length,
        "warmup_ratio": args.warmup_ratio, "doc_stride": args.doc_stride, "version_2": args.version_2,
        "metric": args.metric, "early_stopping_patience": args.patience, "bf16": args.bf16, "seed": args.seed,
        "classifier_pooling": args.classifier_pooling,
        "device": args.device, "resume": False if args.no_resume else None,
        "progress": False if args.no_progress else None,
        "tensorboard": False if args.no_tensorboard else None,
        "overwrite": args.overwrite or None, "packed": False if args.no_packed else None,
    }  # fmt: skip
    from_file = read_options(args.config, FinetuneSettings, "fine-tuning settings") if args.config else {}
    overrides = {**from_file, **{k: v for k, v in overrides.items() if v is not None}}
    task = args.task
    if args.recipe:
        task = task or get_recipe(args.recipe).task
        settings = FinetuneSettings.from_recipe(args.recipe, **overrides)
    else:
        if task is None:
            raise ValueError("give --task (or --recipe).")
        settings = FinetuneSettings(**overrides)
    for name in ("train", "validation"):
        path = getattr(args, name)
        if path is not None and not Path(path).is_file():
            raise FileNotFoundError(f"--{name} {path}: no such file.")
    result = finetune(task, args.model, args.train, args.validation, args.output, settings)
    best = "n/a" if result.best_metric is None else f"{result.best_metric:.4f}"
    print(f"fine-tuned {task} for {result.epochs_run} epoch(s); best {result.metric} = {best}; saved to {args.output}")
    return 0
