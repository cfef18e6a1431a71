"""Pretraining instances (sentence-order pairs, segment ids, masking budget) and the pretrain-data command."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import albertlite
from albertlite.cli import main
from albertlite.data.masking import is_word_start_piece
from albertlite.data.pretraining import create_pretraining_instances
from albertlite.data.shards import PretrainingShards

from .helpers.data import synthetic_documents, tiny_tokenizer, write_corpus

CLS, SEP = 2, 3


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return tiny_tokenizer(tmp_path_factory.mktemp("data") / "tokenizer")


@pytest.fixture(scope="module")
def documents():
    return synthetic_documents(120, seed=3)


def token_ids(tokenizer, sentence: str) -> list[int]:
    return tokenizer.convert_tokens_to_ids(tokenizer.tokenize(sentence))


def unmasked(instance) -> np.ndarray:
    ids = instance.input_ids.copy()
    ids[instance.masked_lm_positions] = instance.masked_lm_labels
    return ids


def segments(ids: np.ndarray) -> tuple[list[int], list[int]]:
    first, second = np.flatnonzero(ids == SEP)
    return ids[1:first].tolist(), ids[first + 1 : second].tolist()


def test_public_function_is_exported():
    assert albertlite.create_pretraining_instances is create_pretraining_instances


def test_layout_segment_ids_and_budget(tokenizer, documents):
    instances = list(create_pretraining_instances(documents, tokenizer, max_seq_length=64, dupe_factor=2))
    assert len(instances) > 500
    for instance in instances:
        ids = unmasked(instance)
        assert len(ids) <= 64
        assert ids[0] == CLS and ids[-1] == SEP and (ids == SEP).sum() == 2 and (ids == CLS).sum() == 1
        first_sep = int(np.flatnonzero(ids == SEP)[0])
        expected_types = (np.arange(len(ids)) > first_sep).astype(np.int32)
        np.testing.assert_array_equal(instance.token_type_ids, expected_types)
        assert first_sep >= 2 and len(ids) - first_sep >= 3  # A and B each hold at least one token
        positions = instance.masked_lm_positions
        assert np.all(np.diff(positions) > 0)
        assert not np.isin(ids[positions], tokenizer.all_special_ids).any()
        budget = min(20, max(1, round(len(ids) * 0.15)))
        assert len(positions) <= budget
    # Words here are 1 to 9 pieces long and masked whole, so the last places of a budget often stay empty.
    fill = [len(i.masked_lm_positions) / min(20, round(len(i.input_ids) * 0.15)) for i in instances]
    assert np.mean(fill) > 0.8
    assert max(len(i.input_ids) for i in instances) == 64


def test_pairs_are_whole_sentences_in_or_out_of_order(tokenizer, documents):
    # A target longer than every document makes each document one chunk, with no truncation:
    # A + B is the document (label 0) or B + A is (label 1), cut at a sentence boundary.
    labels = []
    for index, document in enumerate(documents):
        if len(document) < 2:
            continue
        sentences = [token_ids(tokenizer, s) for s in document]
        (instance,) = create_pretraining_instances(
            [document], tokenizer, max_seq_length=4000, short_seq_prob=0.0, seed=index, mask=False
        )
        a, b = segments(instance.input_ids)
        first, second = (a, b) if instance.sentence_order_label == 0 else (b, a)
        assert first + second == [t for s in sentences for t in s]
        boundaries = np.cumsum([len(s) for s in sentences])[:-1]
        assert len(first) in boundaries
        labels.append(instance.sentence_order_label)
    assert len(labels) > 90
    assert 0.35 < np.mean(labels) < 0.65


def test_sentence_order_labels_are_balanced(tokenizer, documents):
    labels = [
        i.sentence_order_label
        for i in create_pretraining_instances(documents, tokenizer, max_seq_length=48, dupe_factor=4, mask=False)
    ]
    assert len(labels) > 2000
    assert abs(np.mean(labels) - 0.5) < 0.03  # 3 standard deviations at 2,000 labels


def test_short_sequences(tokenizer, documents):
    def lengths(prob):
        instances = create_pretraining_instances(documents, tokenizer, max_seq_length=96, short_seq_prob=prob)
        return np.array([len(i.input_ids) for i in instances])

    full, short = lengths(0.0), lengths(1.0)
    assert np.mean(full >= 90) > 0.5
    assert np.mean(short) < 0.75 * np.mean(full)
    assert short.max() <= 96


def test_one_sentence_chunks(tokenizer):
    singles = [document[:1] for document in synthetic_documents(300, seed=5, sentences=(1, 1))]
    split = list(create_pretraining_instances(singles, tokenizer, max_seq_length=256, mask=False))
    assert len(split) == len(singles)
    for instance, (sentence,) in zip(split, singles):
        a, b = segments(instance.input_ids)
        first, second = (a, b) if instance.sentence_order_label == 0 else (b, a)
        assert first + second == token_ids(tokenizer, sentence)
        assert is_word_start_piece(tokenizer.convert_ids_to_tokens(second[0]))  # cut at a word start
    assert 0.4 < np.mean([i.sentence_order_label for i in split]) < 0.6

    fallback = list(
        create_pretraining_instances(
            singles, tokenizer, max_seq_length=256, mask=False, random_next_sentence_fallback=True, chunk_size=50
        )
    )
    assert all(i.sentence_order_label == 1 for i in fallback)  # the original's random-document "next"
    other = 0
    for index, (instance, (sentence,)) in enumerate(zip(fallback, singles)):
        a, b = segments(instance.input_ids)
        assert a == token_ids(tokenizer, sentence)
        chunk = range(index // 50 * 50, index // 50 * 50 + 50)  # B comes from a document of the same chunk
        sources = [j for j in chunk if token_ids(tokenizer, singles[j][0]) == b]
        assert sources
        other += index not in sources
    assert other == len(singles)


def test_seeds_and_document_independence(tokenizer, documents):
    def run(docs, seed=12345):
        return [unmasked(i).tolist() + i.masked_lm_positions.tolist() for i in
                create_pretraining_instances(docs, tokenizer, max_seq_length=64, seed=seed)]  # fmt: skip

    base = run(documents[:20])
    assert base == run(documents[:20])
    assert base != run(documents[:20], seed=1)
    changed = [*documents[:7], ["Zulu zulu zulu.", "Zulu."], *documents[8:20]]
    per_document = [len(list(create_pretraining_instances([d], tokenizer, max_seq_length=64))) for d in documents[:8]]
    before, after_7 = sum(per_document[:7]), sum(per_document[:8])
    other = run(changed)
    assert other[:before] == base[:before]  # each document draws from its own (seed, dupe, index) stream
    assert other[-(len(base) - after_7) :] == base[after_7:]


def test_dupes_are_passes_with_fresh_draws(tokenizer, documents):
    once = list(create_pretraining_instances(documents[:30], tokenizer, max_seq_length=64))
    twice = list(create_pretraining_instances(documents[:30], tokenizer, max_seq_length=64, dupe_factor=2))
    assert len(twice) > len(once)
    for a, b in zip(once, twice):
        np.testing.assert_array_equal(a.input_ids, b.input_ids)
    assert any(not np.array_equal(a.input_ids, b.input_ids) for a, b in zip(once, twice[len(once) :]))


def test_unmasked_instances_for_dynamic_masking(tokenizer, documents):
    for instance in create_pretraining_instances(documents[:20], tokenizer, max_seq_length=64, mask=False):
        assert len(instance.masked_lm_positions) == 0
        assert tokenizer.mask_token_id not in instance.input_ids


def test_bad_settings_are_errors(tokenizer, documents):
    with pytest.raises(ValueError, match="max_seq_length"):
        create_pretraining_instances(documents, tokenizer, max_seq_length=4)
    with pytest.raises(ValueError, match="dupe_factor"):
        create_pretraining_instances(documents, tokenizer, dupe_factor=0)
    with pytest.raises(ValueError, match="masked_lm_prob"):
        create_pretraining_instances(documents, tokenizer, masked_lm_prob=-0.1)


def digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, tokenizer, documents):
    root = tmp_path_factory.mktemp("corpus")
    tokenizer.save_pretrained(root / "tokenizer")
    return write_corpus(root / "corpus.txt", documents), root / "tokenizer"


COMMON = ["--max-seq-length", "64", "--dupe-factor", "2", "--chunk-documents", "16", "--instances-per-shard", "100"]


def test_command_writes_the_instances(tmp_path, corpus, tokenizer, documents, capsys):
    text, tokenizer_dir = corpus
    assert main(["pretrain-data", "--input", str(text), "--tokenizer", str(tokenizer_dir),
                 "--output", str(tmp_path / "out"), *COMMON]) == 0  # fmt: skip
    assert "instances" in capsys.readouterr().out
    data = PretrainingShards(tmp_path / "out")
    expected = list(create_pretraining_instances(documents, tokenizer, max_seq_length=64, dupe_factor=2, chunk_size=16))
    assert len(data) == len(expected) and len(data.manifest["shards"]) == -(-len(expected) // 100)
    for index in (0, 1, 99, 100, 250, len(expected) - 1):
        sample, instance = data[index], expected[index]
        np.testing.assert_array_equal(sample["input_ids"], instance.input_ids)
        np.testing.assert_array_equal(sample["token_type_ids"], instance.token_type_ids)
        np.testing.assert_array_equal(sample["masked_lm_positions"], instance.masked_lm_positions)
        np.testing.assert_array_equal(sample["masked_lm_labels"], instance.masked_lm_labels)
        assert int(sample["sentence_order_label"]) == instance.sentence_order_label
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["settings"]["dupe_factor"] == 2 and manifest["tokenizer"]["vocab_size"] == tokenizer.vocab_size


def test_workers_give_identical_bytes(tmp_path, corpus):
    text, tokenizer_dir = corpus
    for workers in (1, 2):
        args = ["--input", str(text), str(text), "--tokenizer", str(tokenizer_dir), "--workers", str(workers)]
        assert main(["pretrain-data", *args, "--output", str(tmp_path / f"w{workers}"), *COMMON]) == 0
    one, two = digests(tmp_path / "w1"), digests(tmp_path / "w2")
    shards = json.loads((tmp_path / "w1" / "manifest.json").read_text())["shards"]
    assert len(shards) > 10 and len(one) == 2 + 7 * len(shards) and one == two


def test_command_paragraphs_and_dynamic_masking(tmp_path, corpus):
    _, tokenizer_dir = corpus
    text = tmp_path / "paragraphs.txt"
    paragraphs = [" ".join(d) for d in synthetic_documents(40, seed=9)]
    text.write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    assert main(["pretrain-data", "--input", str(text), "--tokenizer", str(tokenizer_dir), "--format", "paragraphs",
                 "--output", str(tmp_path / "out"), "--dynamic-masking", *COMMON]) == 0  # fmt: skip
    data = PretrainingShards(tmp_path / "out")
    assert data.dynamic_masking and data.manifest["num_masked"] == 0 and len(data) > 50
    first = data[3]
    assert len(first["masked_lm_positions"]) > 0
    np.testing.assert_array_equal(first["input_ids"], data[3]["input_ids"])  # same epoch, same mask
    data.set_epoch(1)
    assert not np.array_equal(first["masked_lm_positions"], data[3]["masked_lm_positions"])


def test_command_errors_are_one_line(tmp_path, corpus, capsys):
    text, tokenizer_dir = corpus
    code = main(["pretrain-data", "--input", str(tmp_path / "missing.txt"), "--tokenizer", str(tokenizer_dir),
                 "--output", str(tmp_path / "out")])  # fmt: skip
    assert code == 2 and "missing.txt" in capsys.readouterr().err
    out = ["pretrain-data", "--input", str(text), "--tokenizer", str(tokenizer_dir), "--output", str(tmp_path / "o")]
    assert main([*out, *COMMON]) == 0
    assert main([*out, *COMMON]) == 2
    assert "already holds pretraining data" in capsys.readouterr().err
    assert main([*out, *COMMON, "--overwrite"]) == 0


@pytest.mark.slow
def test_memory_stays_flat_on_a_ten_times_larger_corpus():
    # the light version of benchmarks/pretrain_data_memory.py: chunks of 64k characters, 0.3 and 3 MiB of text
    script = Path(__file__).parents[1] / "benchmarks" / "pretrain_data_memory.py"
    command = [sys.executable, str(script), "--base-mb", "0.3", "--workers", "2", "--chunk-chars", "65536", "--json"]
    small, large = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    assert large["tokens"] > 9 * small["tokens"]
    assert large["peak_rss_mib"] < 1.15 * small["peak_rss_mib"]
    assert large["tree_peak_rss_mib"] < 1.15 * small["tree_peak_rss_mib"]
