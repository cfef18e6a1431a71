"""Shared fixtures of the tokenizer tests (tests/fixtures/tokenizer, written by scripts/make_tokenizer_fixtures.py).

The fixture vocabulary is a 1000-piece unigram model trained with the ALBERT authors' recipe on docstrings of
Python's standard library; hf457_outputs.json.gz holds transformers 4.57's outputs on it.
"""

from __future__ import annotations

import pytest

from albertlite.tokenization import AlbertTokenizer
from albertlite.tokenization_base import AlbertTokenizerBase, Tokenizer
from albertlite.tokenization_fast import AlbertTokenizerFast
from albertlite.tokenization_utils import SPECIAL_TOKEN_NAMES

from .helpers.tokenizers import (
    FIXTURES,
    SPIECE,
    reference,
)


def test_fixture_area_is_small():
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    assert total < 1_000_000, total
    assert SPIECE.stat().st_size < 300_000


def test_fixture_was_made_by_457():
    assert reference()["transformers_version"] == "4.57.6"


@pytest.mark.parametrize("cls", [AlbertTokenizer, AlbertTokenizerFast])
def test_special_token_attributes_follow_the_name_list(cls):
    tok = cls(SPIECE, cls_token="[SEP]", mask_token={"content": "[CLS]", "rstrip": True})
    expected = {"bos_token": "[CLS]", "eos_token": "[SEP]", "unk_token": "<unk>", "sep_token": "[SEP]"}
    expected |= {"pad_token": "<pad>", "cls_token": "[SEP]", "mask_token": "[CLS]"}
    assert {name: getattr(tok, name) for name in SPECIAL_TOKEN_NAMES} == expected == tok.special_tokens_map
    ids = {name: getattr(tok, f"{name}_id") for name in SPECIAL_TOKEN_NAMES}
    assert ids == {name: tok.convert_tokens_to_ids(token) for name, token in expected.items()}
    assert ids["cls_token"] == ids["sep_token"] == 3 and ids["mask_token"] == 2
    assert tok.all_special_tokens == ["[CLS]", "[SEP]", "<unk>", "<pad>"]
    assert tok.all_special_ids == [2, 3, 1, 0]


def test_every_special_token_name_has_both_attributes():
    declared = {name for name in vars(AlbertTokenizerBase) if name.endswith(("_token", "_token_id"))}
    assert declared == {*SPECIAL_TOKEN_NAMES, *(f"{name}_id" for name in SPECIAL_TOKEN_NAMES)}


@pytest.mark.parametrize("name", ["cls_token", "pad_token_id"])
def test_special_token_attributes_are_read_only(name):
    tok = AlbertTokenizer(SPIECE)
    before = getattr(tok, name)
    with pytest.raises(AttributeError, match="read-only"):
        setattr(tok, name, "[MASK]")
    assert getattr(tok, name) == before


@pytest.mark.parametrize("cls", [AlbertTokenizer, AlbertTokenizerFast])
def test_tokenizers_satisfy_the_tokenizer_protocol(cls):
    assert isinstance(cls(SPIECE), Tokenizer)
    assert not isinstance(object(), Tokenizer)
