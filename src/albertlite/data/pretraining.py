"""Pretraining instances: documents -> ``[CLS] A [SEP] B [SEP]`` sentence-order pairs with n-gram masking.

This follows ``create_instances_from_document`` of ALBERT's ``create_pretraining_data.py``, with three changes
that make it reproducible and bounded in memory:

- Randomness: every (dupe, document) pair gets its own ``numpy`` Generator seeded from
  ``(seed, dupe, document_index)``, so an instance depends on its document alone, not on worker count or order.
  The original shares one stream across the corpus (and draws n-gram lengths from numpy's unseeded global one).
- Streaming: documents are taken in chunks of at most ``chunk_size`` documents and ``chunk_chars`` characters
  (a longer document makes a chunk of its own); the output order is chunk by chunk, and within a chunk dupe by
  dupe, document by document. There is no global shuffle (the original keeps every instance in memory to
  shuffle them): shuffle at read time, which memory-mapped shards make cheap.
- One-sentence chunks: the original pairs a chunk of one sentence with a random other document (an NSP-style
  negative, label 1; issue 234 of google-research/albert). By default we instead split that sentence at a
  random word start into A and B and apply the usual order swap, so every label means sentence order as in the
  paper (a lone one-token sentence gives no instance). ``random_next_sentence_fallback=True`` restores the
  original, drawing the other document from the same chunk.

The algorithm for one document, as the original:

1. ``target = max_seq_length - 3``; with probability ``short_seq_prob`` it is ``randint(2, target)`` instead.
2. Gather sentences into a chunk until the chunk reaches the target length or the document ends.
3. ``a_end = randint(1, len(chunk) - 1)`` sentences go to A, the rest to B. With probability 0.5 swap A and B
   (``sentence_order_label`` 1), else keep them (label 0).
4. Truncate the longer of A and B, one token at a time from the front or the back at random, to fit.
5. ``[CLS] A [SEP] B [SEP]`` with token types 0 up to the first [SEP] inclusive and 1 after; then mask
   (:class:`~albertlite.data.masking.NgramMasker`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from albertlite.data.masking import NgramMasker

if TYPE_CHECKING:
    from albertlite.tokenization_base import Tokenizer


@dataclass(frozen=True)
class PretrainingInstance:
    """One pretraining example.

    Args:
        input_ids: ``[CLS] A [SEP] B [SEP]`` after masking (int32, unpadded).
        token_type_ids: 0 for [CLS], A and the first [SEP]; 1 for B and the last [SEP] (int32).
        masked_lm_positions: sorted positions to predict (int32); empty when masking is left to training.
        masked_lm_labels: the original ids at those positions (int32).
        sentence_order_label: 0 when A precedes B in the document, 1 when they were swapped (or, with the
            one-sentence fallback, when B comes from another document).
    """

    input_ids: np.ndarray
    token_type_ids: np.ndarray
    masked_lm_positions: np.ndarray
    masked_lm_labels: np.ndarray
    sentence_order_label: int


@dataclass(frozen=True)
class InstanceSettings:
    """The knobs of :func:`create_pretraining_instances` other than the tokenizer (see there)."""

    max_seq_length: int = 512
    masked_lm_prob: float = 0.15
    max_predictions_per_seq: int = 20
    short_seq_prob: float = 0.1
    ngram: int = 3
    favor_shorter_ngram: bool = True
    do_whole_word_mask: bool = True
    seed: int = 12345
    dupe_factor: int = 1
    random_next_sentence_fallback: bool = False
    chunk_size: int = 256
    chunk_chars: int = 1 << 20
    mask: bool = True

    def __post_init__(self) -> None:
        if self.max_seq_length < 5:
            raise ValueError(f"max_seq_length must be at least 5 ([CLS] A [SEP] B [SEP]), got {self.max_seq_length}")
        if not 0.0 <= self.short_seq_prob <= 1.0:
            raise ValueError(f"short_seq_prob must be in [0, 1], got {self.short_seq_prob}")
        for name in ("dupe_factor", "chunk_size", "chunk_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.seed < 0:
            raise ValueError(f"seed must be non-negative, got {self.seed}")


def create_pretraining_instances(
    documents: Iterable[Sequence[str]],
    tokenizer: Tokenizer,
    *,
    max_seq_length: int = 512,
    masked_lm_prob: float = 0.15,
    max_predictions_per_seq: int = 20,
    short_seq_prob: float = 0.1,
    ngram: int = 3,
    favor_shorter_ngram: bool = True,
    do_whole_word_mask: bool = True,
    seed: int = 12345,
    dupe_factor: int = 1,
    random_next_sentence_fallback: bool = False,
    chunk_size: int = 256,
    chunk_chars: int = 1 << 20,
    mask: bool = True,
) -> Iterator[PretrainingInstance]:
    """Yield sentence-order pretraining instances from documents, as ALBERT's ``create_pretraining_data.py``.

    Documents are read lazily, a chunk at a time, so memory does not grow with the corpus.

    Args:
        documents: each document a list of sentence strings, in order.
        tokenizer: an ALBERT tokenizer (``tokenize``, ``convert_tokens_to_ids``, ``get_vocab``, ``vocab_size``,
            ``cls_token_id``, ``sep_token_id``, ``mask_token_id``, ``all_special_ids``).
        max_seq_length: the longest instance, [CLS] and two [SEP] included.
        masked_lm_prob: fraction of each instance to predict, before the cap below.
        max_predictions_per_seq: the cap on predictions per instance.
        short_seq_prob: probability of a shorter random target length for a document.
        ngram: the longest masked span, in words.
        favor_shorter_ngram: span lengths with p(n) ∝ 1/n (else the reverse).
        do_whole_word_mask: mask whole words (else single pieces).
        seed: the seed of every random draw.
        dupe_factor: how many times each document is used, with different draws.
        random_next_sentence_fallback: pair a one-sentence chunk with a random other document of the same
            chunk (the original's behaviour) instead of splitting that sentence.
        chunk_size: the most documents per chunk; chunks set the output order and the fallback's pool.
        chunk_chars: the most characters per chunk (bounds memory when documents are long).
        mask: mask here (static masking); with False the instances are unmasked, for dynamic masking.

    Returns:
        An iterator of :class:`PretrainingInstance`.
    """
    settings = InstanceSettings(
        max_seq_length=max_seq_length,
        masked_lm_prob=masked_lm_prob,
        max_predictions_per_seq=max_predictions_per_seq,
        short_seq_prob=short_seq_prob,
        ngram=ngram,
        favor_shorter_ngram=favor_shorter_ngram,
        do_whole_word_mask=do_whole_word_mask,
        seed=seed,
        dupe_factor=dupe_factor,
        random_next_sentence_fallback=random_next_sentence_fallback,
        chunk_size=chunk_size,
        chunk_chars=chunk_chars,
        mask=mask,
    )
    return _instances(InstanceBuilder(tokenizer, settings), documents)  # settings are checked here, not lazily


def _instances(builder: InstanceBuilder, documents: Iterable[Sequence[str]]) -> Iterator[PretrainingInstance]:
    settings = builder.settings
    for first_index, chunk in chunk_documents(documents, settings.chunk_size, settings.chunk_chars):
        yield from builder.chunk_instances(first_index, chunk)


def chunk_documents(
    documents: Iterable[Sequence[str]], size: int, max_chars: int
) -> Iterator[tuple[int, list[Sequence[str]]]]:
    """Group documents into chunks of at most ``size`` documents and ``max_chars`` characters (at least one
    document each), each with the index of its first document. Boundaries depend on the documents alone."""
    chunk: list[Sequence[str]] = []
    chars = 0
    first_index = 0
    for document in documents:
        length = sum(len(sentence) for sentence in document)
        if chunk and (len(chunk) == size or chars + length > max_chars):
            yield first_index, chunk
            first_index += len(chunk)
            chunk, chars = [], 0
        chunk.append(document)
        chars += length
    if chunk:
        yield first_index, chunk


class InstanceBuilder:
    """Turns chunks of documents into instances; holds the tokenizer and the masker.

    Args:
        tokenizer: see :func:`create_pretraining_instances`.
        settings: the instance settings.
    """

    def __init__(self, tokenizer: Tokenizer, settings: InstanceSettings) -> None:
        self.tokenizer = tokenizer
        self.settings = settings
        self.cls_id = int(tokenizer.cls_token_id)
        self.sep_id = int(tokenizer.sep_token_id)
        self.masker = NgramMasker.from_tokenizer(
            tokenizer,
            masked_lm_prob=settings.masked_lm_prob,
            max_predictions_per_seq=settings.max_predictions_per_seq,
            ngram=settings.ngram,
            favor_shorter_ngram=settings.favor_shorter_ngram,
            do_whole_word_mask=settings.do_whole_word_mask,
        )

    def tokenize_document(self, sentences: Sequence[str]) -> list[list[int]]:
        """Token ids of each sentence; sentences without tokens are dropped, as the original does."""
        pieces = (self.tokenizer.tokenize(sentence) for sentence in sentences)
        return [list(self.tokenizer.convert_tokens_to_ids(p)) for p in pieces if p]

    def chunk_instances(self, first_index: int, documents: Sequence[Sequence[str]]) -> Iterator[PretrainingInstance]:
        """Instances of one chunk: dupe by dupe, document by document."""
        tokenized = [(first_index + offset, self.tokenize_document(d)) for offset, d in enumerate(documents)]
        pool = [document for _, document in tokenized if document]  # the fallback draws among these
        indices = [index for index, document in tokenized if document]
        for dupe in range(self.settings.dupe_factor):
            for position, index in enumerate(indices):
                rng = np.random.default_rng([self.settings.seed, dupe, index])
                yield from self.document_instances(pool, position, rng)

    def document_instances(
        self, documents: list[list[list[int]]], index: int, rng: np.random.Generator
    ) -> Iterator[PretrainingInstance]:
        """Instances of ``documents[index]`` (the original's ``create_instances_from_document``)."""
        document = documents[index]
        max_num_tokens = self.settings.max_seq_length - 3
        target_length = max_num_tokens
        if rng.random() < self.settings.short_seq_prob:
            target_length = int(rng.integers(2, max_num_tokens + 1))
        chunk: list[list[int]] = []
        chunk_length = 0
        i = 0
        while i < len(document):
            chunk.append(document[i])
            chunk_length += len(document[i])
            if i == len(document) - 1 or chunk_length >= target_length:
                pair = self._segment_pair(documents, index, chunk, target_length, rng)
                if pair is not None:
                    yield self._instance(*pair, rng)
                chunk = []
                chunk_length = 0
            i += 1

    def _segment_pair(
        self,
        documents: list[list[list[int]]],
        index: int,
        chunk: list[list[int]],
        target_length: int,
        rng: np.random.Generator,
    ) -> tuple[list[int], list[int], int] | None:
        """(A, B, label) from a chunk, or None when a lone one-token sentence cannot be split."""
        if len(chunk) == 1:
            if self.settings.random_next_sentence_fallback:
                tokens_b = self._random_document_b(documents, index, target_length - len(chunk[0]), rng)
                return chunk[0][:], tokens_b, 1
            tokens_a, tokens_b = self._split_sentence(chunk[0], rng)
            if not tokens_b:
                return None
        else:
            a_end = int(rng.integers(1, len(chunk)))  # randint(1, len(chunk) - 1)
            tokens_a = [token for sentence in chunk[:a_end] for token in sentence]
            tokens_b = [token for sentence in chunk[a_end:] for token in sentence]
        label = 0
        if rng.random() < 0.5:
            tokens_a, tokens_b, label = tokens_b, tokens_a, 1
        return tokens_a, tokens_b, label

    def _split_sentence(self, sentence: list[int], rng: np.random.Generator) -> tuple[list[int], list[int]]:
        """Split a lone sentence at a random word start (any position when it has no inner word start)."""
        if len(sentence) < 2:
            return sentence[:], []
        starts = [p for p in range(1, len(sentence)) if self.masker.word_start[sentence[p]]]
        points = starts or list(range(1, len(sentence)))
        cut = points[int(rng.integers(len(points)))]
        return sentence[:cut], sentence[cut:]

    @staticmethod
    def _random_document_b(
        documents: list[list[list[int]]], index: int, target_b_length: int, rng: np.random.Generator
    ) -> list[int]:
        """B from a random other document of the chunk (the original's one-sentence-chunk behaviour)."""
        for _ in range(10):  # the original gives up after 10 draws and takes whatever it drew last
            other = int(rng.integers(len(documents)))
            if other != index:
                break
        random_document = documents[other]
        tokens_b: list[int] = []
        for sentence in random_document[int(rng.integers(len(random_document))) :]:
            tokens_b.extend(sentence)
            if len(tokens_b) >= target_b_length:
                break
        return tokens_b

    def _instance(
        self, tokens_a: list[int], tokens_b: list[int], label: int, rng: np.random.Generator
    ) -> PretrainingInstance:
        truncate_seq_pair(tokens_a, tokens_b, self.settings.max_seq_length - 3, rng)
        input_ids = np.array([self.cls_id, *tokens_a, self.sep_id, *tokens_b, self.sep_id], dtype=np.int32)
        token_type_ids = np.zeros(len(input_ids), dtype=np.int32)
        token_type_ids[len(tokens_a) + 2 :] = 1
        if self.settings.mask:
            masked = self.masker(input_ids, rng)
            return PretrainingInstance(
                masked.input_ids, token_type_ids, masked.masked_lm_positions, masked.masked_lm_labels, label
            )
        empty = np.zeros(0, dtype=np.int32)
        return PretrainingInstance(input_ids, token_type_ids, empty, empty.copy(), label)


def truncate_seq_pair(tokens_a: list[int], tokens_b: list[int], max_num_tokens: int, rng: np.random.Generator) -> None:
    """Shorten the longer of two lists in place, from the front or the back at random, until both fit."""
    while len(tokens_a) + len(tokens_b) > max_num_tokens:
        longer = tokens_a if len(tokens_a) > len(tokens_b) else tokens_b
        if rng.random() < 0.5:
            del longer[0]
        else:
            longer.pop()
