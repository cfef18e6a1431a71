"""Bad input to the tokenizers as a matrix: per entry point, cases by category, each run on both tokenizers.

Every case failed before (one tokenizer returned the whole text, a window repeating itself or a silent guess, the
other raised something else, printed a Rust panic, or the command ended in a traceback); now both tokenizers refuse
it with the same exception and message, and ``albertlite tokenizer train`` in one line with exit code 2.
"""

from __future__ import annotations

import pytest

from albertlite.cli import main
from albertlite.tokenization import AlbertTokenizer
from albertlite.tokenization_fast import AlbertTokenizerFast

from .helpers.tokenizers import SPIECE

LONG = "The quick brown fox jumps over the lazy dog. " * 4  # 114 tokens with [CLS] and [SEP]
NO_ROOM = "leaves no room for text after the special tokens: truncation needs max_length >= 3 for one sequence and >= 4"

# (category, case id, text, text_pair, call arguments, exception, fragment of its message)
CALL_CASES = [
    ("out of range", "max-length-0", LONG, None, {"truncation": True, "max_length": 0}, ValueError,
     f"max_length=0 {NO_ROOM}"),
    ("out of range", "max-length-1", LONG, None, {"truncation": True, "max_length": 1}, ValueError,
     f"max_length=1 {NO_ROOM}"),
    ("out of range", "max-length-2", LONG, None, {"truncation": True, "max_length": 2}, ValueError,
     f"max_length=2 {NO_ROOM}"),
    ("out of range", "max-length-alone-2", LONG, None, {"max_length": 2}, ValueError, f"max_length=2 {NO_ROOM}"),
    ("out of range", "pair-max-length-3", "a b", "c d", {"truncation": True, "max_length": 3}, ValueError,
     f"max_length=3 {NO_ROOM}"),
    ("out of range", "max-length-negative", LONG, None, {"truncation": True, "max_length": -1}, ValueError,
     "max_length must be at least 0, got -1"),
    ("wrong type", "max-length-str", LONG, None, {"truncation": True, "max_length": "8"}, TypeError,
     "max_length must be an int or None, got '8' (str)"),
    ("not a number", "max-length-float", LONG, None, {"truncation": True, "max_length": 4.5}, TypeError,
     "max_length must be an int or None, got 4.5 (float)"),
    ("conflicting settings", "stride-equals-max-length", LONG, None,
     {"truncation": True, "max_length": 8, "stride": 8, "return_overflowing_tokens": True}, ValueError,
     "stride=8 must be less than the 6 tokens max_length=8 leaves for the text after its 2 special tokens; use "
     "stride <= 5"),
    ("conflicting settings", "stride-fills-the-room", LONG, None,
     {"truncation": True, "max_length": 8, "stride": 6, "return_overflowing_tokens": True}, ValueError,
     "stride=6 must be less than the 6 tokens max_length=8 leaves"),
    ("conflicting settings", "stride-without-overflow", LONG, None, {"truncation": True, "max_length": 8, "stride": 9},
     ValueError, "stride=9 must be less than the 6 tokens"),
    ("conflicting settings", "stride-without-special-tokens", LONG, None,
     {"truncation": True, "max_length": 5, "stride": 4, "add_special_tokens": False,
      "return_overflowing_tokens": True}, ValueError,
     "stride=4 must be at most max_length=5 minus the 2 special tokens the fast tokenizer reserves even with "
     "add_special_tokens=False; use stride <= 3"),
    ("conflicting settings", "pair-stride-room", "a b", LONG,
     {"truncation": "only_second", "max_length": 8, "stride": 5, "return_overflowing_tokens": True}, ValueError,
     "stride=5 must be less than the 5 tokens max_length=8 leaves for the text of a pair after its 3 special"),
    ("conflicting settings", "pair-stride-kept", "a b", LONG,
     {"truncation": "only_second", "max_length": 10, "stride": 4, "return_overflowing_tokens": True}, ValueError,
     "stride=4 must be less than the 4 tokens the second sequence keeps at max_length=10; use stride <= 3"),
    ("conflicting settings", "only-second-single-text", LONG, None, {"truncation": "only_second", "max_length": 8},
     ValueError, "truncation='only_second' cannot shorten a single text to max_length=8: it has no second sequence"),
    ("conflicting settings", "only-second-too-short", LONG, "b c", {"truncation": "only_second", "max_length": 8},
     ValueError, "truncation='only_second' cannot shorten this input to max_length=8: the second sequence is too"),
    ("conflicting settings", "only-first-too-short", "a b", LONG, {"truncation": "only_first", "max_length": 10},
     ValueError, "truncation='only_first' cannot shorten this input to max_length=10: the first sequence is too"),
    ("out of range", "pad-multiple-0", ["a", "a b"], None, {"padding": True, "pad_to_multiple_of": 0}, ValueError,
     "pad_to_multiple_of must be at least 1, got 0"),
    ("out of range", "pad-multiple-negative", ["a", "a b"], None, {"padding": True, "pad_to_multiple_of": -2},
     ValueError, "pad_to_multiple_of must be at least 1, got -2"),
    ("wrong type", "pad-multiple-float", ["a", "a b"], None, {"padding": True, "pad_to_multiple_of": 2.0}, TypeError,
     "pad_to_multiple_of must be an int or None, got 2.0 (float)"),
    ("wrong type", "stride-float", LONG, None,
     {"truncation": True, "max_length": 8, "stride": 1.5, "return_overflowing_tokens": True}, TypeError,
     "stride must be an int, got 1.5 (float)"),
    ("wrong type", "lone-surrogate", "\ud800", None, {}, ValueError,
     "text holds a lone surrogate '\\ud800' at index 0, which is not Unicode text"),
    ("wrong type", "lone-surrogate-in-batch", ["fine", "ab\udcff"], None, {}, ValueError,
     "text[1] holds a lone surrogate '\\udcff' at index 2"),
    ("wrong type", "lone-surrogate-in-pair", "fine", "\ud83d", {}, ValueError, "text_pair holds a lone surrogate"),
    ("wrong type", "lone-surrogate-in-words", ["fine", "\ud800"], None, {"is_split_into_words": True}, ValueError,
     "text[1] holds a lone surrogate"),
]  # fmt: skip

