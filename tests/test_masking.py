"""Whole-word n-gram masking, checked statistically on sequences whose word boundaries are known."""

from __future__ import annotations

import string

import numpy as np
import pytest

from albertlite.data.masking import NgramMasker, is_word_start_piece, word_start_table

from .helpers.data import tiny_tokenizer

SPECIALS = {"<pad>": 0, "<unk>": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4}
CLS, SEP, MASK = 2, 3, 4


def synthetic_vocab() -> dict[str, int]:
    """Specials, 100 word-start pieces "▁w0".. and 100 continuation pieces "aa".."jj"."""
    vocab = dict(SPECIALS)
    vocab.update({f"▁w{k}": 5 + k for k in range(100)})
    pairs = [a + b for a in string.ascii_lowercase[:10] for b in string.ascii_lowercase[:10]]
    vocab.update({piece: 105 + k for k, piece in enumerate(pairs)})
    return vocab


VOCAB = synthetic_vocab()
TABLE = word_start_table(VOCAB)


def sequence(rng: np.random.Generator, length: int, max_pieces: int = 3) -> tuple[np.ndarray, list[list[int]]]:
    """[CLS] words... [SEP] with each word 1..max_pieces pieces; returns ids and each word's positions."""
    sizes = rng.integers(1, max_pieces + 1, size=length)
    ends = np.cumsum(sizes)
    sizes, ends = sizes[ends <= length - 2], ends[ends <= length - 2]
    if ends[-1] < length - 2:  # a last word fills the sequence exactly
        sizes, ends = np.append(sizes, length - 2 - ends[-1]), np.append(ends, length - 2)
    ids = rng.integers(105, 205, size=length)  # continuation pieces, then word starts on the first piece of each
    ids[ends - sizes + 1] = rng.integers(5, 105, size=len(sizes))
    ids[0], ids[-1] = CLS, SEP
    return ids, [list(range(end - size + 1, end + 1)) for size, end in zip(sizes.tolist(), ends.tolist())]


def masker(**settings) -> NgramMasker:
    return NgramMasker(TABLE, SPECIALS.values(), MASK, **settings)


@pytest.mark.parametrize(
    ("piece", "starts"),
    [
        ("▁the", True),
        ("▁", True),
        ("<unk>", True),
        (".", True),
        (",", True),
        ("ing", False),
        ("ING", False),  # compared lower-cased
        ("-based", False),  # punctuation inside a piece does not start a word
        ("..", False),
        ("'s", True),  # the apostrophe is not in the original's punctuation set
        ("12", True),
        ("a1", True),
        ("é", True),
        ("€", True),
    ],
)
def test_word_start_rule_is_the_originals(piece, starts):
    assert is_word_start_piece(piece) is starts


def test_candidate_words_are_the_known_words():
    rng = np.random.default_rng(0)
    ids, words = sequence(rng, 60)
    assert masker().candidate_words(ids) == words


@pytest.mark.parametrize(
    ("length", "prob", "cap", "expected"),
    [(512, 0.15, 20, 20), (100, 0.15, 80, 15), (10, 0.25, 20, 2), (30, 0.05, 20, 2), (3, 0.15, 20, 1)],
)
def test_budget_formula(length, prob, cap, expected):
    # round half to even, as Python's round in the original: 2.5 -> 2, 1.5 -> 2; never below 1
    assert masker(masked_lm_prob=prob, max_predictions_per_seq=cap).budget(length) == expected


def test_budget_per_instance_and_whole_words():
    rng = np.random.default_rng(1)
    one_piece, several = masker(max_predictions_per_seq=20), masker(max_predictions_per_seq=20)
    shortfalls = []
    for trial in range(300):
        length = int(rng.integers(8, 200))
        ids, words = sequence(rng, length, max_pieces=1)
        result = one_piece(ids, rng)
        assert len(result.masked_lm_positions) == one_piece.budget(length)  # one-piece words always fill it
        ids, words = sequence(rng, length, max_pieces=3)
        result = several(ids, rng)
        budget = several.budget(length)
        assert len(result.masked_lm_positions) <= budget
        shortfalls.append(budget - len(result.masked_lm_positions))
        chosen = set(result.masked_lm_positions.tolist())
        for word in words:  # every word is masked whole or not at all
            assert {p in chosen for p in word} in ({True}, {False}), (trial, word)
        assert sum(result.span_words) <= len(words)
    assert np.mean(shortfalls) < 0.1


def test_ngram_lengths_follow_one_over_n():
    # The first span of each sequence is drawn before anything is covered and with the whole budget (19
    # positions, more than 3 words of up to 3 pieces) left, so it is never shortened: its length in words is
    # the raw draw, p(n) ∝ 1/n. Later spans are shortened near the budget and rejected on overlap.
    rng = np.random.default_rng(2)
    draws = {True: [], False: []}
    for favor_shorter in (True, False):
        m = masker(favor_shorter_ngram=favor_shorter)
        for _ in range(3000):
            ids, _ = sequence(rng, 128)
            draws[favor_shorter].append(m(ids, rng).span_words[0])
    shorter = np.bincount(draws[True], minlength=4)[1:] / 3000
    longer = np.bincount(draws[False], minlength=4)[1:] / 3000
    np.testing.assert_allclose(shorter, [6 / 11, 3 / 11, 2 / 11], atol=0.025)
    np.testing.assert_allclose(longer, [2 / 11, 3 / 11, 6 / 11], atol=0.025)


