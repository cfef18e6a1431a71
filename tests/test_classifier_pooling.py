"""config.classifier_pooling="mean": the sequence-classification and multiple-choice heads pool the mean of the last
hidden states over the real tokens through the same pooler; "cls" (the default) stays Hugging Face's first token."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from albertlite import AlbertConfig, modeling_torch, torch_ops
from albertlite.fast import fast_path, optimize, packed

from .helpers.models import padded_batch, tiny_config

HEADS = ("AlbertForSequenceClassification", "AlbertForMultipleChoice")


def _model(cls_name: str, config_name: str = "groups_inner", **overrides) -> torch.nn.Module:
    # A wide initialisation: with the default 0.02 the pooled vectors are near zero and hide a wrong pooling.
    torch.manual_seed(0)
    config = tiny_config(config_name, classifier_pooling="mean", initializer_range=0.2, **overrides)
    return getattr(modeling_torch, cls_name)(config).eval()


def _batch(config: AlbertConfig, batch: int = 4, seq_len: int = 11, seed: int = 0) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(v) for k, v in padded_batch(config, batch, seq_len, seed).items()}


def _choices(config: AlbertConfig) -> dict[str, torch.Tensor]:
    return {k: v.view(2, 3, -1) for k, v in _batch(config, batch=6).items()}  # (B=2, C=3, S)


def _by_hand(model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """classifier(tanh(pooler(masked mean))) from the base model's last hidden state, rows flattened."""
    flat = {k: v.reshape(-1, v.shape[-1]) for k, v in batch.items()}
    last = model.albert(**flat).last_hidden_state  # (rows, S, H)
    mask = flat["attention_mask"][..., None].to(last.dtype)
    mean = (last * mask).sum(1) / mask.sum(1)
    return model.classifier(torch.tanh(model.albert.pooler(mean)))  # (rows, labels)


# ----------------------------------------------------------------------------------------------- PyTorch
def test_sequence_classification_mean_equals_hand_computation():
    model = _model("AlbertForSequenceClassification")
    batch = _batch(model.config)
    with torch.no_grad():
        logits = model(**batch).logits
        expected = _by_hand(model, batch)
        cls_logits = model.classifier(model.albert(**batch).pooler_output)
    torch.testing.assert_close(logits, expected, atol=1e-6, rtol=0)
    assert float((logits - cls_logits).abs().max()) > 1e-2  # the mode really changes the pooled vector


def test_multiple_choice_mean_pools_each_choice():
    model = _model("AlbertForMultipleChoice")
    batch = _choices(model.config)
    with torch.no_grad():
        logits = model(**batch).logits
        expected = _by_hand(model, batch).view(2, 3)
    assert logits.shape == (2, 3)
    torch.testing.assert_close(logits, expected, atol=1e-6, rtol=0)


def test_padding_does_not_change_the_mean():
    model = _model("AlbertForSequenceClassification")
    batch = _batch(model.config)
    row = 3  # the shortest row: most padding
    length = int(batch["attention_mask"][row].sum())
    assert length < batch["input_ids"].shape[1]
    alone = {k: v[row : row + 1, :length] for k, v in batch.items()}
    with torch.no_grad():
        padded_logits = model(**batch).logits[row]
        alone_logits = model(**alone).logits[0]
        alone_no_mask = model(alone["input_ids"], token_type_ids=alone["token_type_ids"]).logits[0]
        last = model.albert(**batch).last_hidden_state[row]  # (S, H)
        counting_pads = model.classifier(torch.tanh(model.albert.pooler(last.mean(0))))
    torch.testing.assert_close(padded_logits, alone_logits, atol=1e-5, rtol=0)
    torch.testing.assert_close(alone_no_mask, alone_logits, atol=1e-6, rtol=0)
    assert float((counting_pads - alone_logits).abs().max()) > 1e-2  # a mean over pads would fail this test


def test_masked_mean_helper_rows_without_tokens_and_dtype():
    states = torch.randn(3, 5, 4)
    mask = torch.tensor([[1, 1, 1, 0, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]])
    mean = torch_ops.masked_mean(states, mask)
    torch.testing.assert_close(mean[0], states[0, :3].mean(0))
    assert float(mean[1].abs().max()) == 0.0  # no real token: zeros, not NaN
    torch.testing.assert_close(mean[2], states[2].mean(0))
    torch.testing.assert_close(torch_ops.masked_mean(states, None), states.mean(1))
    bf16 = torch_ops.masked_mean(states.bfloat16(), mask)
    assert bf16.dtype == torch.bfloat16
    torch.testing.assert_close(bf16.float(), mean, atol=2e-2, rtol=2e-2)


def test_bf16_autocast_close_to_float32():
    model = _model("AlbertForSequenceClassification")
    batch = _batch(model.config)
    with torch.no_grad():
        reference = model(**batch).logits
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(**batch).logits
    assert float((logits.float() - reference).abs().max()) < 0.1 * float(reference.abs().max())


# ----------------------------------------------------------------------------------------------- fast path
@pytest.mark.parametrize("config_name", ["groups_inner", "relative_key_query"])
@pytest.mark.parametrize("cls_name", HEADS)
def test_fast_path_equals_plain_path(cls_name, config_name, monkeypatch):
    calls = []
    original = packed.packed_forward
    monkeypatch.setattr(packed, "packed_forward", lambda *a, **k: calls.append(1) or original(*a, **k))
    model = _model(cls_name, config_name)
    batch = _choices(model.config) if cls_name == "AlbertForMultipleChoice" else _batch(model.config)
    with torch.no_grad():
        plain = model(**batch).logits
        with fast_path(True):
            fast = model(**batch).logits
            optimized = optimize(model)(**batch).logits
    assert calls, "the fast path did not run"
    torch.testing.assert_close(fast, plain, atol=1e-5, rtol=0)
    torch.testing.assert_close(optimized, plain, atol=1e-5, rtol=0)


