"""Examples to unpadded features, one featurizer per task: ids, token types, labels and what decoding needs.

Every featurizer has the signature ``(examples, tokenizer, label2id, settings, training) -> features``; the
task registry (:mod:`albertlite.tasks.registry`) names which one a task uses, and fine-tuning and inference
both go through it, so a model sees the same features in both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from albertlite.tasks.labels import label_id

if TYPE_CHECKING:
    from albertlite.tokenization_base import Tokenizer

IGNORE_INDEX = -100  # label of positions that take no loss (PyTorch's cross-entropy default)
MIN_LENGTH = 8  # the shortest max_length that leaves room for text beside the special tokens


@dataclass(frozen=True)
class FeatureSettings:
    """How examples become features.

    Args:
        max_length: the longest sequence, special tokens included.
        doc_stride: question answering: tokens shared by two consecutive windows of a long context
            (Hugging Face's meaning of ``stride``); capped at half the context room of a window.
        max_query_length: question answering: the question is cut to this many tokens.
        regression: text classification: float labels and a single output.
    """

    max_length: int = 128
    doc_stride: int = 128
    max_query_length: int = 64
    regression: bool = False


def classification_features(examples, tokenizer, label2id, settings, training) -> list[dict[str, Any]]:
    texts = [e["text"] for e in examples]
    pairs = [e.get("text_pair") for e in examples]
    has_pairs = any(p is not None for p in pairs)
    encoded = tokenizer(
        texts, [p or "" for p in pairs] if has_pairs else None, truncation=True, max_length=settings.max_length
    )
    features = []
    for i, example in enumerate(examples):
        feature = {"input_ids": encoded["input_ids"][i], "token_type_ids": encoded["token_type_ids"][i]}
        label = example.get("label")
        if label is not None:
            where = f"example {i}"
            feature["labels"] = float(label) if settings.regression else label_id(label, label2id, where)
        features.append(feature)
    return features


def _word_pieces(tokenizer: Tokenizer, words: Sequence[str]) -> list[list[int]]:
    """Each word's piece ids as it is encoded on its own (each word gets its "▁", as is_split_into_words)."""
    encoded = tokenizer(list(words), add_special_tokens=False)["input_ids"] if words else []
    return [list(ids) for ids in encoded]


def token_features(examples, tokenizer, label2id, settings, training) -> list[dict[str, Any]]:
    features = []
    budget = settings.max_length - 2
    for i, example in enumerate(examples):
        input_ids, word_ids = [tokenizer.cls_token_id], [None]
        for word_index, pieces in enumerate(_word_pieces(tokenizer, example["tokens"])):
            if len(input_ids) - 1 + len(pieces) > budget:
                break  # words past the maximum length are dropped (predicted "O" at inference)
            input_ids += pieces
            word_ids += [word_index] * len(pieces)
        input_ids.append(tokenizer.sep_token_id)
        word_ids.append(None)
        feature = {"input_ids": input_ids, "token_type_ids": [0] * len(input_ids), "word_ids": word_ids}
        tags = example.get("tags")
        if tags is not None:
            feature["labels"] = _first_piece_labels(word_ids, tags, label2id, f"example {i}")
        features.append(feature)
    return features


def _first_piece_labels(word_ids, tags, label2id, where) -> list[int]:
    labels, previous = [], None
    for word in word_ids:
        if word is None or word == previous:
            labels.append(IGNORE_INDEX)  # specials and continuation pieces take no loss
        else:
            labels.append(label_id(tags[word], label2id, where))
        previous = word
    return labels


def qa_features(examples, tokenizer, label2id, settings, training) -> list[dict[str, Any]]:
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("Question answering needs character offsets: load the tokenizer with AlbertTokenizerFast.")
    questions = [_cut_question(tokenizer, e["question"], settings.max_query_length) for e in examples]
    contexts = [e["context"] for e in examples]
    longest_question = max(len(ids) for ids in tokenizer(questions, add_special_tokens=False)["input_ids"])
    room = settings.max_length - longest_question - 3  # context tokens per window
    if room < 2:
        raise ValueError(f"max_length={settings.max_length} leaves no room for the context after the question.")
    # the overlap must be shorter than a window; the paper's 128 would not fit a short max_length
    stride = min(settings.doc_stride, room // 2)
    encoded = tokenizer(
        questions,
        contexts,
        truncation="only_second",
        max_length=settings.max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
    )
    features = []
    for row, example_index in enumerate(encoded["overflow_to_sample_mapping"]):
        sequence_ids = encoded.sequence_ids(row)
        offsets = [
            tuple(span) if sequence_ids[k] == 1 else None for k, span in enumerate(encoded["offset_mapping"][row])
        ]
        feature = {
            "input_ids": encoded["input_ids"][row],
            "token_type_ids": encoded["token_type_ids"][row],
            "example_index": example_index,
            "offset_mapping": offsets,
        }
        answers = examples[example_index].get("answers")
        if answers is not None:
            feature["start_positions"], feature["end_positions"] = _answer_tokens(answers, offsets)
        features.append(feature)
    return features


def _cut_question(tokenizer: Tokenizer, question: str, max_query_length: int) -> str:
    question = question.lstrip()  # leading spaces only shift offsets, as in Hugging Face's examples
    offsets = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    if len(offsets) <= max_query_length:
        return question
    return question[: offsets[max_query_length - 1][1]]


def _answer_tokens(answers: Mapping[str, list], offsets: Sequence[tuple[int, int] | None]) -> tuple[int, int]:
    """Token span of the first answer inside this window; (0, 0) ([CLS]) when absent or unanswerable."""
    if not answers["text"]:
        return 0, 0
    start_char = answers["answer_start"][0]
    end_char = start_char + len(answers["text"][0])
    context_tokens = [k for k, span in enumerate(offsets) if span is not None]
    if not context_tokens:
        return 0, 0
    first, last = context_tokens[0], context_tokens[-1]
    if offsets[first][0] > start_char or offsets[last][1] < end_char:
        return 0, 0  # the answer is not (wholly) in this window
    start = first
    while start <= last and offsets[start][1] <= start_char:
        start += 1
    end = last
    while end >= first and offsets[end][0] >= end_char:
        end -= 1
    return start, end


def choice_features(examples, tokenizer, label2id, settings, training) -> list[dict[str, Any]]:
    features = []
    for example in examples:
        contexts, endings = [], []
        for option in example["choices"]:
            question = example["question"]
            # RACE cloze questions mark the blank with "_"; the option fills it
            second = question.replace("_", str(option)) if "_" in question else f"{question} {option}".strip()
            contexts.append(example["context"])
            endings.append(second)
        if any(contexts):
            encoded = tokenizer(contexts, endings, truncation="only_first", max_length=settings.max_length)
        else:
            encoded = tokenizer(endings, truncation=True, max_length=settings.max_length)
        feature = {"input_ids": encoded["input_ids"], "token_type_ids": encoded["token_type_ids"]}
        if example.get("label") is not None:
            feature["labels"] = int(example["label"])
        features.append(feature)
    return features


def mlm_features(examples, tokenizer, label2id, settings, training) -> list[dict[str, Any]]:
    """Concatenate the texts and cut them into blocks of ``max_length`` (Hugging Face's ``group_texts``)."""
    encoded = tokenizer([e["text"] for e in examples], add_special_tokens=False)["input_ids"]
    stream = [token for ids in encoded for token in ids]
    block = settings.max_length - 2
    features = []
    for start in range(0, len(stream), block):
        chunk = stream[start : start + block]
        if len(chunk) < max(4, block // 8) and features:
            break  # a short tail adds noise, not signal
        ids = [tokenizer.cls_token_id, *chunk, tokenizer.sep_token_id]
        features.append({"input_ids": ids, "token_type_ids": [0] * len(ids)})
    return features
