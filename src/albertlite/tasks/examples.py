"""Reading fine-tuning examples: files, lists of dicts and ``datasets`` objects, renamed to a task's columns.

Nothing here knows a task by name: :func:`read_examples` takes a task's entry from :mod:`albertlite.tasks.registry`
(its accepted column names, its label column and the function that checks and tidies one example), and the
per-task normalisers below are what those entries point at.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

ANY_SUFFIX = "*"  # a column spelled "ending*" matches ending0, ending1, ... (SWAG)


class ExampleSpec(Protocol):
    """What :func:`read_examples` needs of a task (a registry entry has it)."""

    name: str
    columns: Mapping[str, tuple[str, ...]]  # canonical column -> accepted names, first found wins
    optional: frozenset[str]  # columns a file may leave out
    label_column: str | None  # the column prediction files may omit
    named_labels: bool  # a Dataset's ClassLabel ids in the label column are read as names
    normalise: Callable[[dict[str, Any], str, int], dict[str, Any]]


def read_examples(source: Any, spec: ExampleSpec, *, require_labels: bool = True) -> list[dict[str, Any]]:
    """Read examples and rename their columns to the canonical names of ``spec``.

    Args:
        source: a path to a .jsonl/.json/.csv/.tsv file, a list of dicts, or a ``datasets.Dataset``.
        spec: the task's registry entry.
        require_labels: raise when the label column is missing; prediction files may leave it out when False.

    Returns:
        A list of dicts with the canonical columns of the task. A Dataset's ClassLabel ids (labels, and
        tags in a sequence of ClassLabel) become their names, as a file spells them; -1 (``datasets``'
        "no label") becomes None.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: a required column is missing (the message names the file and the column), or the
            file format is unknown.
    """
    name, rows = _read_rows(source)
    if not rows:
        raise ValueError(f"{name}: no examples.")
    mapping = _column_mapping(rows[0].keys(), spec, name, require_labels)
    class_names = dataset_label_names(source, spec)
    examples = []
    for index, row in enumerate(rows):
        example = {canonical: row.get(column) for canonical, column in mapping.items() if not _is_prefix(column)}
        where = f"{name}, example {index}"
        if class_names is not None:
            example[spec.label_column] = _class_name(example.get(spec.label_column), class_names, where)
        for canonical, column in mapping.items():
            if _is_prefix(column):
                example[canonical] = _prefixed_values(row, column[:-1])
        examples.append(spec.normalise(example, where, index))
    return examples


def dataset_label_names(source: Any, spec: ExampleSpec) -> list[str] | None:
    """The names of a ``datasets.Dataset``'s ClassLabel label column, in the dataset's id order.

    Token classification reads the ClassLabel inside the tags' sequence feature.

    Returns:
        The names, or None when ``source`` is not a Dataset, the column is not a ClassLabel, or the task has
        no named labels.
    """
    features = getattr(source, "features", None)
    if not spec.named_labels or spec.label_column is None or not isinstance(features, Mapping):
        return None
    column = next((c for c in spec.columns[spec.label_column] if c in features), None)
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


def _is_prefix(column: str) -> bool:
    return column.endswith(ANY_SUFFIX)


def _prefixed_values(row: Mapping[str, Any], prefix: str) -> list[Any]:
    keys = sorted((k for k in row if k.startswith(prefix)), key=lambda k: int(k[len(prefix) :] or 0))
    return [row[k] for k in keys]


# --------------------------------------------------------------------------- files


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


def _column_mapping(columns: Iterable[str], spec: ExampleSpec, name: str, require_labels: bool) -> dict[str, str]:
    present = list(columns)
    mapping = {}
    for canonical, candidates in spec.columns.items():
        found = next((c for c in candidates if _matches(c, present)), None)
        if found is not None:
            mapping[canonical] = found
            continue
        is_label = canonical == spec.label_column
        if canonical not in spec.optional or (is_label and require_labels):
            accepted = ", ".join(c.replace(ANY_SUFFIX, "0, 1, ...") for c in candidates)
            raise ValueError(
                f"{name}: missing column {canonical!r} for {spec.name} (accepted names: {accepted}; "
                f"columns found: {', '.join(present) or 'none'})."
            )
    return mapping


def _matches(candidate: str, present: Sequence[str]) -> bool:
    if _is_prefix(candidate):
        return any(column.startswith(candidate[:-1]) for column in present)
    return candidate in present


# --------------------------------------------------------------------------- per-task checks (registry entries)


def text_example(example: dict[str, Any], where: str, index: int) -> dict[str, Any]:
    """A sentence (pair) to classify, or a text for masked-LM and embeddings: ``text`` must be a string."""
    if not isinstance(example.get("text"), str):
        raise ValueError(f"{where}: 'text' must be a string.")
    return example


def tagged_example(example: dict[str, Any], where: str, index: int) -> dict[str, Any]:
    """Words and (optionally) one tag per word."""
    tokens, tags = example.get("tokens"), example.get("tags")
    if not isinstance(tokens, list):
        raise ValueError(f"{where}: 'tokens' must be a list of words.")
    if tags is not None and (not isinstance(tags, list) or len(tags) != len(tokens)):
        raise ValueError(f"{where}: 'tags' must be a list as long as 'tokens' ({len(tokens)}).")
    return example


def question_example(example: dict[str, Any], where: str, index: int) -> dict[str, Any]:
    """A question, its context and (optionally) SQuAD answers, checked against the context; ids default to the row."""
    example["id"] = str(example.get("id") if example.get("id") is not None else index)
    for column in ("question", "context"):
        if not isinstance(example.get(column), str):
            raise ValueError(f"{where}: {column!r} must be a string.")
    answers = example.get("answers")
    if answers is not None:
        example["answers"] = _answers(answers, example["context"], where)
    return example


def choice_example(example: dict[str, Any], where: str, index: int) -> dict[str, Any]:
    """A context and question with at least two choices; a label is a choice index or a RACE letter."""
    example["context"] = example.get("context") or ""
    example["question"] = example.get("question") or ""
    if not isinstance(example.get("choices"), list) or len(example["choices"]) < 2:
        raise ValueError(f"{where}: 'choices' must be a list of at least two options.")
    if example.get("label") is not None:
        example["label"] = _choice_index(example["label"], len(example["choices"]), where)
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
