"""ALBERT's fast tokenizer on the ``tokenizers`` library, with character offsets, word ids and overflow.

``AlbertTokenizerFast`` is built from a ``tokenizer.json`` or converted from a ``spiece.model`` the way transformers
4.x's converter does it (the reference is 4.57): a Unigram model whose digit-comma-ending pieces are scored down by
100 (the fast stand-in for the slow tokenizer's digit-comma rule), the quote replacements, NFKD + accent stripping,
lower-casing, SentencePiece's precompiled character map, a collapse of repeated spaces, a Metaspace pre-tokenizer and
decoder, and the ``[CLS] A [SEP] B [SEP]`` template. SentencePiece's control and user-defined pieces become added
tokens, as in 4.57. transformers 5, given only a spiece.model, builds a tokenizer that maps every word to ``<unk>``;
this one gives 4.57's ids.
"""

from __future__ import annotations

import json
import operator
import os
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram

from albertlite.batch_encoding import BatchEncoding
from albertlite.checkpoints.files import atomic_write_bytes, atomic_write_text
from albertlite.checkpoints.hub import CheckpointNotFoundError, resolve_file
from albertlite.tokenization_base import AlbertTokenizerBase
from albertlite.tokenization_utils import (
    SPIECE_UNDERLINE,
    TOKENIZER_FILE,
    VOCAB_FILE,
    EncodeOptions,
    TokenIdError,
    TokenizerFileError,
    _ends_in_number_comma,
    _require_str,
    _to_list,
    check_kept_stride,
    read_bytes,
    too_short_error,
)

if TYPE_CHECKING:
    from albertlite.tokenization import AlbertTokenizer

# SentencePiece piece types (sentencepiece_model.proto)
_NORMAL, _UNKNOWN, _CONTROL, _USER_DEFINED = 1, 2, 3, 4
_UNIGRAM = 1
_COMMA_PENALTY = 100.0  # transformers' AlbertConverter lowers digit-comma pieces' scores by this much


@dataclass
class SentencePieceModel:
    """The parts of a serialized SentencePiece ``ModelProto`` the converter needs."""

    pieces: list[tuple[str, float, int]] = field(default_factory=list)  # (piece, score, type)
    model_type: int = _UNIGRAM
    unk_id: int = 0
    precompiled_charsmap: bytes = b""


def parse_sentencepiece_model(data: bytes) -> SentencePieceModel:
    """Read the pieces, trainer and normaliser fields of a SentencePiece model (protobuf wire format).

    A small reader of the few fields needed, so that converting does not depend on the protobuf package.
    """
    model = SentencePieceModel()
    for number, value in _fields(data):
        if number == 1:  # repeated SentencePiece pieces
            piece, score, kind = "", 0.0, _NORMAL
            for sub, sub_value in _fields(value):
                if sub == 1:
                    piece = sub_value.decode("utf-8")
                elif sub == 2:
                    score = struct.unpack("<f", sub_value)[0]
                elif sub == 3:
                    kind = sub_value
            model.pieces.append((piece, score, kind))
        elif number == 2:  # TrainerSpec
            for sub, sub_value in _fields(value):
                if sub == 3:
                    model.model_type = sub_value
                elif sub == 40:
                    model.unk_id = sub_value
        elif number == 3:  # NormalizerSpec
            for sub, sub_value in _fields(value):
                if sub == 2:
                    model.precompiled_charsmap = sub_value
    return model


