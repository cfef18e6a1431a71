"""ALBERT's SentencePiece tokenizer, and the call interface it shares with the fast tokenizer.

``AlbertTokenizer`` reproduces Hugging Face's SentencePiece ``AlbertTokenizer`` of transformers 4.x (the reference is
4.57): the same preprocessing (whitespace collapse, ``\\`\\``/``''`` to ``"``, accent stripping, lower-casing), the
digit-comma rule, the special tokens (``[MASK]`` eats the spaces on its left), truncation, padding, overflow and
decoding. ``AlbertTokenizerBase`` holds what both tokenizers share: argument checking, padding/truncation strategy
resolution, ``pad``, tensor conversion and the files of a tokenizer directory.
"""

from __future__ import annotations

import json
import logging
import os
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sentencepiece as spm

from albertlite.checkpoints.files import TOKENIZER_FILES, atomic_write_bytes, atomic_write_text, staged_directory
from albertlite.checkpoints.hub import HUB_KWARGS, resolve_file

logger = logging.getLogger(__name__)

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
TENSOR_TYPES = ("pt", "tf", "np", "jax")


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


def _lower_per_character(text: str) -> str:
    # transformers lower-cases character by character (a regex over single characters), so a final capital sigma
    # becomes "σ" rather than the "ς" of str.lower(); lower-casing again later is then a no-op.
    return text.lower() if "Σ" not in text else "".join(c.lower() for c in text)


@dataclass(frozen=True)
class SpecialToken:
    """A special token and how it treats the whitespace around it (transformers' AddedToken flags)."""

    content: str
    lstrip: bool = False
    rstrip: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "lstrip": self.lstrip,
            "normalized": False,
            "rstrip": self.rstrip,
            "single_word": False,
        }


def _special_token(value: str | Mapping[str, Any] | SpecialToken, *, name: str) -> SpecialToken:
    if isinstance(value, SpecialToken):
        return value
    if isinstance(value, str):
        # ALBERT's mask token absorbs the spaces before it: "a [MASK]" -> ["▁a", "[MASK]"]
        return SpecialToken(value, lstrip=name == "mask_token")
    if isinstance(value, Mapping) and isinstance(value.get("content"), str):
        return SpecialToken(value["content"], bool(value.get("lstrip", False)), bool(value.get("rstrip", False)))
    raise TypeError(f"{name} must be a string or a token description with 'content', got {value!r}.")


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


@dataclass(frozen=True)
class EncodeOptions:
    """Resolved padding and truncation settings of one call."""

    padding: str = "do_not_pad"  # one of PADDING_STRATEGIES
    truncation: str = "do_not_truncate"  # one of TRUNCATION_STRATEGIES
    max_length: int | None = None
    stride: int = 0
    pad_to_multiple_of: int | None = None
    padding_side: str | None = None


class BatchEncoding(dict):
    """The tokenizers' output: a dict of ``input_ids``, ``attention_mask``... with attribute access.

    Args:
        data: The encoded fields.
        encodings: The ``tokenizers`` encodings behind each row (fast tokenizer only), for ``word_ids`` etc.
        tensor_type: Convert the fields to "pt", "tf", "np" or "jax" tensors.
        prepend_batch_axis: Add a batch dimension of 1 while converting (one unbatched text).
    """

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        encodings: list[Any] | None = None,
        tensor_type: str | None = None,
        prepend_batch_axis: bool = False,
    ) -> None:
        super().__init__(data or {})
        self._encodings = encodings
        self.convert_to_tensors(tensor_type, prepend_batch_axis=prepend_batch_axis)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getstate__(self) -> dict[str, Any]:
        return {"data": dict(self), "encodings": self._encodings}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.update(state["data"])
        self._encodings = state["encodings"]

    @property
    def encodings(self) -> list[Any] | None:
        """The ``tokenizers.Encoding`` of each row (fast tokenizer), else None."""
        return self._encodings

    @property
    def is_fast(self) -> bool:
        return self._encodings is not None

    def _encoding(self, batch_index: int) -> Any:
        if self._encodings is None:
            raise ValueError("word_ids, sequence_ids and tokens need the fast tokenizer (AlbertTokenizerFast).")
        return self._encodings[batch_index]

    def tokens(self, batch_index: int = 0) -> list[str]:
        """The tokens of row ``batch_index``."""
        return self._encoding(batch_index).tokens

    def word_ids(self, batch_index: int = 0) -> list[int | None]:
        """For each token of row ``batch_index``, the index of its word (None for special and pad tokens)."""
        return self._encoding(batch_index).word_ids

    def sequence_ids(self, batch_index: int = 0) -> list[int | None]:
        """For each token of row ``batch_index``: 0 (text), 1 (text_pair) or None (special and pad tokens)."""
        return self._encoding(batch_index).sequence_ids

    def convert_to_tensors(self, tensor_type: str | None = None, prepend_batch_axis: bool = False) -> BatchEncoding:
        """Turn every field into a tensor of ``tensor_type`` ("pt", "tf", "np", "jax"); None leaves lists."""
        if tensor_type is None:
            return self
        if tensor_type not in TENSOR_TYPES:
            raise ValueError(f"return_tensors must be one of {TENSOR_TYPES} or None, got {tensor_type!r}.")
        as_tensor = _tensor_factory(tensor_type)
        for key, value in self.items():
            if prepend_batch_axis:
                value = [value]
            if isinstance(value, (list, tuple)) and _is_ragged(value):
                raise ValueError(
                    f"Unable to create tensors: the rows of {key!r} have different lengths. Pass padding=True "
                    f"(and truncation=True) to get rectangular batches."
                )
            self[key] = as_tensor(value)
        return self

    def to(self, device: Any) -> BatchEncoding:
        """Move PyTorch tensors to ``device`` (other fields stay as they are)."""
        for key, value in self.items():
            if hasattr(value, "to") and callable(value.to):
                self[key] = value.to(device=device)
        return self


