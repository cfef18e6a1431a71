"""ALBERT's SentencePiece tokenizer, ``AlbertTokenizer``.

``AlbertTokenizer`` reproduces Hugging Face's SentencePiece ``AlbertTokenizer`` of transformers 4.x (the reference is
4.57): the same preprocessing (whitespace collapse, ``\\`\\``/``''`` to ``"``, accent stripping, lower-casing), the
digit-comma rule, the special tokens (``[MASK]`` eats the spaces on its left), truncation, padding, overflow and
decoding. What it shares with the fast tokenizer is in ``tokenization_base`` (the class ``AlbertTokenizerBase``),
``tokenization_utils`` (helpers) and ``batch_encoding`` (its output).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sentencepiece as spm

from albertlite.batch_encoding import BatchEncoding
from albertlite.checkpoints.files import atomic_write_bytes
from albertlite.checkpoints.hub import resolve_file
from albertlite.tokenization_base import AlbertTokenizerBase, SpecialToken
from albertlite.tokenization_utils import (
    SPIECE_UNDERLINE,
    VOCAB_FILE,
    EncodeOptions,
    TokenIdError,
    TokenizerFileError,
    _cut,
    _ends_in_number_comma,
    _require_str,
    _to_list,
    check_kept_stride,
    preprocess_text,
    read_bytes,
    too_short_error,
)

# names importable from here before tokenization_base, tokenization_utils and batch_encoding were split off
__all__ = [
    "AlbertTokenizer",
    "AlbertTokenizerBase",
    "BatchEncoding",
    "SpecialToken",
    "TokenizerFileError",
    "load_sentencepiece",
    "preprocess_text",
]


def _lower_per_character(text: str) -> str:
    # transformers lower-cases character by character (a regex over single characters), so a final capital sigma
    # becomes "σ" rather than the "ς" of str.lower(); lower-casing again later is then a no-op.
    return text.lower() if "Σ" not in text else "".join(c.lower() for c in text)


def load_sentencepiece(source: str | os.PathLike | bytes, where: str | None = None) -> spm.SentencePieceProcessor:
    """A SentencePiece model from a file path or serialized bytes (``where`` names them in errors).

    Raises TokenizerFileError when the model cannot be read or parsed.
    """
    processor = spm.SentencePieceProcessor()
    where = where or ("the SentencePiece model bytes" if isinstance(source, bytes) else str(source))
    data = source if isinstance(source, bytes) else read_bytes(source, "the SentencePiece model")
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
        if model_proto is None:
            model_proto = read_bytes(vocab_file, "the SentencePiece model")
        self._model_bytes = model_proto
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
    def _model_files(cls, name_or_path: str | os.PathLike, hub_kwargs: Mapping[str, Any]) -> tuple[Path | None, ...]:
        """``spiece.model``, which ``from_pretrained`` needs."""
        return (resolve_file(name_or_path, VOCAB_FILE, **hub_kwargs),)

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
            raise TokenIdError(f"Token id {index} is out of range for a vocabulary of {len(self._pieces)} pieces.")
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
        if not examples:
            # an empty batch has the fields a batch would have, each empty (as the fast tokenizer gives it)
            fields = self.prepare_for_model([], options=EncodeOptions(), flags=flags | {"return_attention_mask": False})
            empty = self.pad({key: [] for key in fields}, return_attention_mask=flags["return_attention_mask"])
            return BatchEncoding(empty, tensor_type=flags["return_tensors"])
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
            # the stride only shapes the overflow: without it, a stride cannot make a truncation fail
            stride = options.stride if flags["return_overflowing_tokens"] else 0
            ids, pair_ids, overflowing = self.truncate_sequences(
                ids, pair_ids, total - options.max_length, options.truncation, stride, max_length=options.max_length
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
        *,
        max_length: int | None = None,
    ) -> tuple[list[int], list[int] | None, list[int]]:
        """Remove ``num_tokens_to_remove`` tokens following the strategy.

        Args:
            ids: First sequence.
            pair_ids: Second sequence, if any.
            num_tokens_to_remove: How many tokens to cut.
            truncation_strategy: "longest_first", "only_first" or "only_second".
            stride: Tokens of the kept part repeated at the start of the overflow.
            max_length: The call's max_length, named in errors (default: the length the removal leaves).

        Returns:
            (ids, pair_ids, overflowing tokens). As in transformers, a pair under "longest_first" returns no overflow.

        Raises:
            ValueError: The sequence to cut is too short for the removal, or keeps no more tokens than ``stride``
                (transformers 4.57 logged the first and returned the input whole; its fast tokenizer raised).
        """
        if num_tokens_to_remove <= 0:
            return ids, pair_ids, []
        left = self.truncation_side == "left"
        if max_length is None:
            max_length = len(ids) + len(pair_ids or ()) - num_tokens_to_remove
        if truncation_strategy == "only_first" or (truncation_strategy == "longest_first" and pair_ids is None):
            if len(ids) <= num_tokens_to_remove:
                raise too_short_error(truncation_strategy, max_length, "first")
            check_kept_stride(stride, len(ids) - num_tokens_to_remove, "first", max_length)
            ids, overflow = _cut(ids, num_tokens_to_remove, stride, left)
            return ids, pair_ids, overflow
        if truncation_strategy == "longest_first":
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
            return ids, pair_ids, []
        if pair_ids is None:
            raise too_short_error(truncation_strategy, max_length, None)
        if len(pair_ids) <= num_tokens_to_remove:
            raise too_short_error(truncation_strategy, max_length, "second")
        check_kept_stride(stride, len(pair_ids) - num_tokens_to_remove, "second", max_length)
        pair_ids, overflow = _cut(pair_ids, num_tokens_to_remove, stride, left)
        return ids, pair_ids, overflow

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
