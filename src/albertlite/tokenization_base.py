"""The tokenizers' shared base class ``AlbertTokenizerBase``, its special tokens, and the ``Tokenizer`` protocol.

``AlbertTokenizerBase`` holds what ``AlbertTokenizer`` (SentencePiece) and ``AlbertTokenizerFast`` (``tokenizers``)
share: special tokens, argument checking, padding/truncation strategy resolution, ``pad``, decoding, loading and the
files of a tokenizer directory. ``Tokenizer`` is the part of that interface the rest of albertlite relies on.
"""

from __future__ import annotations

import json
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Protocol, TypeVar, overload, runtime_checkable

from albertlite.batch_encoding import TENSOR_TYPES, BatchEncoding
from albertlite.checkpoints.files import TOKENIZER_FILES, atomic_write_text, staged_directory
from albertlite.tokenization_utils import (
    _LARGE_INTEGER,
    DEFAULT_SPECIAL_TOKENS,
    SPECIAL_TOKEN_NAMES,
    SPECIAL_TOKENS_MAP_FILE,
    TOKENIZER_CONFIG_FILE,
    VERY_LARGE_INTEGER,
    EncodeOptions,
    _check_int,
    _check_text,
    _check_texts,
    _is_text_pair,
    _padding_strategy,
    _to_list,
    _truncation_strategy,
    check_token_ids,
    check_truncation_room,
    clean_up_tokenization,
    read_tokenizer_config,
    split_hub_kwargs,
    tokenizer_kwargs,
)

# the padding/truncation warnings keep the logger they had before this module was split off tokenization.py
logger = logging.getLogger("albertlite.tokenization")

_TokenizerT = TypeVar("_TokenizerT", bound="AlbertTokenizerBase")


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


class _SpecialTokenAttribute:
    """A read-only attribute of one special token, named after it (``cls_token``, or ``cls_token_id``).

    The token's name is taken from the attribute's, so that each one is declared once, in a single line.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.token = name.removesuffix("_id")
        if self.token not in SPECIAL_TOKEN_NAMES:
            raise TypeError(f"{name} names no special token of {SPECIAL_TOKEN_NAMES}.")
        self.name = name

    def __set__(self, instance: object, value: object) -> NoReturn:
        # the special tokens are fixed at construction: the regex, backend and lookups are built from them
        raise AttributeError(f"{self.name} of {type(instance).__name__!r} is read-only.")


class _TokenText(_SpecialTokenAttribute):
    """The special token's string, e.g. ``"[CLS]"``."""

    @overload
    def __get__(self, instance: None, owner: type) -> _TokenText: ...
    @overload
    def __get__(self, instance: AlbertTokenizerBase, owner: type) -> str: ...
    def __get__(self, instance: AlbertTokenizerBase | None, owner: type) -> _TokenText | str:
        if instance is None:
            return self
        return instance._special[self.token].content


class _TokenId(_SpecialTokenAttribute):
    """The special token's id in the vocabulary."""

    @overload
    def __get__(self, instance: None, owner: type) -> _TokenId: ...
    @overload
    def __get__(self, instance: AlbertTokenizerBase, owner: type) -> int: ...
    def __get__(self, instance: AlbertTokenizerBase | None, owner: type) -> _TokenId | int:
        if instance is None:
            return self
        return instance.convert_tokens_to_ids(instance._special[self.token].content)


