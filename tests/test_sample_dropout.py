"""Pretraining's dropout drawn per global sample: a sample's masks do not depend on the batch it is in, its
padding, or the process that runs it (the 2-process check is in test_distributed.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from albertlite import AlbertConfig
from albertlite.modeling_torch import AlbertForPreTraining
from albertlite.train.sample_dropout import (
    SampleKeyedDropout,
    keep_mask,
    key_dropout_per_sample,
    sample_dropout,
    sample_keys,
)


def test_a_samples_mask_does_not_depend_on_its_batch_or_padding():
    keys = sample_keys(7, [10, 11, 12, 13])
    whole = keep_mask(torch.Size([4, 12, 8]), keys, call=3, p=0.3)
    part = keep_mask(torch.Size([2, 9, 8]), keys[2:], call=3, p=0.3)  # rows 12 and 13, padded to 9 instead of 12
    assert torch.equal(part, whole[2:, :9])
    assert not torch.equal(whole[0], whole[1])  # samples differ
    assert not torch.equal(keep_mask(torch.Size([4, 12, 8]), keys, call=4, p=0.3), whole)  # and calls do
    assert not torch.equal(sample_keys(8, [10, 11, 12, 13]), keys)  # and seeds do


def test_the_drop_rate_is_p():
    for p in (0.1, 0.5):
        kept = keep_mask(torch.Size([64, 128, 32]), sample_keys(0, range(64)), call=1, p=p)
        assert float(kept.float().mean()) == pytest.approx(1 - p, abs=0.005)


def test_outside_a_block_it_is_torch_dropout():
    x = torch.randn(4, 16)
    keyed, plain = SampleKeyedDropout(0.5).train(), nn.Dropout(0.5).train()
    torch.manual_seed(3)
    expected = plain(x)
    torch.manual_seed(3)
    assert torch.equal(keyed(x), expected)
    assert torch.equal(keyed.eval()(x), x)


def test_inside_a_block_each_call_draws_anew_and_a_replay_draws_the_same():
    layer, x = SampleKeyedDropout(0.5).train(), torch.ones(3, 40)
    keys = sample_keys(1, [0, 1, 2])
    with sample_dropout(keys):
        first, second = layer(x), layer(x)
    with sample_dropout(keys):
        replay = layer(x)
    assert not torch.equal(first, second)
    assert torch.equal(replay, first)
    assert set(first.unique().tolist()) == {0.0, 2.0}  # kept values scaled by 1 / (1 - p)
    message = r"dropout keys for 3 samples, but a tensor of batch 2 \(shape \(2, 40\)\)"
    with pytest.raises(ValueError, match=message), sample_dropout(keys):
        layer(torch.ones(2, 40))


def _pretraining_model(**dropout: float) -> AlbertForPreTraining:
    config = AlbertConfig(vocab_size=50, embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                          intermediate_size=37, max_position_embeddings=32, **dropout)  # fmt: skip
    torch.manual_seed(0)
    return AlbertForPreTraining(config).train()


def test_every_dropout_of_the_model_is_swapped_and_attention_dropout_made_explicit():
    model = _pretraining_model(hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, classifier_dropout_prob=0.1)
    before = sum(type(m) is nn.Dropout for m in model.modules())
    assert key_dropout_per_sample(model) == before > 0
    assert not any(type(m) is nn.Dropout for m in model.modules())
    assert {m.attn_implementation for m in model.modules() if hasattr(m, "attn_implementation")} == {"eager"}
    quiet = _pretraining_model(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, classifier_dropout_prob=0.1)
    key_dropout_per_sample(quiet)  # no attention dropout: the fused kernel stays
    assert {m.attn_implementation for m in quiet.modules() if hasattr(m, "attn_implementation")} == {"sdpa"}


def test_a_batch_split_in_two_gives_each_sample_the_same_outputs():
    # what two ranks do with one process's micro-batch: half the samples each, padded to their own longest
    model = _pretraining_model(hidden_dropout_prob=0.2, attention_probs_dropout_prob=0.2, classifier_dropout_prob=0.2)
    key_dropout_per_sample(model)
    generator = torch.Generator().manual_seed(0)
    lengths = [12, 7, 9, 5]
    ids = torch.randint(5, 50, (4, 12), generator=generator)
    mask = (torch.arange(12) < torch.tensor(lengths)[:, None]).long()
    keys = sample_keys(12345, [40, 41, 42, 43])
    with sample_dropout(keys):
        whole = model(input_ids=ids, attention_mask=mask)
    with sample_dropout(keys[[1, 3]]):  # the short ones, padded to 7
        half = model(input_ids=ids[[1, 3], :7], attention_mask=mask[[1, 3], :7])
    torch.testing.assert_close(half.sop_logits, whole.sop_logits[[1, 3]], atol=1e-5, rtol=1e-5)
    for row, length in ((0, 7), (1, 5)):
        torch.testing.assert_close(half.prediction_logits[row, :length], whole.prediction_logits[[1, 3][row], :length],
                                   atol=1e-5, rtol=1e-5)  # fmt: skip
    with torch.no_grad():
        model.eval()
        undropped = model(input_ids=ids, attention_mask=mask).sop_logits
    assert float((undropped - whole.sop_logits.detach()).abs().max()) > 1e-3  # the dropout did act
