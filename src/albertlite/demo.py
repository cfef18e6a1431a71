"""``make demo``: the whole ALBERT path on a laptop CPU, offline, in about thirteen minutes (two cores).

1. Corpus: the documentation that ships with Python (every standard-library docstring, and the language
   reference topics behind ``help()``), split into sentences, one document per module; a seeded share of the
   documents is held out of pretraining to score it, with 200 masked words drawn from them before anything trains.
2. Vocabulary: a SentencePiece unigram model trained the ALBERT way (``train_tokenizer``).
3. Pretraining: sentence-order pairs with n-gram masking (``write_pretraining_shards``), then a small ALBERT
   pretrained on masked-LM + sentence-order prediction with the ``small-cpu`` recipe for a fixed time budget
   (``pretrain``), scored on the held-out documents (``evaluate_model``: masked-LM loss and accuracy against a
   unigram model of the training text, sentence order) and on the masked words (is the word in the top 5?).
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

from albertlite.train.pretrain_recipes import get_pretrain_recipe

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
# the pretraining settings: the recipe measured for minutes of CPU (its 4-layer, 128-wide model; a 256-wide one
# sees a third as many tokens in the same time and fine-tuned worse than from scratch)
RECIPE = get_pretrain_recipe("small-cpu")
DEMO_MODEL = json.loads(RECIPE.settings["model_config"])
EVAL_EVERY = 500  # held-out evaluations during pretraining (512 instances each): the curve in curves.png
HELD_OUT_SHARE = 0.04  # of the documents outside the task's modules: scored, never trained on
PROBE_WORDS = 200
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
        dupe_factor: differently cut copies of each document in the pretraining shards. The corpus is small for
            ten minutes (about 400k tokens, read about 20 times): 5 gave the same held-out masked-LM accuracy as 1
            and +0.17-0.18 over scratch with 20 labels against +0.07 (docs/finetuning.md).
        pretrain_time: seconds of pretraining steps (the recipe's budget; None: ``pretrain_steps`` steps).
        pretrain_steps: with ``pretrain_time``, the most steps; without, the steps.
        finetune_epochs: epochs of each fine-tuning run.
        finetune_lr: AdamW's peak learning rate in fine-tuning (the same for both starting points).
        train_per_class / eval_per_class: sentences per module for fine-tuning and validation.
        few_per_class: the few-labels runs' sentences per module (a subset of the training sentences).
        finetune_seeds: fine-tuning runs per starting point and label budget (figures are their means).
        classifier_pooling: "mean" or "cls" for the classification head (see the module docstring).
        threads: torch threads (None: torch's default).
        seed: the seed of every random choice.
    """

    output: Path = Path("demo_output")
    model: str | None = None
    vocab_size: int = 4000
    dupe_factor: int = 5
    pretrain_time: float | None = 600.0
    pretrain_steps: int = 100_000
    finetune_epochs: int = 12
    finetune_lr: float = 1e-3
    train_per_class: int = 80
    eval_per_class: int = 40
    few_per_class: int = 20
    finetune_seeds: int = 3
    classifier_pooling: str = "mean"
    threads: int | None = None
    seed: int = 0


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
    """The demo's text: the pretraining file, the held-out documents and the module-classification examples."""

    pretrain_file: Path
    held_out_file: Path
    train: list[dict[str, str]]
    validation: list[dict[str, str]]
    documents: int
    sentences: int
    held_out_documents: int


