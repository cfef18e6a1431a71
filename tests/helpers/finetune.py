"""Tiny tokenizers, models and rule-decided datasets for the fine-tuning, pipeline and CLI tests.

Every dataset here is built so that a simple rule decides the answer: a tiny ALBERT learns it in seconds.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from albertlite import AlbertConfig, AlbertForMaskedLM, train_tokenizer

NAMES = ["alice", "bob", "carol", "dave", "erin", "frank"]
CITIES = ["paris", "rome", "oslo", "lima", "cairo", "delhi"]
COLORS = ["red", "blue", "green", "yellow", "purple", "orange"]
FILLER = ["the", "a", "big", "small", "house", "tree", "river", "walks", "sees", "near", "over", "with", "and", "of"]
GOOD, BAD = ["good", "great", "nice"], ["bad", "awful", "poor"]
VOCABULARY = NAMES + CITIES + COLORS + FILLER + GOOD + BAD + ["what", "color", "is", "it", "who", "which", "one"]


def corpus_lines(seed: int = 0, count: int = 600) -> list[str]:
    """Sentences over VOCABULARY (so that test words become single pieces) and some standard-library prose."""
    rng = np.random.default_rng(seed)
    lines = [" ".join(VOCABULARY)] * 20
    lines += [" ".join(rng.choice(VOCABULARY, size=int(rng.integers(4, 12)))) for _ in range(count)]
    for module in (json, textwrap, argparse):  # prose gives the unigram trainer enough distinct pieces
        lines += [line for line in (module.__doc__ or "").splitlines() if line.strip()]
    return lines


def make_tokenizer_dir(directory: Path) -> Path:
    """Train a 200-piece vocabulary on corpus_lines() and save both tokenizer files in ``directory``."""
    corpus = directory / "corpus.txt"
    directory.mkdir(parents=True, exist_ok=True)
    corpus.write_text("\n".join(corpus_lines()) + "\n", encoding="utf-8")
    train_tokenizer([corpus], vocab_size=200, output_dir=directory)
    return directory


def tiny_model_config(vocab_size: int, **overrides) -> AlbertConfig:
    settings = dict(
        vocab_size=vocab_size, embedding_size=32, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
        intermediate_size=128, max_position_embeddings=128, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, classifier_dropout_prob=0.0,
    )  # fmt: skip
    settings.update(overrides)
    return AlbertConfig(**settings)


def make_model_dir(directory: Path, tokenizer_dir: Path, seed: int = 0, **config: object) -> Path:
    """A randomly initialised tiny AlbertForMaskedLM saved with the tokenizer: a 'pretrained' base to fine-tune.

    ``config`` overrides fields of :func:`tiny_model_config` (``max_position_embeddings=64`` ...).
    """
    from albertlite import AlbertTokenizerFast

    tokenizer = AlbertTokenizerFast.from_pretrained(tokenizer_dir)
    torch.manual_seed(seed)
    model = AlbertForMaskedLM(tiny_model_config(tokenizer.vocab_size, **config))
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def _words(rng: np.random.Generator, n: int, pool: list[str] = FILLER) -> list[str]:
    return [str(w) for w in rng.choice(pool, size=n)]


def sentiment_examples(count: int, seed: int) -> list[dict]:
    """label "pos" when the sentence holds a GOOD word, "neg" when a BAD one."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        label = "pos" if i % 2 == 0 else "neg"
        words = _words(rng, int(rng.integers(3, 8)))
        words.insert(int(rng.integers(0, len(words) + 1)), str(rng.choice(GOOD if label == "pos" else BAD)))
        rows.append({"text": " ".join(words), "label": label})
    return rows


def pair_regression_examples(count: int, seed: int) -> list[dict]:
    """score = how many GOOD words the pair holds (0 to 3), plus a fraction so labels are floats."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        k = int(rng.integers(0, 4))
        first = _words(rng, 3) + [str(rng.choice(GOOD)) for _ in range(k)]
        rows.append({"sentence1": " ".join(first), "sentence2": " ".join(_words(rng, 3)), "label": k + 0.5})
    return rows


def ner_examples(count: int, seed: int) -> list[dict]:
    """NAMES are B-PER, CITIES are B-LOC, a city after "new" style pairs make I-LOC; the rest O."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        tokens, tags = [], []
        for _ in range(int(rng.integers(4, 9))):
            kind = rng.random()
            if kind < 0.2:
                tokens.append(str(rng.choice(NAMES)))
                tags.append("B-PER")
            elif kind < 0.35:
                tokens += [str(rng.choice(CITIES)), str(rng.choice(CITIES))]
                tags += ["B-LOC", "I-LOC"]
            else:
                tokens.append(str(rng.choice(FILLER)))
                tags.append("O")
        rows.append({"tokens": tokens, "tags": tags})
    return rows


def qa_examples(count: int, seed: int, context_words: int = 12, unanswerable: float = 0.0) -> list[dict]:
    """The answer is the one COLOR word of the context; without one the question is unanswerable."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        words = _words(rng, context_words)
        answerable = rng.random() >= unanswerable
        if answerable:
            words[int(rng.integers(0, context_words))] = str(rng.choice(COLORS))
        context = " ".join(words)
        answers = {"text": [], "answer_start": []}
        if answerable:
            color = next(w for w in words if w in COLORS)
            start = context.index(f" {color} ") + 1 if f" {color} " in context else context.index(color)
            answers = {"text": [color], "answer_start": [start]}
        rows.append({"id": f"q{i}", "question": "what color is it", "context": context, "answers": answers})
    return rows


def choice_examples(count: int, seed: int) -> list[dict]:
    """The right choice is the one naming a COLOR; the others are fillers."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(count):
        label = int(rng.integers(0, 3))
        choices = [" ".join(_words(rng, 2)) for _ in range(3)]
        choices[label] = f"{rng.choice(FILLER)} {rng.choice(COLORS)}"
        rows.append({"context": " ".join(_words(rng, 5)), "question": "which one", "choices": choices, "label": label})
    return rows


def mlm_examples(count: int, seed: int, words: int = 10) -> list[dict]:
    """Each text repeats one word; with ``max_length = words + 2`` a block is one text, so any masked word
    equals the words around it."""
    rng = np.random.default_rng(seed)
    return [{"text": " ".join([str(rng.choice(NAMES + CITIES + COLORS))] * words)} for _ in range(count)]


def same_results(a, b):
    """Recursive equality of pipeline results: floats to 1e-5 (padded batches round differently), the rest exact."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            same_results(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same_results(x, y)
    elif isinstance(a, float):
        assert a == pytest.approx(b, abs=1e-5)
    else:
        assert a == b
