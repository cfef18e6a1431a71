"""Label names learned from training examples, regression detection, and label checks that name the example.

A task's registry entry says which column holds its labels and how their names sort; these functions take
that entry, so they hold no task names of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol


class LabelSpec(Protocol):
    """What these functions need of a task (a registry entry has it)."""

    label_column: str | None
    named_labels: bool  # labels are names the model learns (classes, tags), not indices or spans
    allows_regression: bool
    label_order: Callable[[str], Any]  # the sort key of label names


def label_values(example: Mapping[str, Any], spec: LabelSpec) -> list[Any]:
    """The example's labels as a list (one class label, or one tag per word)."""
    value = example.get(spec.label_column) if spec.label_column else None
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def label_names(examples: Sequence[Mapping[str, Any]], spec: LabelSpec) -> list[str] | None:
    """The sorted label names found in training examples, or None for regression and label-free tasks."""
    if not spec.named_labels:
        return None
    values = [value for example in examples for value in label_values(example, spec)]
    if spec.allows_regression and is_regression(values):
        return None
    check_one_kind(examples, spec)
    return sorted({str(value) for value in values}, key=spec.label_order)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_one_kind(examples: Sequence[Mapping[str, Any]], spec: LabelSpec) -> None:
    """Refuse labels that mix names and numbers (a 1 or 0.5 among "pos"/"neg" would become a class of its own)."""
    numbers, names = [], []
    for index, example in enumerate(examples):
        for value in label_values(example, spec):
            (numbers if _is_number(value) else names).append((index, value))
    if numbers and names:
        odd, usual = sorted((numbers, names), key=len)
        index, value = odd[0]
        shown = ", ".join(sorted({repr(v) for _, v in usual})[:5])
        raise ValueError(
            f"training labels mix names and numbers: example {index} has {value!r} among {shown}; give every "
            "example a label name, or every example a number."
        )


def natural_order(value: str) -> tuple[int, float | str]:
    """Numbers first, in numeric order ("2" before "10"), then names alphabetically."""
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)


def tag_order(tag: str) -> tuple[bool, str, str]:
    """ "O" first, then tags grouped by entity type (B-PER, I-PER, B-LOC ... sort as LOC, PER)."""
    return (tag != "O", tag[2:] if tag[1:2] == "-" else tag, tag)


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


def check_labels(
    examples: Iterable[Mapping[str, Any]], spec: LabelSpec, names: Sequence[str] | None, source: str
) -> None:
    """Raise ValueError naming ``source`` and the example when a label (or tag) is not one of ``names``."""
    if names is None or not spec.named_labels:
        return
    known = set(names)
    for index, example in enumerate(examples):
        for value in label_values(example, spec):
            if str(value) not in known:
                raise ValueError(
                    f"{source}, example {index}: label {str(value)!r} was not seen in training "
                    f"(known labels: {', '.join(list(names)[:20])})."
                )


def label_id(label: Any, label2id: Mapping[str, int], where: str) -> int:
    """The id of a label name, or a ValueError naming ``where`` and the known labels."""
    key = str(label)
    if key not in label2id:
        known = ", ".join(list(label2id)[:20])
        raise ValueError(f"{where}: label {key!r} was not seen in training (known labels: {known}).")
    return label2id[key]
