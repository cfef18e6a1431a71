"""Whole-word n-gram masking for the masked-LM objective, as ALBERT's ``create_pretraining_data.py`` does it.

The algorithm, step by step (the original's, with one seeded ``numpy`` Generator for every draw):

1. Group the pieces into candidate words. A piece starts a new word when :func:`is_word_start_piece` says so;
   otherwise it joins the word before it. Special tokens ([CLS], [SEP], ...) are never candidates. With
   ``do_whole_word_mask=False`` every piece is a word of its own.
2. The budget is ``min(max_predictions_per_seq, max(1, round(len(input_ids) * masked_lm_prob)))``, with
   Python's rounding (half to even), counted over the whole sequence including [CLS] and [SEP].
3. Visit the words in a random order. At each word draw ``n`` in ``1..ngram`` with ``p(n) ∝ 1/n``
   (6/11, 3/11, 2/11 for ``ngram=3``; reversed with ``favor_shorter_ngram=False``); the span is the ``n``
   words from there, fewer at the end of the sequence. Shorten ``n`` while the span would overflow the
   budget; skip the word when even one word overflows, or when the span overlaps a span already taken.
   Like the original, spans run over the [SEP] between the two segments (the separator itself stays).
4. Each piece of an accepted span becomes [MASK] with probability 0.8, stays itself with 0.1 and becomes a
   random piece with 0.1. The random piece is drawn uniformly from the non-special pieces of the vocabulary
   (the original draws from the whole vocabulary, special tokens included).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from albertlite.tokenization_base import Tokenizer

# The original's punctuation set: string.punctuation without the apostrophe (its literal repeats '"' instead).
_PUNCTUATION = frozenset('!"#$%&()*+,-./:;?@[\\]^_`{|}~')
_WORD_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz") | _PUNCTUATION


def is_word_start_piece(piece: str) -> bool:
    """Whether a SentencePiece piece starts a word, by the original's rule.

    A piece starts a word when it begins with "▁" or "<", is a single punctuation character, or holds a
    character that is neither a letter a-z (either case) nor punctuation: digits, apostrophes and non-English
    letters make words of their own.
    """
    if piece.startswith(("▁", "<")) or piece in _PUNCTUATION:
        return True
    return not all(character.lower() in _WORD_CHARACTERS for character in piece)


def word_start_table(vocab: Mapping[str, int], vocab_size: int | None = None) -> np.ndarray:
    """A boolean array indexed by token id: True where the piece starts a word."""
    size = vocab_size if vocab_size is not None else max(vocab.values()) + 1
    table = np.ones(size, dtype=bool)  # ids the vocabulary does not name count as words of their own
    for piece, index in vocab.items():
        table[index] = is_word_start_piece(piece)
    return table


@dataclass(frozen=True)
class MaskedSequence:
    """The result of masking one sequence.

    Args:
        input_ids: the sequence after replacement (int32).
        masked_lm_positions: sorted positions chosen for prediction (int32).
        masked_lm_labels: the original ids at those positions (int32).
        span_words: the number of words of each accepted span, in the order they were taken.
    """

    input_ids: np.ndarray
    masked_lm_positions: np.ndarray
    masked_lm_labels: np.ndarray
    span_words: tuple[int, ...]


class NgramMasker:
    """Whole-word n-gram masking (see the module docstring for the exact algorithm).

    Args:
        word_start: boolean array indexed by token id, True where the piece starts a word.
        special_ids: ids that are never masked and never drawn as random replacements.
        mask_token_id: the id of [MASK].
        masked_lm_prob: fraction of the sequence length to predict.
        max_predictions_per_seq: cap on the predictions per sequence.
        ngram: the longest span, in words.
        favor_shorter_ngram: p(n) ∝ 1/n when True, the reverse order when False.
        do_whole_word_mask: group pieces into words; when False every piece is a word.

    Example:
        >>> masker = NgramMasker.from_tokenizer(tokenizer)
        >>> masked = masker(input_ids, np.random.default_rng(0))
    """

    def __init__(
        self,
        word_start: np.ndarray,
        special_ids: Collection[int],
        mask_token_id: int,
        *,
        masked_lm_prob: float = 0.15,
        max_predictions_per_seq: int = 20,
        ngram: int = 3,
        favor_shorter_ngram: bool = True,
        do_whole_word_mask: bool = True,
    ) -> None:
        if not 0.0 <= masked_lm_prob <= 1.0:
            raise ValueError(f"masked_lm_prob must be in [0, 1], got {masked_lm_prob}")
        if ngram < 1:
            raise ValueError(f"ngram must be at least 1, got {ngram}")
        if max_predictions_per_seq < 1:
            raise ValueError(f"max_predictions_per_seq must be at least 1, got {max_predictions_per_seq}")
        self.word_start = np.asarray(word_start, dtype=bool)
        self.special = np.zeros(len(self.word_start), dtype=bool)
        self.special[list(special_ids)] = True
        self.mask_token_id = int(mask_token_id)
        self.masked_lm_prob = masked_lm_prob
        self.max_predictions_per_seq = max_predictions_per_seq
        self.ngram = ngram
        self.do_whole_word_mask = do_whole_word_mask
        weights = 1.0 / np.arange(1, ngram + 1)
        self.ngram_probabilities = (weights if favor_shorter_ngram else weights[::-1]) / weights.sum()
        self._ngram_cdf = np.cumsum(self.ngram_probabilities)
        self.random_ids = np.flatnonzero(~self.special).astype(np.int32)

    @classmethod
    def from_tokenizer(cls, tokenizer: Tokenizer, **settings: Any) -> NgramMasker:
        """Build the word table and special ids from a tokenizer with ``get_vocab``, ``vocab_size``,
        ``all_special_ids`` and ``mask_token_id``."""
        table = word_start_table(tokenizer.get_vocab(), tokenizer.vocab_size)
        return cls(table, tokenizer.all_special_ids, tokenizer.mask_token_id, **settings)

    def budget(self, length: int) -> int:
        """How many positions a sequence of ``length`` tokens gets (Python's round, as the original)."""
        return min(self.max_predictions_per_seq, max(1, round(length * self.masked_lm_prob)))

    def candidate_words(self, input_ids: np.ndarray) -> list[list[int]]:
        """The positions of each maskable word, in order; special tokens belong to none."""
        words: list[list[int]] = []
        starts = self.word_start[input_ids] | (not self.do_whole_word_mask)
        special = self.special[input_ids]
        for position in range(len(input_ids)):
            if special[position]:
                continue
            if words and not starts[position]:
                words[-1].append(position)
            else:
                words.append([position])
        return words

    def __call__(self, input_ids: Sequence[int] | np.ndarray, rng: np.random.Generator) -> MaskedSequence:
        """Mask one sequence (``[CLS] A [SEP] B [SEP]`` ids) with draws from ``rng``."""
        original = np.asarray(input_ids, dtype=np.int32)
        output = original.copy()
        words = self.candidate_words(original)
        if self.masked_lm_prob == 0 or not words:
            empty = np.zeros(0, dtype=np.int32)
            return MaskedSequence(output, empty, empty.copy(), ())
        budget = self.budget(len(original))
        covered = np.zeros(len(original), dtype=bool)
        positions: list[int] = []
        span_words: list[int] = []
        for start in rng.permutation(len(words)):
            if len(positions) >= budget:
                break
            # inverse-CDF draw of n, P(n) = ngram_probabilities[n - 1] (min() guards the cdf's rounding)
            n = min(int(np.searchsorted(self._ngram_cdf, rng.random(), side="right")), self.ngram - 1) + 1
            span = _span(words, start, n)
            while len(positions) + len(span) > budget and n > 1:  # shorten rather than overflow
                n -= 1
                span = _span(words, start, n)
            if len(positions) + len(span) > budget or covered[span].any():
                continue
            covered[span] = True
            for position in span:
                output[position] = self._replacement(int(original[position]), rng)
            positions.extend(span)
            span_words.append(len(words[start : start + n]))
        chosen = np.array(sorted(positions), dtype=np.int32)
        return MaskedSequence(output, chosen, original[chosen], tuple(span_words))

    def _replacement(self, token_id: int, rng: np.random.Generator) -> int:
        if rng.random() < 0.8:
            return self.mask_token_id
        if rng.random() < 0.5:
            return token_id
        return int(self.random_ids[rng.integers(len(self.random_ids))])


def _span(words: list[list[int]], start: int, n: int) -> list[int]:
    return [position for word in words[start : start + n] for position in word]
