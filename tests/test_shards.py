"""The shard format: write, read back by memory map, collate; incomplete data is refused."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

from albertlite.data.pretraining import InstanceBuilder, InstanceSettings, create_pretraining_instances
from albertlite.data.shard_builder import _metadata
from albertlite.data.shards import (
    IGNORE_INDEX,
    InstanceBatch,
    PretrainingShards,
    ShardWriter,
    collate_pretraining_batch,
    read_manifest,
    token_dtype_for,
    vocab_hash,
)

from .helpers.data import synthetic_documents, tiny_tokenizer


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    return tiny_tokenizer(tmp_path_factory.mktemp("shards") / "tokenizer")


def write(directory, tokenizer, instances, sizes=(3, 10), per_shard=7, mask=True, **writer_options):
    builder = InstanceBuilder(tokenizer, InstanceSettings(max_seq_length=48, mask=mask))
    writer = ShardWriter(
        directory,
        token_dtype="<u2",
        word_start=builder.masker.word_start,
        metadata=_metadata(builder, ["corpus.txt"], "lines"),
        instances_per_shard=per_shard,
        **writer_options,
    )
    start = 0
    for size in (*sizes, len(instances)):
        writer.write(InstanceBatch.from_instances(instances[start : start + size], "<u2"))
        start += size
    return writer, writer.close()


@pytest.fixture(scope="module")
def instances(tokenizer):
    return list(create_pretraining_instances(synthetic_documents(12, seed=2), tokenizer, max_seq_length=48))


def test_round_trip_across_shards(tmp_path, tokenizer, instances):
    _, manifest = write(tmp_path, tokenizer, instances)
    assert manifest["num_instances"] == len(instances) > 30
    assert [s["num_instances"] for s in manifest["shards"]] == [7] * (len(instances) // 7) + (
        [len(instances) % 7] if len(instances) % 7 else []
    )
    data = PretrainingShards(tmp_path)
    assert len(data) == len(instances)
    for index, instance in enumerate(instances):
        sample = data[index]
        np.testing.assert_array_equal(sample["input_ids"], instance.input_ids)
        np.testing.assert_array_equal(sample["token_type_ids"], instance.token_type_ids)
        np.testing.assert_array_equal(sample["masked_lm_positions"], instance.masked_lm_positions)
        np.testing.assert_array_equal(sample["masked_lm_labels"], instance.masked_lm_labels)
        assert sample["sentence_order_label"] == instance.sentence_order_label
        assert sample["input_ids"].dtype == np.int64
    np.testing.assert_array_equal(data[-1]["input_ids"], instances[-1].input_ids)
    assert isinstance(data._shard_arrays(0)["input_ids"], np.memmap)
    with pytest.raises(IndexError):
        data[len(instances)]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temporary files left


def test_collate_pads_and_labels(tmp_path, tokenizer, instances):
    write(tmp_path, tokenizer, instances)
    data = PretrainingShards(tmp_path)
    samples = [data[i] for i in range(5)]
    batch = collate_pretraining_batch(samples, pad_token_id=data.pad_token_id)
    longest = max(len(s["input_ids"]) for s in samples)
    assert batch["input_ids"].shape == batch["labels"].shape == (5, longest)
    for row, sample in enumerate(samples):
        size = len(sample["input_ids"])
        np.testing.assert_array_equal(batch["input_ids"][row, :size], sample["input_ids"])
        assert (batch["input_ids"][row, size:] == tokenizer.pad_token_id).all()
        assert batch["attention_mask"][row].sum() == size and batch["attention_mask"][row, :size].all()
        expected = np.full(longest, IGNORE_INDEX)
        expected[sample["masked_lm_positions"]] = sample["masked_lm_labels"]
        np.testing.assert_array_equal(batch["labels"][row], expected)
        np.testing.assert_array_equal(batch["token_type_ids"][row, :size], sample["token_type_ids"])
    np.testing.assert_array_equal(batch["sentence_order_label"], [int(s["sentence_order_label"]) for s in samples])
    assert collate_pretraining_batch(samples, pad_to=64)["input_ids"].shape == (5, 64)
    with pytest.raises(ValueError, match="shorter than the longest"):
        collate_pretraining_batch(samples, pad_to=3)
    with pytest.raises(ValueError, match="empty"):
        collate_pretraining_batch([])


def test_incomplete_or_foreign_data_is_refused(tmp_path, tokenizer, instances):
    write(tmp_path, tokenizer, instances)
    shard = tmp_path / "shard-00001.input_ids.bin"
    shard.write_bytes(shard.read_bytes()[:-2])
    with pytest.raises(ValueError, match=r"shard-00001.input_ids.bin: expected \d+ bytes"):
        PretrainingShards(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    (tmp_path / "manifest.json").write_text(json.dumps({**manifest, "version": 99}))
    with pytest.raises(ValueError, match="version 99"):
        read_manifest(tmp_path)
    (tmp_path / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"manifest\.json is missing"):
        PretrainingShards(tmp_path)


def test_an_existing_dataset_is_kept_unless_overwritten(tmp_path, tokenizer, instances):
    write(tmp_path, tokenizer, instances)
    with pytest.raises(ValueError, match="already holds pretraining data"):
        write(tmp_path, tokenizer, instances)
    _, manifest = write(tmp_path, tokenizer, instances[:5], sizes=(), per_shard=100, overwrite=True)
    assert len(PretrainingShards(tmp_path)) == 5 and len(manifest["shards"]) == 1
    assert not (tmp_path / "shard-00001.input_ids.bin").exists()


def test_abort_leaves_no_dataset(tmp_path, tokenizer, instances):
    builder = InstanceBuilder(tokenizer, InstanceSettings(max_seq_length=48))
    writer = ShardWriter(tmp_path, token_dtype="<u2", word_start=builder.masker.word_start, metadata={},
                         instances_per_shard=100)  # fmt: skip
    writer.write(InstanceBatch.from_instances(instances[:4], "<u2"))
    writer.abort()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["word_start.npy"]


def test_reader_pickles_and_dynamic_masks_depend_on_seed_epoch_index(tmp_path, tokenizer):
    unmasked = list(
        create_pretraining_instances(synthetic_documents(12, seed=2), tokenizer, max_seq_length=48, mask=False)
    )
    write(tmp_path, tokenizer, unmasked, mask=False)
    data = PretrainingShards(tmp_path)
    assert data.dynamic_masking
    forward = [data[i] for i in range(len(data))]
    copy = pickle.loads(pickle.dumps(data))
    backward = [copy[i] for i in reversed(range(len(data)))][::-1]
    for a, b, instance in zip(forward, backward, unmasked):
        np.testing.assert_array_equal(a["input_ids"], b["input_ids"])
        restored = a["input_ids"].copy()
        restored[a["masked_lm_positions"]] = a["masked_lm_labels"]
        np.testing.assert_array_equal(restored, instance.input_ids)
        assert len(a["masked_lm_positions"]) > 0
    data.set_epoch(1)
    assert sum(not np.array_equal(data[i]["input_ids"], forward[i]["input_ids"]) for i in range(len(data))) > 0.9 * len(
        data
    )
    plain = PretrainingShards(tmp_path, dynamic_masking=False)
    np.testing.assert_array_equal(plain[0]["input_ids"], unmasked[0].input_ids)


def test_static_data_cannot_be_masked_again(tmp_path, tokenizer, instances):
    write(tmp_path, tokenizer, instances)
    with pytest.raises(ValueError, match="dynamic masking needs data written unmasked"):
        PretrainingShards(tmp_path, dynamic_masking=True)


def test_token_dtype_and_vocab_hash():
    assert token_dtype_for(30000) == "<u2" and token_dtype_for(65536) == "<u2" and token_dtype_for(65537) == "<i4"
    assert vocab_hash({"a": 0, "b": 1}) == vocab_hash({"b": 1, "a": 0}) != vocab_hash({"a": 1, "b": 0})
