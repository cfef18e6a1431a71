"""Fine-tuning data for the five ALBERT tasks, framework-free: examples in, padded numpy batches out.

The flow is the same for every task and every framework:

1. :func:`load_examples` reads a JSONL/JSON/CSV/TSV file, a list of dicts or a Hugging Face ``datasets``
   object and returns plain dicts with the task's canonical columns (the usual Hugging Face names).
2. :func:`prepare_features` tokenizes them into unpadded features (lists of ids plus the task's labels).
3. :func:`batch_indices` orders the features (shuffled, grouped by length) and :func:`collate` pads one
   batch to its longest row (dynamic padding) as numpy arrays, which PyTorch, TensorFlow and JAX all take.

Question answering keeps, per feature, the character offsets of its context tokens so that
:func:`decode_answers` can map the best span of each window back to the exact characters of the context.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

IGNORE_INDEX = -100  # label of positions that take no loss (PyTorch's cross-entropy default)

TASKS = ("text-classification", "token-classification", "question-answering", "multiple-choice", "masked-lm")
_ALIASES = {
    "classification": "text-classification",
    "sequence-classification": "text-classification",
    "regression": "text-classification",
    "ner": "token-classification",
    "tagging": "token-classification",
    "qa": "question-answering",
    "squad": "question-answering",
    "mc": "multiple-choice",
    "choice": "multiple-choice",
    "mlm": "masked-lm",
    "fill-mask": "masked-lm",
}

# canonical column -> accepted names, first found wins (GLUE, CoNLL, SQuAD, RACE/SWAG spellings)
_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "text-classification": {
        "text": ("text", "sentence", "sentence1", "premise", "question1"),
        "text_pair": ("text_pair", "sentence2", "hypothesis", "question2"),
        "label": ("label", "labels", "score"),
    },
    "token-classification": {"tokens": ("tokens", "words"), "tags": ("tags", "ner_tags", "labels", "label")},
    "question-answering": {
        "id": ("id",),
        "question": ("question",),
        "context": ("context",),
        "answers": ("answers",),
    },
    "multiple-choice": {
        "context": ("context", "article", "sent1"),
        "question": ("question", "sent2"),
        "choices": ("choices", "options", "endings"),
        "label": ("label", "answer"),
    },
    "masked-lm": {"text": ("text", "sentence")},
}
# columns a file may leave out (single sentences have no pair; test files have no labels)
_OPTIONAL = {"text_pair", "label", "tags", "answers", "id", "context", "question"}
# label columns whose ``datasets`` ClassLabel ids are read as names (a multiple-choice label is already an index)
_NAMED_LABELS = {"text-classification": "label", "token-classification": "tags"}


def canonical_task(task: str) -> str:
    """The canonical task name for ``task`` or one of its aliases (``squad``, ``ner``, ``mlm`` ...)."""
    name = task.strip().lower().replace("_", "-")
    name = _ALIASES.get(name, name)
    if name not in TASKS:
        raise ValueError(f"Unknown task {task!r}; choose one of {', '.join(TASKS)}.")
    return name


# --------------------------------------------------------------------------- reading examples


def load_examples(source: Any, task: str, *, require_labels: bool = True) -> list[dict[str, Any]]:
    """Read examples for ``task`` and rename their columns to the canonical names.

    Args:
        source: a path to a .jsonl/.json/.csv/.tsv file, a list of dicts, or a ``datasets.Dataset``.
        task: a task name (see :data:`TASKS`).
        require_labels: raise when the label column (label / tags / answers) is missing; prediction
            files may leave it out when this is False.

    Returns:
        A list of dicts with the canonical columns of the task. A Dataset's ClassLabel ids (labels, and
        tags in a sequence of ClassLabel) become their names, as a file spells them; -1 (``datasets``'
        "no label") becomes None.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: a required column is missing (the message names the file and the column), or the
            file format is unknown.
    """
    task = canonical_task(task)
    name, rows = _read_rows(source)
    if not rows:
        raise ValueError(f"{name}: no examples.")
    mapping = _column_mapping(rows[0].keys(), task, name, require_labels)
    class_names = dataset_label_names(source, task)
    examples = []
    for index, row in enumerate(rows):
        example = {canonical: row.get(column) for canonical, column in mapping.items()}
        if class_names is not None:
            where = f"{name}, example {index}"
            example[_NAMED_LABELS[task]] = _class_name(example.get(_NAMED_LABELS[task]), class_names, where)
        examples.append(_normalise(example, task, name, index, row))
    return examples


def dataset_label_names(source: Any, task: str) -> list[str] | None:
    """The names of a ``datasets.Dataset``'s ClassLabel label column, in the dataset's id order.

    Token classification reads the ClassLabel inside the tags' sequence feature.

    Returns:
        The names, or None when ``source`` is not a Dataset, the column is not a ClassLabel, or the task has
        no named labels.
    """
    task = canonical_task(task)
    features = getattr(source, "features", None)
    if task not in _NAMED_LABELS or not isinstance(features, Mapping):
        return None
    column = next((c for c in _COLUMNS[task][_NAMED_LABELS[task]] if c in features), None)
    feature = features.get(column) if column is not None else None
    feature = getattr(feature, "feature", feature)  # List(ClassLabel) / Sequence(ClassLabel): the element's
    names = getattr(feature, "names", None)
    return [str(n) for n in names] if names else None


def _class_name(value: Any, names: Sequence[str], where: str) -> Any:
    if value is None or value == -1:
        return None
    if isinstance(value, list):
        return [_class_name(v, names, where) for v in value]
    if not 0 <= int(value) < len(names):
        raise ValueError(f"{where}: class id {value} is out of range for the {len(names)} ClassLabel names.")
    return names[int(value)]


def _read_rows(source: Any) -> tuple[str, list[dict[str, Any]]]:
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file.")
        return str(path), _read_file(path)
    if hasattr(source, "column_names") and hasattr(source, "to_list"):  # a datasets.Dataset
        return "the dataset", list(source.to_list())
    if isinstance(source, Mapping) and source and all(hasattr(split, "to_list") for split in source.values()):
        first = next(iter(source))
        raise TypeError(f"A DatasetDict holds splits ({', '.join(source)}): pass one, e.g. data[{first!r}].")
    if isinstance(source, Sequence) and all(isinstance(row, Mapping) for row in source):
        return "the examples", [dict(row) for row in source]
    raise TypeError(
        f"Cannot read examples from {type(source).__name__}: pass a file path, a list of dicts or a Dataset."
    )


def _read_file(path: Path) -> list[dict[str, Any]]:
    suffix = path.suffix.lower()
    with open(path, encoding="utf-8", newline="") as handle:
        if suffix in (".jsonl", ".ndjson"):
            rows = []
            for number, line in enumerate(handle, 1):
                if line.strip():
                    rows.append(_json_line(line, path, number))
            return rows
        if suffix == ".json":
            data = json.load(handle)
            if isinstance(data, dict) and "data" in data and isinstance(data["data"], list):
                data = data["data"]  # the {"version": ..., "data": [...]} layout of many dataset dumps
            if not isinstance(data, list):
                raise ValueError(f"{path}: expected a JSON list of objects.")
            return data
        if suffix in (".csv", ".tsv"):
            reader = csv.DictReader(handle, delimiter="\t" if suffix == ".tsv" else ",")
            return [_parse_cells(row) for row in reader]
    raise ValueError(f"{path}: unknown file type {suffix!r}; use .jsonl, .json, .csv or .tsv.")


def _json_line(line: str, path: Path, number: int) -> dict[str, Any]:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}:{number}: not valid JSON ({error.msg}).") from None
    if not isinstance(row, dict):
        raise ValueError(f"{path}:{number}: expected a JSON object per line.")
    return row


def _parse_cells(row: Mapping[str, str]) -> dict[str, Any]:
    """CSV cells are strings; list-valued columns (tokens, tags, choices, answers) are stored as JSON."""
    parsed = {}
    for key, value in row.items():
        text = (value or "").strip()
        if text[:1] in "[{":
            try:
                parsed[key] = json.loads(text)
                continue
            except json.JSONDecodeError:
                pass
        parsed[key] = value
    return parsed


def _column_mapping(columns: Iterable[str], task: str, name: str, require_labels: bool) -> dict[str, str]:
    present = list(columns)
    mapping = {}
    for canonical, candidates in _COLUMNS[task].items():
        found = next((c for c in candidates if c in present), None)
        if found is None and task == "multiple-choice" and canonical == "choices":
            found = "ending*" if any(c.startswith("ending") for c in present) else None  # SWAG's ending0..3
        if found is not None:
            mapping[canonical] = found
            continue
        is_label = canonical in ("label", "tags", "answers")
        if canonical not in _OPTIONAL or (is_label and require_labels):
            raise ValueError(
                f"{name}: missing column {canonical!r} for {task} (accepted names: {', '.join(candidates)}; "
                f"columns found: {', '.join(present) or 'none'})."
            )
    return mapping


def _normalise(example: dict[str, Any], task: str, name: str, index: int, row: Mapping[str, Any]) -> dict[str, Any]:
    where = f"{name}, example {index}"
    if task == "multiple-choice":
        if example.get("choices") is None:
            keys = sorted((k for k in row if k.startswith("ending")), key=lambda k: int(k[6:] or 0))
            example["choices"] = [row[k] for k in keys]
        example["context"] = example.get("context") or ""
        example["question"] = example.get("question") or ""
        if not isinstance(example["choices"], list) or len(example["choices"]) < 2:
            raise ValueError(f"{where}: 'choices' must be a list of at least two options.")
        if example.get("label") is not None:
            example["label"] = _choice_index(example["label"], len(example["choices"]), where)
    elif task == "token-classification":
        tokens, tags = example.get("tokens"), example.get("tags")
        if not isinstance(tokens, list):
            raise ValueError(f"{where}: 'tokens' must be a list of words.")
        if tags is not None and (not isinstance(tags, list) or len(tags) != len(tokens)):
            raise ValueError(f"{where}: 'tags' must be a list as long as 'tokens' ({len(tokens)}).")
    elif task == "question-answering":
        example["id"] = str(example.get("id") if example.get("id") is not None else index)
        answers = example.get("answers")
        if answers is not None:
            example["answers"] = _answers(answers, example["context"], where)
    elif task == "text-classification" and not isinstance(example.get("text"), str):
        raise ValueError(f"{where}: 'text' must be a string.")
    return example


def _choice_index(label: Any, count: int, where: str) -> int:
    if isinstance(label, str) and len(label) == 1 and label.isalpha():
        index = ord(label.upper()) - ord("A")  # RACE answers are letters
    else:
        try:
            index = int(label)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: label {label!r} is not a choice index or letter.") from None
    if not 0 <= index < count:
        raise ValueError(f"{where}: label {label!r} is out of range for {count} choices.")
    return index


def _answers(answers: Any, context: str, where: str) -> dict[str, list]:
    if not isinstance(answers, Mapping) or "text" not in answers or "answer_start" not in answers:
        raise ValueError(f"{where}: 'answers' must be {{'text': [...], 'answer_start': [...]}}.")
    texts, starts = list(answers["text"]), [int(s) for s in answers["answer_start"]]
    for text, start in zip(texts, starts):
        if context[start : start + len(text)] != text:
            raise ValueError(f"{where}: answer {text!r} is not at character {start} of the context.")
    return {"text": texts, "answer_start": starts}


# --------------------------------------------------------------------------- labels


def label_names(examples: Sequence[Mapping[str, Any]], task: str) -> list[str] | None:
    """The sorted label names found in training examples, or None for regression and label-free tasks."""
    task = canonical_task(task)
    if task == "text-classification":
        labels = [e["label"] for e in examples if e.get("label") is not None]
        if is_regression(labels):
            return None
        return sorted({str(label) for label in labels}, key=_natural_key)
    if task == "token-classification":
        tags = {str(tag) for e in examples for tag in e.get("tags") or []}
        return sorted(tags, key=lambda t: (t != "O", t[2:] if t[1:2] == "-" else t, t))
    return None


def _natural_key(value: str) -> tuple[int, float | str]:
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)


def is_regression(labels: Sequence[Any]) -> bool:
    """True when the labels are numbers and at least one is not a whole number (STS-B scores)."""
    numbers = [label for label in labels if isinstance(label, (int, float)) and not isinstance(label, bool)]
    if len(numbers) != len(labels) or not numbers:
        values = []
        for label in labels:
            try:
                values.append(float(label))
            except (TypeError, ValueError):
                return False
        numbers = values
    return any(float(n) != int(float(n)) for n in numbers)


def check_labels(examples: Sequence[Mapping[str, Any]], task: str, names: Sequence[str] | None, source: str) -> None:
    """Raise ValueError naming ``source`` and the example when a label (or tag) is not one of ``names``."""
    task = canonical_task(task)
    if names is None or task not in ("text-classification", "token-classification"):
        return
    known = set(names)
    for index, example in enumerate(examples):
        values = example.get("tags") or [] if task == "token-classification" else [example.get("label")]
        for value in values:
            if value is not None and str(value) not in known:
                raise ValueError(
                    f"{source}, example {index}: label {str(value)!r} was not seen in training "
                    f"(known labels: {', '.join(list(names)[:20])})."
                )


def _label_id(label: Any, label2id: Mapping[str, int], where: str) -> int:
    key = str(label)
    if key not in label2id:
        known = ", ".join(list(label2id)[:20])
        raise ValueError(f"{where}: label {key!r} was not seen in training (known labels: {known}).")
    return label2id[key]


# --------------------------------------------------------------------------- features


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


def prepare_features(
    task: str,
    examples: Sequence[Mapping[str, Any]],
    tokenizer: Any,
    label2id: Mapping[str, int] | None = None,
    settings: FeatureSettings | None = None,
    *,
    training: bool = True,
) -> list[dict[str, Any]]:
    """Tokenize examples into unpadded features for ``task``.

    Args:
        task: the task name.
        examples: canonical examples from :func:`load_examples`.
        tokenizer: an ALBERT tokenizer; question answering needs the fast one (character offsets).
        label2id: label name -> id for classification and tagging (unseen labels raise ValueError).
        settings: lengths and strides.
        training: question answering: label each window with its answer span. Otherwise keep the
            offsets needed to decode predictions. Labels are attached whenever examples have them.

    Returns:
        One dict per feature: ``input_ids``, ``token_type_ids`` and the task's labels (``labels``,
        ``start_positions``/``end_positions``); QA features also carry ``example_index`` and
        ``offset_mapping`` (None outside the context), tagging features ``word_ids``.
    """
    task = canonical_task(task)
    settings = settings or FeatureSettings()
    if settings.max_length < 8:
        raise ValueError(f"max_length must be at least 8, got {settings.max_length}.")
    builder = {
        "text-classification": _classification_features,
        "token-classification": _token_features,
        "question-answering": _qa_features,
        "multiple-choice": _choice_features,
        "masked-lm": _mlm_features,
    }[task]
    return builder(examples, tokenizer, label2id or {}, settings, training)


def _classification_features(examples, tokenizer, label2id, settings, training) -> list[dict[str, Any]]:
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
            feature["labels"] = float(label) if settings.regression else _label_id(label, label2id, where)
        features.append(feature)
    return features


def _word_pieces(tokenizer: Any, words: Sequence[str]) -> list[list[int]]:
    """Each word's piece ids as it is encoded on its own (each word gets its "▁", as is_split_into_words)."""
    encoded = tokenizer(list(words), add_special_tokens=False)["input_ids"] if words else []
    return [list(ids) for ids in encoded]


