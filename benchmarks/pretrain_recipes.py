"""Learning per minute: pretraining variants on the same data, clock and held-out masks, one setting at a time.

Each variant pretrains the 4-layer, hidden-128 model of ``pretrain_quality.py`` on the standard library's
docstrings (its corpus and tokenizer) with ``albertlite pretrain --max-time``, and is scored during the run on the
same statically masked held-out instances (the authors' masking: whole words, n-grams up to 3, 15%). A variant
changes the base recipe by the settings it names: training settings (``batch_tokens``, ``lr``, ...) or data
settings (``max_seq_length``, ``ngram``, ``masked_lm_prob``, ``short_seq_prob``), for which it gets shards of its own.

Writes benchmarks/results/pretrain_recipes/<cpu kind>.{json,md} (``--output`` elsewhere), the index
benchmarks/results/pretrain_recipes.md, and the held-out curves against training time as a PNG beside them.

Run: ``.venv/bin/python benchmarks/pretrain_recipes.py --variants fixed-batch,token-budget --max-time 150``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from albertlite.cli import main as albertlite_cli
from albertlite.tokenizer_training import train_tokenizer
from albertlite.train.metrics_log import read_metrics

sys.path.insert(0, str(Path(__file__).parent))
import machine_info
import pretrain_quality

RESULTS = Path(__file__).parent / "results"
EVAL_LENGTH = 128
MODEL = {**pretrain_quality.MODEL, "max_position_embeddings": EVAL_LENGTH}
DATA_DEFAULTS = {"max_seq_length": 128, "ngram": 3, "masked_lm_prob": 0.15, "short_seq_prob": 0.1}
# the base recipe: pretrain_quality.py's (LAMB at 1e-2, 32 instances, warm-up 5%), at 128 tokens
BASE = {"batch_size": 32, "lr": 1e-2, "optimizer": "lamb", "schedule": "linear", "warmup_share": 0.05}
VARIANTS: dict[str, dict[str, Any]] = {
    # fuller steps (issue 18 item 2): instances per step fixed, or tokens per step fixed
    "fixed-batch": {},
    "fixed-batch-padded": {"packed": False},
    "token-budget": {"batch_tokens": 32 * 128},
    "token-budget-half": {"batch_tokens": 16 * 128},
    "token-budget-1536": {"batch_tokens": 1536},  # about the tokens of 32 instances of this data (46 on average)
    # the recipe (item 3), one setting at a time from the fixed batch
    "batch-16": {"batch_size": 16},
    "batch-64": {"batch_size": 64},
    "lr-2e-2": {"lr": 2e-2},
    "lr-5e-3": {"lr": 5e-3},
    "warmup-2": {"warmup_share": 0.02},
    "adamw-2e-3": {"optimizer": "adamw", "lr": 2e-3},
    "ngram-1": {"ngram": 1},
    "mask-20": {"masked_lm_prob": 0.2},
    "short-0": {"short_seq_prob": 0.0},
    "short-30": {"short_seq_prob": 0.3},
    # from the best single change (16 instances per step), one more setting at a time
    "batch-8": {"batch_size": 8},
    "b16-lr-5e-3": {"batch_size": 16, "lr": 5e-3},
    "b16-mask-20": {"batch_size": 16, "masked_lm_prob": 0.2},
    "b16-short-30": {"batch_size": 16, "short_seq_prob": 0.3},
}


def prepare(work: Path, threads: int) -> dict[str, int]:
    """Corpus, tokenizer and the held-out shards every variant is scored on (kept in ``work`` between runs)."""
    if (work / "held_out" / "manifest.json").exists():
        return json.loads((work / "corpus.json").read_text())
    work.mkdir(parents=True, exist_ok=True)
    counts = pretrain_quality.write_corpus(work)
    train_tokenizer([work / "train.txt"], vocab_size=5000, output_dir=work / "tokenizer", num_threads=1)
    _shards(work, "held_out", {**DATA_DEFAULTS, "max_seq_length": EVAL_LENGTH}, threads, held_out=True)
    (work / "corpus.json").write_text(json.dumps(counts))
    return counts


def training_shards(work: Path, variant: dict[str, Any], threads: int) -> Path:
    """The variant's training shards, unmasked for dynamic masking (shared by variants with the same data)."""
    settings = {key: variant.get(key, value) for key, value in DATA_DEFAULTS.items()}
    name = "train-" + "-".join(f"{key}{value}" for key, value in sorted(settings.items()))
    if not (work / name / "manifest.json").exists():
        _shards(work, name, settings, threads, held_out=False)
    return work / name


