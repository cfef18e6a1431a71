"""``make demo``: the whole ALBERT path on a laptop CPU, offline, in about ten minutes (two cores).

1. Corpus: the documentation that ships with Python (every standard-library docstring, and the language
   reference topics behind ``help()``), split into sentences, one document per docstring.
2. Vocabulary: a SentencePiece unigram model trained the ALBERT way (``train_tokenizer``).
3. Pretraining: sentence-order pairs with n-gram masking (``write_pretraining_shards``), then a small
   ALBERT pretrained with LAMB on masked-LM + sentence-order prediction (``pretrain``).
4. Fine-tuning: "which module does this docstring sentence come from?" (a few modules, sentences held out
   of pretraining for validation), from the pretrained weights and from the same architecture randomly
   initialised, with few labels (20 sentences per module) and with all of them (80), to measure what
   pretraining bought. The sentence heads pool the mean of the tokens (``classifier_pooling="mean"``): after
   minutes of pretraining, [CLS] is still specialised for sentence order, and fine-tuned through it the
   pretrained model loses to random weights.
5. Fill-mask predictions of the pretrained model on held-out sentences, and every figure printed.

With ``--model <hub id or dir>`` steps 2 and 3 are skipped: the same task is fine-tuned on real weights.
Everything is left in ``--output`` (default ``demo_output/``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import io
import json
import logging
import os
import pkgutil
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from albertlite.train.pretrain import PretrainConfig

# modules the corpus walk never imports: side effects (a browser, a poem), GUIs, the test suite, tools
_SKIP_MODULES = frozenset(
    {
        *("antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "test", "lib2to3", "ensurepip"),
        *("venv", "__main__", "__phello__", "pydoc_data", "xxsubtype", "xxlimited", "msilib", "winreg", "nt"),
    }
)
# the fine-tuning task: label = the module a sentence comes from (distinct topics, enough sentences each)
TASK_MODULES = ("logging", "difflib", "statistics", "ipaddress", "tarfile", "ssl")
# small enough that nine minutes on two cores buy 8M tokens of pretraining (a 256-wide model sees a third
# as many and fine-tuned worse than from scratch; after 2000 steps pretraining helped only with all labels)
DEMO_MODEL = {
    "base": "albert-base-v2", "embedding_size": 128, "hidden_size": 128, "num_hidden_layers": 4,
    "num_attention_heads": 2, "intermediate_size": 512, "max_position_embeddings": 64,
}  # fmt: skip
FILL_MASK_SENTENCES = (
    "Return the [MASK] of the file.",
    "If the [MASK] is not found, raise an error.",
    "This function returns a new [MASK] object.",
)


@dataclass
class DemoSettings:
    """Sizes and budgets of the demo (the defaults finish in about ten minutes on two CPU cores).

    Args:
        output: where everything is written.
        model: a Hub id or directory to fine-tune instead of pretraining one.
        vocab_size: SentencePiece pieces.
        max_seq_length: pretraining sequence length.
        pretrain_steps: LAMB steps of pretraining.
        pretrain_batch: sequences per step.
        pretrain_lr: LAMB's peak learning rate.
        finetune_epochs: epochs of each fine-tuning run.
        finetune_lr: AdamW's peak learning rate in fine-tuning (the same for both starting points).
        train_per_class / eval_per_class: sentences per module for fine-tuning and validation.
        few_per_class: the few-labels runs' sentences per module (a subset of the training sentences).
        finetune_seeds: fine-tuning runs per starting point and label budget (figures are their means).
        classifier_pooling: "mean" or "cls" for the classification head (see the module docstring).
        threads: torch threads (None: torch's default).
        seed: the seed of every random choice.
        ngram: longest masked span in words, whole-word masking when above 1 (the authors': 3).
    """

    output: Path = Path("demo_output")
    model: str | None = None
    vocab_size: int = 4000
    max_seq_length: int = 64
    pretrain_steps: int = 4000
    pretrain_batch: int = 32
    pretrain_lr: float = 5e-3
    finetune_epochs: int = 12
    finetune_lr: float = 1e-3
    train_per_class: int = 80
    eval_per_class: int = 40
    few_per_class: int = 20
    finetune_seeds: int = 3
    classifier_pooling: str = "mean"
    threads: int | None = None
    seed: int = 0
    ngram: int = 3


# --------------------------------------------------------------------------- corpus


def docstring_documents() -> Iterator[tuple[str, list[str]]]:
    """(module name, sentences): the docstrings of each importable standard-library module, then the help topics."""
    from albertlite.data.sentences import split_sentences

    # one document per module (its docstrings in order) and per help topic: docstrings alone are too short
    # to fill a pretraining sequence, and a step of short sequences carries few masked tokens
    seen: set[str] = set()
    for name in _stdlib_modules():
        module = _quiet_import(name)
        if module is None:
            continue
        sentences = []
        for doc in _docstrings(module, seen):
            sentences += [s for p in doc.split("\n\n") for s in split_sentences(" ".join(p.split())) if len(s) > 3]
        if sentences:
            yield name, sentences
    import pydoc_data.topics

    for topic in sorted(pydoc_data.topics.topics):
        paragraphs = pydoc_data.topics.topics[topic].split("\n\n")
        sentences = [s for p in paragraphs for s in split_sentences(" ".join(p.split())) if len(s) > 3]
        if sentences:
            yield "pydoc_data", sentences


def _stdlib_modules() -> list[str]:
    """Public standard-library modules and the public modules of its packages, one level down."""
    names = []
    for name in sorted(sys.stdlib_module_names):
        if name.startswith("_") or name in _SKIP_MODULES:
            continue
        names.append(name)
        package = _quiet_import(name)
        for info in pkgutil.iter_modules(getattr(package, "__path__", None) or []):
            if not info.name.startswith("_") and info.name not in ("main", "tests", "test"):
                names.append(f"{name}.{info.name}")
    return names


def _quiet_import(name: str) -> Any:
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")  # deprecated modules warn on import
        try:
            return importlib.import_module(name)
        except (ImportError, OSError, RuntimeError, AttributeError, SyntaxError, ValueError):
            return None


def _docstrings(module: Any, seen: set[str]) -> Iterator[str]:
    """The module's docstring and those of its own functions, classes and methods (each text once)."""
    owners = [module]
    for _, member in inspect.getmembers(module):
        if getattr(member, "__module__", None) == module.__name__ and (inspect.isclass(member) or callable(member)):
            owners.append(member)
            if inspect.isclass(member):
                owners += [m for m in vars(member).values() if callable(m) and getattr(m, "__doc__", None)]
    for owner in owners:
        try:
            doc = inspect.getdoc(owner)
        except (AttributeError, TypeError, ValueError):
            continue
        if doc and doc not in seen:
            seen.add(doc)
            yield doc


@dataclass
class Corpus:
    """The demo's text: the pretraining file and the module-classification examples."""

    pretrain_file: Path
    train: list[dict[str, str]]
    validation: list[dict[str, str]]
    documents: int
    sentences: int


def build_corpus(directory: Path, settings: DemoSettings) -> Corpus:
    """Write corpus.txt (validation sentences left out) and the fine-tuning examples."""
    rng = np.random.default_rng(settings.seed)
    documents = list(docstring_documents())
    by_module: dict[str, list[str]] = {m: [] for m in TASK_MODULES}
    for name, sentences in documents:
        if name in by_module:
            by_module[name] += [s for s in sentences if 4 <= len(s.split()) <= 60]
    train, validation, held_out = [], [], set()
    for module, sentences in by_module.items():
        unique = sorted(set(sentences))
        picked = [unique[i] for i in rng.permutation(len(unique))]
        valid = picked[: settings.eval_per_class]
        held_out.update(valid)
        validation += [{"text": s, "label": module} for s in valid]
        train += [{"text": s, "label": module} for s in picked[settings.eval_per_class :][: settings.train_per_class]]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "corpus.txt"
    count = 0
    with open(path, "w", encoding="utf-8") as handle:
        for _, sentences in documents:
            kept = [s for s in sentences if s not in held_out]
            if kept:
                handle.write("\n".join(kept) + "\n\n")
                count += len(kept)
    for name, rows in (("train", train), ("validation", validation)):
        (directory / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    order = rng.permutation(len(train))
    return Corpus(path, [train[i] for i in order], validation, len(documents), count)


# --------------------------------------------------------------------------- the steps


def pretraining_data(corpus: Corpus, settings: DemoSettings) -> dict[str, Any]:
    """The vocabulary (``output/tokenizer``) and pretraining shards (``output/shards``); returns the manifest."""
    from albertlite.data.shard_builder import write_pretraining_shards
    from albertlite.tokenizer_training import train_tokenizer

    out = settings.output
    train_tokenizer([corpus.pretrain_file], vocab_size=settings.vocab_size, output_dir=out / "tokenizer")
    return write_pretraining_shards(
        [corpus.pretrain_file], str(out / "tokenizer"), out / "shards", overwrite=True,
        max_seq_length=settings.max_seq_length, dupe_factor=1, seed=settings.seed,
        max_predictions_per_seq=max(1, round(settings.max_seq_length * 0.15)), mask=False,
        ngram=settings.ngram, do_whole_word_mask=settings.ngram > 1,
    )  # fmt: skip


def pretrain_config(settings: DemoSettings, **overrides: Any) -> PretrainConfig:
    """The demo's PretrainConfig on :func:`pretraining_data`'s files (``overrides`` replace its fields)."""
    from albertlite.train.pretrain import PretrainConfig

    out = settings.output
    fields = dict(
        data=str(out / "shards"), tokenizer=str(out / "tokenizer"), output=str(out / "pretrained"),
        model_config=json.dumps(DEMO_MODEL), steps=settings.pretrain_steps, batch_size=settings.pretrain_batch,
        lr=settings.pretrain_lr, warmup_steps=settings.pretrain_steps // 20, optimizer="lamb", schedule="linear",
        seed=settings.seed, save_every=settings.pretrain_steps, keep_checkpoints=1, tensorboard=False,
        plot=False, overwrite=True, dynamic_masking=True,
    )  # fmt: skip
    return PretrainConfig(**{**fields, **overrides})


def pretrain_model(corpus: Corpus, settings: DemoSettings) -> tuple[Path, dict[str, float]]:
    """Vocabulary, pretraining shards and a pretrained ALBERT; returns its directory and final metrics."""
    from albertlite.train.pretrain import pretrain

    manifest = pretraining_data(corpus, settings)
    print(f"        {manifest['num_instances']:,} pretraining instances ({manifest['num_tokens']:,} tokens)")
    result = pretrain(pretrain_config(settings))
    train = [r for r in result.history if r.get("split") == "train" and "mlm_acc" in r][-20:]
    # one batch is noisy: report the mean of the last 20 steps
    keys = ("mlm_acc", "mlm_loss", "sop_acc", "sop_loss")
    return Path(result.output), {k: float(np.mean([r[k] for r in train])) for k in keys} if train else {}


def scratch_copy(pretrained: Path | str, directory: Path, seed: int) -> Path:
    """The same architecture and tokenizer as ``pretrained``, randomly initialised."""
    import torch

    from albertlite import AlbertConfig, AlbertForMaskedLM
    from albertlite.tokenization_auto import load_tokenizer

    torch.manual_seed(seed)
    AlbertForMaskedLM(AlbertConfig.from_pretrained(pretrained)).save_pretrained(directory)
    load_tokenizer(pretrained).save_pretrained(directory)
    return directory


def per_class(rows: list[dict[str, str]], count: int) -> list[dict[str, str]]:
    """The first ``count`` rows of each label, in order (the rows are shuffled, so a random subset)."""
    seen: dict[str, int] = {}
    kept = []
    for row in rows:
        seen[row["label"]] = seen.get(row["label"], 0) + 1
        if seen[row["label"]] <= count:
            kept.append(row)
    return kept


def finetune_task(
    model: Path | str, train: list[dict[str, str]], corpus: Corpus, output: Path, settings: DemoSettings, seed: int
) -> dict[str, Any]:
    """Fine-tune on ``train``; the best epoch's validation figures."""
    from albertlite.train.finetune import FinetuneSettings, finetune

    run = FinetuneSettings(
        learning_rate=settings.finetune_lr, batch_size=16, epochs=settings.finetune_epochs, max_length=64,
        warmup_ratio=0.1, seed=seed, resume=False, metric="accuracy", classifier_dropout=0.1,
        classifier_pooling=settings.classifier_pooling,
    )  # fmt: skip
    result = finetune("text-classification", model, train, corpus.validation, output, run)
    best = max(result.history, key=lambda r: r["accuracy"])
    return {"accuracy": best["accuracy"], "f1": best["f1"], "mcc": best["matthews_correlation"], "epoch": best["epoch"]}


def compare_starts(pretrained: Path | str, corpus: Corpus, settings: DemoSettings) -> list[dict[str, Any]]:
    """Pretrained vs from scratch, with few labels and with all, each over ``finetune_seeds`` seeds.

    A seed sets the fine-tuning order and dropout and, from scratch, the initial weights: on 240 validation
    sentences one run moves by a few points, so the figures are means. The first seed's models stay on disk.
    """
    out = settings.output
    seeds = [settings.seed + k for k in range(settings.finetune_seeds)]
    # one random initialisation per seed, shared by both label budgets
    scratch = {seed: scratch_copy(pretrained, out / "scratch-init" / f"seed-{seed}", seed) for seed in seeds}
    rows = []
    for count in sorted({min(settings.few_per_class, settings.train_per_class), settings.train_per_class}):
        train = per_class(corpus.train, count)
        folder = out if count == settings.train_per_class else out / f"{count}-per-class"
        runs: dict[str, list[dict[str, Any]]] = {"pretrained": [], "from_scratch": []}
        for seed in seeds:
            for start, model, name in (
                ("pretrained", pretrained, "finetuned"),
                ("from_scratch", scratch[seed], "finetuned-from-scratch"),
            ):
                target = folder / name if seed == seeds[0] else out / "other-seeds" / f"{count}-{name}-{seed}"
                runs[start].append(finetune_task(model, train, corpus, target, settings, seed))
        rows.append(_budget_row(count, len(train), runs))
    shutil.rmtree(out / "other-seeds", ignore_errors=True)
    shutil.rmtree(out / "scratch-init", ignore_errors=True)
    return rows


def _budget_row(count: int, examples: int, runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """One label budget's figures: each start's means over seeds, its accuracy per seed, and the gain."""
    row: dict[str, Any] = {"train_per_class": count, "train_examples": examples}
    for start, results in runs.items():
        row[start] = {key: round(float(np.mean([r[key] for r in results])), 4) for key in ("accuracy", "f1", "mcc")}
        row[start]["accuracy_per_seed"] = [round(r["accuracy"], 4) for r in results]
    row["gain"] = round(row["pretrained"]["accuracy"] - row["from_scratch"]["accuracy"], 4)
    return row


def show_fill_mask(model: Path | str) -> list[tuple[str, list[str]]]:
    from albertlite.inference import pipeline

    fill = pipeline("fill-mask", model=model)
    shown = []
    for sentence, guesses in zip(FILL_MASK_SENTENCES, fill(list(FILL_MASK_SENTENCES), top_k=5)):
        words = [g["token_str"].strip() or "▁" for g in guesses]  # "▁" alone decodes to ""
        shown.append((sentence, words))
        print(f"        {sentence:<48} -> {', '.join(words)}")
    return shown


# --------------------------------------------------------------------------- main


def run(settings: DemoSettings) -> dict[str, Any]:
    """Run the demo and return its figures (also written to ``output/demo_results.json``)."""
    import torch

    if settings.threads:
        torch.set_num_threads(settings.threads)
    start, cpu_start = time.perf_counter(), time.process_time()
    out = settings.output
    out.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {}

    print("[1/5] corpus: the standard library's docstrings and help topics")
    corpus = build_corpus(out / "data", settings)
    print(f"        {corpus.documents:,} documents, {corpus.sentences:,} sentences; task: which of "
          f"{len(TASK_MODULES)} modules a sentence comes from ({len(corpus.train)} train, "
          f"{len(corpus.validation)} validation sentences, held out of pretraining)")  # fmt: skip
    if settings.model is None:
        print(f"[2/5] vocabulary ({settings.vocab_size} pieces) and pretraining data")
        t = time.perf_counter()
        print(f"[3/5] pretraining a {DEMO_MODEL['hidden_size']}-wide ALBERT for {settings.pretrain_steps} steps")
        pretrained, pretrain_metrics = pretrain_model(corpus, settings)
        figures["pretraining"] = {k: round(float(v), 4) for k, v in pretrain_metrics.items() if isinstance(v, float)}
        figures["pretraining_seconds"] = round(time.perf_counter() - t, 1)
        print(f"        done in {figures['pretraining_seconds']:.0f}s: masked-LM accuracy "
              f"{pretrain_metrics.get('mlm_acc', float('nan')):.3f}, sentence-order accuracy "
              f"{pretrain_metrics.get('sop_acc', float('nan')):.3f}")  # fmt: skip
    else:
        print(f"[2/5] vocabulary: {settings.model}'s\n[3/5] pretraining: skipped, using {settings.model}")
        pretrained = settings.model
    print("[4/5] fine-tuning on the module task: pretrained vs the same architecture from scratch")
    t = time.perf_counter()
    figures["finetuning"] = compare_starts(pretrained, corpus, settings)
    figures["finetuning_seconds"] = round(time.perf_counter() - t, 1)
    print(f"        validation accuracy on {len(corpus.validation)} held-out sentences (chance "
          f"{1 / len(TASK_MODULES):.3f}), best of {settings.finetune_epochs} epochs, mean of "
          f"{settings.finetune_seeds} seeds (lowest-highest):")  # fmt: skip
    print("        labels per module   pretrained             from scratch           gain")
    for row in figures["finetuning"]:
        cells = []
        for origin in ("pretrained", "from_scratch"):
            seeds = row[origin]["accuracy_per_seed"]
            cells.append(f"{row[origin]['accuracy']:.3f} ({min(seeds):.3f}-{max(seeds):.3f})")
        print(f"        {row['train_per_class']:>17}   {cells[0]:<21}  {cells[1]:<21}  {row['gain']:+.3f}")
    print("[5/5] fill-mask with the pretrained model")
    figures["fill_mask"] = show_fill_mask(pretrained)
    figures["total_seconds"] = round(time.perf_counter() - start, 1)
    figures["cpu_seconds"] = round(time.process_time() - cpu_start, 1)  # all threads of this process
    gains = ", ".join(f"{r['gain']:+.3f} with {r['train_per_class']}" for r in figures["finetuning"])
    print(f"done in {figures['total_seconds']:.0f}s ({figures['cpu_seconds']:.0f} CPU-s); pretraining adds "
          f"{gains} labels per module. Models in {out}/: {'pretrained/, ' if settings.model is None else ''}"
          "finetuned/, finetuned-from-scratch/")  # fmt: skip
    (out / "demo_results.json").write_text(json.dumps(figures, indent=2, default=str) + "\n")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=Path("demo_output"), help="Where to leave everything.")
    parser.add_argument("--model", help="A Hub id or directory with real weights: fine-tune it instead of pretraining.")
    parser.add_argument("--pretrain-steps", type=int, default=DemoSettings.pretrain_steps)
    parser.add_argument("--vocab-size", type=int, default=DemoSettings.vocab_size)
    parser.add_argument("--finetune-epochs", type=int, default=DemoSettings.finetune_epochs)
    parser.add_argument("--train-per-class", type=int, default=DemoSettings.train_per_class)
    parser.add_argument("--few-per-class", type=int, default=DemoSettings.few_per_class)
    parser.add_argument("--finetune-seeds", type=int, default=DemoSettings.finetune_seeds)
    parser.add_argument("--classifier-pooling", choices=("mean", "cls"), default=DemoSettings.classifier_pooling)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice).")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    # piped (make demo | tee log), stdout is block-buffered: the steps' lines would land after the progress lines
    # (stderr, every few seconds; albertlite.progress) they introduce
    if hasattr(sys.stdout, "reconfigure"):  # not on every replacement stream
        sys.stdout.reconfigure(line_buffering=True)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    # "newly initialised" head weights are expected when a pretrained body gets a task head
    logging.getLogger("albertlite").setLevel(logging.ERROR)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    settings = DemoSettings(
        output=args.output, model=args.model, pretrain_steps=args.pretrain_steps, vocab_size=args.vocab_size,
        finetune_epochs=args.finetune_epochs, train_per_class=args.train_per_class, threads=args.threads,
        seed=args.seed, few_per_class=args.few_per_class, classifier_pooling=args.classifier_pooling,
        finetune_seeds=args.finetune_seeds,
    )  # fmt: skip
    run(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
