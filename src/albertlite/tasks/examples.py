"""Reading fine-tuning examples: files, lists of dicts and ``datasets`` objects, renamed to a task's columns.

Nothing here knows a task by name: :func:`read_examples` takes a task's entry from :mod:`albertlite.tasks.registry`
(its accepted column names, its label column and the function that checks and tidies one example), and the
per-task normalisers below are what those entries point at.
"""

from __future__ import annotations

import codecs
import csv
import io
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
    stacked_column: str | None  # a list column a batch stacks: every training example must have as many items


def read_examples(
    source: Any, spec: ExampleSpec, *, require_labels: bool = True, others: Sequence[ExampleSpec] = ()
) -> list[dict[str, Any]]:
    """Read examples and rename their columns to the canonical names of ``spec``.

    Args:
        source: a path to a .jsonl/.json/.csv/.tsv file, a list of dicts, or a ``datasets.Dataset``.
        spec: the task's registry entry.
        require_labels: training data: the label column must be there and every example must have a label
            (and as many choices as the others, where the task stacks them); prediction files may leave labels out.
        others: the other tasks, to say which one a file's columns look like when they are not ``spec``'s.

    Returns:
        A list of dicts with the canonical columns of the task. A Dataset's ClassLabel ids (labels, and
        tags in a sequence of ClassLabel) become their names, as a file spells them; -1 (``datasets``'
        "no label") becomes None.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: a required column is missing from the file or from one row, a row has no label, a file is
            not UTF-8 or its format is unknown (the message names the file, the line or example, and the column).
    """
    name, rows = _read_rows(source)
    if not rows:
        raise ValueError(f"{name}: no examples.")
    mapping = _column_mapping(rows[0][1].keys(), spec, name, require_labels, others)
    required = _required_columns(spec, require_labels)
    class_names = dataset_label_names(source, spec)
    examples = []
    for index, (where, row) in enumerate(rows):
        example = {canonical: row.get(column) for canonical, column in mapping.items() if not _is_prefix(column)}
        if class_names is not None:  # a ClassLabel id of -1 ("no label") becomes None, checked next
            example[spec.label_column] = _class_name(example.get(spec.label_column), class_names, where)
        _check_row(example, required, row, spec, where)
        for canonical, column in mapping.items():
            if _is_prefix(column):
                example[canonical] = _prefixed_values(row, column[:-1])
        examples.append(spec.normalise(example, where, index))
    if require_labels and spec.stacked_column is not None:
        _check_same_count(examples, [where for where, _ in rows], spec.stacked_column, spec.name)
    return examples


def _required_columns(spec: ExampleSpec, require_labels: bool) -> list[str]:
    return [
        canonical for canonical in spec.columns
        if canonical not in spec.optional or (require_labels and canonical == spec.label_column)
    ]  # fmt: skip


def _check_row(
    example: Mapping[str, Any], required: Sequence[str], row: Mapping[str, Any], spec: ExampleSpec, where: str
) -> None:
    """A row of a file whose header has the columns may still lack a value: name the row and the column."""
    for canonical in required:
        value = example.get(canonical, 0)  # prefixed columns (ending0, ending1 ...) are read later
        is_label = canonical == spec.label_column
        if value is None or (is_label and value == ""):
            columns = ", ".join(k for k, v in row.items() if v not in (None, "")) or "none"
            if is_label:
                raise ValueError(f"{where}: no label ({canonical!r} is empty); every training example needs one "
                                 f"(its non-empty columns: {columns}).")  # fmt: skip
            raise ValueError(f"{where}: no {canonical!r}, which {spec.name} needs (its non-empty columns: {columns}).")


def _check_same_count(examples: Sequence[Mapping[str, Any]], places: Sequence[str], column: str, task: str) -> None:
    """A batch stacks the lists of ``column`` (multiple choice: batch x choices x tokens): they must be as long."""
    first = len(examples[0][column])
    for example, where in zip(examples, places):
        if len(example[column]) != first:
            raise ValueError(
                f"{where}: {len(example[column])} {column}, but the first example ({places[0]}) has {first}; "
                f"{task} training needs the same number of {column} in every example."
            )


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