def _token_features(examples, tokenizer, label2id, settings, training) -> list[dict[str, Any]]:
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
            labels.append(_label_id(tags[word], label2id, where))
        previous = word
    return labels


def _qa_features(examples, tokenizer, label2id, settings, training) -> list[dict[str, Any]]:
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


def _cut_question(tokenizer: Any, question: str, max_query_length: int) -> str:
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


def _choice_features(examples, tokenizer, label2id, settings, training) -> list[dict[str, Any]]:
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


def _mlm_features(examples, tokenizer, label2id, settings, training) -> list[dict[str, Any]]:
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


# --------------------------------------------------------------------------- masking for MLM fine-tuning


def mask_batch(batch: dict[str, np.ndarray], masker: Any, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Whole-word mask a collated MLM batch in place of its ids; ``labels`` are -100 except at masked positions.

    Args:
        batch: a batch from :func:`collate` (``input_ids``, ``attention_mask``).
        masker: an :class:`albertlite.data.masking.NgramMasker` (whole-word n-gram masking).
        rng: the generator of every draw (new masks each epoch: dynamic masking).

    Returns:
        The batch with masked ``input_ids`` and ``labels``.
    """
    input_ids = batch["input_ids"].copy()
    labels = np.full_like(input_ids, IGNORE_INDEX)
    for row in range(len(input_ids)):
        length = int(batch["attention_mask"][row].sum())
        masked = masker(input_ids[row, :length], rng)
        input_ids[row, :length] = masked.input_ids
        labels[row, masked.masked_lm_positions] = masked.masked_lm_labels
    return {**batch, "input_ids": input_ids, "labels": labels}


# --------------------------------------------------------------------------- batching


MODEL_INPUTS = ("input_ids", "token_type_ids", "attention_mask")
LABEL_KEYS = ("labels", "start_positions", "end_positions")


def feature_length(feature: Mapping[str, Any]) -> int:
    """Tokens in a feature (its longest choice for multiple choice)."""
    ids = feature["input_ids"]
    return max(len(row) for row in ids) if ids and isinstance(ids[0], list) else len(ids)


def batch_indices(
    features: Sequence[Mapping[str, Any]],
    batch_size: int,
    *,
    shuffle: bool = False,
    group_by_length: bool = False,
    seed: int = 0,
    drop_last: bool = False,
) -> list[list[int]]:
    """Split feature indices into batches.

    With ``group_by_length``, shuffled indices are cut into mega-batches of 50 batches, each sorted by
    length, so a batch holds rows of similar length and pads little (Hugging Face's LengthGroupedSampler);
    batch order is then shuffled too. Without shuffling, grouping sorts everything longest first
    (inference).

    Returns:
        A list of index lists.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    rng = np.random.default_rng(seed)
    order = list(rng.permutation(len(features))) if shuffle else list(range(len(features)))
    if group_by_length:
        lengths = [feature_length(f) for f in features]
        mega = batch_size * 50 if shuffle else len(order)
        order = [i for s in range(0, len(order), mega) for i in sorted(order[s : s + mega], key=lambda i: -lengths[i])]
    batches = [order[s : s + batch_size] for s in range(0, len(order), batch_size)]
    if drop_last and batches and len(batches[-1]) < batch_size:
        batches.pop()
    if shuffle and group_by_length:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return [[int(i) for i in b] for b in batches]


def collate(features: Sequence[Mapping[str, Any]], pad_token_id: int = 0, pad_to_multiple_of: int = 1) -> dict:
    """Pad a list of features to the batch's longest row and stack them as numpy int64/float32 arrays.

    Token-level labels are padded with -100; multiple-choice features become (batch, choices, length).

    Returns:
        ``input_ids``, ``token_type_ids``, ``attention_mask`` and whichever label keys the features have.
    """
    length = max(feature_length(f) for f in features)
    length = -(-length // pad_to_multiple_of) * pad_to_multiple_of
    choice = isinstance(features[0]["input_ids"][0], list)

    def pad(rows: Sequence[Sequence[int]], value: int) -> np.ndarray:
        out = np.full((len(rows), length), value, dtype=np.int64)
        for r, row in enumerate(rows):
            out[r, : len(row)] = row
        return out

    def stack(key: str, value: int) -> np.ndarray:
        if choice:
            return np.stack([pad(f[key], value) for f in features])  # (B, choices, S)
        return pad([f[key] for f in features], value)

    batch = {"input_ids": stack("input_ids", pad_token_id), "token_type_ids": stack("token_type_ids", 0)}
    batch["attention_mask"] = stack("input_ids", -1) != -1
    batch["attention_mask"] = batch["attention_mask"].astype(np.int64)
    if "labels" in features[0]:
        first = features[0]["labels"]
        if isinstance(first, list):
            batch["labels"] = pad([f["labels"] for f in features], IGNORE_INDEX)
        else:
            dtype = np.float32 if isinstance(first, float) else np.int64
            batch["labels"] = np.asarray([f["labels"] for f in features], dtype=dtype)
    for key in ("start_positions", "end_positions"):
        if key in features[0]:
            batch[key] = np.asarray([f[key] for f in features], dtype=np.int64)
    return batch


def numpy_batches(
    features: Sequence[Mapping[str, Any]],
    batch_size: int,
    pad_token_id: int = 0,
    *,
    shuffle: bool = False,
    group_by_length: bool = False,
    seed: int = 0,
    masker: Any = None,
) -> Iterator[dict[str, np.ndarray]]:
    """Padded numpy batches, for a Flax/optax loop (or anything that takes numpy).

    Args:
        features: from :func:`prepare_features`.
        batch_size: rows per batch.
        pad_token_id: the tokenizer's pad id.
        shuffle / group_by_length / seed: see :func:`batch_indices`.
        masker: an ``NgramMasker`` for masked-LM features (fresh masks each call).

    Returns:
        An iterator of dicts of arrays.
    """
    rng = np.random.default_rng(seed)
    for indices in batch_indices(features, batch_size, shuffle=shuffle, group_by_length=group_by_length, seed=seed):
        batch = collate([features[i] for i in indices], pad_token_id)
        if masker is not None:
            batch = mask_batch(batch, masker, rng)
        yield batch


def to_tf_dataset(
    features: Sequence[Mapping[str, Any]],
    batch_size: int,
    pad_token_id: int = 0,
    *,
    shuffle: bool = False,
    group_by_length: bool = False,
    seed: int = 0,
    masker: Any = None,
) -> Any:
    """A ``tf.data.Dataset`` of ``(inputs, labels)`` batches for Keras ``model.fit``.

    The batches are the same padded numpy batches as :func:`numpy_batches` (dynamic padding: the
    sequence axis varies from batch to batch). ``labels`` is the task's label array, or a dict
    ``{"start_positions", "end_positions"}`` for question answering.

    Returns:
        A ``tf.data.Dataset``.
    """
    import tensorflow as tf

    batches = list(
        numpy_batches(
            features, batch_size, pad_token_id, shuffle=shuffle, group_by_length=group_by_length, seed=seed,
            masker=masker,
        )
    )  # fmt: skip
    if not batches:
        raise ValueError("to_tf_dataset needs at least one feature.")
    first = batches[0]
    label_keys = [k for k in LABEL_KEYS if k in first]

    def split(batch: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], Any]:
        inputs = {k: batch[k] for k in MODEL_INPUTS}
        if not label_keys:
            return inputs, None
        labels = batch["labels"] if label_keys == ["labels"] else {k: batch[k] for k in label_keys}
        return inputs, labels

    def spec(value: np.ndarray) -> tf.TensorSpec:
        return tf.TensorSpec(shape=(None,) * value.ndim, dtype=tf.as_dtype(value.dtype))

    example_inputs, example_labels = split(first)
    signature: Any = {k: spec(v) for k, v in example_inputs.items()}
    if example_labels is not None:
        label_spec = (
            spec(example_labels)
            if isinstance(example_labels, np.ndarray)
            else {k: spec(v) for k, v in example_labels.items()}
        )
        signature = (signature, label_spec)
        return tf.data.Dataset.from_generator(lambda: (split(b) for b in batches), output_signature=signature)
    return tf.data.Dataset.from_generator(lambda: (split(b)[0] for b in batches), output_signature=signature)


# --------------------------------------------------------------------------- decoding QA predictions


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
        results.append(_best_answer(example["context"], candidates, null_score, settings))
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


def _best_answer(context, candidates, null_score, settings) -> dict[str, Any]:
    candidates.sort(key=lambda c: -c[0])
    candidates = candidates[: settings.n_best]
    if not candidates:
        return {"answer": "", "start": 0, "end": 0, "score": 0.0, "null_score_diff": 0.0, "feature_index": None}
    scores = np.array([c[0] for c in candidates] + ([null_score] if null_score is not None else []))
    probabilities = np.exp(scores - scores.max())
    probabilities /= probabilities.sum()
    best_score, start, end, feature_index = candidates[0]
    # offsets of "▁word" pieces include the space before the word: the answer starts at its first letter
    while start < end and context[start].isspace():
        start += 1
    null_diff = (null_score - best_score) if null_score is not None else float("-inf")
    if settings.allow_no_answer and null_diff > settings.null_score_threshold:
        return {
            "answer": "", "start": 0, "end": 0, "score": float(probabilities[-1]),
            "null_score_diff": float(null_diff), "feature_index": None,
        }  # fmt: skip
    return {
        "answer": context[start:end], "start": int(start), "end": int(end), "score": float(probabilities[0]),
        "null_score_diff": float(null_diff), "feature_index": feature_index,
    }  # fmt: skip