# (category, case id, ids given to decode, exception, fragment of its message)
DECODE_CASES = [
    ("out of range", "id-past-the-vocabulary", [5, 1000], ValueError,
     "Token id 1000 is out of range for a vocabulary of 1000 tokens (ids 0..999)"),
    ("out of range", "negative-id", [5, -1], ValueError, "Token id -1 is out of range for a vocabulary of 1000"),
    ("out of range", "huge-id", [2**40], ValueError, f"Token id {2**40} is out of range"),
    ("out of range", "one-int-past-the-vocabulary", 1000, ValueError, "Token id 1000 is out of range"),
    ("wrong type", "float-id", [5, 1.5], TypeError, "token_ids must hold ints, got 1.5 (float)"),
    ("wrong type", "str-id", ["5"], TypeError, "token_ids must hold ints, got '5' (str)"),
    ("wrong type", "a-batch", [[5, 6], [7, 8]], TypeError, "decode takes one sequence of ids (batch_decode takes"),
]  # fmt: skip

SMALL_CORPUS = b"the quick brown fox jumps over the lazy dog.\na second line of text here, with words.\n"

# (category, case id, the input file's bytes, flags added to the command line, fragment of the one-line error)
TRAIN_CASES = [
    ("out of range", "vocab-size-above-the-corpus", SMALL_CORPUS, ["--vocab-size", "8000"],
     "vocab_size (--vocab-size) 8000 is more than this corpus gives: at most 47 pieces; use --vocab-size 47 or less"),
    ("out of range", "vocab-size-below-its-characters", SMALL_CORPUS, ["--vocab-size", "30"],
     "vocab_size (--vocab-size) 30 is less than the 41 pieces the corpus's characters need; use --vocab-size 41"),
    ("empty", "empty-file", b"", [], "holds no text (it is empty)"),
    ("empty", "blank-lines", b"\n  \n\t\n", [], "holds no text (it is empty)"),
    ("wrong type", "binary-file", bytes(range(256)) * 8, [], "is not UTF-8 text (byte 128"),
    ("out of range", "character-coverage-2", SMALL_CORPUS, ["--character-coverage", "2"],
     "character_coverage (--character-coverage) must be at most 1, got 2.0"),
    ("out of range", "character-coverage-0", SMALL_CORPUS, ["--character-coverage", "0"],
     "character_coverage (--character-coverage) must be at least 0.98, got 0.0"),
    ("not a number", "character-coverage-nan", SMALL_CORPUS, ["--character-coverage", "nan"],
     "character_coverage (--character-coverage) must be a finite number, got nan"),
    ("out of range", "threads-0", SMALL_CORPUS, ["--threads", "0"],
     "num_threads (--threads) must be at least 1, got 0"),
    ("out of range", "input-sentence-size-negative", SMALL_CORPUS, ["--input-sentence-size", "-1"],
     "input_sentence_size (--input-sentence-size) must be at least 0, got -1"),
]  # fmt: skip