def _is_ragged(value: Sequence[Any]) -> bool:
    if not value or not isinstance(value[0], (list, tuple)):
        return False
    lengths = {len(row) for row in value}
    return len(lengths) > 1 or any(_is_ragged(row) for row in value)


def _tensor_factory(tensor_type: str) -> Any:
    # dtypes follow transformers: int64 for torch and numpy, TensorFlow's and JAX's default int32
    if tensor_type == "np":
        return lambda value: np.asarray(value, dtype=np.int64 if _is_empty(value) else None)
    if tensor_type == "pt":
        import torch

        return lambda value: torch.tensor(value, dtype=torch.int64 if _is_empty(value) else None)
    if tensor_type == "tf":
        import tensorflow as tf

        return lambda value: tf.constant(value, dtype=tf.int32 if _is_empty(value) else None)
    import jax.numpy as jnp

    return lambda value: jnp.array(value, dtype=jnp.int32 if _is_empty(value) else None)


def _is_empty(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_is_empty(v) for v in value)
    return False


def _to_list(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value


class AlbertTokenizerBase(ABC):
    """What AlbertTokenizer and AlbertTokenizerFast share: special tokens, the call interface, ``pad``, files.

    Subclasses implement ``_encode_examples``, ``_decode``, ``tokenize``, the id/token conversions and
    ``_save_model_files``.
    """

    model_input_names = ("input_ids", "token_type_ids", "attention_mask")
    pad_token_type_id = 0
    is_fast = False
    tokenizer_class_name = "AlbertTokenizer"

    def __init__(
        self,
        *,
        do_lower_case: bool = True,
        remove_space: bool = True,
        keep_accents: bool = False,
        model_max_length: int = VERY_LARGE_INTEGER,
        padding_side: str = "right",
        truncation_side: str = "right",
        clean_up_tokenization_spaces: bool = False,
        name_or_path: str = "",
        **special_tokens: str | Mapping[str, Any] | SpecialToken,
    ) -> None:
        unknown = set(special_tokens) - set(SPECIAL_TOKEN_NAMES)
        if unknown:
            raise TypeError(f"Unknown tokenizer arguments: {sorted(unknown)}.")
        for name, side in (("padding_side", padding_side), ("truncation_side", truncation_side)):
            if side not in ("right", "left"):
                raise ValueError(f"{name} must be 'right' or 'left', got {side!r}.")
        self.do_lower_case = do_lower_case
        self.remove_space = remove_space
        self.keep_accents = keep_accents
        self.model_max_length = int(model_max_length)
        self.padding_side = padding_side
        self.truncation_side = truncation_side
        self.clean_up_tokenization_spaces = clean_up_tokenization_spaces
        self.name_or_path = name_or_path
        self._special = {
            name: _special_token(special_tokens.get(name, DEFAULT_SPECIAL_TOKENS[name]), name=name)
            for name in SPECIAL_TOKEN_NAMES
        }

    @property
    def bos_token(self) -> str:
        return self._special["bos_token"].content

    @property
    def eos_token(self) -> str:
        return self._special["eos_token"].content

    @property
    def unk_token(self) -> str:
        return self._special["unk_token"].content

    @property
    def sep_token(self) -> str:
        return self._special["sep_token"].content

    @property
    def pad_token(self) -> str:
        return self._special["pad_token"].content

    @property
    def cls_token(self) -> str:
        return self._special["cls_token"].content

    @property
    def mask_token(self) -> str:
        return self._special["mask_token"].content

    @property
    def bos_token_id(self) -> int:
        return self.convert_tokens_to_ids(self.bos_token)

    @property
    def eos_token_id(self) -> int:
        return self.convert_tokens_to_ids(self.eos_token)

    @property
    def unk_token_id(self) -> int:
        return self.convert_tokens_to_ids(self.unk_token)

    @property
    def sep_token_id(self) -> int:
        return self.convert_tokens_to_ids(self.sep_token)

    @property
    def pad_token_id(self) -> int:
        return self.convert_tokens_to_ids(self.pad_token)

    @property
    def cls_token_id(self) -> int:
        return self.convert_tokens_to_ids(self.cls_token)

    @property
    def mask_token_id(self) -> int:
        return self.convert_tokens_to_ids(self.mask_token)

    @property
    def special_tokens_map(self) -> dict[str, str]:
        """Attribute name -> token string, e.g. ``{"cls_token": "[CLS]", ...}``."""
        return {name: token.content for name, token in self._special.items()}

    @property
    def all_special_tokens(self) -> list[str]:
        """The distinct special token strings, in transformers' order."""
        return list(dict.fromkeys(token.content for token in self._special.values()))

    @property
    def all_special_ids(self) -> list[int]:
        return [self.convert_tokens_to_ids(token) for token in self.all_special_tokens]

    @abstractmethod
    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | list[int]:
        """Implemented by each tokenizer."""

    @abstractmethod
    def _encode_examples(
        self,
        examples: list[tuple[Any, Any]],
        batched: bool,
        options: EncodeOptions,
        flags: dict[str, Any],
    ) -> BatchEncoding:
        """Encode (text, text_pair) examples; one unbatched example when ``batched`` is False."""

    @abstractmethod
    def _decode(self, ids: list[int], skip_special_tokens: bool) -> str:
        """Implemented by each tokenizer."""

    def build_inputs_with_special_tokens(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """``[CLS] A [SEP]`` or ``[CLS] A [SEP] B [SEP]``."""
        cls, sep = [self.cls_token_id], [self.sep_token_id]
        if token_ids_1 is None:
            return cls + list(token_ids_0) + sep
        return cls + list(token_ids_0) + sep + list(token_ids_1) + sep

    def create_token_type_ids_from_sequences(
        self, token_ids_0: list[int], token_ids_1: list[int] | None = None
    ) -> list[int]:
        """0 for ``[CLS] A [SEP]``, 1 for ``B [SEP]``."""
        first = [0] * (len(token_ids_0) + 2)
        return first if token_ids_1 is None else first + [1] * (len(token_ids_1) + 1)

    def get_special_tokens_mask(
        self,
        token_ids_0: list[int],
        token_ids_1: list[int] | None = None,
        already_has_special_tokens: bool = False,
    ) -> list[int]:
        """1 where ``build_inputs_with_special_tokens`` puts a special token (or, already built, where one is)."""
        if already_has_special_tokens:
            if token_ids_1 is not None:
                raise ValueError("token_ids_1 must be None when already_has_special_tokens=True.")
            special = set(self.all_special_ids)
            return [1 if token in special else 0 for token in token_ids_0]
        if token_ids_1 is None:
            return [1] + [0] * len(token_ids_0) + [1]
        return [1] + [0] * len(token_ids_0) + [1] + [0] * len(token_ids_1) + [1]

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        """3 for a pair, 2 for a single sequence."""
        return 3 if pair else 2

    def __call__(
        self,
        text: str | Sequence[str] | Sequence[Sequence[str]],
        text_pair: str | Sequence[str] | Sequence[Sequence[str]] | None = None,
        *,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_tensors: str | None = None,
        return_token_type_ids: bool | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
        return_length: bool = False,
        verbose: bool = True,
    ) -> BatchEncoding:
        """Encode one text (or pair), or a batch of them, as transformers' tokenizers do.

        Args:
            text: A string, a batch of strings, a batch of (text, text_pair) tuples, or with
                ``is_split_into_words`` a list of words or a batch of word lists.
            text_pair: The second sequences, shaped like ``text``.
            add_special_tokens: Add ``[CLS]``/``[SEP]``.
            padding: True/"longest", "max_length" or False/"do_not_pad".
            truncation: True/"longest_first", "only_first", "only_second" or False/"do_not_truncate".
            max_length: Length to truncate/pad to (defaults to ``model_max_length`` when that is set).
            stride: Tokens repeated between a truncated sequence and its overflow.
            is_split_into_words: The input is already split into words (each gets its own "▁").
            pad_to_multiple_of: Round the padded length up to a multiple of this.
            padding_side: "right" or "left" (default ``self.padding_side``).
            return_tensors: "pt", "tf", "np", "jax" or None for Python lists.
            return_token_type_ids: Include ``token_type_ids`` (default True).
            return_attention_mask: Include ``attention_mask`` (default True).
            return_overflowing_tokens: Return what truncation cut off (slow: ``overflowing_tokens``; fast: extra rows
                with ``overflow_to_sample_mapping``).
            return_special_tokens_mask: Include ``special_tokens_mask``.
            return_offsets_mapping: Include character ``offset_mapping`` (fast tokenizer only).
            return_length: Include ``length``.
            verbose: Log warnings about ignored arguments.

        Returns:
            A BatchEncoding; without a batch its fields are flat lists (or tensors with a batch axis of 1).
        """
        batched = _check_text("text", text, is_split_into_words)
        if text_pair is not None:
            pair_batched = _check_text("text_pair", text_pair, is_split_into_words)
            if pair_batched != batched or (batched and len(text_pair) != len(text)):
                raise ValueError("text_pair must be shaped like text: both single, or batches of the same length.")
        if return_offsets_mapping and not self.is_fast:
            raise ValueError(
                "return_offsets_mapping needs the fast tokenizer: use AlbertTokenizerFast (pip install tokenizers)."
            )
        if padding_side not in (None, "right", "left"):
            raise ValueError(f"padding_side must be 'right', 'left' or None, got {padding_side!r}.")
        options = self._resolve_options(
            padding, truncation, max_length, stride, pad_to_multiple_of, padding_side, verbose
        )
        if batched:
            if text_pair is not None:
                examples = list(zip(text, text_pair))
            else:
                examples = [
                    tuple(item) if _is_text_pair(item) and not is_split_into_words else (item, None) for item in text
                ]
        else:
            examples = [(text, text_pair)]
        flags = {
            "add_special_tokens": add_special_tokens,
            "is_split_into_words": is_split_into_words,
            "return_tensors": return_tensors,
            "return_token_type_ids": return_token_type_ids,
            "return_attention_mask": return_attention_mask,
            "return_overflowing_tokens": return_overflowing_tokens,
            "return_special_tokens_mask": return_special_tokens_mask,
            "return_offsets_mapping": return_offsets_mapping,
            "return_length": return_length,
        }
        if return_tensors is not None and return_tensors not in TENSOR_TYPES:
            raise ValueError(f"return_tensors must be one of {TENSOR_TYPES} or None, got {return_tensors!r}.")
        return self._encode_examples(examples, batched, options, flags)

    def encode_plus(self, text: Any, text_pair: Any = None, **kwargs: Any) -> BatchEncoding:
        """Same as calling the tokenizer (kept for code written against transformers)."""
        return self(text, text_pair, **kwargs)

    def batch_encode_plus(self, batch_text_or_text_pairs: Sequence[Any], **kwargs: Any) -> BatchEncoding:
        """Same as calling the tokenizer on a batch (kept for code written against transformers)."""
        return self(list(batch_text_or_text_pairs), **kwargs)

    def encode(
        self,
        text: str | Sequence[str],
        text_pair: str | Sequence[str] | None = None,
        *,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        stride: int = 0,
        is_split_into_words: bool = False,
        return_tensors: str | None = None,
    ) -> list[int] | Any:
        """The ``input_ids`` of one text (or pair).

        Args:
            text: A string (or a list of words with ``is_split_into_words``).
            text_pair: Optional second sequence.
            add_special_tokens: Add ``[CLS]``/``[SEP]``.
            padding: As in ``__call__``.
            truncation: As in ``__call__``.
            max_length: As in ``__call__``.
            stride: As in ``__call__``.
            is_split_into_words: As in ``__call__``.
            return_tensors: As in ``__call__``.

        Returns:
            A list of ids (or a tensor of shape (1, length)).
        """
        if _check_text("text", text, is_split_into_words):
            raise TypeError("text must be a single str for encode (call the tokenizer itself for a batch).")
        encoding = self(
            text,
            text_pair,
            add_special_tokens=add_special_tokens,
            padding=padding,
            truncation=truncation,
            max_length=max_length,
            stride=stride,
            is_split_into_words=is_split_into_words,
            return_tensors=return_tensors,
            return_attention_mask=False,
            return_token_type_ids=False,
        )
        return encoding["input_ids"]

    def _resolve_options(
        self,
        padding: bool | str,
        truncation: bool | str | None,
        max_length: int | None,
        stride: int,
        pad_to_multiple_of: int | None,
        padding_side: str | None,
        verbose: bool,
    ) -> EncodeOptions:
        """transformers' rules for turning padding/truncation/max_length arguments into strategies."""
        if max_length is not None and padding is False and truncation is None:
            truncation = "longest_first"  # transformers: max_length alone turns truncation on
        pad = _padding_strategy(padding)
        if padding is True and verbose and max_length is not None and truncation in (None, False, "do_not_truncate"):
            logger.warning("max_length is ignored when padding=True and there is no truncation; use 'max_length'.")
        trunc = _truncation_strategy(truncation)
        if max_length is None:
            no_limit = self.model_max_length > _LARGE_INTEGER
            if pad == "max_length":
                if no_limit:
                    logger.warning("padding='max_length' without max_length and no model_max_length: not padding.")
                    pad = "do_not_pad"
                else:
                    max_length = self.model_max_length
            if trunc != "do_not_truncate":
                if no_limit:
                    logger.warning("Truncation without max_length and no model_max_length: not truncating.")
                    trunc = "do_not_truncate"
                else:
                    max_length = self.model_max_length
        if stride < 0:
            raise ValueError(f"stride must be >= 0, got {stride}.")
        if (
            trunc != "do_not_truncate"
            and pad != "do_not_pad"
            and pad_to_multiple_of is not None
            and max_length is not None
            and max_length % pad_to_multiple_of != 0
        ):
            raise ValueError(
                f"Truncation and padding are both activated but truncation length ({max_length}) is not a multiple "
                f"of pad_to_multiple_of ({pad_to_multiple_of})."
            )
        return EncodeOptions(pad, trunc, max_length, stride, pad_to_multiple_of, padding_side)

    def pad(
        self,
        encoded_inputs: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        padding: bool | str = True,
        max_length: int | None = None,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
        return_tensors: str | None = None,
    ) -> BatchEncoding:
        """Pad one encoded example, a dict of batched lists, or a list of examples (as a data collator gets them).

        Args:
            encoded_inputs: Fields such as ``input_ids``, ``token_type_ids``, ``special_tokens_mask`` (lists/tensors).
            padding: True/"longest", "max_length" or False.
            max_length: Target length for "max_length".
            pad_to_multiple_of: Round the target length up to a multiple of this.
            padding_side: "right" or "left" (default ``self.padding_side``).
            return_attention_mask: Add an ``attention_mask`` (default True).
            return_tensors: "pt", "tf", "np", "jax" or None.

        Returns:
            The padded BatchEncoding.
        """
        if isinstance(encoded_inputs, (list, tuple)) and encoded_inputs and isinstance(encoded_inputs[0], Mapping):
            encoded_inputs = {key: [_to_list(example[key]) for example in encoded_inputs] for key in encoded_inputs[0]}
        if not isinstance(encoded_inputs, Mapping) or "input_ids" not in encoded_inputs:
            raise ValueError("pad needs a mapping (or a list of mappings) with an 'input_ids' field.")
        inputs = {key: _to_list(value) for key, value in encoded_inputs.items()}
        if return_attention_mask is None:
            return_attention_mask = "attention_mask" in self.model_input_names
        if not inputs["input_ids"]:
            if return_attention_mask:
                inputs["attention_mask"] = []
            return BatchEncoding(inputs, tensor_type=return_tensors)
        options = self._resolve_options(padding, None, max_length, 0, pad_to_multiple_of, padding_side, True)
        if not isinstance(inputs["input_ids"][0], (list, tuple)):
            padded = self._pad_one(inputs, options.padding, options.max_length, options, return_attention_mask)
            return BatchEncoding(padded, tensor_type=return_tensors)
        strategy, target = options.padding, options.max_length
        if strategy == "longest":
            strategy, target = "max_length", max(len(ids) for ids in inputs["input_ids"])
        rows: dict[str, list[Any]] = {}
        for i in range(len(inputs["input_ids"])):
            row = self._pad_one({k: v[i] for k, v in inputs.items()}, strategy, target, options, return_attention_mask)
            for key, value in row.items():
                rows.setdefault(key, []).append(value)
        return BatchEncoding(rows, tensor_type=return_tensors)

    def _pad_one(
        self,
        example: dict[str, Any],
        strategy: str,
        max_length: int | None,
        options: EncodeOptions,
        return_attention_mask: bool,
    ) -> dict[str, Any]:
        ids = list(example["input_ids"])
        if strategy == "longest":
            max_length = len(ids)
        multiple = options.pad_to_multiple_of
        if max_length is not None and multiple is not None and max_length % multiple != 0:
            max_length = (max_length // multiple + 1) * multiple
        if return_attention_mask and "attention_mask" not in example:
            example["attention_mask"] = [1] * len(ids)
        if strategy == "do_not_pad" or max_length is None or len(ids) >= max_length:
            return example
        fill = {
            "input_ids": self.pad_token_id,
            "attention_mask": 0,
            "token_type_ids": self.pad_token_type_id,
            "special_tokens_mask": 1,
        }
        count = max_length - len(ids)
        left = (options.padding_side or self.padding_side) == "left"
        for key, value in fill.items():
            if key in example and (key != "attention_mask" or return_attention_mask):
                padding = [value] * count
                example[key] = padding + list(example[key]) if left else list(example[key]) + padding
        return example

    def decode(
        self,
        token_ids: int | Sequence[int] | Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
    ) -> str:
        """Text of a sequence of ids (special tokens kept verbatim unless ``skip_special_tokens``).

        Args:
            token_ids: Ids (a list, a 1-D tensor/array or one int).
            skip_special_tokens: Leave out ``[CLS]``, ``[SEP]``, ``<pad>``, ``<unk>``, ``[MASK]``.
            clean_up_tokenization_spaces: Remove spaces before punctuation (default: the tokenizer's setting, False).

        Returns:
            The decoded string.
        """
        ids = _to_list(token_ids)
        ids = [ids] if isinstance(ids, int) else [int(i) for i in ids]
        text = self._decode(ids, skip_special_tokens)
        clean = (
            self.clean_up_tokenization_spaces if clean_up_tokenization_spaces is None else clean_up_tokenization_spaces
        )
        return clean_up_tokenization(text) if clean else text

    def batch_decode(
        self,
        sequences: Sequence[Sequence[int]] | Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
    ) -> list[str]:
        """``decode`` of each row."""
        return [self.decode(seq, skip_special_tokens, clean_up_tokenization_spaces) for seq in _to_list(sequences)]

    def _config_dict(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "added_tokens_decoder": self._added_tokens_json(),
            "clean_up_tokenization_spaces": self.clean_up_tokenization_spaces,
            "do_lower_case": self.do_lower_case,
            "extra_special_tokens": {},
            "keep_accents": self.keep_accents,
            "model_max_length": self.model_max_length,
            "padding_side": self.padding_side,
            "remove_space": self.remove_space,
            "sp_model_kwargs": {},
            "tokenizer_class": self.tokenizer_class_name,
            "truncation_side": self.truncation_side,
        }
        config.update(self.special_tokens_map)
        return dict(sorted(config.items()))

    def _added_tokens_json(self) -> dict[str, dict[str, Any]]:
        entries = {}
        for token in self._special.values():
            entry = token.to_json() | {"special": True}
            entries[str(self.convert_tokens_to_ids(token.content))] = entry
        return dict(sorted(entries.items(), key=lambda item: int(item[0])))

    def _special_tokens_map_json(self) -> dict[str, Any]:
        return {
            name: (token.to_json() if token.lstrip or token.rstrip else token.content)
            for name, token in sorted(self._special.items())
        }

    def save_pretrained(self, save_directory: str | os.PathLike) -> tuple[str, ...]:
        """Write the tokenizer files (as Hub repositories hold them) into ``save_directory``.

        Args:
            save_directory: Directory to create or update.

        Returns:
            The paths written.
        """
        directory = Path(save_directory)
        if directory.exists() and not directory.is_dir():
            raise NotADirectoryError(f"{directory} exists and is not a directory.")
        # the tokenizer's files replace the previous ones together; a model's files beside them stay
        with staged_directory(directory, replaces=TOKENIZER_FILES) as staging:
            config_json = json.dumps(self._config_dict(), indent=2, ensure_ascii=False) + "\n"
            atomic_write_text(staging / TOKENIZER_CONFIG_FILE, config_json)
            map_json = json.dumps(self._special_tokens_map_json(), indent=2, ensure_ascii=False) + "\n"
            atomic_write_text(staging / SPECIAL_TOKENS_MAP_FILE, map_json)
            written = [Path(path).name for path in self._save_model_files(staging)]
        return tuple(str(directory / name) for name in (TOKENIZER_CONFIG_FILE, SPECIAL_TOKENS_MAP_FILE, *written))

    @abstractmethod
    def _save_model_files(self, directory: Path) -> tuple[str, ...]:
        """Implemented by each tokenizer."""

    def __len__(self) -> int:
        return len(self.get_vocab())

    @abstractmethod
    def get_vocab(self) -> dict[str, int]:
        """Implemented by each tokenizer."""

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name_or_path={self.name_or_path!r}, vocab_size={len(self)}, "
            f"do_lower_case={self.do_lower_case}, keep_accents={self.keep_accents}, "
            f"model_max_length={self.model_max_length}, padding_side={self.padding_side!r})"
        )


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


def _read_model_file(path: str | os.PathLike) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise TokenizerFileError(f"Cannot read the SentencePiece model {path}: {error}") from error


def load_sentencepiece(source: str | os.PathLike | bytes, where: str | None = None) -> spm.SentencePieceProcessor:
    """A SentencePiece model from a file path or serialized bytes (``where`` names them in errors).

    Raises TokenizerFileError when the model cannot be read or parsed.
    """
    processor = spm.SentencePieceProcessor()
    where = where or ("the SentencePiece model bytes" if isinstance(source, bytes) else str(source))
    data = source if isinstance(source, bytes) else _read_model_file(source)
    try:
        processor.LoadFromSerializedProto(data)
    except (RuntimeError, OSError, TypeError) as error:
        raise TokenizerFileError(f"{where} is not a valid SentencePiece model ({error}).") from error
    if processor.get_piece_size() == 0:
        raise TokenizerFileError(f"{where} is not a valid SentencePiece model (it has no pieces).")
    return processor


class AlbertTokenizer(AlbertTokenizerBase):
    """ALBERT's tokenizer on the ``sentencepiece`` library, as transformers 4.x's ``AlbertTokenizer``.

    Args:
        vocab_file: Path of the SentencePiece model (``spiece.model``). Either this or ``model_proto``.
        do_lower_case: Lower-case the text (outside special tokens).
        remove_space: Strip and collapse whitespace.
        keep_accents: Keep accents instead of stripping them.
        model_proto: The serialized SentencePiece model, instead of a file.
        **kwargs: ``model_max_length``, ``padding_side``, ``truncation_side``, ``clean_up_tokenization_spaces``,
            and the special tokens (``cls_token="[CLS]"``, ``mask_token="[MASK]"``...).

    Example:
        >>> tok = AlbertTokenizer.from_pretrained("albert/albert-base-v2")  # doctest: +SKIP
        >>> tok("The quick brown fox jumps over the lazy dog.")["input_ids"]  # doctest: +SKIP
        [2, 14, 2231, 886, 2385, 17659, 84, 14, 16792, 1952, 9, 3]
    """

    def __init__(
        self,
        vocab_file: str | os.PathLike | None = None,
        do_lower_case: bool = True,
        remove_space: bool = True,
        keep_accents: bool = False,
        *,
        model_proto: bytes | None = None,
        **kwargs: Any,
    ) -> None:
        if (vocab_file is None) == (model_proto is None):
            raise ValueError("Pass exactly one of vocab_file and model_proto.")
        super().__init__(do_lower_case=do_lower_case, remove_space=remove_space, keep_accents=keep_accents, **kwargs)
        self.vocab_file = None if vocab_file is None else str(vocab_file)
        # the file's own bytes are kept: save_pretrained writes them back unchanged
        self._model_bytes = model_proto if model_proto is not None else _read_model_file(vocab_file)
        self.sp_model = load_sentencepiece(self._model_bytes, where=self.vocab_file or "model_proto")
        self._init_lookups()

    def _init_lookups(self) -> None:
        sp = self.sp_model
        self._pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
        # ids of pieces the digit-comma rule re-encodes: longer than one character, ending in "," after a digit
        self._comma_ids = frozenset(i for i, piece in enumerate(self._pieces) if _ends_in_number_comma(piece))
        self._unk_id = sp.unk_id()
        specials = sorted(self.all_special_tokens, key=len, reverse=True)
        self._special_pattern = re.compile("(" + "|".join(re.escape(token) for token in specials) + ")")
        self._special_by_content = {token.content: token for token in self._special.values()}
        for name, token in self._special.items():
            if sp.piece_to_id(token.content) == sp.unk_id() and token.content != sp.id_to_piece(sp.unk_id()):
                raise ValueError(f"{name} {token.content!r} is not a piece of the SentencePiece model.")

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["sp_model"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.sp_model = load_sentencepiece(self._model_bytes)

    @classmethod
    def from_pretrained(cls, name_or_path: str | os.PathLike, **kwargs: Any) -> AlbertTokenizer:
        """Load from a directory or Hub repository holding ``spiece.model`` (and tokenizer_config.json...).

        Args:
            name_or_path: Local directory or Hub id (e.g. "albert/albert-base-v2").
            **kwargs: Constructor overrides, and ``cache_dir``, ``revision``, ``token``, ``local_files_only``.

        Returns:
            The tokenizer.
        """
        hub_kwargs, overrides = split_hub_kwargs(dict(kwargs))
        vocab_file = resolve_file(name_or_path, VOCAB_FILE, **hub_kwargs)
        config, special_map = read_tokenizer_config(name_or_path, hub_kwargs)
        init = tokenizer_kwargs(config, special_map, overrides)
        init.setdefault("name_or_path", str(name_or_path))
        return cls(vocab_file, **init)

    @property
    def vocab_size(self) -> int:
        """Number of SentencePiece pieces."""
        return len(self._pieces)

    def __len__(self) -> int:
        return len(self._pieces)

    def get_vocab(self) -> dict[str, int]:
        """Piece -> id."""
        return {piece: i for i, piece in enumerate(self._pieces)}

    def preprocess_text(self, text: str) -> str:
        """This tokenizer's ``preprocess_text`` (see the module function)."""
        return preprocess_text(
            text, do_lower_case=self.do_lower_case, remove_space=self.remove_space, keep_accents=self.keep_accents
        )

    def _split_special(self, text: str) -> list[tuple[str, bool]]:
        """(segment, is_special) parts of ``text``, with the special tokens' whitespace stripping applied."""
        parts = self._special_pattern.split(text)
        # re.split with one group alternates text, special, text...
        for i in range(1, len(parts), 2):
            token = self._special_by_content[parts[i]]
            if token.lstrip and parts[i - 1]:
                parts[i - 1] = parts[i - 1].rstrip()
            if token.rstrip and i + 1 < len(parts) and parts[i + 1]:
                parts[i + 1] = parts[i + 1].lstrip()
        return [(part, i % 2 == 1) for i, part in enumerate(parts) if part]

    def _segments(self, text: str) -> list[tuple[str, bool]]:
        if self.do_lower_case:
            text = _lower_per_character(text) if not self._special_pattern.search(text) else self._lower_outside(text)
        return self._split_special(text)

    def _lower_outside(self, text: str) -> str:
        parts = self._special_pattern.split(text)
        return "".join(part if i % 2 else _lower_per_character(part) for i, part in enumerate(parts))

    def _piece_ids(self, text: str) -> list[int]:
        """SentencePiece ids of one segment without special tokens, with the digit-comma rule."""
        ids = self.sp_model.encode(self.preprocess_text(text))
        if self._comma_ids.isdisjoint(ids) and self._unk_id not in ids:
            return ids
        # an unknown piece's surface text may end in digit + comma too: take the exact (string) path
        return [self.sp_model.piece_to_id(piece) for piece in self._pieces_of(text)]

    def _pieces_of(self, text: str) -> list[str]:
        """SentencePiece pieces of one segment without special tokens (unknown text kept as it is)."""
        pieces = self.sp_model.encode(self.preprocess_text(text), out_type=str)
        out: list[str] = []
        for piece in pieces:
            if _ends_in_number_comma(piece):
                out.extend(self._split_number_comma(piece))
            else:
                out.append(piece)
        return out

    def _split_number_comma(self, piece: str) -> list[str]:
        # "▁9," becomes "▁9" + ",": the piece without its comma is re-encoded (without "▁", which SentencePiece's
        # dummy prefix puts back), the leading "▁" is dropped again if the original piece had none.
        pieces = self.sp_model.encode(piece[:-1].replace(SPIECE_UNDERLINE, ""), out_type=str)
        if piece[0] != SPIECE_UNDERLINE and pieces and pieces[0][0] == SPIECE_UNDERLINE:
            pieces = pieces[1:] if len(pieces[0]) == 1 else [pieces[0][1:], *pieces[1:]]
        return [*pieces, piece[-1]]

    def _text_to_ids(self, text: str) -> list[int]:
        ids: list[int] = []
        for segment, special in self._segments(text):
            if special:
                ids.append(self.sp_model.piece_to_id(segment))
            else:
                ids.extend(self._piece_ids(segment))
        return ids

    def tokenize(self, text: str) -> list[str]:
        """The tokens of ``text`` (special tokens in the text are kept whole).

        Unknown text stays as it is (``"▁你好"``), as in transformers; it converts to ``<unk>``'s id.

        Args:
            text: The text.

        Returns:
            Token strings, e.g. ``["▁hello", "▁world"]``.
        """
        tokens: list[str] = []
        for segment, special in self._segments(_require_str("text", text)):
            if special:
                tokens.append(segment)
            else:
                tokens.extend(self._pieces_of(segment))
        return tokens

    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | list[int]:
        """Id of a token (or of each token); ``<unk>``'s id for tokens not in the vocabulary."""
        if isinstance(tokens, str):
            return self.sp_model.piece_to_id(tokens)
        return [self.sp_model.piece_to_id(_require_str("tokens", t)) for t in tokens]

    def convert_ids_to_tokens(self, ids: int | Sequence[int], skip_special_tokens: bool = False) -> str | list[str]:
        """Token of an id (or of each id)."""
        if isinstance(ids, (int, np.integer)):
            return self._id_to_piece(int(ids))
        special = set(self.all_special_ids) if skip_special_tokens else set()
        return [self._id_to_piece(int(i)) for i in _to_list(ids) if int(i) not in special]

    def _id_to_piece(self, index: int) -> str:
        if not 0 <= index < len(self._pieces):
            raise IndexError(f"Token id {index} is out of range for a vocabulary of {len(self._pieces)} pieces.")
        return self._pieces[index]

    def convert_tokens_to_string(self, tokens: Sequence[str]) -> str:
        """Join tokens into text: SentencePiece decoding, with special tokens kept verbatim."""
        specials = set(self.all_special_tokens)
        out, current, prev_is_special = "", [], False
        for token in tokens:
            if token in specials:
                if not prev_is_special:
                    out += " "
                out += self.sp_model.decode_pieces(current) + token
                prev_is_special, current = True, []
            else:
                current.append(token)
                prev_is_special = False
        out += self.sp_model.decode_pieces(current)
        return out.strip()

    def _decode(self, ids: list[int], skip_special_tokens: bool) -> str:
        return self.convert_tokens_to_string(self.convert_ids_to_tokens(ids, skip_special_tokens=skip_special_tokens))

    def _input_ids(self, text: Any, is_split_into_words: bool) -> list[int]:
        if is_split_into_words:
            return [i for word in text for i in self._text_to_ids(word)]
        return self._text_to_ids(text)

    def _encode_examples(
        self, examples: list[tuple[Any, Any]], batched: bool, options: EncodeOptions, flags: dict[str, Any]
    ) -> BatchEncoding:
        split = flags["is_split_into_words"]
        if not batched:
            first, second = examples[0]
            pair_ids = None if second is None else self._input_ids(second, split)
            encoded = self.prepare_for_model(self._input_ids(first, split), pair_ids, options=options, flags=flags)
            return BatchEncoding(encoded, tensor_type=flags["return_tensors"], prepend_batch_axis=True)
        unpadded = EncodeOptions("do_not_pad", options.truncation, options.max_length, options.stride)
        row_flags = flags | {"return_attention_mask": False}
        rows: dict[str, list[Any]] = {}
        for first, second in examples:
            pair_ids = None if second is None else self._input_ids(second, split)
            encoded = self.prepare_for_model(self._input_ids(first, split), pair_ids, options=unpadded, flags=row_flags)
            for key, value in encoded.items():
                rows.setdefault(key, []).append(value)
        padded = self.pad(
            rows,
            padding=options.padding,
            max_length=options.max_length,
            pad_to_multiple_of=options.pad_to_multiple_of,
            padding_side=options.padding_side,
            return_attention_mask=flags["return_attention_mask"],
        )
        return BatchEncoding(padded, tensor_type=flags["return_tensors"])

    def prepare_for_model(
        self,
        ids: list[int],
        pair_ids: list[int] | None = None,
        *,
        options: EncodeOptions,
        flags: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Truncate, add special tokens, build token types and masks, pad: one example, as transformers does.

        Args:
            ids: Ids of the first sequence (no special tokens).
            pair_ids: Ids of the second sequence, if any.
            options: Resolved padding/truncation settings.
            flags: The ``return_*`` and ``add_special_tokens`` arguments of the call.

        Returns:
            The example's fields as lists.
        """
        add_special = flags["add_special_tokens"]
        return_types = flags["return_token_type_ids"]
        if return_types and not add_special:
            raise ValueError("return_token_type_ids=True needs add_special_tokens=True.")
        if flags["return_overflowing_tokens"] and options.truncation == "longest_first" and pair_ids is not None:
            raise ValueError(
                "Overflowing tokens cannot be returned for a pair with truncation 'longest_first'; use 'only_first' "
                "or 'only_second'."
            )
        pair = pair_ids is not None
        total = len(ids) + (len(pair_ids) if pair else 0) + (self.num_special_tokens_to_add(pair) if add_special else 0)
        overflowing: list[int] = []
        if options.truncation != "do_not_truncate" and options.max_length and total > options.max_length:
            ids, pair_ids, overflowing = self.truncate_sequences(
                ids, pair_ids, total - options.max_length, options.truncation, options.stride
            )
        encoded: dict[str, Any] = {}
        if flags["return_overflowing_tokens"]:
            encoded["overflowing_tokens"] = overflowing
            encoded["num_truncated_tokens"] = total - (options.max_length or 0)
        if add_special:
            encoded["input_ids"] = self.build_inputs_with_special_tokens(ids, pair_ids)
            token_types = self.create_token_type_ids_from_sequences(ids, pair_ids)
        else:
            encoded["input_ids"] = ids + pair_ids if pair else list(ids)
            token_types = [0] * len(encoded["input_ids"])
        if return_types is None or return_types:
            encoded["token_type_ids"] = token_types
        if flags["return_special_tokens_mask"]:
            encoded["special_tokens_mask"] = (
                self.get_special_tokens_mask(ids, pair_ids) if add_special else [0] * len(encoded["input_ids"])
            )
        return_mask = flags["return_attention_mask"]
        return_mask = True if return_mask is None else return_mask
        if options.padding != "do_not_pad" or return_mask:
            encoded = self._pad_one(encoded, options.padding, options.max_length, options, return_mask)
        if flags["return_length"]:
            encoded["length"] = len(encoded["input_ids"])
        return encoded

    def truncate_sequences(
        self,
        ids: list[int],
        pair_ids: list[int] | None = None,
        num_tokens_to_remove: int = 0,
        truncation_strategy: str = "longest_first",
        stride: int = 0,
    ) -> tuple[list[int], list[int] | None, list[int]]:
        """Remove ``num_tokens_to_remove`` tokens following the strategy.

        Args:
            ids: First sequence.
            pair_ids: Second sequence, if any.
            num_tokens_to_remove: How many tokens to cut.
            truncation_strategy: "longest_first", "only_first" or "only_second".
            stride: Tokens of the kept part repeated at the start of the overflow.

        Returns:
            (ids, pair_ids, overflowing tokens). As in transformers, a pair under "longest_first" returns no overflow,
            and a sequence too short for the removal is left whole (with an error logged).
        """
        if num_tokens_to_remove <= 0:
            return ids, pair_ids, []
        left = self.truncation_side == "left"
        if truncation_strategy == "only_first" or (truncation_strategy == "longest_first" and pair_ids is None):
            if len(ids) > num_tokens_to_remove:
                ids, overflow = _cut(ids, num_tokens_to_remove, stride, left)
                return ids, pair_ids, overflow
            logger.error("Need to remove %d tokens but the first sequence has %d.", num_tokens_to_remove, len(ids))
        elif truncation_strategy == "longest_first":
            first_remove = min(abs(len(pair_ids) - len(ids)), num_tokens_to_remove)
            second_remove = num_tokens_to_remove - first_remove
            if len(ids) > len(pair_ids):
                cut_ids, cut_pair = first_remove + second_remove // 2, second_remove - second_remove // 2
            else:
                cut_ids, cut_pair = second_remove // 2, first_remove + second_remove - second_remove // 2
            if left:
                ids, pair_ids = ids[cut_ids:], pair_ids[cut_pair:]
            else:
                ids = ids[:-cut_ids] if cut_ids > 0 else ids
                pair_ids = pair_ids[:-cut_pair] if cut_pair > 0 else pair_ids
        elif truncation_strategy == "only_second" and pair_ids is not None:
            if len(pair_ids) > num_tokens_to_remove:
                pair_ids, overflow = _cut(pair_ids, num_tokens_to_remove, stride, left)
                return ids, pair_ids, overflow
            logger.error(
                "Need to remove %d tokens but the second sequence has %d.", num_tokens_to_remove, len(pair_ids)
            )
        return ids, pair_ids, []

    def save_vocabulary(self, save_directory: str | os.PathLike, filename_prefix: str | None = None) -> tuple[str]:
        """Write the SentencePiece model (``spiece.model``, or ``<prefix>-spiece.model``) into ``save_directory``."""
        directory = Path(save_directory)
        if not directory.is_dir():
            raise NotADirectoryError(f"{directory} is not a directory.")
        path = directory / ((filename_prefix + "-" if filename_prefix else "") + VOCAB_FILE)
        atomic_write_bytes(path, self._model_bytes)
        return (str(path),)

    def _save_model_files(self, directory: Path) -> tuple[str, ...]:
        return self.save_vocabulary(directory)


def _ends_in_number_comma(piece: str) -> bool:
    return len(piece) > 1 and piece[-1] == "," and piece[-2].isdigit()


def _cut(ids: list[int], count: int, stride: int, left: bool) -> tuple[list[int], list[int]]:
    """Remove ``count`` ids from one end; the overflow also repeats ``stride`` of the kept ids."""
    window = min(len(ids), stride + count)
    if left:
        return ids[count:], ids[:window]
    return ids[:-count], ids[-window:]