def _read_rows(source: Any) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
    """The source's name and its rows, each with where it is (a file's line, or the example's index)."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file.")
        return str(path), _read_file(path)
    if hasattr(source, "column_names") and hasattr(source, "to_list"):  # a datasets.Dataset
        return "the dataset", _numbered("the dataset", source.to_list())
    if isinstance(source, Mapping) and source and all(hasattr(split, "to_list") for split in source.values()):
        first = next(iter(source))
        raise TypeError(f"A DatasetDict holds splits ({', '.join(source)}): pass one, e.g. data[{first!r}].")
    if isinstance(source, Sequence) and all(isinstance(row, Mapping) for row in source):
        return "the examples", _numbered("the examples", source)
    raise TypeError(
        f"Cannot read examples from {type(source).__name__}: pass a file path, a list of dicts or a Dataset."
    )


def _numbered(name: str, rows: Iterable[Mapping[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{name}, example {index}", dict(row)) for index, row in enumerate(rows)]


def _read_file(path: Path) -> list[tuple[str, dict[str, Any]]]:
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".json", ".csv", ".tsv"):
        raise ValueError(f"{path}: unknown file type {suffix!r}; use .jsonl, .json, .csv or .tsv.")
    text = _read_text(path)
    if suffix in (".jsonl", ".ndjson"):
        lines = enumerate(text.split("\n"), 1)  # not splitlines: JSON strings may hold U+2028 as is
        return [(f"{path}, line {n}", _json_line(line, path, n)) for n, line in lines if line.strip()]
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not valid JSON ({error}).") from None
        if isinstance(data, dict) and "data" in data and isinstance(data["data"], list):
            data = data["data"]  # the {"version": ..., "data": [...]} layout of many dataset dumps
        if not isinstance(data, list) or not all(isinstance(row, Mapping) for row in data):
            raise ValueError(f"{path}: expected a JSON list of objects.")
        return _numbered(str(path), data)
    return _csv_rows(text, path, "\t" if suffix == ".tsv" else ",")


def _read_text(path: Path) -> str:
    """A data file's text; a UTF-8 byte-order mark (Excel's CSV) is dropped, and other encodings are refused."""
    data = path.read_bytes().removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ValueError(
            f"{path} is not UTF-8 text (line {line}: byte 0x{data[error.start]:02x} {error.reason}); save it as UTF-8."
        ) from None


def _csv_rows(text: str, path: Path, delimiter: str) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = next(reader, None) or []
    rows, line = [], reader.line_num + 1
    for cells in reader:
        where = f"{path}, line {line}"
        line = reader.line_num + 1  # the next record starts after this one (a quoted cell may span lines)
        if not cells:
            continue  # a blank line
        if len(cells) < len(header):
            missing = ", ".join(repr(c) for c in header[len(cells) :])
            raise ValueError(f"{where}: {len(cells)} of the header's {len(header)} columns (no {missing}).")
        if len(cells) > len(header):
            raise ValueError(f"{where}: {len(cells)} cells, more than the header's {len(header)} columns.")
        rows.append((where, _parse_cells(dict(zip(header, cells)))))
    return rows


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


def _column_mapping(
    columns: Iterable[str], spec: ExampleSpec, name: str, require_labels: bool, others: Sequence[ExampleSpec]
) -> dict[str, str]:
    present = list(columns)
    mapping = {}
    for canonical, candidates in spec.columns.items():
        found = next((c for c in candidates if _matches(c, present)), None)
        if found is not None:
            mapping[canonical] = found
            continue
        if canonical in _required_columns(spec, require_labels):
            accepted = ", ".join(c.replace(ANY_SUFFIX, "0, 1, ...") for c in candidates)
            needs = ", ".join(_required_columns(spec, require_labels))
            lookalike = _lookalike(present, others, require_labels)
            raise ValueError(
                f"{name}: missing column {canonical!r} for {spec.name} (accepted names: {accepted}; columns found: "
                f"{', '.join(present) or 'none'}); {spec.name} needs {needs}"
                + (f", and these columns look like {lookalike} data." if lookalike else ".")
            )
    return mapping


def _lookalike(present: Sequence[str], others: Sequence[ExampleSpec], require_labels: bool) -> str | None:
    """The task whose required columns the file has, the one using most of its columns (None when none fits)."""
    best, best_used = None, 0
    for other in others:
        found = {c: next((n for n in other.columns[c] if _matches(n, present)), None) for c in other.columns}
        if all(found[c] is not None for c in _required_columns(other, require_labels)):
            used = sum(name is not None for name in found.values())
            if used > best_used:
                best, best_used = other.name, used
    return best


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
