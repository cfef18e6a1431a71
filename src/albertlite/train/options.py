"""Options files: the JSON that ``--config`` reads into a settings dataclass, with every error naming file and key.

``albertlite pretrain --config`` (:class:`~albertlite.train.PretrainConfig`) and ``albertlite finetune --config``
(:class:`~albertlite.train.finetune.FinetuneSettings`) read their files here: keys are the dataclass's field names
(dashes or underscores), an unknown key is refused with a did-you-mean, and a value is checked against its field's
annotation, so ``"steps": "ten"`` is refused naming the file and the key instead of failing in ``int()``.
"""

from __future__ import annotations

import dataclasses
import json
import numbers
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from albertlite.validation import unknown_keys_error

# what each annotation accepts: numpy numbers count, and a path where a string (a file or directory) is
_TYPES = {"int": numbers.Integral, "float": numbers.Real, "bool": bool, "str": (str, os.PathLike), "None": type(None)}
_TYPE_NAMES = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "a string", "None": "null"}


def read_options(
    path: str | os.PathLike, settings: type, what: str, extra: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The options a JSON file holds for the dataclass ``settings``, keys as field names.

    Args:
        path: the file.
        settings: the dataclass whose fields the keys name.
        what: what the options are, for messages ("pretraining options").
        extra: keys accepted beside the fields (``recipe``, which ``from_dict`` resolves).

    Raises:
        ValueError: the file is not UTF-8 or not a JSON object, a key is unknown or a value of the wrong type.
    """
    try:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from error
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text ({error.reason} at byte {error.start}).") from None
    if not isinstance(values, dict):
        raise ValueError(f"{path} must hold a JSON object of {what}")
    options = {key.replace("-", "_"): value for key, value in values.items()}
    names = {f.name for f in dataclasses.fields(settings)} | extra
    if set(options) - names:
        raise unknown_keys_error(str(path), set(options) - names, names)
    check_option_types(settings, options, str(path))
    return options


def check_option_types(settings: type, options: Mapping[str, Any], where: str) -> None:
    """Refuse an option whose value is not of its field's type (``"steps": "ten"``), naming ``where`` and the key.

    Fields annotated with other types than int, float, bool, str and None (a dict of extras) are not checked here.
    """
    annotations = {f.name: str(f.type) for f in dataclasses.fields(settings)}
    for key, value in options.items():
        kinds = [kind.strip() for kind in annotations.get(key, "").split("|")]
        if key not in annotations or not all(kind in _TYPES for kind in kinds):
            continue
        # bool is an int to isinstance, but true is no step count
        if not any(isinstance(value, _TYPES[k]) and not (isinstance(value, bool) and k != "bool") for k in kinds):
            raise ValueError(f"{where}: {key} must be {' or '.join(_TYPE_NAMES[k] for k in kinds)}, got {value!r}.")
