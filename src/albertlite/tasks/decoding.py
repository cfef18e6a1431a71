"""Model outputs back into the input's terms: answer spans as characters of the context, logits as word tags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


def word_tags(
    word_ids: Sequence[int | None], logits: np.ndarray, label_list: Sequence[str], num_words: int
) -> list[str]:
    """One tag per word from the logits of its first piece ("O" for words cut off by the maximum length)."""
    tags = ["O"] * num_words
    previous = None
    for position, word in enumerate(word_ids):
        if word is not None and word != previous:
            tags[word] = label_list[int(np.argmax(logits[position]))]
        previous = word
    return tags


@dataclass(frozen=True)
class DecodeSettings:
    """n-best span decoding.

    Args:
        n_best: start and end candidates kept per window.
        max_answer_length: the longest answer, in tokens.
        null_score_threshold: SQuAD v2: answer "" when ``null score - best span score`` exceeds this.
        allow_no_answer: SQuAD v2 behaviour (False for v1: always give the best span).
    """

    n_best: int = 20
    max_answer_length: int = 30
    null_score_threshold: float = 0.0
    allow_no_answer: bool = False


def decode_answers(
    examples: Sequence[Mapping[str, Any]],
    features: Sequence[Mapping[str, Any]],
    start_logits: Sequence[np.ndarray],
    end_logits: Sequence[np.ndarray],
    settings: DecodeSettings | None = None,
) -> list[dict[str, Any]]:
    """The best answer of each example over all its windows.

    Args:
        examples: the examples (each with ``context``).
        features: their features from :func:`prepare_features` (with ``example_index`` and ``offset_mapping``).
        start_logits / end_logits: one array per feature (padding beyond the feature's length is ignored).
        settings: n-best, maximum answer length and the null-score rule.

    Returns:
        Per example: ``answer`` (text, "" for no answer), ``start``/``end`` (character offsets into the
        context, end exclusive), ``score`` (probability of the answer among the n-best candidates),
        ``null_score_diff`` (null score minus best span score) and ``feature_index`` (the window it came from).
    """
    return [ranked[0] for ranked in ranked_answers(examples, features, start_logits, end_logits, settings, 1)]


def ranked_answers(
    examples: Sequence[Mapping[str, Any]],
    features: Sequence[Mapping[str, Any]],
    start_logits: Sequence[np.ndarray],
    end_logits: Sequence[np.ndarray],
    settings: DecodeSettings | None = None,
    top_k: int = 1,
) -> list[list[dict[str, Any]]]:
    """The ``top_k`` best answers of each example, best first, as :func:`decode_answers` gives the first.

    A span found in two overlapping windows is listed once; there are fewer than ``top_k`` answers when the
    n-best candidates hold fewer distinct spans.
    """
    settings = settings or DecodeSettings()
    by_example: dict[int, list[int]] = {}
    for index, feature in enumerate(features):
        by_example.setdefault(feature["example_index"], []).append(index)
    results = []
    for example_index, example in enumerate(examples):
        candidates, null_score = [], None
        for f in by_example.get(example_index, []):
            starts, ends = np.asarray(start_logits[f], dtype=np.float64), np.asarray(end_logits[f], dtype=np.float64)
            offsets = features[f]["offset_mapping"]
            null = float(starts[0] + ends[0])
            null_score = null if null_score is None else min(null_score, null)
            candidates += _window_candidates(starts, ends, offsets, settings, f)
        results.append(_ranked(example["context"], candidates, null_score, settings, top_k))
    return results


def _window_candidates(starts, ends, offsets, settings, feature_index) -> list[tuple[float, int, int, int]]:
    length = len(offsets)
    top_starts = np.argsort(starts[:length])[::-1][: settings.n_best]
    top_ends = np.argsort(ends[:length])[::-1][: settings.n_best]
    candidates = []
    for s in top_starts:
        if offsets[s] is None:
            continue
        for e in top_ends:
            if offsets[e] is None or e < s or e - s + 1 > settings.max_answer_length:
                continue
            candidates.append((float(starts[s] + ends[e]), offsets[s][0], offsets[e][1], feature_index))
    return candidates


def _ranked(context, candidates, null_score, settings, top_k) -> list[dict[str, Any]]:
    candidates.sort(key=lambda c: -c[0])
    candidates = candidates[: settings.n_best]
    if not candidates:
        return [{"answer": "", "start": 0, "end": 0, "score": 0.0, "null_score_diff": 0.0, "feature_index": None}]
    scores = np.array([c[0] for c in candidates] + ([null_score] if null_score is not None else []))
    probabilities = np.exp(scores - scores.max())
    probabilities /= probabilities.sum()
    null_diff = (null_score - candidates[0][0]) if null_score is not None else float("-inf")
    answers = []
    if settings.allow_no_answer and null_diff > settings.null_score_threshold:
        answers.append({
            "answer": "", "start": 0, "end": 0, "score": float(probabilities[-1]),
            "null_score_diff": float(null_diff), "feature_index": None,
        })  # fmt: skip
    seen = set()
    for (_, start, end, feature_index), probability in zip(candidates, probabilities):
        if len(answers) == top_k:
            break
        # offsets of "▁word" pieces include the space before the word: the answer starts at its first letter
        while start < end and context[start].isspace():
            start += 1
        if (start, end) in seen:
            continue
        seen.add((start, end))
        answers.append({
            "answer": context[start:end], "start": int(start), "end": int(end), "score": float(probability),
            "null_score_diff": float(null_diff), "feature_index": feature_index,
        })  # fmt: skip
    return answers
