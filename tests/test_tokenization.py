"""AlbertTokenizer (SentencePiece) against transformers 4.57's AlbertTokenizer, and the shared call interface."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import albertlite
from albertlite.batch_encoding import BatchEncoding
from albertlite.checkpoints.hub import CheckpointNotFoundError
from albertlite.tokenization import AlbertTokenizer
from albertlite.tokenization_utils import TokenizerFileError, preprocess_text

from .helpers.tokenizers import (
    SPIECE,
    mode_cases,
    mode_inputs,
    plain,
    reference,
    restore_hf457_dir,
    stress,
)


@pytest.fixture(scope="module")
def tok() -> AlbertTokenizer:
    return AlbertTokenizer(SPIECE)


@pytest.fixture
def hf457_fast_dir(tmp_path: Path) -> Path:
    return restore_hf457_dir("hf457_fast", tmp_path / "hf457_fast")


@pytest.fixture
def hf457_slow_dir(tmp_path: Path) -> Path:
    return restore_hf457_dir("hf457_slow", tmp_path / "hf457_slow")


# ----- transformers 4.57 parity on the stress corpus


@pytest.mark.parametrize("index", range(len(stress()["texts"])))
def test_tokens_ids_and_decode_match_457(tok, index):
    text = stress()["texts"][index]
    ref = reference()["texts"][text]
    ids = tok.encode(text)
    assert tok.tokenize(text) == ref["slow_tokens"]
    assert ids == ref["slow_ids"]
    assert tok.decode(ids) == ref["slow_decode"]
    assert tok.decode(ids, skip_special_tokens=True) == ref["slow_decode_skip"]
    assert tok.decode(ref["fast_ids"]) == ref["slow_decode_of_fast_ids"]


@pytest.mark.parametrize(("name", "index"), mode_cases())
def test_call_modes_match_457(tok, name, index):
    """Every truncation / padding / overflow mode, single and batched, texts and pairs."""
    text, pair = mode_inputs(name)
    mode = stress()["modes"][index]
    expected = reference()["modes"][f"{name}/{index}"]
    if "error" in expected["slow"]:
        with pytest.raises(ValueError):
            tok(text, pair, **mode)
        return
    if "error" in expected["fast"]:
        # a deliberate difference: where 4.57's slow tokenizer logged an error and returned the text longer than
        # max_length, or an overflow window no longer than its stride, and 4.57's fast one raised (or panicked),
        # both of ours raise the same ValueError (tests/test_matrix_tokenizers.py)
        longest = max(len(row) for row in _rows(expected["slow"]["input_ids"]))
        overflow = expected["slow"].get("overflowing_tokens")
        assert longest > mode["max_length"] or (overflow and mode.get("stride")), (name, index)
        with pytest.raises(ValueError, match=r"cannot shorten|stride="):
            tok(text, pair, **mode)
        return
    assert plain(tok(text, pair, **mode)) == expected["slow"]


def _rows(ids: list) -> list[list[int]]:
    return ids if ids and isinstance(ids[0], list) else [ids]


@pytest.mark.parametrize("index", ["0", "1", "2"])
def test_split_into_words_matches_457(tok, index):
    mode = [{}, {"padding": True}, {"truncation": True, "max_length": 5}][int(index)]
    got = tok(stress()["words"], is_split_into_words=True, **mode)
    assert plain(got) == reference()["words"][index]["slow"]


def test_released_model_layout_and_special_tokens(tok):
    assert [tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.sep_token_id, tok.mask_token_id] == [
        0,
        1,
        2,
        3,
        4,
    ]
    assert tok.all_special_tokens == ["[CLS]", "[SEP]", "<unk>", "<pad>", "[MASK]"]
    assert tok.bos_token == "[CLS]" and tok.eos_token == "[SEP]"
    assert len(tok) == tok.vocab_size == 1000
    assert tok.get_vocab()["[MASK]"] == 4


def test_layout_helpers(tok):
    assert tok.build_inputs_with_special_tokens([7, 8], [9]) == [2, 7, 8, 3, 9, 3]
    assert tok.create_token_type_ids_from_sequences([7, 8], [9]) == [0, 0, 0, 0, 1, 1]
    assert tok.get_special_tokens_mask([7, 8], [9]) == [1, 0, 0, 1, 0, 1]
    assert tok.get_special_tokens_mask([2, 7, 3], already_has_special_tokens=True) == [1, 0, 1]
    assert tok.num_special_tokens_to_add(pair=True) == 3


def test_mask_token_eats_left_spaces(tok):
    assert tok.tokenize("a   [MASK] b") == ["▁a", "[MASK]", *tok.tokenize("b")]
    # lower-casing leaves the special tokens alone, so "[mask]" is text
    assert "[MASK]" not in tok.tokenize("a [mask]")


def test_digit_comma_rule(tok):
    text = "1,000, 2,0, and 10,"
    raw = tok.sp_model.encode(tok.preprocess_text(text), out_type=str)
    assert any(len(p) > 1 and p.endswith(",") and p[-2].isdigit() for p in raw)  # the rule has work to do
    tokens = tok.tokenize(text)
    assert not any(len(t) > 1 and t.endswith(",") and t[-2].isdigit() for t in tokens)
    assert tok.convert_tokens_to_string(tokens) == "1,000, 2,0, and 10,"


def test_preprocess_text_rules():
    assert preprocess_text("  A\t``b''  É  ") == 'a "b" e'
    assert preprocess_text("É", keep_accents=True) == "é"
    assert preprocess_text("A  B", do_lower_case=False, remove_space=False) == "A  B"


def test_decode_keeps_special_tokens_verbatim(tok):
    ids = tok("hello", "world")["input_ids"]
    assert tok.decode(ids) == "[CLS] hello[SEP] world[SEP]"
    assert tok.decode(ids, skip_special_tokens=True) == "hello world"
    assert tok.batch_decode([ids, ids[:3]], skip_special_tokens=True) == ["hello world", tok.decode(ids[1:3])]
    assert tok.decode(np.array(ids)) == tok.decode(ids)
    masked = "the [MASK] the"
    assert tok.convert_tokens_to_string(tok.tokenize(masked)) == tok.decode(
        tok.encode(masked, add_special_tokens=False)
    )


def test_token_id_conversions(tok):
    tokens = tok.tokenize("the quick fox")
    ids = tok.convert_tokens_to_ids(tokens)
    assert tok.convert_ids_to_tokens(ids) == tokens
    assert tok.convert_tokens_to_ids("not-a-piece") == tok.unk_token_id
    assert tok.convert_ids_to_tokens([2, 15, 3], skip_special_tokens=True) == ["▁the"]
    with pytest.raises(IndexError):
        tok.convert_ids_to_tokens(10_000)


# ----- tensors and padding


@pytest.mark.parametrize("framework", ["np", "pt", "tf", "jax"])
def test_return_tensors(tok, framework):
    if framework == "tf":
        pytest.importorskip("tensorflow")
    if framework == "jax":
        pytest.importorskip("jax")
    texts = ["a short one", "and a somewhat longer text"]
    lists = tok(texts, padding=True)
    tensors = tok(texts, padding=True, return_tensors=framework)
    for key, value in lists.items():
        assert np.asarray(tensors[key]).tolist() == value
    single = tok(texts[0], return_tensors=framework)
    assert np.asarray(single["input_ids"]).tolist() == [lists["input_ids"][0][: len(single["input_ids"][0])]]


def test_ragged_tensors_raise(tok):
    with pytest.raises(ValueError, match="padding=True"):
        tok(["a", "a longer text"], return_tensors="np")


def test_pad_list_of_examples_left(tok):
    examples = [tok("short"), tok("a bit longer text here")]
    padded = tok.pad(examples, padding_side="left", return_tensors="np", pad_to_multiple_of=8)
    width = padded["input_ids"].shape[1]
    assert width % 8 == 0 and width >= len(examples[1]["input_ids"])
    n = len(examples[0]["input_ids"])
    assert padded["input_ids"][0, -n:].tolist() == examples[0]["input_ids"]
    assert padded["input_ids"][0, : width - n].tolist() == [0] * (width - n)
    assert padded["attention_mask"][0].tolist() == [0] * (width - n) + [1] * n


def test_pad_max_length_and_single_example(tok):
    enc = tok("hello", return_attention_mask=False)
    padded = tok.pad(enc, padding="max_length", max_length=10)
    assert padded["input_ids"][-1] == 0 and len(padded["input_ids"]) == 10
    assert padded["attention_mask"] == [1] * len(enc["input_ids"]) + [0] * (10 - len(enc["input_ids"]))


def test_batch_encoding_attributes(tok):
    enc = tok(["a", "b"])
    assert isinstance(enc, BatchEncoding) and enc.input_ids == enc["input_ids"]
    with pytest.raises(ValueError, match="fast tokenizer"):
        enc.word_ids(0)
    assert pickle.loads(pickle.dumps(enc)) == enc


def test_offsets_need_the_fast_tokenizer(tok):
    with pytest.raises(ValueError, match="fast tokenizer"):
        tok("x", return_offsets_mapping=True)


# ----- input errors


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda t: t(123), "text"),
        (lambda t: t(["ok", 5]), "text"),
        (lambda t: t("ok", text_pair=3.5), "text_pair"),
        (lambda t: t(None), "text"),
        (lambda t: t(b"bytes"), "text"),
        (lambda t: t("not words", is_split_into_words=True), "text"),
        (lambda t: t.tokenize(7), "text"),
        (lambda t: t.encode(["a", "b"]), "text"),
        (lambda t: t.convert_tokens_to_ids([1]), "tokens"),
    ],
)
def test_non_string_input_raises_type_error_naming_the_argument(tok, call, argument):
    with pytest.raises(TypeError, match=rf"^{argument} must be"):
        call(tok)


def test_bad_options_raise(tok):
    with pytest.raises(ValueError, match="padding"):
        tok("a", padding="sideways")
    with pytest.raises(ValueError, match="truncation"):
        tok("a", truncation="middle")
    with pytest.raises(ValueError, match="return_tensors"):
        tok("a", return_tensors="mx")
    with pytest.raises(ValueError, match="multiple"):
        tok("a", truncation=True, padding="max_length", max_length=10, pad_to_multiple_of=8)


# ----- files


def test_save_and_reload_gives_identical_encodings(tok, tmp_path):
    tok.save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "special_tokens_map.json",
        "spiece.model",
        "tokenizer_config.json",
    ]
    assert (tmp_path / "spiece.model").read_bytes() == SPIECE.read_bytes()
    again = AlbertTokenizer.from_pretrained(tmp_path)
    texts = stress()["texts"]
    assert plain(again(texts, padding=True)) == plain(tok(texts, padding=True))
    assert albertlite.AlbertTokenizer is AlbertTokenizer


def test_settings_round_trip(tmp_path):
    custom = AlbertTokenizer(SPIECE, do_lower_case=False, keep_accents=True, model_max_length=64, padding_side="left")
    custom.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert config["do_lower_case"] is False and config["model_max_length"] == 64
    again = AlbertTokenizer.from_pretrained(tmp_path)
    assert (again.do_lower_case, again.keep_accents, again.model_max_length, again.padding_side) == (
        False,
        True,
        64,
        "left",
    )
    assert again.tokenize("Café") == custom.tokenize("Café")
    assert again("x " * 100, truncation=True)["input_ids"].__len__() == 64


def test_from_pretrained_overrides(tmp_path, tok):
    tok.save_pretrained(tmp_path)
    assert AlbertTokenizer.from_pretrained(tmp_path, do_lower_case=False).do_lower_case is False


def test_loads_directories_written_by_457(hf457_slow_dir, hf457_fast_dir, tok):
    texts = stress()["texts"]
    for directory in (hf457_slow_dir, hf457_fast_dir):
        loaded = AlbertTokenizer.from_pretrained(directory)
        assert [loaded.encode(t) for t in texts] == [tok.encode(t) for t in texts]
        assert loaded.mask_token == "[MASK]" and loaded.model_max_length == int(1e30)


def test_our_directory_loads_in_457_with_the_same_ids(tok):
    """The fixture script loaded directories albertlite wrote (slow-only, and with tokenizer.json) in 4.57."""
    ours_loaded = reference()["ours_loaded_in_457"]
    fast_ids = [reference()["texts"][t]["fast_ids"] for t in stress()["texts"]]
    assert ours_loaded["slow"]["slow_ids"] == [tok.encode(t) for t in stress()["texts"]]
    for label in ("slow", "fast"):
        assert ours_loaded[label]["fast_ids"] == fast_ids
        assert ours_loaded[label]["auto_ids"] == fast_ids
    # with tokenizer.json, 4.57's slow class also reads the user-defined pieces as added tokens (see below)
    assert ours_loaded["fast"]["auto_class"] == "PreTrainedTokenizerFast"


def test_our_directory_loads_in_transformers_5(tok, tmp_path):
    transformers = pytest.importorskip("transformers")
    tok.save_pretrained(tmp_path)
    albertlite.AlbertTokenizerFast.from_slow(tok).save_pretrained(tmp_path)
    hf5 = transformers.AutoTokenizer.from_pretrained(tmp_path)
    for text in stress()["texts"]:
        assert hf5.encode(text) == reference()["texts"][text]["fast_ids"]


def test_user_defined_symbols_where_457_slow_and_fast_disagree(tok, hf457_fast_dir):
    """4.57 tokenizes the user-defined pieces ( ) " - . – £ € three ways: its slow tokenizer from spiece.model leaves
    them to SentencePiece; its fast tokenizer splits them out first and gives each neighbour its own "▁"; its slow
    tokenizer loaded from a fast tokenizer's directory splits them out and also strips the spaces around them.
    Our slow tokenizer follows 4.57's slow-from-spiece.model wherever it is loaded from; our fast one follows 4.57's
    fast (tests/test_tokenization_fast.py)."""
    loaded = AlbertTokenizer.from_pretrained(hf457_fast_dir)
    for text, ref in reference()["slow_fast_disagreement"].items():
        assert tok.tokenize(text) == ref["slow_from_spiece"] == loaded.tokenize(text)
        assert tok.encode(text) == ref["slow_from_spiece_ids"] == loaded.encode(text)
        assert ref["slow_from_fast_dir"] != ref["slow_from_spiece"]
        assert ref["slow_from_fast_dir"] != ref["fast"]


def test_missing_and_corrupt_files_fail_at_load(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match=r"spiece.model"):
        AlbertTokenizer.from_pretrained(tmp_path)
    (tmp_path / "spiece.model").write_bytes(b"\x0a\x05garbage-that-is-not-a-model")
    with pytest.raises(TokenizerFileError, match="not a valid SentencePiece model"):
        AlbertTokenizer.from_pretrained(tmp_path)
    with pytest.raises(TokenizerFileError, match="Cannot read"):
        AlbertTokenizer(tmp_path / "absent.model")
    (tmp_path / "spiece.model").write_bytes(SPIECE.read_bytes())
    (tmp_path / "tokenizer_config.json").write_text("{not json")
    with pytest.raises(TokenizerFileError, match="not valid JSON"):
        AlbertTokenizer.from_pretrained(tmp_path)


def test_pickle_round_trip(tok):
    again = pickle.loads(pickle.dumps(tok))
    assert again.encode("pickled text, 1,000") == tok.encode("pickled text, 1,000")


# ----- properties


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text())
def test_no_crash_on_arbitrary_unicode(tok, text):
    ids = tok.encode(text)
    assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
    assert all(0 <= i < tok.vocab_size for i in ids)
    assert isinstance(tok.decode(ids), str)
    assert len(tok.tokenize(text)) == len(ids) - 2


def _vocabulary_characters() -> str:
    pieces = AlbertTokenizer(SPIECE).get_vocab()
    chars = {c for p in pieces if not p.startswith(("<", "[")) for c in p.replace("▁", "")}
    return "".join(sorted(chars))


ROUND_TRIP_ALPHABET = _vocabulary_characters() + "ABCÉÀÇÖ  \t\n``''"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=ROUND_TRIP_ALPHABET, max_size=60))
def test_decode_encode_is_preprocess_where_every_character_is_known(tok, text):
    ids = tok.encode(text, add_special_tokens=False)
    assume(tok.unk_token_id not in ids)
    normalized = tok.sp_model.normalize(tok.preprocess_text(text)).replace("▁", " ").strip()
    assert tok.decode(ids) == normalized


def test_round_trip_examples(tok):
    for text in ["The  ``quick''\tBROWN fox", "Ångström, 1,234 and 9,9", "f(x) - y."]:
        ids = tok.encode(text, add_special_tokens=False)
        assert tok.decode(ids) == tok.sp_model.normalize(tok.preprocess_text(text)).replace("▁", " ").strip()


def test_preprocess_is_documented_pipeline():
    text = "  ``Héllo''   WORLD\t"
    assert preprocess_text(text) == '"hello" world'
    assert Path(SPIECE).is_file()


def test_pad_accepts_examples_holding_tensors(tok):
    torch = pytest.importorskip("torch")
    examples = [{k: torch.tensor(v) for k, v in tok(text).items()} for text in ("hi", "a longer text here")]
    padded = tok.pad(examples, return_tensors="pt")
    expected = tok(["hi", "a longer text here"], padding=True, return_tensors="pt")
    for key in expected:
        assert torch.equal(padded[key], expected[key])
