"""train_tokenizer and ``albertlite tokenizer train``: the ALBERT authors' SentencePiece recipe."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import albertlite
from albertlite.cli import main
from albertlite.tokenization import AlbertTokenizer
from albertlite.tokenization_fast import AlbertTokenizerFast, parse_sentencepiece_model
from albertlite.tokenizer_training import USER_DEFINED_SYMBOLS, train_tokenizer

from .helpers.tokenizers import FIXTURES, SPIECE, reference, stress


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The fixture's training text: docstrings of Python's standard library."""
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    path.write_bytes(gzip.decompress((FIXTURES / "corpus.txt.gz").read_bytes()))
    return path


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory) -> tuple[AlbertTokenizer, Path]:
    out = tmp_path_factory.mktemp("trained")
    return train_tokenizer([corpus], vocab_size=1000, output_dir=out), out


def test_training_reproduces_the_fixture_vocabulary(trained):
    """The committed spiece.model was trained by this function on this corpus (in the 4.57 venv)."""
    _, out = trained
    ours = parse_sentencepiece_model((out / "spiece.model").read_bytes())
    fixture = parse_sentencepiece_model(SPIECE.read_bytes())
    assert [p for p, _, _ in ours.pieces] == [p for p, _, _ in fixture.pieces]
    assert [s for _, s, _ in ours.pieces] == pytest.approx([s for _, s, _ in fixture.pieces], abs=1e-4)


def test_the_authors_layout(trained):
    tok, _ = trained
    sp = tok.sp_model
    assert [sp.id_to_piece(i) for i in range(5)] == ["<pad>", "<unk>", "[CLS]", "[SEP]", "[MASK]"]
    assert [i for i in range(sp.get_piece_size()) if sp.is_control(i)] == [0, 2, 3, 4]
    assert sp.is_unknown(1) and sp.bos_id() == -1 and sp.eos_id() == -1
    assert [sp.id_to_piece(i) for i in range(5, 5 + len(USER_DEFINED_SYMBOLS))] == list(USER_DEFINED_SYMBOLS)
    types = {piece: kind for piece, _, kind in parse_sentencepiece_model(sp.serialized_model_proto()).pieces}
    assert all(types[s] == 4 for s in USER_DEFINED_SYMBOLS)  # USER_DEFINED: always split out
    assert sp.get_piece_size() == 1000


def test_trainer_spec_records_the_recipe(trained):
    pb = pytest.importorskip("sentencepiece.sentencepiece_model_pb2")
    proto = pb.ModelProto()
    proto.ParseFromString(trained[0].sp_model.serialized_model_proto())
    spec = proto.trainer_spec
    assert spec.model_type == 1  # unigram
    assert spec.character_coverage == pytest.approx(0.99995)
    assert list(spec.control_symbols) == ["[CLS]", "[SEP]", "[MASK]"]
    assert (spec.pad_id, spec.unk_id, spec.bos_id, spec.eos_id) == (0, 1, -1, -1)
    assert proto.normalizer_spec.name == "nmt_nfkc"


def test_text_was_lower_cased(trained):
    pieces = trained[0].get_vocab()
    assert not [p for p in pieces if p.lower() != p and not p.startswith(("<", "["))]


def test_saved_directory_loads_in_both_classes(trained):
    _, out = trained
    assert sorted(p.name for p in out.iterdir()) == [
        "special_tokens_map.json",
        "spiece.model",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    slow = AlbertTokenizer.from_pretrained(out)
    fast = AlbertTokenizerFast.from_pretrained(out)
    for text in stress()["texts"]:
        assert slow.encode(text) == reference()["texts"][text]["slow_ids"]
        assert fast.encode(text) == reference()["texts"][text]["fast_ids"]


def test_unknown_characters_map_to_unk(trained):
    slow = trained[0]
    fast = AlbertTokenizerFast.from_slow(slow)
    for text in ["東京", "안녕", "مرحبا", "🤗"]:
        assert set(slow.encode(text, add_special_tokens=False)) - {slow.convert_tokens_to_ids("▁")} == {1}
        assert set(fast.encode(text, add_special_tokens=False)) - {fast.convert_tokens_to_ids("▁")} == {1}


def test_public_name_and_bad_arguments(corpus, tmp_path):
    assert albertlite.train_tokenizer is train_tokenizer
    with pytest.raises(FileNotFoundError):
        train_tokenizer([tmp_path / "missing.txt"], vocab_size=100)
    with pytest.raises(ValueError, match="vocab_size"):
        train_tokenizer([corpus], vocab_size=10)
    with pytest.raises(ValueError, match="at least one"):
        train_tokenizer([], vocab_size=100)


def test_cli_trains_a_directory(corpus, tmp_path, capsys):
    out = tmp_path / "tok"
    code = main(["tokenizer", "train", "--input", str(corpus), "--vocab-size", "400", "--output", str(out)])
    assert code == 0
    assert "400-piece" in capsys.readouterr().out
    tok = AlbertTokenizerFast.from_pretrained(out)
    assert tok.vocab_size == 400 and tok.mask_token_id == 4
    assert AlbertTokenizer.from_pretrained(out).encode("the module") == tok.encode("the module")


def test_soft_vocab_limit_trains_what_the_corpus_gives(tmp_path, capsys):
    small = tmp_path / "small.txt"
    small.write_text("the quick brown fox jumps over the lazy dog.\na second line of text here, with words.\n")
    tok = train_tokenizer([small], vocab_size=8000, hard_vocab_limit=False)
    assert tok.vocab_size == 47 and tok.mask_token_id == 4  # the most SentencePiece names in the hard limit's error
    out = tmp_path / "tok"
    argv = ["tokenizer", "train", "--input", str(small), "--vocab-size", "8000", "--output", str(out)]
    assert main(argv) == 2 and "at most 47 pieces" in capsys.readouterr().err
    assert main([*argv, "--soft-vocab-limit"]) == 0
    assert "Saved a 47-piece tokenizer" in capsys.readouterr().out
    assert AlbertTokenizerFast.from_pretrained(out).encode("the fox") == AlbertTokenizer.from_pretrained(out).encode(
        "the fox"
    )


def test_cli_reports_bad_input(tmp_path, capsys):
    code = main(["tokenizer", "train", "--input", str(tmp_path / "nope.txt"), "--output", str(tmp_path / "o")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