def _shards(work: Path, name: str, settings: dict[str, Any], threads: int, *, held_out: bool) -> None:
    length = int(settings["max_seq_length"])
    source = work / ("held_out.txt" if held_out else "train.txt")
    flags = [
        "pretrain-data", "--input", str(source), "--output", str(work / name), "--tokenizer", str(work / "tokenizer"),
        "--max-seq-length", str(length), "--max-predictions-per-seq", str(round(length * settings["masked_lm_prob"])),
        "--masked-lm-prob", str(settings["masked_lm_prob"]), "--ngram", str(settings["ngram"]),
        "--short-seq-prob", str(settings["short_seq_prob"]), "--workers", str(threads), "--overwrite",
        "--seed", "54321" if held_out else "12345", "--dupe-factor", "1",
    ]  # fmt: skip
    if not held_out:
        flags.append("--dynamic-masking")
    if albertlite_cli(flags):
        raise SystemExit(f"pretrain-data failed for {name}")


def pretrain_options(work: Path, name: str, output: Path, max_time: float, threads: int) -> dict[str, Any]:
    """PretrainConfig keyword arguments of variant ``name`` for ``max_time`` training seconds (no evaluation or
    checkpoints until the end: callers add them)."""
    variant = {**BASE, **VARIANTS[name]}
    options = {
        "data": str(training_shards(work, variant, threads)), "tokenizer": str(work / "tokenizer"),
        "output": str(output), "model_config": json.dumps(MODEL), "max_time": max_time, "steps": 100000,
        "batch_size": variant["batch_size"], "lr": variant["lr"], "optimizer": variant["optimizer"],
        "schedule": variant["schedule"], "warmup_share": variant["warmup_share"], "save_every": 100000,
        "threads": threads, "overwrite": True, "tensorboard": False, "plot": False, "progress": False,
        "packed": variant.get("packed", True),
    }  # fmt: skip
    if "batch_tokens" in variant:
        options["batch_tokens"] = variant["batch_tokens"]
    return options


def run_variant(work: Path, name: str, max_time: float, threads: int, eval_every: int) -> dict[str, Any]:
    """Pretrain one variant for ``max_time`` seconds; its held-out curve against training seconds."""
    from albertlite.train import PretrainConfig, pretrain

    output = work / "runs" / name
    options = pretrain_options(work, name, output, max_time, threads)
    options.update(eval_data=str(work / "held_out"), eval_every=eval_every, eval_samples=1024, eval_batch_size=128)
    began = time.perf_counter()
    pretrain(PretrainConfig(**options))
    variant = {**BASE, **VARIANTS[name]}
    return _summary(name, variant, read_metrics(output / "metrics.jsonl"), time.perf_counter() - began)


