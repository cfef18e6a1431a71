"""AlbertTokenizerFast against transformers 4.57's AlbertTokenizerFast, and transformers 5.x's differences pinned."""

from __future__ import annotations

import base64
import gzip
import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import albertlite
from albertlite.checkpoints.hub import CheckpointNotFoundError
from albertlite.tokenization import AlbertTokenizer
from albertlite.tokenization_fast import AlbertTokenizerFast, parse_sentencepiece_model
from albertlite.tokenization_utils import TokenizerFileError

from .helpers.tokenizers import (
    FIXTURES,
    SPIECE,
    mode_cases,
    mode_inputs,
    plain,
    reference,
    restore_hf457_dir,
    stress,
)


@pytest.fixture(scope="module")
def fast() -> AlbertTokenizerFast:
    return AlbertTokenizerFast(SPIECE)


@pytest.fixture
def hf457_fast_dir(tmp_path: Path) -> Path:
    return restore_hf457_dir("hf457_fast", tmp_path / "hf457_fast")


@pytest.fixture
def hf457_slow_dir(tmp_path: Path) -> Path:
    return restore_hf457_dir("hf457_slow", tmp_path / "hf457_slow")


def _tokens_whole(tokens: list[str], tok: AlbertTokenizerFast) -> list[str]:
    """4.57's tokens with the spaces a stripping special token absorbs taken off (" [MASK]" -> "[MASK]").

    A deliberate difference: 4.57's fast tokenize returns the matched text, which converts to <unk>'s id; ours (and
    both slow tokenizers) return the token itself.
    """
    return [token.strip() if token.strip() == tok.mask_token else token for token in tokens]


def _check_text(tok: AlbertTokenizerFast, text: str) -> None:
    ref = reference()["texts"][text]
    enc = tok(text, return_offsets_mapping=True, return_special_tokens_mask=True)
    assert tok.tokenize(text) == _tokens_whole(ref["fast_tokens"], tok)
    assert tok.convert_tokens_to_ids(tok.tokenize(text)) == enc["input_ids"][1:-1]
    assert enc["input_ids"] == ref["fast_ids"]
    assert plain(enc["offset_mapping"]) == ref["fast_offsets"]
    assert enc["special_tokens_mask"] == ref["fast_special_tokens_mask"]
    assert tok.decode(enc["input_ids"]) == ref["fast_decode"]
    assert tok.decode(enc["input_ids"], skip_special_tokens=True) == ref["fast_decode_skip"]


@pytest.mark.parametrize("index", range(len(stress()["texts"])))
def test_tokens_ids_offsets_and_decode_match_457(fast, index):
    _check_text(fast, stress()["texts"][index])


@pytest.mark.parametrize(("name", "index"), mode_cases())
def test_call_modes_match_457(fast, name, index):
    """Every truncation / padding / overflow-with-stride mode, with offsets, word ids and sequence ids."""
    text, pair = mode_inputs(name)
    mode = stress()["modes"][index]
    expected = reference()["modes"][f"{name}/{index}"]
    if "error" in expected["fast"]:
        with pytest.raises(ValueError):
            fast(text, pair, **mode, return_offsets_mapping=True)
        return
    got = fast(text, pair, **mode, return_offsets_mapping=True)
    assert plain(got) == expected["fast"]
    rows = len(got.encodings)
    assert [got.word_ids(i) for i in range(rows)] == expected["fast_word_ids"]
    assert [got.sequence_ids(i) for i in range(rows)] == expected["fast_sequence_ids"]


@pytest.mark.parametrize("index", ["0", "1", "2"])
def test_split_into_words_matches_457(fast, index):
    mode = [{}, {"padding": True}, {"truncation": True, "max_length": 5}][int(index)]
    got = fast(stress()["words"], is_split_into_words=True, return_offsets_mapping=True, **mode)
    assert plain(got) == reference()["words"][index]["fast"]
    assert [got.word_ids(i) for i in range(3)] == reference()["words"][index]["fast_word_ids"]


