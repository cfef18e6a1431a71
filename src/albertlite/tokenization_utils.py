"""What both ALBERT tokenizers share besides their base class: file names, text checks, strategy parsing, config files.

Nothing here needs ``sentencepiece`` or ``tokenizers``; ``tokenization.py`` and ``tokenization_fast.py`` build on it.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from albertlite.checkpoints.hub import HUB_KWARGS, resolve_file

SPIECE_UNDERLINE = "▁"
VOCAB_FILE = "spiece.model"
TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
SPECIAL_TOKENS_MAP_FILE = "special_tokens_map.json"
# transformers' "no limit" value; written to tokenizer_config.json as it is so that both libraries read it back
VERY_LARGE_INTEGER = int(1e30)
_LARGE_INTEGER = int(1e20)

# Attribute order of transformers' SPECIAL_TOKENS_ATTRIBUTES: all_special_tokens lists them in this order.
SPECIAL_TOKEN_NAMES = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
DEFAULT_SPECIAL_TOKENS = {
    "bos_token": "[CLS]",
    "eos_token": "[SEP]",
    "unk_token": "<unk>",
    "sep_token": "[SEP]",
    "pad_token": "<pad>",
    "cls_token": "[CLS]",
    "mask_token": "[MASK]",
}
TRUNCATION_STRATEGIES = ("longest_first", "only_first", "only_second", "do_not_truncate")
PADDING_STRATEGIES = ("longest", "max_length", "do_not_pad")


class TokenizerFileError(OSError):
    """A tokenizer file (spiece.model, tokenizer.json, tokenizer_config.json) is missing or unreadable."""


def preprocess_text(
    text: str, *, do_lower_case: bool = True, remove_space: bool = True, keep_accents: bool = False
) -> str:
    """ALBERT's text normalisation before SentencePiece.

    Args:
        text: Raw text.
        do_lower_case: Lower-case the result.
        remove_space: Strip the ends and collapse every run of whitespace to one space.
        keep_accents: Keep accents; otherwise NFKD-decompose and drop combining marks.

    Returns:
        The preprocessed text (SentencePiece applies its own normalisation after this).
    """
    if remove_space:
        text = " ".join(text.split())
    text = text.replace("``", '"').replace("''", '"')
    if not keep_accents and not text.isascii():
        text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    if do_lower_case:
        text = text.lower()
    return text


def _ends_in_number_comma(piece: str) -> bool:
    # ALBERT's digit-comma rule: the slow tokenizer splits "▁9," into "▁9" + ",", the fast one scores such pieces down
    return len(piece) > 1 and piece[-1] == "," and piece[-2].isdigit()


def _check_text(name: str, value: Any, is_split_into_words: bool) -> bool:
    """Raise TypeError unless ``value`` is text the tokenizers accept; return whether it is a batch."""
    if isinstance(value, str):
        if is_split_into_words:
            raise TypeError(f"{name} must be a list of words when is_split_into_words=True, got a str.")
        return False
    if isinstance(value, (list, tuple)):
        if is_split_into_words:
            if all(isinstance(word, str) for word in value):
                return False
            if all(isinstance(words, (list, tuple)) and all(isinstance(w, str) for w in words) for words in value):
                return True
        elif all(isinstance(item, str) or _is_text_pair(item) for item in value):
            return True
    raise TypeError(
        f"{name} must be a str, a list of str (a batch), a list of (text, text_pair) tuples, or with "
        f"is_split_into_words=True a list of words or a batch of word lists; got {_describe(value)}."
    )


def _is_text_pair(item: Any) -> bool:
    return isinstance(item, (list, tuple)) and len(item) == 2 and all(isinstance(t, str) for t in item)


def _describe(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        inner = {type(v).__name__ for v in value}
        return f"{type(value).__name__} of {', '.join(sorted(inner)) or 'nothing'}"
    return type(value).__name__


def _require_str(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__}.")
    return value


def _to_list(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value


@dataclass(frozen=True)
class EncodeOptions:
    """Resolved padding and truncation settings of one call."""

    padding: str = "do_not_pad"  # one of PADDING_STRATEGIES
    truncation: str = "do_not_truncate"  # one of TRUNCATION_STRATEGIES
    max_length: int | None = None
    stride: int = 0
    pad_to_multiple_of: int | None = None
    padding_side: str | None = None


def _padding_strategy(padding: bool | str) -> str:
    if padding is True:
        return "longest"
    if padding is False or padding is None:
        return "do_not_pad"
    if padding in PADDING_STRATEGIES:
        return padding
    raise ValueError(f"padding must be True, False or one of {PADDING_STRATEGIES}, got {padding!r}.")


def _truncation_strategy(truncation: bool | str | None) -> str:
    if truncation is True:
        return "longest_first"
    if truncation is False or truncation is None:
        return "do_not_truncate"
    if truncation in TRUNCATION_STRATEGIES:
        return truncation
    raise ValueError(f"truncation must be True, False or one of {TRUNCATION_STRATEGIES}, got {truncation!r}.")


def _cut(ids: list[int], count: int, stride: int, left: bool) -> tuple[list[int], list[int]]:
    """Remove ``count`` ids from one end; the overflow also repeats ``stride`` of the kept ids."""
    window = min(len(ids), stride + count)
    if left:
        return ids[count:], ids[:window]
    return ids[:-count], ids[-window:]


def clean_up_tokenization(text: str) -> str:
    """transformers' clean-up of English tokenization artefacts (spaces before punctuation and contractions)."""
    for before, after in (
        (" .", "."),
        (" ?", "?"),
        (" !", "!"),
        (" ,", ","),
        (" ' ", "'"),
        (" n't", "n't"),
        (" 'm", "'m"),
        (" 's", "'s"),
        (" 've", "'ve"),
        (" 're", "'re"),
    ):
        text = text.replace(before, after)
    return text


