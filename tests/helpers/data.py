"""Shared fixtures for the data tests: a tiny SentencePiece model built the ALBERT way, and synthetic corpora."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import sentencepiece as spm

WORDS = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima",
    "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey",
    "xray", "yankee", "zulu", "river", "mountain", "forest", "ocean", "castle", "garden", "window", "station",
]  # fmt: skip


def synthetic_documents(num_documents: int, seed: int = 0, sentences: tuple[int, int] = (1, 12)) -> list[list[str]]:
    """Documents of random sentences over WORDS (3 to 14 words each, ending with a full stop)."""
    rng = np.random.default_rng(seed)
    documents = []
    for _ in range(num_documents):
        count = int(rng.integers(sentences[0], sentences[1] + 1))
        documents.append(
            [" ".join(rng.choice(WORDS, size=int(rng.integers(3, 15)))).capitalize() + "." for _ in range(count)]
        )
    return documents


def write_corpus(path: Path, documents: Sequence[Sequence[str]]) -> Path:
    """Write documents in the original's layout: one sentence per line, a blank line between documents."""
    path.write_text("\n\n".join("\n".join(document) for document in documents) + "\n", encoding="utf-8")
    return path


def tiny_tokenizer(directory: Path, vocab_size: int = 60, seed: int = 0):
    """Train and load an ``AlbertTokenizer`` on synthetic documents (words split into several pieces)."""
    from albertlite import AlbertTokenizer
    from albertlite.tokenizer_training import train_tokenizer

    corpus = write_corpus(directory.parent / f"{directory.name}-corpus.txt", synthetic_documents(200, seed))
    train_tokenizer([corpus], vocab_size=vocab_size, output_dir=directory)
    return AlbertTokenizer.from_pretrained(directory)


def train_sentencepiece(vocab_size: int = 60, seed: int = 0) -> bytes:
    """Train a unigram model on a synthetic corpus: pad 0, unk 1, control symbols [CLS] 2, [SEP] 3, [MASK] 4."""
    sentences = [s.lower() for document in synthetic_documents(200, seed) for s in document]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=model,
        vocab_size=vocab_size,
        model_type="unigram",
        pad_id=0,
        unk_id=1,
        bos_id=-1,
        eos_id=-1,
        control_symbols=["[CLS]", "[SEP]", "[MASK]"],
        character_coverage=1.0,
        minloglevel=2,
        num_threads=1,
    )
    return model.getvalue()
