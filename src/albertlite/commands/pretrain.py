"""``albertlite pretrain``: pretrain ALBERT on shards from ``albertlite pretrain-data`` (also under torchrun)."""

from __future__ import annotations

import argparse
import dataclasses
import os
from typing import Any

_BOOL_FLAGS = ("bf16", "resume", "overwrite", "deterministic")
_NEGATED_FLAGS = {
    "no_tensorboard": "tensorboard",
    "no_plot": "plot",
    "no_progress": "progress",
    "no_shuffle": "shuffle",
    "no_packed": "packed",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pretrain",
        help="Pretrain ALBERT (masked LM + sentence order) on pretraining shards.",
        description="Pretrain AlbertForPreTraining with LAMB or AdamW; checkpoints resume exactly with --resume. "
        "Runs under `torchrun --nproc_per_node N` as one DistributedDataParallel job whose result does not depend "
        "on N (to float rounding, dropout included: its masks are drawn per sample). Every option can come from "
        "--config FILE.json (keys as the flags, dashes or underscores); flags given on the command line win. See "
        "docs/pretraining.md.",
        argument_default=argparse.SUPPRESS,  # so that only flags actually given override --config
    )
    add = parser.add_argument
    add("--config", metavar="FILE", help="JSON file of options (keys mirror these flags).")
    add(
        "--recipe",
        metavar="NAME",
        help="Start from a named recipe's settings (small-cpu: a 4-layer, 128-wide model learning the most in "
        "minutes on a few cores; give --max-time); --config and flags override it. See docs/pretraining.md.",
    )
    add("--data", metavar="DIR", help="Training shards (albertlite pretrain-data).")
    add("--tokenizer", metavar="DIR", help="The tokenizer the shards were built with; copied into --output.")
    add(
        "--model-config",
        metavar="SPEC",
        help='Preset name, config.json, or inline JSON {"base": ..., "hidden_size": ...}.',
    )
    add("--output", metavar="DIR", help="Run directory: checkpoints, metrics.jsonl, curves.png, final model.")
    add("--steps", type=int, help="Optimizer steps (default 10000); with --max-time, the most steps.")
    add(
        "--max-time",
        metavar="DURATION",
        help="Time budget (90s, 10m, 1h, 1h30m): the run times its first 4 steps (the first untimed) and sets its "
        "step count to fill the budget (recorded for --resume); warm-up and decay follow that count. Evaluations and "
        "checkpoints after the measurement, and the final save, are not forecast.",
    )
    add("--batch-size", type=int, help="Samples per process per micro-step (default 32).")
    add(
        "--batch-tokens",
        type=int,
        metavar="N",
        help="Instead of --batch-size: tokens per process per micro-step. Each step takes whole instances in the "
        "global order until N x processes x --accumulation tokens are full, so short instances come many to a step "
        "(at least the data's max_seq_length; with packed training a step then costs about the same whatever the "
        "lengths).",
    )
    add("--lr", type=float, help="Peak learning rate (default 0.00176).")
    add("--warmup-steps", type=int, help="Linear warm-up steps (default --warmup-share of --steps).")
    add(
        "--warmup-share",
        type=float,
        help="Warm-up as a share of the steps, or of the count --max-time resolves to (default 0.025, the authors').",
    )
    add("--accumulation", type=int, help="Micro-steps per optimizer step (default 1).")
    add("--optimizer", choices=("lamb", "adamw"), help="lamb (the authors', default) or adamw.")
    add(
        "--schedule", choices=("authors", "linear"), help="authors: decay from step 0 (default); linear: after warm-up."
    )
    add("--weight-decay", type=float, help="Weight decay, not on LayerNorm and biases (default 0.01).")
    add("--max-grad-norm", type=float, help="Clip the global gradient norm (default 1.0; 0: off).")
    add("--seed", type=int, help="Seed of weights, data order and dropout (default 12345).")
    add("--save-every", type=int, help="Checkpoint every N steps (default 1000).")
    add("--keep-checkpoints", type=int, help="Checkpoints kept (default 3; 0: all).")
    add("--eval-data", metavar="DIR", help="Shards of held-out documents for evaluation.")
    add("--eval-every", type=int, help="Evaluate every N steps (default 1000).")
    add("--eval-samples", type=int, help="Held-out instances evaluated (default 2048; 0: all).")
    add("--eval-batch-size", type=int, help="Evaluation batch per process (default: --batch-size).")
    add("--dynamic-masking", action="store_true", help="Mask on read, anew each epoch (data written unmasked).")
    add("--threads", type=int, help="Torch intra-op threads.")
    add("--device", help="cpu, cuda or mps (default: cuda when available; under torchrun one GPU per process).")
    for flag in _BOOL_FLAGS:
        add(f"--{flag.replace('_', '-')}", action="store_true", help=_BOOL_HELP[flag])
    for flag in _NEGATED_FLAGS:
        add(f"--{flag.replace('_', '-')}", action="store_true", help=_BOOL_HELP[flag])
    parser.set_defaults(handler=run)


_BOOL_HELP = {
    "bf16": "bfloat16 autocast.",
    "resume": "Continue from the newest intact checkpoint in --output; refused, naming each difference, when the data, "
    "model config, global batch, seed or optimizer settings differ from the checkpoint's (--steps, evaluation, "
    "saving and logging options may change).",
    "overwrite": "Start afresh, replacing --output whole (its checkpoints, metrics and model), or replace a "
    "directory that holds another kind of model or data.",
    "deterministic": "Deterministic algorithms only (bit-exact reruns and resumes).",
    "no_tensorboard": "Do not write TensorBoard events.",
    "no_plot": "Do not draw curves.png.",
    "no_progress": "No progress bar (or, in a log, progress lines every few seconds).",
    "no_shuffle": "Read the data in order instead of a seeded permutation per epoch.",
    "no_packed": "Train padded: compute the padded positions too (by default a batch with padding trains on its "
    "real tokens only, with the same gradients).",
}


def build_config(args: argparse.Namespace) -> Any:
    """The :class:`~albertlite.train.PretrainConfig` of parsed arguments: --config, then the flags given."""
    from albertlite.train.pretrain import PretrainConfig, read_options

    values: dict[str, Any] = {}
    if getattr(args, "config", None):
        values.update(read_options(args.config))
    fields = {f.name for f in dataclasses.fields(PretrainConfig)}
    for key, value in vars(args).items():
        if key in _NEGATED_FLAGS:
            if value:
                values[_NEGATED_FLAGS[key]] = False
        elif key in fields or key == "recipe":
            values[key] = value
    if isinstance(values.get("max_time"), str):  # the flag's "10m" (a --config file gives seconds)
        from albertlite.train.budget import parse_duration

        values["max_time"] = parse_duration(values["max_time"])
    missing = [name for name in ("data", "tokenizer", "output") if name not in values]
    if missing:
        raise ValueError(f"missing required option(s): {', '.join('--' + m for m in missing)}")
    return PretrainConfig.from_dict(values)


def run(args: argparse.Namespace) -> int:
    from albertlite.devices import resolve_device
    from albertlite.train.pretrain import pretrain

    resolve_device(getattr(args, "device", None))  # named as the flag (--config's key is refused as device=)
    config = build_config(args)
    result = pretrain(config)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun, rank 0 reports
        return 0
    if result.final_eval:
        figures = ", ".join(f"{k}={v:.4f}" for k, v in result.final_eval.items())
        print(f"step {result.step}: held-out {figures}")
    if config.max_time is not None:
        print(f"time budget {config.max_time:g}s: trained {result.step} steps")
    print(f"model and tokenizer saved to {result.output}")
    return 0
