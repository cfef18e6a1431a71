"""Token-budget steps (``pretrain --batch-tokens``): whole instances in the global order fill each step's budget; a
step's instances keep their own attention and sentence-order label; runs resume exactly and refuse a budget that
cannot hold an instance."""

from __future__ import annotations

import itertools
import shutil

import numpy as np
import pytest
import torch

from albertlite.data import PretrainingShards, collate_pretraining_batch
from albertlite.train import PretrainConfig, pretrain
from albertlite.train.checkpointing import list_checkpoints, load_checkpoint
from albertlite.train.distributed import DistributedContext, GlobalOrder, TokenBudgetSteps
from albertlite.train.evaluation import score_batch

from .helpers.pretrain import TINY_MODEL, build_tiny_corpus, tiny_options

# the budget's point is the padding-free step: train as the CLI does
USES_FAST_PATH = True


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_tiny_corpus(tmp_path_factory.mktemp("corpus"))


def _steps(lengths: list[int], budget: int, seed: int = 0) -> tuple[TokenBudgetSteps, GlobalOrder]:
    order = GlobalOrder(len(lengths), seed)
    return TokenBudgetSteps(order, np.array(lengths), budget), order


def test_each_step_is_the_longest_run_of_whole_instances_that_fits():
    rng = np.random.default_rng(0)
    lengths = rng.integers(5, 65, size=37).tolist()
    steps, order = _steps(lengths, budget=200)
    tokens = [lengths[order[p][1]] for p in range(10 * 37)]  # ten epochs of the global order
    starts = [steps.start(s) for s in range(60)]
    assert starts[0] == 0 and all(b > a for a, b in itertools.pairwise(starts))
    for begin, end in itertools.pairwise(starts):
        assert sum(tokens[begin:end]) <= 200 < sum(tokens[begin : end + 1])  # full: the next one would not fit
    assert any(end // 37 > begin // 37 for begin, end in itertools.pairwise(starts))  # steps run on across epochs
    # recomputed from nothing (a resumed run), the boundaries are the same
    assert _steps(lengths, budget=200)[0].start(59) == starts[59]


def test_ranks_and_micro_steps_split_a_step_whatever_the_world_size():
    lengths = np.random.default_rng(1).integers(5, 33, size=50).tolist()
    alone, _ = _steps(lengths, budget=4 * 64)
    for step in (0, 3, 11):
        everything = list(range(alone.start(step), alone.start(step + 1)))
        # one process with 4 micro-steps, two with 2 each, four with 1: the same instances, each read once
        for world, accumulation in ((1, 4), (2, 2), (4, 1)):
            steps, _ = _steps(lengths, budget=4 * 64)
            read = [
                steps.positions(step, micro, accumulation=accumulation, context=DistributedContext(rank, world))
                for micro in range(accumulation)
                for rank in range(world)
            ]
            assert all(read), (world, accumulation)  # no process gets an empty micro-batch
            assert sorted(p for part in read for p in part) == everything


def test_a_budget_below_the_longest_instance_is_refused(corpus, tmp_path):
    with pytest.raises(ValueError, match="longest instance"):
        _steps([5, 40, 7], budget=39)
    with pytest.raises(ValueError, match=r"batch.tokens=48 cannot hold .*\(max_seq_length 64\); use at least 64"):
        pretrain(PretrainConfig(**tiny_options(corpus, tmp_path / "run", batch_tokens=48)))
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_a_steps_instances_keep_their_own_attention_and_sentence_order_labels(corpus, monkeypatch):
    """Scored together on the padding-free path, each instance of a step gets the losses it gets alone: tokens
    attend within their instance, segments keep their token types, and every instance has its own SOP label."""
    from albertlite.fast import packed_training
    from albertlite.modeling_torch import AlbertForPreTraining
    from albertlite.train.pretrain import resolve_model_config

    # the tiny rows are nearly full: pack every batch, and count the packed forward passes
    monkeypatch.setattr(packed_training, "MIN_PADDING_SHARE", 0.0)
    packed_calls = []
    original = packed_training.packed_train_forward
    monkeypatch.setattr(packed_training, "packed_train_forward", lambda *a: packed_calls.append(1) or original(*a))
    data = PretrainingShards(corpus.data)
    steps, order = _steps(data.lengths().tolist(), budget=512)
    samples = [data[order[p][1]] for p in steps.positions(2, 0, accumulation=1, context=DistributedContext())]
    lengths = [len(s["input_ids"]) for s in samples]
    assert len(samples) > 512 // 64 and min(lengths) < max(lengths)  # more than a fixed batch of full rows
    torch.manual_seed(0)
    model = AlbertForPreTraining(resolve_model_config(TINY_MODEL, vocab_size=70)).train()  # no dropout

    def scored(batch_samples):
        batch = {k: torch.from_numpy(v) for k, v in collate_pretraining_batch(batch_samples).items()}
        mlm, sop, _ = score_batch(model, batch)
        return mlm.detach(), sop.detach(), batch

    mlm, sop, batch = scored(samples)
    assert packed_calls == [1]  # the step went through the padding-free path, as in training
    alone = [scored([sample]) for sample in samples]
    torch.testing.assert_close(mlm, torch.cat([a[0] for a in alone]), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(sop, torch.cat([a[1] for a in alone]), atol=1e-5, rtol=1e-5)
    assert batch["sentence_order_label"].tolist() == [int(s["sentence_order_label"]) for s in samples]
    for row, sample in enumerate(samples):  # segment B starts where the instance's second segment starts
        assert batch["token_type_ids"][row, : len(sample["input_ids"])].tolist() == sample["token_type_ids"].tolist()


def test_a_token_budget_run_resumes_to_the_uninterrupted_weights(corpus, tmp_path):
    from safetensors.numpy import load_file

    options = tiny_options(corpus, tmp_path / "full", steps=6, save_every=3, keep_checkpoints=0, eval_data=None,
                           batch_tokens=256, batch_size=1)  # fmt: skip
    pretrain(PretrainConfig(**options))
    checkpoint = load_checkpoint(tmp_path / "full" / "checkpoints" / "step-00000003", rank=0)
    lengths = PretrainingShards(corpus.data).lengths()
    order = GlobalOrder(len(lengths), 12345)  # tiny_options' seed: PretrainConfig's default
    read = checkpoint.state["data_position"]
    assert checkpoint.state["global_batch_tokens"] == 256 and checkpoint.state["global_batch"] is None
    assert read > 3 * 256 // 64  # more instances than three steps of full rows
    assert sum(lengths[order[p][1]] for p in range(read)) <= 3 * 256
    # killed after step 3: its later checkpoint and final model gone
    shutil.copytree(tmp_path / "full", tmp_path / "cut")
    shutil.rmtree(tmp_path / "cut" / "checkpoints" / "step-00000006")
    (tmp_path / "cut" / "model.safetensors").unlink()
    pretrain(PretrainConfig(**{**options, "output": str(tmp_path / "cut"), "resume": True}))
    assert [s for s, _ in list_checkpoints(tmp_path / "cut" / "checkpoints")] == [3, 6]
    full, cut = (
        load_file(str(tmp_path / "full" / "model.safetensors")),
        load_file(str(tmp_path / "cut" / "model.safetensors")),
    )
    assert all(np.array_equal(full[name], cut[name]) for name in full)
    # a different budget is another run: refused on resume
    with pytest.raises(ValueError, match="token budget"):
        pretrain(PretrainConfig(**{**options, "output": str(tmp_path / "cut"), "resume": True, "batch_tokens": 320}))