def test_tokenized_special_tokens_convert_back_to_their_ids(fast):
    """4.57's fast tokenize returns " [MASK]" (with the spaces [MASK] absorbs), which converts to <unk>."""
    slow = AlbertTokenizer(SPIECE)
    for text in ["a [MASK] b", " [MASK]", "x  [MASK]\t[MASK]", "a[MASK]b", "\u3000[MASK] [CLS]"]:
        tokens = fast.tokenize(text)
        assert fast.convert_tokens_to_ids(tokens) == fast.encode(text, add_special_tokens=False), text
        assert tokens.count("[MASK]") == text.count("[MASK]")
        assert slow.convert_tokens_to_ids(slow.tokenize(text)).count(slow.mask_token_id) == text.count("[MASK]")
    assert fast.tokenize("a [MASK]") == slow.tokenize("a [MASK]") == ["▁a", "[MASK]"]


def test_user_defined_symbols_follow_457_fast(fast):
    for text, ref in reference()["slow_fast_disagreement"].items():
        assert fast.tokenize(text) == ref["fast"]
        assert fast.encode(text) == ref["fast_ids"]


def test_converted_pipeline_equals_457_tokenizer_json(fast, hf457_fast_dir):
    """Normaliser, pre-tokenizer, decoder, template, vocabulary scores (digit-comma pieces -100) and added tokens."""
    ours = json.loads(fast.backend_tokenizer.to_str())
    theirs = json.loads((hf457_fast_dir / "tokenizer.json").read_text(encoding="utf-8"))
    for key in ("normalizer", "pre_tokenizer", "post_processor", "decoder", "added_tokens"):
        assert ours[key] == theirs[key], key
    assert ours["model"]["unk_id"] == theirs["model"]["unk_id"]
    assert [p for p, _ in ours["model"]["vocab"]] == [p for p, _ in theirs["model"]["vocab"]]
    np.testing.assert_allclose(
        [s for _, s in ours["model"]["vocab"]], [s for _, s in theirs["model"]["vocab"]], rtol=0, atol=1e-6
    )


def test_proto_reader_matches_sentencepiece():
    model = parse_sentencepiece_model(SPIECE.read_bytes())
    sp = AlbertTokenizer(SPIECE).sp_model
    assert [p for p, _, _ in model.pieces] == [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    assert [s for _, s, _ in model.pieces] == pytest.approx([sp.get_score(i) for i in range(sp.get_piece_size())])
    assert [i for i, (_, _, kind) in enumerate(model.pieces) if kind == 3] == [0, 2, 3, 4]  # control pieces
    assert model.unk_id == 1 and len(model.precompiled_charsmap) > 1000


def test_loads_directories_written_by_457(hf457_fast_dir, hf457_slow_dir):
    from_json = AlbertTokenizerFast.from_pretrained(hf457_fast_dir)
    from_spiece = AlbertTokenizerFast.from_pretrained(hf457_slow_dir)
    for text in stress()["texts"][:12]:
        _check_text(from_json, text)
        _check_text(from_spiece, text)


def test_save_and_reload_gives_identical_encodings(fast, tmp_path):
    fast("some text " * 20, truncation=True, max_length=8, padding="max_length")  # leaves state in the backend
    fast.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "tokenizer.json").read_text())
    assert saved["truncation"] is None and saved["padding"] is None
    assert (tmp_path / "spiece.model").read_bytes() == SPIECE.read_bytes()
    again = AlbertTokenizerFast.from_pretrained(tmp_path)
    texts = stress()["texts"]
    assert plain(again(texts, padding=True, return_offsets_mapping=True)) == plain(
        fast(texts, padding=True, return_offsets_mapping=True)
    )
    # the slow tokenizer reads the same directory
    assert AlbertTokenizer.from_pretrained(tmp_path).encode(texts[1]) == again.encode(texts[1])
    assert albertlite.AlbertTokenizerFast is AlbertTokenizerFast


def test_from_slow_and_tokenizer_file(fast, tmp_path):
    slow = AlbertTokenizer(SPIECE)
    converted = AlbertTokenizerFast.from_slow(slow)
    fast.save_pretrained(tmp_path)
    from_file = AlbertTokenizerFast(tokenizer_file=tmp_path / "tokenizer.json")
    for text in stress()["texts"][:6]:
        assert converted.encode(text) == fast.encode(text) == from_file.encode(text)


def test_attributes(fast):
    assert [fast.pad_token_id, fast.unk_token_id, fast.cls_token_id, fast.sep_token_id, fast.mask_token_id] == [
        0,
        1,
        2,
        3,
        4,
    ]
    assert fast.vocab_size == len(fast) == 1000
    assert fast.get_vocab()["€"] == 12
    assert fast.convert_tokens_to_ids(["[CLS]", "no-such-token"]) == [2, 1]
    assert fast.convert_ids_to_tokens([2, 15, 3], skip_special_tokens=True) == ["▁the"]
    assert fast.convert_tokens_to_string(["▁the", "▁fox"]) == "the fox"
    assert fast.tokenize("a", "b", add_special_tokens=True)[0] == "[CLS]"