def read_tokenizer_config(
    name_or_path: str | os.PathLike, hub_kwargs: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """tokenizer_config.json and special_tokens_map.json of a directory or Hub repo ({} where absent)."""
    loaded = []
    for filename in (TOKENIZER_CONFIG_FILE, SPECIAL_TOKENS_MAP_FILE):
        path = resolve_file(name_or_path, filename, required=False, **hub_kwargs)
        if path is None:
            loaded.append({})
            continue
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise TokenizerFileError(f"{path} is not valid JSON: {error}") from error
        if not isinstance(data, dict):
            raise TokenizerFileError(f"{path} must hold a JSON object.")
        loaded.append(data)
    return loaded[0], loaded[1]


_CONFIG_KEYS = (
    "do_lower_case",
    "remove_space",
    "keep_accents",
    "model_max_length",
    "padding_side",
    "truncation_side",
    "clean_up_tokenization_spaces",
)


def tokenizer_kwargs(config: Mapping[str, Any], special_map: Mapping[str, Any], overrides: dict[str, Any]) -> dict:
    """Constructor arguments from tokenizer_config.json / special_tokens_map.json, overridden by ``overrides``."""
    kwargs: dict[str, Any] = {key: config[key] for key in _CONFIG_KEYS if config.get(key) is not None}
    for name in SPECIAL_TOKEN_NAMES:
        value = special_map.get(name, config.get(name))
        if value is not None:
            kwargs[name] = value
    kwargs.update(overrides)
    return kwargs


def split_hub_kwargs(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(hub download arguments, everything else)."""
    hub = {key: kwargs.pop(key) for key in list(kwargs) if key in HUB_KWARGS}
    return hub, kwargs


def read_bytes(path: str | os.PathLike, what: str | None = None) -> bytes:
    """The bytes of a tokenizer file; TokenizerFileError, naming the file as ``what`` (e.g. "the SentencePiece
    model") when given, if it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as error:
        name = f"{what} {path}" if what else str(path)
        raise TokenizerFileError(f"Cannot read {name}: {error}") from error