def _summary(name: str, variant: dict[str, Any], records: list[dict], wall_s: float) -> dict[str, Any]:
    train = [r for r in records if r["split"] == "train"]
    seconds = {r["step"]: r["elapsed_s"] for r in train}
    seconds[0] = 0.0
    curve = [
        {"step": r["step"], "train_s": round(seconds[r["step"]], 1), "mlm_loss": round(r["mlm_loss"], 4),
         "mlm_acc": round(r["mlm_acc"], 4), "sop_acc": round(r["sop_acc"], 4)}
        for r in records if r["split"] == "eval"
    ]  # fmt: skip
    tokens = sorted(r["tokens_per_s"] for r in train[len(train) // 10 :])
    return {
        "variant": name, "settings": variant, "steps": train[-1]["step"], "train_s": round(train[-1]["elapsed_s"], 1),
        "wall_s": round(wall_s, 1), "median_tokens_per_s": round(tokens[len(tokens) // 2]), "curve": curve,
        "final": curve[-1],
    }  # fmt: skip


def markdown(results: dict) -> str:
    lines = [
        *machine_info.heading(results),
        "",
        f"Budget {results['max_time_s']:g} s of training per variant; held-out: {results['held_out_pairs']} "
        "pairs of held-out docstrings at 128 tokens, the same masks for every variant.",
        "",
        "| variant | settings | steps | real tokens/s | held-out MLM loss | MLM acc | SOP acc | measured (load) |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in results["variants"]:
        changed = {k: v for k, v in row["settings"].items() if BASE.get(k, DATA_DEFAULTS.get(k)) != v}
        final = row["final"]
        lines.append(
            f"| {row['variant']} | {json.dumps(changed) if changed else 'base'} | {row['steps']} | "
            f"{row['median_tokens_per_s']:,} | {final['mlm_loss']:.3f} | {final['mlm_acc']:.3f} | "
            f"{final['sop_acc']:.3f} | {row.get('measured', results['date'])} |"
        )
    return "\n".join(lines) + "\n"


def plot_against_seconds(
    panels: list[tuple[str, str]], series: list[tuple[str, list[dict]]], path: Path, legend_size: int = 7
) -> None:
    """One panel per (title, key), each series' points (``train_s`` and ``key``) against training seconds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for axis, (title, key) in zip(axes[0], panels):
        for label, points in series:
            axis.plot([p["train_s"] for p in points], [p[key] for p in points], "o-", markersize=3, label=label)
        axis.set_title(title, fontsize=9)
        axis.set_xlabel("training seconds")
        axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize=legend_size)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def plot(results: dict, path: Path) -> None:
    series = [(row["variant"], row["curve"]) for row in results["variants"]]
    plot_against_seconds([("held-out MLM loss", "mlm_loss"), ("held-out MLM accuracy", "mlm_acc")], series, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--variants", default="fixed-batch,token-budget", help=f"Comma-separated: {', '.join(VARIANTS)}."
    )
    parser.add_argument("--max-time", type=float, default=150.0, help="Training seconds per variant.")
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/albertlite-pretrain-recipes"))
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--name", default="pretrain_recipes", help="Results file name (one per comparison).")
    args = parser.parse_args()
    names = args.variants.split(",")
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variant(s) {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    results: dict[str, Any] = {"machine": machine_info.machine(), "date": time.strftime("%Y-%m-%d")}
    results["corpus"] = prepare(args.work, args.threads)
    results["held_out_pairs"] = min(
        1024, json.loads((args.work / "held_out" / "manifest.json").read_text())["num_instances"]
    )
    results["max_time_s"] = args.max_time
    # this CPU kind's earlier variants at the same budget stay beside the ones run now
    earlier = machine_info.read_results(args.output, args.name, results["machine"]["cpu_kind"]) or {}
    kept = earlier.get("variants", []) if earlier.get("max_time_s") == args.max_time else []
    results["variants"] = [row for row in kept if row["variant"] not in names]
    for name in names:
        measured = f"{time.strftime('%Y-%m-%d')} ({os.getloadavg()[0]:.1f})"
        row = run_variant(args.work, name, args.max_time, args.threads, args.eval_every)
        results["variants"].append({**row, "measured": measured})
        print(json.dumps({k: v for k, v in row.items() if k != "curve"}), flush=True)
    results["machine"]["load_average_end"] = os.getloadavg()
    title = "Pretraining variants: held-out learning per minute of training, one section per CPU kind"
    written = machine_info.write_results(args.output, args.name, results, markdown(results), title)
    plot(results, written.with_suffix(".png"))
    print(written.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