def test_spans_are_consecutive_words():
    # A budget of 3 positions over one-piece words: a drawn 3-gram fills it alone, as three neighbours.
    rng = np.random.default_rng(3)
    m = masker(max_predictions_per_seq=3)
    trigrams = 0
    for _ in range(600):
        ids, _ = sequence(rng, 200, max_pieces=1)
        result = m(ids, rng)
        assert sum(result.span_words) == len(result.masked_lm_positions) == 3
        if result.span_words == (3,):
            trigrams += 1
            np.testing.assert_array_equal(np.diff(result.masked_lm_positions), [1, 1])
    assert abs(trigrams / 600 - 2 / 11) < 0.05


def test_eighty_ten_ten():
    rng = np.random.default_rng(4)
    m = masker(max_predictions_per_seq=80)
    outcomes = {"mask": 0, "same": 0, "random": 0}
    random_ids = []
    for _ in range(400):
        ids, _ = sequence(rng, 256)
        result = m(ids, rng)
        replaced = result.input_ids[result.masked_lm_positions]
        np.testing.assert_array_equal(result.masked_lm_labels, ids[result.masked_lm_positions])
        outcomes["mask"] += int((replaced == MASK).sum())
        outcomes["same"] += int((replaced == result.masked_lm_labels).sum())
        others = replaced[(replaced != MASK) & (replaced != result.masked_lm_labels)]
        outcomes["random"] += len(others)
        random_ids.extend(others.tolist())
        unmasked = np.setdiff1d(np.arange(len(ids)), result.masked_lm_positions)
        np.testing.assert_array_equal(result.input_ids[unmasked], ids[unmasked])
    total = sum(outcomes.values())
    assert total == 400 * 38  # the budget: round(256 * 0.15)
    assert abs(outcomes["mask"] / total - 0.8) < 0.01
    assert abs(outcomes["same"] / total - 0.1) < 0.01  # (a random draw equal to the original: 1 in 200)
    assert abs(outcomes["random"] / total - 0.1) < 0.01
    assert min(random_ids) >= 5  # never a special token, drawn across the whole rest of the vocabulary
    assert len(set(random_ids)) > 190


def test_special_tokens_are_never_masked():
    rng = np.random.default_rng(5)
    m = masker(masked_lm_prob=0.5, max_predictions_per_seq=500)
    for _ in range(100):
        ids, _ = sequence(rng, 100)
        ids[rng.integers(1, 99, size=10)] = rng.choice([0, 1, 2, 3, 4], size=10)  # specials inside the text
        result = m(ids, rng)
        assert not np.isin(ids[result.masked_lm_positions], list(SPECIALS.values())).any()
        special = np.isin(ids, list(SPECIALS.values()))
        np.testing.assert_array_equal(result.input_ids[special], ids[special])


def test_piece_masking_when_whole_words_are_off():
    rng = np.random.default_rng(6)
    m = masker(do_whole_word_mask=False, max_predictions_per_seq=40)
    split_words = 0
    for _ in range(200):
        ids, words = sequence(rng, 128)
        chosen = set(m(ids, rng).masked_lm_positions.tolist())
        split_words += sum(len({p in chosen for p in word}) == 2 for word in words)
    assert split_words > 100  # pieces of one word are masked apart


def test_same_generator_state_same_mask_and_zero_probability():
    ids, _ = sequence(np.random.default_rng(7), 90)
    first = masker()(ids, np.random.default_rng(11))
    second = masker()(ids, np.random.default_rng(11))
    np.testing.assert_array_equal(first.input_ids, second.input_ids)
    np.testing.assert_array_equal(first.masked_lm_positions, second.masked_lm_positions)
    nothing = masker(masked_lm_prob=0.0)(ids, np.random.default_rng(11))
    assert len(nothing.masked_lm_positions) == 0
    np.testing.assert_array_equal(nothing.input_ids, ids)


def test_bad_settings_are_errors():
    with pytest.raises(ValueError, match="masked_lm_prob"):
        masker(masked_lm_prob=1.5)
    with pytest.raises(ValueError, match="ngram"):
        masker(ngram=0)


def test_from_tokenizer_uses_the_vocabulary(tmp_path):
    tokenizer = tiny_tokenizer(tmp_path / "tokenizer")
    m = NgramMasker.from_tokenizer(tokenizer)
    vocab = tokenizer.get_vocab()
    assert len(m.word_start) == tokenizer.vocab_size
    assert all(m.word_start[i] == is_word_start_piece(piece) for piece, i in vocab.items())
    assert m.mask_token_id == vocab["[MASK]"]
    assert set(np.flatnonzero(m.special)) == set(tokenizer.all_special_ids)
