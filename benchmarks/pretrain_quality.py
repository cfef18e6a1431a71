"""Pretraining quality on a real corpus nobody here wrote: the docstrings of Python's standard library.

Collects every module, class and function docstring of the running interpreter's standard library (one document
each, split into sentences), holds out the files whose path hashes to 0 mod 5, trains a SentencePiece
tokenizer on the rest, writes training and held-out shards with ``albertlite pretrain-data``, pretrains a
4-layer, hidden-128 ALBERT with ``albertlite pretrain`` and prints the held-out curve as JSON (also written to
``<work>/summary.json``; the PNG of the curves is ``<work>/run/curves.png``).

Acceptance (issue 5): the held-out MLM loss ends at most 70% of its start, and the SOP accuracy at least 60%
on at least 2,000 held-out pairs.

Usage:
    python benchmarks/pretrain_quality.py --work /tmp/stdlib-pretrain [--steps 1250] [--threads 1]
"""

from __future__ import annotations

import argparse
import ast
import json
import sysconfig
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

from albertlite.cli import main as albertlite_cli
from albertlite.data.sentences import split_sentences
from albertlite.tokenizer_training import train_tokenizer
from albertlite.train.pretrain_recipes import SMALL_MODEL

MODEL = SMALL_MODEL  # the small-cpu recipe's model
MIN_WORDS = 6  # shorter docstrings ("Return self.") teach little
SKIPPED_DIRS = {"site-packages", "test", "tests", "idlelib", "lib2to3", "__pycache__"}


def stdlib_files() -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    return sorted(p for p in root.rglob("*.py") if not SKIPPED_DIRS & set(p.relative_to(root).parts[:-1]))


def docstrings(path: Path) -> Iterator[str]:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            text = ast.get_docstring(node)
            if text:
                yield text


def document_sentences(docstring: str) -> list[str]:
    """Sentences of a docstring's prose paragraphs (doctest and indented code paragraphs dropped)."""
    sentences = []
    for paragraph in docstring.split("\n\n"):
        lines = paragraph.splitlines()
        if any(line.lstrip().startswith(">>>") for line in lines) or (lines and lines[0].startswith(" ")):
            continue
        sentences += split_sentences(" ".join(line.strip() for line in lines))
    return [s for s in sentences if any(c.isalpha() for c in s)]


def write_corpus(work: Path) -> dict[str, int]:
    """Write train.txt and held_out.txt (one sentence per line, a blank line between documents)."""
    root = Path(sysconfig.get_paths()["stdlib"])
    counts = {"files": 0, "train_documents": 0, "held_out_documents": 0}
    with open(work / "train.txt", "w", encoding="utf-8") as train, open(work / "held_out.txt", "w") as held_out:
        for path in stdlib_files():
            held = zlib.crc32(str(path.relative_to(root)).encode()) % 5 == 0
            counts["files"] += 1
            for docstring in docstrings(path):
                sentences = document_sentences(docstring)
                # one-sentence documents still make sentence-order pairs (split at a word start)
                if sum(len(sentence.split()) for sentence in sentences) >= MIN_WORDS:
                    (held_out if held else train).write("\n".join(sentences) + "\n\n")
                    counts["held_out_documents" if held else "train_documents"] += 1
    return counts


def run(args: argparse.Namespace) -> dict:
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    counts = write_corpus(work)
    train_tokenizer([work / "train.txt"], vocab_size=args.vocab_size, output_dir=work / "tokenizer", num_threads=1)
    common = ["--tokenizer", str(work / "tokenizer"), "--max-seq-length", str(args.max_seq_length), "--overwrite"]
    common += ["--max-predictions-per-seq", str(args.max_seq_length * 15 // 100), "--workers", str(args.threads)]
    for name, dupes, seed in (("train", args.dupe_factor, 12345), ("held_out", 2, 54321)):
        paths = ["--input", str(work / f"{name}.txt"), "--output", str(work / name)]
        if albertlite_cli(["pretrain-data", *paths, *common, "--dupe-factor", str(dupes), "--seed", str(seed)]):
            raise SystemExit(f"pretrain-data failed for {name}")
    prepared = time.perf_counter()
    flags = [
        "pretrain", "--data", str(work / "train"), "--eval-data", str(work / "held_out"),
        "--tokenizer", str(work / "tokenizer"), "--model-config", json.dumps(MODEL), "--output", str(work / "run"),
        "--steps", str(args.steps), "--batch-size", str(args.batch_size), "--lr", str(args.lr),
        "--warmup-steps", str(args.steps // 20), "--eval-every", str(max(1, args.steps // 4)),
        "--eval-samples", str(args.eval_samples), "--eval-batch-size", "128", "--save-every", str(args.steps),
        "--threads", str(args.threads), "--overwrite", "--no-tensorboard",
    ]  # fmt: skip
    if args.quiet:
        flags.append("--no-progress")
    if albertlite_cli(flags):
        raise SystemExit("pretrain failed")
    finished = time.perf_counter()
    records = [json.loads(line) for line in (work / "run" / "metrics.jsonl").read_text().splitlines()]
    curve = [
        {k: r[k] for k in ("step", "mlm_loss", "mlm_acc", "sop_acc", "pairs")} for r in records if r["split"] == "eval"
    ]
    first, last = curve[0], curve[-1]
    return {
        "corpus": counts,
        "held_out_pairs": int(last["pairs"]),
        "mlm_loss_start": first["mlm_loss"],
        "mlm_loss_end": last["mlm_loss"],
        "mlm_loss_ratio": last["mlm_loss"] / first["mlm_loss"],
        "sop_acc_end": last["sop_acc"],
        "mlm_acc_end": last["mlm_acc"],
        "prepare_s": round(prepared - began, 1),
        "train_s": round(finished - prepared, 1),
        "curve": curve,
        "passed": last["mlm_loss"] <= 0.7 * first["mlm_loss"] and last["sop_acc"] >= 0.6 and last["pairs"] >= 2000,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", required=True, help="Working directory (corpus, tokenizer, shards, run).")
    parser.add_argument("--steps", type=int, default=1250)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--vocab-size", type=int, default=5000)
    parser.add_argument("--max-seq-length", type=int, default=64)
    parser.add_argument("--dupe-factor", type=int, default=2)
    parser.add_argument("--eval-samples", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=1, help="Torch threads (1 is fastest on a shared machine).")
    parser.add_argument("--quiet", action="store_true", help="No progress bar.")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    summary = json.dumps(run(arguments), indent=2)
    (Path(arguments.work) / "summary.json").write_text(summary + "\n", encoding="utf-8")
    print(summary)