def test_overflow_with_stride_repeats_tokens(fast):
    text = stress()["texts"][19]
    enc = fast(text, truncation=True, max_length=12, stride=4, return_overflowing_tokens=True)
    rows = enc["input_ids"]
    assert len(rows) > 2 and set(enc["overflow_to_sample_mapping"]) == {0}
    for first, second in itertools.pairwise(rows):
        assert first[-5:-1] == second[1:5]  # the last 4 content tokens open the next window


@pytest.mark.parametrize("framework", ["np", "pt", "tf", "jax"])
def test_return_tensors(fast, framework):
    if framework == "tf":
        pytest.importorskip("tensorflow")
    if framework == "jax":
        pytest.importorskip("jax")
    texts = ["a short one", "and a somewhat longer text"]
    lists = fast(texts, padding=True, return_offsets_mapping=True)
    tensors = fast(texts, padding=True, return_offsets_mapping=True, return_tensors=framework)
    for key, value in lists.items():
        assert np.asarray(tensors[key]).tolist() == plain(value)
    assert tensors.word_ids(1) == lists.word_ids(1)


def test_non_string_input_raises_type_error_naming_the_argument(fast):
    with pytest.raises(TypeError, match=r"^text must be"):
        fast(42)
    with pytest.raises(TypeError, match=r"^text_pair must be"):
        fast("a", [1, 2])
    with pytest.raises(TypeError, match=r"^text must be"):
        fast.tokenize(None)
    with pytest.raises(TypeError, match=r"^pair must be"):
        fast.tokenize("a", 3)


def test_missing_and_corrupt_files_fail_at_load(tmp_path):
    with pytest.raises(CheckpointNotFoundError, match="neither"):
        AlbertTokenizerFast.from_pretrained(tmp_path)
    (tmp_path / "tokenizer.json").write_text('{"version": "1.0", "model": 7}')
    with pytest.raises(TokenizerFileError, match=r"not a valid tokenizer.json"):
        AlbertTokenizerFast.from_pretrained(tmp_path)
    (tmp_path / "tokenizer.json").unlink()
    (tmp_path / "spiece.model").write_bytes(b"\x0a\xff\xffnot a model")
    with pytest.raises(TokenizerFileError, match="SentencePiece"):
        AlbertTokenizerFast.from_pretrained(tmp_path)
    with pytest.raises(TokenizerFileError, match="Cannot read"):
        AlbertTokenizerFast(tmp_path / "absent.model")
    # a corrupt spiece.model beside a good tokenizer.json is reported at load too
    AlbertTokenizerFast(SPIECE).save_pretrained(tmp_path / "both")
    (tmp_path / "both" / "spiece.model").write_bytes(b"\x0a\x03abc\x12")
    with pytest.raises(TokenizerFileError, match="SentencePiece"):
        AlbertTokenizerFast.from_pretrained(tmp_path / "both")


# ----- transformers 5.x: its differences from 4.57, pinned


@pytest.fixture(scope="module")
def transformers5():
    transformers = pytest.importorskip("transformers")
    if not transformers.__version__.startswith("5."):
        pytest.skip("pins transformers 5.x behaviour")
    return transformers


def test_transformers5_from_spiece_model_maps_words_to_unk(transformers5):
    hf5 = transformers5.AlbertTokenizer(vocab_file=str(SPIECE))
    ids = hf5.encode("the quick brown fox")
    assert ids[0] == 2 and ids[-1] == 3 and set(ids[1:-1]) == {1}
    assert set(AlbertTokenizerFast(SPIECE).encode("the quick brown fox")[1:-1]) != {1}


def test_transformers5_offsets_exclude_the_leading_space(transformers5, hf457_fast_dir):
    hf5 = transformers5.AutoTokenizer.from_pretrained(hf457_fast_dir)
    text = stress()["texts"][1]  # "The quick brown fox jumps over the lazy dog."
    ours = AlbertTokenizerFast(SPIECE)(text, return_offsets_mapping=True)
    theirs = hf5(text, return_offsets_mapping=True)
    assert ours["input_ids"] == theirs["input_ids"]
    assert plain(ours["offset_mapping"]) == reference()["texts"][text]["fast_offsets"]
    # 4.57 (and ours): the second word's span starts at the space before it; 5.x starts at the word
    assert ours["offset_mapping"][2][0] == 3 and theirs["offset_mapping"][2][0] == 4