def test_optimize_bf16_close_to_float32():
    model = _model("AlbertForSequenceClassification")
    batch = _batch(model.config)
    with torch.no_grad(), fast_path(True):
        reference = model(**batch).logits
        logits = optimize(model, dtype=torch.bfloat16)(**batch).logits
    assert logits.dtype == torch.float32
    assert 0 < float((logits - reference).abs().max()) < 0.1 * float(reference.abs().max())


# ----------------------------------------------------------------------------------------------- TF and Flax
def _cross_framework_batch(name: str, config: AlbertConfig) -> dict[str, np.ndarray]:
    # 61 real tokens in 96 slots: enough padding for the TF/Flax fast paths to pack (and unpack zeros at padding).
    batch = padded_batch(config, batch=6, seq_len=16)
    return {k: v.reshape(3, 2, -1) for k, v in batch.items()} if name == "AlbertForMultipleChoice" else batch


def _assert_matches_pytorch(torch_model: torch.nn.Module, other, batch: dict[str, np.ndarray]) -> None:
    """The TF or Flax model's logits equal PyTorch's within 1e-5, on its plain path and on its fast path."""
    with torch.no_grad():
        expected = torch_model(**{k: torch.from_numpy(v) for k, v in batch.items()}).logits.numpy()
    for enabled in (False, True):
        with fast_path(enabled):
            np.testing.assert_allclose(np.asarray(other(**batch).logits), expected, atol=1e-5, rtol=0)


@pytest.mark.tf
@pytest.mark.parametrize("name", HEADS)
def test_tensorflow_matches_pytorch(name, monkeypatch):
    pytest.importorskip("tensorflow")
    from albertlite import modeling_tf

    from .helpers.tf_pairs import build_pair

    packed_calls = []
    original = modeling_tf.TFAlbertMainLayer._packed_call
    monkeypatch.setattr(
        modeling_tf.TFAlbertMainLayer, "_packed_call", lambda *a, **k: packed_calls.append(1) or original(*a, **k)
    )
    config = tiny_config("groups_inner", classifier_pooling="mean")
    _assert_matches_pytorch(*build_pair(name, config, seed=len(name)), _cross_framework_batch(name, config))
    assert packed_calls, "TF's fast path did not run"


@pytest.mark.flax
@pytest.mark.parametrize("name", HEADS)
def test_flax_matches_pytorch(name, monkeypatch):
    pytest.importorskip("flax")
    from albertlite import modeling_flax

    from .helpers.flax_pairs import build_pair

    plans = []
    original = modeling_flax.FlaxAlbertPreTrainedModel._packing
    monkeypatch.setattr(
        modeling_flax.FlaxAlbertPreTrainedModel, "_packing", lambda *a: plans.append(original(*a)) or plans[-1]
    )
    config = tiny_config("groups_inner", classifier_pooling="mean")
    _assert_matches_pytorch(*build_pair(name, config), _cross_framework_batch(name, config))
    assert any(plan is not None for plan in plans), "Flax's fast path did not run"


# ----------------------------------------------------------------------------------------------- config
def test_config_round_trip_and_json(tmp_path):
    mean = AlbertConfig(classifier_pooling="mean")
    assert AlbertConfig.from_dict(mean.to_dict()).classifier_pooling == "mean"
    assert mean.copy().classifier_pooling == "mean"
    mean.save_pretrained(tmp_path / "mean")
    assert json.loads((tmp_path / "mean" / "config.json").read_text())["classifier_pooling"] == "mean"
    assert AlbertConfig.from_pretrained(tmp_path / "mean") == mean
    AlbertConfig().save_pretrained(tmp_path / "cls")
    assert "classifier_pooling" not in json.loads((tmp_path / "cls" / "config.json").read_text())
    assert AlbertConfig.from_pretrained(tmp_path / "cls").classifier_pooling == "cls"
    assert AlbertConfig(classifier_pooling="cls").to_json_string() == AlbertConfig().to_json_string()
    assert AlbertConfig.from_pretrained(tmp_path / "cls", classifier_pooling="mean") == mean


def test_invalid_value_is_refused():
    with pytest.raises(ValueError, match=r"Unknown classifier_pooling 'max'; expected one of \['cls', 'mean'\]"):
        AlbertConfig(classifier_pooling="max")


def test_model_round_trip_keeps_mean_pooling(tmp_path):
    model = _model("AlbertForSequenceClassification")
    batch = _batch(model.config)
    model.save_pretrained(tmp_path)
    loaded = modeling_torch.AlbertForSequenceClassification.from_pretrained(tmp_path)
    assert loaded.config.classifier_pooling == "mean"
    with torch.no_grad():
        torch.testing.assert_close(loaded(**batch).logits, model(**batch).logits, atol=0, rtol=0)


def test_cls_default_is_the_first_token_pooler():
    torch.manual_seed(0)
    model = modeling_torch.AlbertForSequenceClassification(tiny_config(initializer_range=0.2)).eval()
    batch = _batch(model.config)
    with torch.no_grad():
        expected = model.classifier(model.albert(**batch).pooler_output)
        torch.testing.assert_close(model(**batch).logits, expected, atol=0, rtol=0)