class AlbertTokenizerBase(ABC):
    """What AlbertTokenizer and AlbertTokenizerFast share: special tokens, the call interface, ``pad``, files.

    Subclasses implement ``_encode_examples``, ``_decode``, ``tokenize``, the id/token conversions,
    ``_model_files`` (what ``from_pretrained`` reads besides the configuration) and ``_save_model_files``.
    """

    model_input_names = ("input_ids", "token_type_ids", "attention_mask")
    pad_token_type_id = 0
    is_fast = False
    tokenizer_class_name = "AlbertTokenizer"
    # one line per name of SPECIAL_TOKEN_NAMES (test_tok_common checks that none is missing)
    bos_token = _TokenText()
    eos_token = _TokenText()
    unk_token = _TokenText()
    sep_token = _TokenText()
    pad_token = _TokenText()
    cls_token = _TokenText()
    mask_token = _TokenText()
    bos_token_id = _TokenId()
    eos_token_id = _TokenId()
    unk_token_id = _TokenId()
    sep_token_id = _TokenId()
    pad_token_id = _TokenId()
    cls_token_id = _TokenId()
    mask_token_id = _TokenId()

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

    @classmethod
    def from_pretrained(cls: type[_TokenizerT], name_or_path: str | os.PathLike, **kwargs: Any) -> _TokenizerT:
        """Load from a directory or Hub repository: the tokenizer's model files, tokenizer_config.json and
        special_tokens_map.json (see each class for the model files it reads).

        Args:
            name_or_path: Local directory or Hub id (e.g. "albert/albert-base-v2").
            **kwargs: Constructor overrides, and ``cache_dir``, ``revision``, ``token``, ``local_files_only``.

        Returns:
            The tokenizer.
        """
        hub_kwargs, overrides = split_hub_kwargs(dict(kwargs))
        # the model files first: a directory without them fails on that, not on a config beside it
        model_files = cls._model_files(name_or_path, hub_kwargs)
        config, special_map = read_tokenizer_config(name_or_path, hub_kwargs)
        init = tokenizer_kwargs(config, special_map, overrides)
        init.setdefault("name_or_path", str(name_or_path))
        return cls(*model_files, **init)

    @classmethod
    @abstractmethod
    def _model_files(cls, name_or_path: str | os.PathLike, hub_kwargs: Mapping[str, Any]) -> tuple[Path | None, ...]:
        """The leading constructor arguments: paths of the model files (resolved locally or downloaded)."""

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
        specials = (self.num_special_tokens_to_add(False), self.num_special_tokens_to_add(True))
        has_pair = any(second is not None for _, second in examples)
        check_truncation_room(options, specials, has_pair, add_special_tokens)
        _check_texts("text", text)
        if text_pair is not None:
            _check_texts("text_pair", text_pair)
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
        _check_int("max_length", max_length, 0, optional=True)
        _check_int("stride", stride, 0)
        _check_int("pad_to_multiple_of", pad_to_multiple_of, 1, optional=True)
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
        ids = check_token_ids([ids] if not isinstance(ids, (list, tuple)) else ids, len(self))
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


@runtime_checkable
class Tokenizer(Protocol):
    """What albertlite's data, task, training and inference code uses of a tokenizer.

    ``AlbertTokenizer`` and ``AlbertTokenizerFast`` satisfy it.
    ``isinstance(obj, Tokenizer)`` checks only that the members exist.

    Example:
        >>> def first_ids(tokenizer: Tokenizer, text: str) -> list[int]:
        ...     return tokenizer(text, add_special_tokens=False)["input_ids"]
    """

    @property
    def is_fast(self) -> bool:
        """Whether the tokenizer gives character offsets and word ids (``tokenizers`` backend)."""

    @property
    def model_max_length(self) -> int:
        """The longest input the tokenizer's model takes (transformers' VERY_LARGE_INTEGER for no limit)."""

    @property
    def vocab_size(self) -> int:
        """Size of the model's vocabulary."""

    @property
    def pad_token_id(self) -> int: ...
    @property
    def cls_token_id(self) -> int: ...
    @property
    def sep_token_id(self) -> int: ...
    @property
    def mask_token_id(self) -> int: ...
    @property
    def mask_token(self) -> str: ...
    @property
    def all_special_ids(self) -> list[int]: ...

    def __call__(
        self,
        text: str | Sequence[str] | Sequence[Sequence[str]],
        text_pair: str | Sequence[str] | Sequence[Sequence[str]] | None = None,
        *,
        add_special_tokens: bool = True,
        padding: bool | str = False,
        truncation: bool | str | None = None,
        max_length: int | None = None,
        return_tensors: str | None = None,
        return_overflowing_tokens: bool = False,
        return_special_tokens_mask: bool = False,
        return_offsets_mapping: bool = False,
    ) -> BatchEncoding:
        """Encode a text, a pair or a batch (see ``AlbertTokenizerBase.__call__``)."""

    def tokenize(self, text: str) -> list[str]:
        """The tokens of ``text``."""

    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | list[int]:
        """Id of a token (or of each token)."""

    def get_vocab(self) -> dict[str, int]:
        """Token -> id."""

    def decode(
        self,
        token_ids: int | Sequence[int] | Any,
        skip_special_tokens: bool = False,
        clean_up_tokenization_spaces: bool | None = None,
    ) -> str:
        """Text of a sequence of ids."""

    def save_pretrained(self, save_directory: str | os.PathLike) -> tuple[str, ...]:
        """Write the tokenizer's files into ``save_directory``."""
