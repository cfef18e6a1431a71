"""What both ALBERT tokenizers share besides their base class: file names, text checks, strategy parsing, config files.

Nothing here needs ``sentencepiece`` or ``tokenizers``; ``tokenization.py`` and ``tokenization_fast.py`` build on it.
"""

from __future__ import annotations

import json
import numbers
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


class TokenIdError(ValueError, IndexError):
    """A token id outside the vocabulary (also an IndexError, what ``convert_ids_to_tokens`` raised before)."""


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


def _check_unicode(name: str, text: str) -> str:
    """Refuse a str that cannot be encoded as UTF-8 (a lone surrogate, e.g. from decoding with surrogateescape)."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError(
                f"{name} holds a lone surrogate {text[error.start]!r} at index {error.start}, which is not Unicode "
                "text; read the input with errors='replace' (or fix its encoding)."
            ) from None
    return text


def _check_texts(name: str, value: Any) -> None:
    """``_check_unicode`` on every string of a text, a batch, its pairs or word lists."""
    if isinstance(value, str):
        _check_unicode(name, value)
        return
    for i, item in enumerate(value):
        _check_texts(f"{name}[{i}]", item)


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
    return _check_unicode(name, value)


def _check_int(name: str, value: Any, minimum: int, *, optional: bool = False) -> None:
    """TypeError unless ``value`` is an int (numpy's too, not a bool; None when ``optional``), ValueError below
    ``minimum``."""
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        kind = "an int or None" if optional else "an int"
        raise TypeError(f"{name} must be {kind}, got {value!r} ({type(value).__name__}).")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}.")


def check_token_ids(ids: list[Any], vocab_size: int) -> list[int]:
    """The ids as ints; TypeError for a non-integer, TokenIdError for one outside [0, vocab_size)."""
    out = []
    for index in ids:
        if isinstance(index, bool) or not isinstance(index, numbers.Integral):
            raise TypeError(
                f"token_ids must hold ints, got {index!r} ({type(index).__name__}); decode takes one sequence of ids "
                "(batch_decode takes a batch)."
            )
        if not 0 <= index < vocab_size:
            raise TokenIdError(
                f"Token id {index} is out of range for a vocabulary of {vocab_size} tokens (ids 0..{vocab_size - 1})."
            )
        out.append(int(index))
    return out


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


def check_truncation_room(
    options: EncodeOptions, special_tokens: tuple[int, int], pair: bool, add_special_tokens: bool
) -> None:
    """Refuse, before any work, a max_length that leaves no text after the special tokens and a stride that is not
    shorter than that room (both tokenizers used to return the whole text, or the fast one to panic).

    Args:
        options: The call's resolved settings.
        special_tokens: Special tokens added to (one sequence, a pair).
        pair: Whether the call holds a pair (its room is the smaller).
        add_special_tokens: Whether the call adds them.
    """
    if options.truncation == "do_not_truncate" or options.max_length is None:
        return
    single, double = special_tokens
    added = (double if pair else single) if add_special_tokens else 0
    room = options.max_length - added
    if room < 1:
        needs = f">= {single + 1} for one sequence and >= {double + 1} for a pair" if added else ">= 1"
        raise ValueError(
            f"max_length={options.max_length} leaves no room for text after the special tokens: truncation needs "
            f"max_length {needs}."
        )
    if add_special_tokens and options.stride >= room:
        raise ValueError(
            f"stride={options.stride} must be less than the {room} tokens max_length={options.max_length} leaves for "
            f"the text{' of a pair' if pair else ''} after its {added} special tokens; use stride <= {room - 1} or a "
            "larger max_length."
        )
    if not add_special_tokens and options.stride > max(options.max_length - single, 0):
        # the tokenizers backend reserves room for one sequence's special tokens even when none are added
        raise ValueError(
            f"stride={options.stride} must be at most max_length={options.max_length} minus the {single} special "
            f"tokens the fast tokenizer reserves even with add_special_tokens=False; use stride <= "
            f"{max(options.max_length - single, 0)} or a larger max_length."
        )


def check_kept_stride(stride: int, kept: int, which: str, max_length: int) -> None:
    """Refuse an overflow stride that is not shorter than what the truncated sequence keeps (the window would only
    repeat itself; the ``tokenizers`` backend panics on it)."""
    if stride and 0 < kept <= stride:
        raise ValueError(
            f"stride={stride} must be less than the {kept} tokens the {which} sequence keeps at max_length="
            f"{max_length}; use stride <= {kept - 1}, a larger max_length or a shorter other sequence."
        )


def too_short_error(strategy: str, max_length: int, which: str | None) -> ValueError:
    """The error for a truncation that cannot reach max_length: the sequence it may cut is too short (``which``
    names it), or there is no second sequence for 'only_second' (``which`` None)."""
    if which is None:
        return ValueError(
            f"truncation='only_second' cannot shorten a single text to max_length={max_length}: it has no second "
            "sequence; use truncation=True ('longest_first') or 'only_first'."
        )
    return ValueError(
        f"truncation={strategy!r} cannot shorten this input to max_length={max_length}: the {which} sequence is too "
        "short to give up enough tokens (the other one fills the room); use truncation=True ('longest_first') or a "
        "larger max_length."
    )
