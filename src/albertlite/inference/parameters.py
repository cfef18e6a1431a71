"""The call parameters of the pipelines: which ones each pipeline takes, Hugging Face's names for them, and checks.

A parameter a pipeline does not know is refused (a TypeError naming it, its likeliest intended name and the ones
that work) instead of being ignored; Hugging Face's spellings of the same features (``max_answer_len``,
``max_seq_len`` ...) are accepted under our names.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from albertlite.validation import check_number, unknown_keys_error

COMMON = ("batch_size", "max_length")  # every pipeline takes these, at construction and per call


def _whole(minimum: int, none_ok: bool = False) -> Callable[[str, Any], None]:
    def check(name: str, value: Any) -> None:
        if value is None and none_ok:
            return
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be a whole number, got {value!r}.")
        check_number(name, int(value), minimum=minimum)

    return check


def _flag(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}.")


def _real(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}.")
    check_number(name, float(value))


CHECKS: dict[str, Callable[[str, Any], None]] = {
    "batch_size": _whole(1),
    "max_length": _whole(1, none_ok=True),
    "top_k": _whole(1, none_ok=True),  # None: the pipeline's default (text classification: every label)
    "doc_stride": _whole(0),
    "max_answer_length": _whole(1),
    "max_question_length": _whole(1),
    "n_best": _whole(1),
    "null_score_threshold": _real,
    "handle_impossible_answer": _flag,
    "return_tensors": _flag,
}


@dataclass(frozen=True)
class Parameters:
    """The parameters one pipeline takes.

    Args:
        task: the pipeline's task, for messages.
        names: its own parameters (beside :data:`COMMON`).
        aliases: Hugging Face's name -> ours, for the same feature.
    """

    task: str
    names: tuple[str, ...] = ()
    aliases: Mapping[str, str] = field(default_factory=dict)

    def check(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters under our names, their types and ranges checked.

        Raises:
            TypeError: an unknown parameter (with a did-you-mean), two names of one parameter, or a value of the
                wrong type.
            ValueError: a value out of range (``top_k=0``).
        """
        known = (*COMMON, *self.names)
        checked: dict[str, Any] = {}
        spelled: dict[str, str] = {}  # our name -> the name the caller used
        for key, value in given.items():
            name = self.aliases.get(key, key)
            if name in checked:
                raise TypeError(
                    f"the {self.task} pipeline got both {spelled[name]}= and {key}=, which mean the same; pass one."
                )
            checked[name], spelled[name] = value, key
        unknown = set(checked) - set(known)
        if unknown:
            what = f"the {self.task} pipeline's keyword arguments"
            raise TypeError(str(unknown_keys_error(what, unknown, [*known, *self.aliases])))
        for name, value in checked.items():
            if name in CHECKS:
                CHECKS[name](name, value)
        return checked