@pytest.fixture(scope="module")
def tokenizers() -> dict[str, AlbertTokenizer | AlbertTokenizerFast]:
    return {"slow": AlbertTokenizer(SPIECE), "fast": AlbertTokenizerFast(SPIECE)}


def _outcome(call) -> tuple[type, str]:
    with pytest.raises(Exception) as caught:
        call()
    return caught.type, str(caught.value)


def _ids(cases: list[tuple]) -> list[str]:
    return [case[1] for case in cases]


@pytest.mark.parametrize(("category", "case", "text", "pair", "kwargs", "error", "fragment"), CALL_CASES,
                         ids=_ids(CALL_CASES))  # fmt: skip
def test_call(category, case, text, pair, kwargs, error, fragment, tokenizers, capfd):
    outcomes = {name: _outcome(lambda tok=tok: tok(text, pair, **kwargs)) for name, tok in tokenizers.items()}
    assert outcomes["slow"] == outcomes["fast"], outcomes
    kind, message = outcomes["fast"]
    assert issubclass(kind, error) and fragment in message, outcomes
    assert capfd.readouterr().err == ""  # no Rust panic message (the fast tokenizer printed one for the strides)


@pytest.mark.parametrize(("category", "case", "ids", "error", "fragment"), DECODE_CASES, ids=_ids(DECODE_CASES))
def test_decode(category, case, ids, error, fragment, tokenizers):
    outcomes = {name: _outcome(lambda tok=tok: tok.decode(ids)) for name, tok in tokenizers.items()}
    assert outcomes["slow"] == outcomes["fast"], outcomes
    kind, message = outcomes["fast"]
    assert issubclass(kind, error) and fragment in message, outcomes


def test_an_empty_batch_gives_the_same_empty_fields(tokenizers):
    for kwargs in ({}, {"padding": True, "return_special_tokens_mask": True, "return_length": True}):
        slow, fast = (dict(tok([], **kwargs)) for tok in tokenizers.values())
        assert slow == fast
        assert set(slow) >= {"input_ids", "token_type_ids", "attention_mask"} and not any(slow.values())
    slow, fast = (tok([], [], return_tensors="np") for tok in tokenizers.values())
    assert {k: (v.shape, v.dtype) for k, v in slow.items()} == {k: (v.shape, v.dtype) for k, v in fast.items()}


@pytest.mark.parametrize(("category", "case", "data", "flags", "fragment"), TRAIN_CASES, ids=_ids(TRAIN_CASES))
def test_tokenizer_train(category, case, data, flags, fragment, tmp_path, capsys):
    source = tmp_path / "corpus.txt"
    source.write_bytes(data)
    out = tmp_path / "tok"
    code = main(["tokenizer", "train", "--input", str(source), "--output", str(out), *flags])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in captured.err, (code, captured.err[-2000:])
    assert lines[0].startswith("albertlite tokenizer: error: ") and fragment in lines[0], lines[0]
    assert not (out / "spiece.model").exists()