def _fields(data: bytes) -> list[tuple[int, Any]]:
    """(field number, value) of one protobuf message: ints for varints, bytes for the rest."""
    out, pos = [], 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 1:
            value, pos = data[pos : pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        if pos > len(data):
            raise ValueError("truncated protobuf message")
        out.append((number, value))
    return out


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def build_backend(
    model_bytes: bytes,
    *,
    do_lower_case: bool = True,
    keep_accents: bool = False,
    special_tokens: Sequence[tuple[str, bool, bool]] = (),
    cls_token: str = "[CLS]",
    sep_token: str = "[SEP]",
) -> Tokenizer:
    """A ``tokenizers.Tokenizer`` equivalent to transformers 4.57's conversion of an ALBERT spiece.model.

    Args:
        model_bytes: The serialized SentencePiece model.
        do_lower_case: Add a Lowercase normaliser.
        keep_accents: Leave out NFKD + StripAccents.
        special_tokens: (content, lstrip, rstrip) of the special tokens, added as special added tokens.
        cls_token: Token that opens a sequence in the template.
        sep_token: Token that closes each segment in the template.

    Returns:
        The backend tokenizer.
    """
    check_sentencepiece_model(model_bytes)
    proto = parse_sentencepiece_model(model_bytes)
    vocab = [(p, s - _COMMA_PENALTY if _ends_in_number_comma(p) else s) for p, s, _ in proto.pieces]
    backend = Tokenizer(Unigram(vocab, unk_id=proto.unk_id, byte_fallback=False))
    backend.normalizer = _normalizer(proto.precompiled_charsmap, do_lower_case, keep_accents)
    backend.pre_tokenizer = pre_tokenizers.Metaspace(replacement=SPIECE_UNDERLINE, prepend_scheme="always", split=True)
    backend.decoder = decoders.Metaspace(replacement=SPIECE_UNDERLINE, prepend_scheme="always", split=True)
    index = {p: i for i, (p, _, _) in enumerate(proto.pieces)}
    backend.post_processor = processors.TemplateProcessing(
        single=f"{cls_token}:0 $A:0 {sep_token}:0",
        pair=f"{cls_token}:0 $A:0 {sep_token}:0 $B:1 {sep_token}:1",
        special_tokens=[(cls_token, index[cls_token]), (sep_token, index[sep_token])],
    )
    flags = {content: (lstrip, rstrip) for content, lstrip, rstrip in special_tokens}
    added = [
        (i, piece, kind == _CONTROL or piece in flags)
        for i, (piece, _, kind) in enumerate(proto.pieces)
        if kind in (_CONTROL, _USER_DEFINED) or piece in flags
    ]
    # control pieces are special, user-defined ones are not; both are split out before normalisation (4.57)
    tokens = []
    for _, piece, special in sorted(added):
        lstrip, rstrip = flags.get(piece, (False, False))
        tokens.append(AddedToken(piece, normalized=False, special=special, lstrip=lstrip, rstrip=rstrip))
    backend.add_tokens(tokens)
    return backend


def _normalizer(charsmap: bytes, do_lower_case: bool, keep_accents: bool) -> normalizers.Normalizer:
    steps: list[normalizers.Normalizer] = [normalizers.Replace("``", '"'), normalizers.Replace("''", '"')]
    if not keep_accents:
        steps += [normalizers.NFKD(), normalizers.StripAccents()]
    if do_lower_case:
        steps.append(normalizers.Lowercase())
    if charsmap:
        steps.append(normalizers.Precompiled(charsmap))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    return normalizers.Sequence(steps)


def check_sentencepiece_model(model_bytes: bytes) -> None:
    """Raise TokenizerFileError unless ``model_bytes`` is a readable unigram SentencePiece model."""
    try:
        proto = parse_sentencepiece_model(model_bytes)
    except (ValueError, UnicodeDecodeError, struct.error) as error:
        raise TokenizerFileError(f"Not a valid SentencePiece model ({error}).") from error
    if not proto.pieces:
        raise TokenizerFileError("Not a valid SentencePiece model (it has no pieces).")
    if proto.model_type != _UNIGRAM:
        raise TokenizerFileError(
            f"ALBERT uses a unigram SentencePiece model; this one has model_type {proto.model_type}."
        )


def load_tokenizer_json(path: str | os.PathLike) -> Tokenizer:
    """A backend tokenizer from tokenizer.json; TokenizerFileError if the file is unreadable or not a tokenizer."""
    try:
        return Tokenizer.from_file(str(path))
    except Exception as error:  # tokenizers raises plain Exception for every parse failure
        raise TokenizerFileError(f"{path} is not a valid tokenizer.json ({error}).") from error


class AlbertTokenizerFast(AlbertTokenizerBase):
    """ALBERT's tokenizer on the ``tokenizers`` library, as transformers 4.x's ``AlbertTokenizerFast``.

    Args:
        vocab_file: A SentencePiece model (``spiece.model``) to convert.
        tokenizer_file: A ``tokenizer.json`` (used instead of ``vocab_file`` when both are given).
        do_lower_case: Lower-case the text (when converting from ``vocab_file``).
        remove_space: Kept for the configuration (the converted normaliser always collapses spaces, as in 4.57).
        keep_accents: Keep accents (when converting from ``vocab_file``).
        model_proto: Serialized SentencePiece model, instead of ``vocab_file``.
        tokenizer_object: A ready ``tokenizers.Tokenizer``.
        **kwargs: ``model_max_length``, ``padding_side``, ``truncation_side``, ``clean_up_tokenization_spaces``,
            and the special tokens.

    Example:
        >>> tok = AlbertTokenizerFast.from_pretrained("albert/albert-base-v2")  # doctest: +SKIP
        >>> tok("Hello world", return_offsets_mapping=True)["offset_mapping"]  # doctest: +SKIP
        [(0, 0), (0, 5), (5, 11), (0, 0)]
    """

    is_fast = True
    # transformers 5's AlbertTokenizer rebuilds its own pipeline (other whitespace handling) from tokenizer.json's
    # vocabulary; under the generic class both 4.57 and 5.x's AutoTokenizer run tokenizer.json as written: our ids.
    tokenizer_class_name = "PreTrainedTokenizerFast"

    def __init__(
        self,
        vocab_file: str | os.PathLike | None = None,
        tokenizer_file: str | os.PathLike | None = None,
        do_lower_case: bool = True,
        remove_space: bool = True,
        keep_accents: bool = False,
        *,
        model_proto: bytes | None = None,
        tokenizer_object: Tokenizer | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(do_lower_case=do_lower_case, remove_space=remove_space, keep_accents=keep_accents, **kwargs)
        self.vocab_file = None if vocab_file is None else str(vocab_file)
        if model_proto is None and vocab_file is not None:
            model_proto = read_bytes(vocab_file)
        if model_proto is not None and (tokenizer_object is not None or tokenizer_file is not None):
            check_sentencepiece_model(model_proto)  # kept for save_pretrained: a corrupt one fails now, not then
        self._model_bytes = model_proto
        if tokenizer_object is not None:
            self._tokenizer = tokenizer_object
        elif tokenizer_file is not None:
            self._tokenizer = load_tokenizer_json(tokenizer_file)
        elif self._model_bytes is not None:
            self._tokenizer = build_backend(
                self._model_bytes,
                do_lower_case=do_lower_case,
                keep_accents=keep_accents,
                special_tokens=[(t.content, t.lstrip, t.rstrip) for t in self._special.values()],
                cls_token=self.cls_token,
                sep_token=self.sep_token,
            )
        else:
            raise ValueError("Pass vocab_file (spiece.model), tokenizer_file (tokenizer.json) or tokenizer_object.")
        self._add_missing_special_tokens()
        self._pad_id = self.pad_token_id
        # the text of a token that strips spaces includes them in an encoding (" [MASK]"); tokenize gives the token
        # (an unknown piece's text stays as it is: 4.57 keeps it, and only a token that strips spaces is affected)
        self._stripping_tokens = {
            i: t.content for i, t in self._tokenizer.get_added_tokens_decoder().items() if t.lstrip or t.rstrip
        }

    def _add_missing_special_tokens(self) -> None:
        # as transformers does on load: special tokens absent from tokenizer.json's added tokens are added
        present = {token.content for token in self._tokenizer.get_added_tokens_decoder().values()}
        missing = [t for t in self._special.values() if t.content not in present]
        for token in dict.fromkeys(missing):
            if self._tokenizer.token_to_id(token.content) is None:
                raise ValueError(f"Special token {token.content!r} is not in the tokenizer's vocabulary.")
        self._tokenizer.add_special_tokens(
            [
                AddedToken(t.content, lstrip=t.lstrip, rstrip=t.rstrip, normalized=False, special=True)
                for t in dict.fromkeys(missing)
            ]
        )

    @classmethod
    def from_slow(cls, slow: AlbertTokenizer) -> AlbertTokenizerFast:
        """Convert a (SentencePiece) ``AlbertTokenizer`` with the same settings and special tokens."""
        return cls(
            model_proto=slow._model_bytes,
            do_lower_case=slow.do_lower_case,
            remove_space=slow.remove_space,
            keep_accents=slow.keep_accents,
            model_max_length=slow.model_max_length,
            padding_side=slow.padding_side,
            truncation_side=slow.truncation_side,
            clean_up_tokenization_spaces=slow.clean_up_tokenization_spaces,
            name_or_path=slow.name_or_path,
            **slow._special,
        )

    @classmethod
    def _model_files(cls, name_or_path: str | os.PathLike, hub_kwargs: Mapping[str, Any]) -> tuple[Path | None, ...]:
        """``spiece.model`` and ``tokenizer.json``, either of which may be missing; tokenizer.json is used when
        present, otherwise spiece.model is converted."""
        tokenizer_file = resolve_file(name_or_path, TOKENIZER_FILE, required=False, **hub_kwargs)
        vocab_file = resolve_file(name_or_path, VOCAB_FILE, required=False, **hub_kwargs)
        if tokenizer_file is None and vocab_file is None:
            raise CheckpointNotFoundError(f"{name_or_path} has neither {TOKENIZER_FILE} nor {VOCAB_FILE}.")
        return vocab_file, tokenizer_file

    @property
    def backend_tokenizer(self) -> Tokenizer:
        """The ``tokenizers.Tokenizer`` doing the work."""
        return self._tokenizer

    @property
    def vocab_size(self) -> int:
        """Size of the model's vocabulary (added tokens that are not pieces excluded)."""
        return self._tokenizer.get_vocab_size(with_added_tokens=False)

    def __len__(self) -> int:
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def get_vocab(self) -> dict[str, int]:
        """Token -> id, added tokens included."""
        return self._tokenizer.get_vocab(with_added_tokens=True)

    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | list[int]:
        """Id of a token (or of each token); ``<unk>``'s id for tokens not in the vocabulary."""
        if isinstance(tokens, str):
            return self._token_to_id(tokens)
        return [self._token_to_id(_require_str("tokens", t)) for t in tokens]

    def _token_to_id(self, token: str) -> int:
        index = self._tokenizer.token_to_id(token)
        return self._tokenizer.token_to_id(self.unk_token) if index is None else index

    def convert_ids_to_tokens(self, ids: int | Sequence[int], skip_special_tokens: bool = False) -> str | list[str]:
        """Token of an id (or of each id)."""
        if isinstance(ids, int):
            return self._id_to_token(ids)
        special = set(self.all_special_ids) if skip_special_tokens else set()
        return [self._id_to_token(int(i)) for i in _to_list(ids) if int(i) not in special]

    def _id_to_token(self, index: int) -> str:
        token = self._tokenizer.id_to_token(index)
        if token is None:
            raise TokenIdError(f"Token id {index} is out of range for a vocabulary of {len(self)} tokens.")
        return token

    def convert_tokens_to_string(self, tokens: Sequence[str]) -> str:
        """Join tokens into text with the Metaspace decoder."""
        return self._tokenizer.decoder.decode(list(tokens))

    def tokenize(self, text: str, pair: str | None = None, add_special_tokens: bool = False) -> list[str]:
        """The tokens of ``text`` (and ``pair``); unknown text becomes ``<unk>``.

        Args:
            text: The text.
            pair: Optional second text.
            add_special_tokens: Include ``[CLS]``/``[SEP]``.

        Returns:
            Token strings.
        """
        _require_str("text", text)
        if pair is not None:
            _require_str("pair", pair)
        self._configure(EncodeOptions())
        encoding = self._tokenizer.encode(text, pair, add_special_tokens=add_special_tokens)
        return [self._stripping_tokens.get(i, token) for i, token in zip(encoding.ids, encoding.tokens)]

    def _decode(self, ids: list[int], skip_special_tokens: bool) -> str:
        return self._tokenizer.decode(ids, skip_special_tokens=skip_special_tokens)

    def _configure(self, options: EncodeOptions, overflow: bool = False) -> None:
        """Set the backend's truncation and padding for one call (the backend keeps them between calls).

        The stride shapes only the overflow; without ``overflow`` the backend gets none, so that it cannot panic on
        a stride the call does not use.
        """
        backend = self._tokenizer
        stride = options.stride if overflow else 0
        if options.truncation == "do_not_truncate":
            if backend.truncation is not None:
                backend.no_truncation()
        else:
            target = {
                "max_length": options.max_length,
                "stride": stride,
                "strategy": options.truncation,
                "direction": self.truncation_side,
            }
            current = backend.truncation
            if current is None or {k: current.get(k) for k in target} != target:
                backend.enable_truncation(**target)
        if options.padding == "do_not_pad":
            if backend.padding is not None:
                backend.no_padding()
            return
        target = {
            "length": options.max_length if options.padding == "max_length" else None,
            "direction": options.padding_side or self.padding_side,
            "pad_id": self._pad_id,
            "pad_token": self.pad_token,
            "pad_type_id": self.pad_token_type_id,
            "pad_to_multiple_of": options.pad_to_multiple_of,
        }
        current = backend.padding
        if current is None or {k: current.get(k) for k in target} != target:
            backend.enable_padding(**target)

    def _encode_examples(
        self, examples: list[tuple[Any, Any]], batched: bool, options: EncodeOptions, flags: dict[str, Any]
    ) -> BatchEncoding:
        if batched:
            inputs = [text if pair is None else (text, pair) for text, pair in examples]
        else:
            text, pair = examples[0]
            # transformers 4.57 drops a falsy text_pair (an empty string) on this path: [CLS] A [SEP], no second [SEP]
            inputs = [(text, pair)] if pair else [text]
        overflow = flags["return_overflowing_tokens"]
        if overflow and options.stride and options.truncation != "do_not_truncate":
            self._check_pair_strides(inputs, options, flags)
        self._configure(options, overflow)
        try:
            encodings = self._tokenizer.encode_batch(
                inputs, add_special_tokens=flags["add_special_tokens"], is_pretokenized=flags["is_split_into_words"]
            )
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # tokenizers raises plain Exception, or a Rust panic (a BaseException)
            raise _encode_error(error, options) from error
        rows, row_encodings = self._rows(encodings, flags)
        if not batched and flags["return_tensors"] is None and not flags["return_overflowing_tokens"]:
            rows = {key: value[0] if value and isinstance(value[0], list) else value for key, value in rows.items()}
        return BatchEncoding(rows, row_encodings, tensor_type=flags["return_tensors"])

    def _check_pair_strides(self, inputs: list[Any], options: EncodeOptions, flags: dict[str, Any]) -> None:
        """Refuse, as the slow tokenizer does, a stride not shorter than what a truncated sequence of a pair keeps:
        the backend panics on it (after printing a Rust backtrace). A single text keeps the whole room, which
        ``check_truncation_room`` has compared with the stride already."""
        pairs = [item for item in inputs if isinstance(item, tuple)]
        room = options.max_length - (self.num_special_tokens_to_add(True) if flags["add_special_tokens"] else 0)
        self._configure(EncodeOptions())
        if pairs and options.truncation != "longest_first":
            # only a pair whose other sequence leaves the cut one at most the stride can fail: the other sequences
            # (a question answering call's questions) are tokenized, the cut ones only for those pairs
            other = 0 if options.truncation == "only_second" else 1
            lengths = self._lengths([pair[other] for pair in pairs], flags)
            pairs = [pair for pair, length in zip(pairs, lengths) if room - length <= options.stride]
        if not pairs:
            return
        for lengths in zip(self._lengths([a for a, _ in pairs], flags), self._lengths([b for _, b in pairs], flags)):
            kept = _backend_pair_lengths(*lengths, room, options.truncation)
            for which, length, keep in zip(("first", "second"), lengths, kept):
                if keep < length:
                    check_kept_stride(options.stride, keep, which, options.max_length)

    def _lengths(self, texts: list[Any], flags: dict[str, Any]) -> list[int]:
        """Token counts of texts without special tokens (the backend configured with no truncation or padding)."""
        encodings = self._tokenizer.encode_batch(
            texts, add_special_tokens=False, is_pretokenized=flags["is_split_into_words"]
        )
        return [len(encoding.ids) for encoding in encodings]

    def _rows(self, encodings: list[Any], flags: dict[str, Any]) -> tuple[dict[str, list[Any]], list[Any]]:
        """One row per encoding (and per overflow when asked), as transformers' ``_convert_encoding``."""
        overflow = flags["return_overflowing_tokens"]
        wanted = {
            "input_ids": "ids",
            "token_type_ids": "type_ids" if flags["return_token_type_ids"] in (None, True) else None,
            "attention_mask": "attention_mask" if flags["return_attention_mask"] in (None, True) else None,
            "special_tokens_mask": "special_tokens_mask" if flags["return_special_tokens_mask"] else None,
            "offset_mapping": "offsets" if flags["return_offsets_mapping"] else None,
        }
        if overflow:
            row_encodings = [item for encoding in encodings for item in (encoding, *encoding.overflowing)]
            mapping = [i for i, encoding in enumerate(encodings) for _ in range(1 + len(encoding.overflowing))]
        else:
            row_encodings = list(encodings)
        getters = {key: operator.attrgetter(attr) for key, attr in wanted.items() if attr is not None}
        rows: dict[str, list[Any]] = {key: list(map(get, row_encodings)) for key, get in getters.items()}
        if flags["return_length"]:
            rows["length"] = [len(item.ids) for item in row_encodings]
        if overflow:
            rows["overflow_to_sample_mapping"] = mapping
        return rows, row_encodings

    def _added_tokens_json(self) -> dict[str, dict[str, Any]]:
        entries = {}
        for index, token in sorted(self._tokenizer.get_added_tokens_decoder().items()):
            entries[str(index)] = {
                "content": token.content,
                "lstrip": token.lstrip,
                "normalized": token.normalized,
                "rstrip": token.rstrip,
                "single_word": token.single_word,
                "special": token.special,
            }
        return entries

    def _save_model_files(self, directory: Path) -> tuple[str, ...]:
        state = json.loads(self._tokenizer.to_str())
        # the backend holds the last call's truncation and padding; a saved tokenizer has neither
        state["truncation"] = None
        state["padding"] = None
        path = directory / TOKENIZER_FILE
        atomic_write_text(path, json.dumps(state, indent=2, ensure_ascii=False) + "\n")
        written = [str(path)]
        if self._model_bytes is not None:
            atomic_write_bytes(directory / VOCAB_FILE, self._model_bytes)
            written.append(str(directory / VOCAB_FILE))
        return tuple(written)


def _backend_pair_lengths(first: int, second: int, room: int, strategy: str) -> tuple[int, int]:
    """The lengths the ``tokenizers`` backend keeps of a pair of ``first`` + ``second`` tokens in ``room``
    (its truncate_encodings; a negative length is a sequence too short to cut, which the backend refuses)."""
    excess = first + second - room
    if excess <= 0:
        return first, second
    if strategy == "only_first":
        return first - excess, second
    if strategy == "only_second":
        return first, second - excess
    # longest_first: the shorter keeps what the longer leaves it, at most half the room (the longer gets the odd one)
    short, long = sorted((first, second))
    long = short if short > room else max(short, room - short)
    if short + long > room:
        short, long = room // 2, room // 2 + room % 2
    return (long, short) if first > second else (short, long)


def _encode_error(error: BaseException, options: EncodeOptions) -> ValueError:
    """The ValueError for what the backend raised: the slow tokenizer's message where it refuses the same input."""
    message = str(error)
    if "Second sequence not provided" in message:
        return too_short_error(options.truncation, options.max_length, None)
    if "Sequence to truncate too short" in message:
        which = "second" if options.truncation == "only_second" else "first"
        return too_short_error(options.truncation, options.max_length, which)
    return ValueError(f"The tokenizer could not encode the input: {message}")