def build_corpus(directory: Path, settings: DemoSettings) -> Corpus:
    """Write corpus.txt and held_out.txt (documents never trained on) and the fine-tuning examples.

    The task's validation sentences are left out of both text files; the held-out documents are a seeded
    ``HELD_OUT_SHARE`` of the other modules' documents, whole, so nothing of them is seen in pretraining.
    """
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
    draws = rng.random(len(documents))
    scored = [draw < HELD_OUT_SHARE and name not in by_module for (name, _), draw in zip(documents, draws)]
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    files = {False: directory / "corpus.txt", True: directory / "held_out.txt"}
    with open(files[False], "w", encoding="utf-8") as train_text, open(files[True], "w", encoding="utf-8") as other:
        for (_, sentences), is_held_out in zip(documents, scored):
            kept = [s for s in sentences if s not in held_out]
            if kept:
                (other if is_held_out else train_text).write("\n".join(kept) + "\n\n")
                count += 0 if is_held_out else len(kept)
    for name, rows in (("train", train), ("validation", validation)):
        (directory / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    order = rng.permutation(len(train))
    return Corpus(files[False], files[True], [train[i] for i in order], validation, len(documents), count, sum(scored))


# --------------------------------------------------------------------------- the steps


def pretraining_data(corpus: Corpus, settings: DemoSettings) -> dict[str, Any]:
    """The vocabulary (``output/tokenizer``), the recipe's pretraining shards (``output/shards``: unmasked, so
    masked afresh on read, and ``dupe_factor`` copies of each document cut differently) and the held-out shards
    (``output/held-out-shards``, masked once, so every evaluation scores the same predictions); returns the
    training shards' manifest."""
    from albertlite.data.shard_builder import write_pretraining_shards
    from albertlite.tokenizer_training import train_tokenizer

    out = settings.output
    train_tokenizer([corpus.pretrain_file], vocab_size=settings.vocab_size, output_dir=out / "tokenizer")
    data = {key: value for key, value in RECIPE.data.items() if key != "dynamic_masking"}
    write_pretraining_shards(
        [corpus.held_out_file], str(out / "tokenizer"), out / "held-out-shards", overwrite=True, dupe_factor=1,
        seed=settings.seed + 1, mask=True, **data,
    )  # fmt: skip
    return write_pretraining_shards(
        [corpus.pretrain_file], str(out / "tokenizer"), out / "shards", overwrite=True,
        dupe_factor=settings.dupe_factor,
        seed=settings.seed, mask=not RECIPE.data["dynamic_masking"], **data,
    )  # fmt: skip


def pretrain_config(settings: DemoSettings, **overrides: Any) -> PretrainConfig:
    """The recipe's PretrainConfig on :func:`pretraining_data`'s files (``overrides`` replace its fields)."""
    from albertlite.train.pretrain import PretrainConfig

    out = settings.output
    fields = dict(
        RECIPE.settings, data=str(out / "shards"), tokenizer=str(out / "tokenizer"), output=str(out / "pretrained"),
        steps=settings.pretrain_steps, max_time=settings.pretrain_time, seed=settings.seed,
        save_every=settings.pretrain_steps, keep_checkpoints=1, tensorboard=False, plot=True, overwrite=True,
        eval_data=str(out / "held-out-shards"), eval_every=EVAL_EVERY, eval_samples=512,
    )  # fmt: skip
    return PretrainConfig(**{**fields, **overrides})


def pretrain_model(corpus: Corpus, settings: DemoSettings) -> tuple[Path, dict[str, Any]]:
    """Vocabulary, pretraining shards and a pretrained ALBERT; returns its directory and its held-out figures."""
    from albertlite.train.evaluation import evaluate_model
    from albertlite.train.pretrain import pretrain

    manifest = pretraining_data(corpus, settings)
    print(f"        {manifest['num_instances']:,} pretraining instances ({manifest['num_tokens']:,} tokens)")
    probe = masked_words(corpus.held_out_file, settings.output / "tokenizer", PROBE_WORDS, settings.seed)
    (corpus.held_out_file.parent / "masked_words.jsonl").write_text("".join(json.dumps(r) + "\n" for r in probe))
    result = pretrain(pretrain_config(settings))
    scored = evaluate_model(
        result.output,
        [corpus.held_out_file],
        max_seq_length=RECIPE.data["max_seq_length"],
        max_predictions_per_seq=RECIPE.data["max_predictions_per_seq"],
        seed=settings.seed,
    )
    keys = ("instances", "masked", "mlm_loss", "mlm_acc", "unigram_mlm_loss", "sop_acc")
    figures = {key: scored[key] for key in keys}
    figures["steps"] = result.step
    figures["train_seconds"] = round(max((r.get("elapsed_s", 0.0) for r in result.history), default=0.0), 1)
    figures["masked_words"] = score_masked_words(result.output, probe)
    return Path(result.output), figures


def masked_words(held_out: Path, tokenizer_dir: Path, count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` held-out sentences with one word masked, drawn before pretraining: ``{"text", "word", "token"}``.

    One word per sentence, uniformly among the sentence's words that are one piece of the vocabulary (a [MASK]
    stands for one piece; a word of several would need its pieces guessed together).
    """
    from albertlite.tokenization_auto import load_tokenizer

    tokenizer = load_tokenizer(str(tokenizer_dir))
    lines = [line.strip() for line in held_out.read_text(encoding="utf-8").splitlines()]
    sentences = sorted({line for line in lines if 4 <= len(line.split()) <= 60})
    rng = np.random.default_rng(seed)
    probe = []
    for index in rng.permutation(len(sentences)):
        words = sentences[index].split()
        pieces = [tokenizer(w, add_special_tokens=False)["input_ids"] if w.isalpha() else [] for w in words]
        candidates = [i for i, ids in enumerate(pieces) if len(ids) == 1]
        if candidates:
            i = int(rng.choice(candidates))
            text = " ".join([*words[:i], tokenizer.mask_token, *words[i + 1 :]])
            probe.append({"text": text, "word": words[i], "token": int(pieces[i][0])})
        if len(probe) == count:
            break
    return probe


def score_masked_words(model: Path | str, probe: list[dict[str, Any]]) -> dict[str, float]:
    """How often the model's first guess, and its top 5, hold each masked word of :func:`masked_words`."""
    from albertlite.inference import pipeline

    guesses = pipeline("fill-mask", model=model)([row["text"] for row in probe], top_k=5)
    tops = [[g["token"] for g in guess] for guess in guesses]
    return {"words": len(probe), "top1": float(np.mean([top[0] == row["token"] for row, top in zip(probe, tops)])),
            "top5": float(np.mean([row["token"] in top for row, top in zip(probe, tops)]))}  # fmt: skip


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


def show_pretraining(figures: dict[str, Any], seconds: float) -> None:
    words = figures["masked_words"]
    steps, trained = figures["steps"], figures["train_seconds"]
    print(
        f"        done in {seconds:.0f}s ({steps:,} steps in {trained:.0f}s of training). "
        f"On the {figures['instances']:,} held-out instances ({figures['masked']:,} masked pieces): masked-LM "
        f"accuracy {figures['mlm_acc']:.3f}, loss {figures['mlm_loss']:.3f} (a unigram model of the training text: "
        f"{figures['unigram_mlm_loss']:.3f}), sentence order {figures['sop_acc']:.3f}"
    )
    print(f"        {words['words']} held-out masked words: first guess right {words['top1']:.1%}, "
          f"in the top 5 {words['top5']:.1%}")  # fmt: skip


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
    print(f"        {corpus.documents:,} documents, {corpus.sentences:,} sentences to pretrain on, "
          f"{corpus.held_out_documents} documents held out to score it; task: which of {len(TASK_MODULES)} modules "
          f"a sentence comes from ({len(corpus.train)} train, {len(corpus.validation)} validation sentences, "
          "held out of pretraining)")  # fmt: skip
    if settings.model is None:
        print(f"[2/5] vocabulary ({settings.vocab_size} pieces) and pretraining data")
        t = time.perf_counter()
        budget = f"{settings.pretrain_time:.0f} s" if settings.pretrain_time else f"{settings.pretrain_steps} steps"
        print(f"[3/5] pretraining a {DEMO_MODEL['hidden_size']}-wide ALBERT ({RECIPE.name} recipe) for {budget}")
        pretrained, figures["pretraining"] = pretrain_model(corpus, settings)
        figures["pretraining_seconds"] = round(time.perf_counter() - t, 1)
        show_pretraining(figures["pretraining"], figures["pretraining_seconds"])
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


def pretraining_budget(time_budget: str | None, steps: int | None) -> tuple[int, float | None]:
    """(steps, seconds) from ``--pretrain-time`` and ``--pretrain-steps``: steps alone train that many steps, a
    time trains for it (at most ``steps`` when both are given), neither the default budget."""
    from albertlite.train.budget import parse_duration

    if steps is not None and steps < 1:
        raise ValueError(f"--pretrain-steps must be at least 1, got {steps}")
    if time_budget is None:
        return (steps, None) if steps is not None else (DemoSettings.pretrain_steps, DemoSettings.pretrain_time)
    return steps or DemoSettings.pretrain_steps, parse_duration(time_budget, "--pretrain-time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=Path("demo_output"), help="Where to leave everything.")
    parser.add_argument("--model", help="A Hub id or directory with real weights: fine-tune it instead of pretraining.")
    parser.add_argument("--pretrain-time", help="Pretraining budget (600, 90s, 10m; default 10m).")
    parser.add_argument("--pretrain-steps", type=int, help="Pretrain this many steps instead of for a time.")
    parser.add_argument("--vocab-size", type=int, default=DemoSettings.vocab_size)
    parser.add_argument("--dupe-factor", type=int, default=DemoSettings.dupe_factor,
                        help="Differently cut copies of each document in the pretraining data.")  # fmt: skip
    parser.add_argument("--finetune-epochs", type=int, default=DemoSettings.finetune_epochs)
    parser.add_argument("--train-per-class", type=int, default=DemoSettings.train_per_class)
    parser.add_argument("--few-per-class", type=int, default=DemoSettings.few_per_class)
    parser.add_argument("--finetune-seeds", type=int, default=DemoSettings.finetune_seeds)
    parser.add_argument("--classifier-pooling", choices=("mean", "cls"), default=DemoSettings.classifier_pooling)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice).")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        steps, budget = pretraining_budget(args.pretrain_time, args.pretrain_steps)
        if args.dupe_factor < 1:
            raise ValueError(f"--dupe-factor must be at least 1, got {args.dupe_factor}")
    except ValueError as error:
        parser.error(str(error))  # one line, exit 2
    # piped (make demo | tee log), stdout is block-buffered: the steps' lines would land after the progress lines
    # (stderr, every few seconds; albertlite.progress) they introduce
    if hasattr(sys.stdout, "reconfigure"):  # not on every replacement stream
        sys.stdout.reconfigure(line_buffering=True)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    # "newly initialised" head weights are expected when a pretrained body gets a task head
    logging.getLogger("albertlite").setLevel(logging.ERROR)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    settings = DemoSettings(
        output=args.output, model=args.model, pretrain_steps=steps, pretrain_time=budget, vocab_size=args.vocab_size,
        dupe_factor=args.dupe_factor, finetune_epochs=args.finetune_epochs, train_per_class=args.train_per_class,
        threads=args.threads, seed=args.seed, few_per_class=args.few_per_class,
        classifier_pooling=args.classifier_pooling, finetune_seeds=args.finetune_seeds,
    )  # fmt: skip
    run(settings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