def test_transformers5_whitespace_handling_differs(transformers5, hf457_fast_dir):
    """5.x's AlbertTokenizer rebuilds its pipeline (WhitespaceSplit before Metaspace, no space collapse) even from a
    4.57 tokenizer.json; on the stress corpus its ids differ from 4.57's exactly on these texts."""
    hf5 = transformers5.AutoTokenizer.from_pretrained(hf457_fast_dir)
    assert type(hf5).__name__ == "AlbertTokenizer"
    assert "token_type_ids" not in hf5.model_input_names
    differ = [t for t in stress()["texts"] if hf5.encode(t) != reference()["texts"][t]["fast_ids"]]
    texts = stress()["texts"]
    assert differ == [texts[i] for i in (12, 15, 17, 18, 19, 22, 28)]


def test_directory_written_by_transformers5_loads(transformers5, hf457_fast_dir, tmp_path):
    hf5 = transformers5.AutoTokenizer.from_pretrained(hf457_fast_dir)
    hf5.save_pretrained(tmp_path)
    ours = AlbertTokenizerFast.from_pretrained(tmp_path)
    # the directory's tokenizer.json holds 5.x's pipeline: loading it gives 5.x's ids
    for text in stress()["texts"]:
        assert ours.encode(text) == hf5.encode(text)
    assert ours.get_vocab() == hf5.get_vocab()


# ----- properties


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(), st.text(max_size=20))
def test_no_crash_on_arbitrary_unicode(fast, text, pair):
    enc = fast(text, pair, return_offsets_mapping=True)
    assert enc["input_ids"][0] == 2 and enc["input_ids"][-1] == 3
    for start, end in enc["offset_mapping"]:
        assert 0 <= start <= end <= max(len(text), len(pair))
    assert isinstance(fast.decode(enc["input_ids"]), str)


def _alphabet() -> str:
    """Vocabulary characters less the user-defined pieces: 4.57's fast tokenizer splits those out before the
    model and gives their neighbours a "▁" of their own, so decoding puts spaces around them (as 4.57 does)."""
    pieces = AlbertTokenizer(SPIECE).get_vocab()
    chars = {c for p in pieces if not p.startswith(("<", "[")) for c in p.replace("▁", "")}
    return "".join(sorted(chars - set('()"-.–£€')))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=_alphabet() + "ABCÉ  \t", max_size=60))
def test_decode_encode_is_preprocess_where_every_character_is_known(fast, text):
    slow = AlbertTokenizer(SPIECE)
    ids = fast.encode(text, add_special_tokens=False)
    assume(fast.unk_token_id not in ids)
    expected = slow.sp_model.normalize(slow.preprocess_text(text)).replace("▁", " ").strip()
    assert fast.decode(ids).strip() == expected


def test_fixture_charsmap_is_spiece_models():
    state = json.loads(gzip.decompress((FIXTURES / "hf457_fast" / "tokenizer.json.gz").read_bytes()))
    assert any(step.get("precompiled_charsmap", "").startswith("<") for step in state["normalizer"]["normalizers"])
    charsmap = parse_sentencepiece_model(SPIECE.read_bytes()).precompiled_charsmap
    assert base64.b64decode(base64.b64encode(charsmap)) == charsmap


def test_hub_id_resolves_from_the_local_cache(tmp_path):
    """A Hub id is looked up through huggingface_hub's cache (tests run offline: the cache is built here)."""
    commit = "0" * 40
    repo = tmp_path / "cache" / "models--someone--tiny-albert"
    snapshot = repo / "snapshots" / commit
    AlbertTokenizerFast(SPIECE).save_pretrained(snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    fast = AlbertTokenizerFast.from_pretrained("someone/tiny-albert", cache_dir=tmp_path / "cache")
    slow = AlbertTokenizer.from_pretrained("someone/tiny-albert", cache_dir=tmp_path / "cache")
    text = stress()["texts"][1]
    assert fast.encode(text) == reference()["texts"][text]["fast_ids"]
    assert slow.encode(text) == reference()["texts"][text]["slow_ids"]
    with pytest.raises(CheckpointNotFoundError):
        AlbertTokenizer.from_pretrained("someone/absent-albert", cache_dir=tmp_path / "cache")
