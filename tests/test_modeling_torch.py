"""PyTorch models against Hugging Face transformers 5 on the same random weights (plain path)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import albertlite
from albertlite import AlbertConfig

from .helpers.models import CONFIGS, MODEL_CLASSES, tiny_config
from .helpers.torch_pairs import build_pair, model_inputs, scramble

transformers = pytest.importorskip("transformers")

HEADS = MODEL_CLASSES
ATOL = 1e-5


def real(mask: torch.Tensor, tensor: torch.Tensor) -> torch.Tensor:
    """Rows of ``tensor`` (B, S, ...) at real (non-padding) positions."""
    return tensor.reshape(-1, *tensor.shape[mask.dim() :])[mask.reshape(-1).bool()]


def assert_outputs_match(ours, theirs, mask, atol=ATOL):
    for key in ours:
        a, b = ours[key], theirs[key]
        if key == "hidden_states":
            assert len(a) == len(b)
            for x, y in zip(a, b):
                torch.testing.assert_close(real(mask, x), real(mask, y), atol=atol, rtol=0)
        elif key == "attentions":
            assert len(a) == len(b)
            for x, y in zip(a, b):
                torch.testing.assert_close(x, y, atol=atol, rtol=0)
        elif key in ("last_hidden_state", "prediction_logits") or (key == "logits" and a.dim() == 3):
            torch.testing.assert_close(real(mask, a), real(mask, b), atol=atol, rtol=0)
        elif key in ("start_logits", "end_logits"):
            torch.testing.assert_close(a[mask.bool()], b[mask.bool()], atol=atol, rtol=0)
        else:
            torch.testing.assert_close(a, b, atol=atol, rtol=0)


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
@pytest.mark.parametrize("name", HEADS)
def test_matches_hugging_face_eager(name, config_name):
    config = tiny_config(config_name)
    ours, theirs = build_pair(name, config)
    inputs = model_inputs(name, config, labels=name != "AlbertModel")
    with torch.no_grad():
        a = ours(**inputs, output_hidden_states=True, output_attentions=True)
        b = theirs(**inputs, output_hidden_states=True, output_attentions=True)
    assert len(a.hidden_states) == config.num_hidden_layers * config.inner_group_num + 1
    assert len(a.attentions) == config.num_hidden_layers * config.inner_group_num
    if name != "AlbertModel":
        assert a.loss is not None and torch.isfinite(a.loss)
    mask = inputs["attention_mask"].reshape(-1, inputs["attention_mask"].shape[-1])
    if name == "AlbertForMultipleChoice":
        assert_outputs_match(a, b, mask)
    else:
        assert_outputs_match(a, b, inputs["attention_mask"])


@pytest.mark.parametrize("name", ["AlbertModel", "AlbertForSequenceClassification", "AlbertForQuestionAnswering"])
def test_matches_hugging_face_sdpa(name):
    config = tiny_config("groups_inner")
    ours, theirs = build_pair(name, config, attn="sdpa")
    inputs = model_inputs(name, config, labels=True)
    with torch.no_grad():
        a, b = ours(**inputs), theirs(**inputs)
    assert_outputs_match(a, b, inputs["attention_mask"])


@pytest.mark.parametrize("problem_type", ["regression", "single_label_classification", "multi_label_classification"])
def test_sequence_classification_problem_types(problem_type):
    num_labels = 1 if problem_type == "regression" else 3
    config = tiny_config("shared", num_labels=num_labels)
    ours, theirs = build_pair("AlbertForSequenceClassification", config)
    inputs = model_inputs("AlbertForSequenceClassification", config)
    labels = {
        "regression": torch.tensor([0.5, -1.0, 2.0]),
        "single_label_classification": torch.tensor([0, 2, 1]),
        "multi_label_classification": torch.tensor([[1.0, 0, 1], [0, 0, 0], [1, 1, 1]]),
    }[problem_type]
    with torch.no_grad():
        a = ours(**inputs, labels=labels)
        b = theirs(**inputs, labels=labels)
    torch.testing.assert_close(a.loss, b.loss, atol=ATOL, rtol=0)
    assert theirs.config.problem_type == problem_type  # Hugging Face inferred the same type


def test_outputs_by_attribute_index_and_tuple():
    config = tiny_config()
    model = albertlite.AlbertForSequenceClassification(config).eval()
    inputs = model_inputs("AlbertForSequenceClassification", config, labels=True)
    out = model(**inputs)
    assert out[0] is out.loss and out[1] is out.logits and out["logits"] is out.logits
    assert list(out.keys()) == ["loss", "logits"]
    as_tuple = model(**inputs, return_dict=False)
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 2
    torch.testing.assert_close(as_tuple[1], out.logits)
    assert model(inputs["input_ids"]).logits.shape == (3, 2)


@pytest.mark.parametrize("use_checkpointing", [False, True])
@pytest.mark.parametrize("name", ["AlbertForPreTraining", "AlbertForQuestionAnswering", "AlbertForMultipleChoice"])
def test_gradients_match_hugging_face(name, use_checkpointing):
    config = tiny_config("groups_inner", classifier_dropout_prob=0.0)
    ours, theirs = build_pair(name, config)
    ours.train()
    theirs.train()
    if use_checkpointing:
        ours.gradient_checkpointing_enable()
        assert ours.is_gradient_checkpointing
    inputs = model_inputs(name, config, labels=True)
    ours(**inputs).loss.backward()
    theirs(**inputs).loss.backward()
    theirs_grads = dict(theirs.named_parameters())
    largest = max(p.grad.abs().max().item() for p in theirs.parameters() if p.grad is not None)
    for key, param in ours.named_parameters():
        other = theirs_grads[key].grad
        if other is None:
            assert param.grad is None or not param.grad.any(), key
            continue
        assert (param.grad - other).abs().max().item() <= 1e-5 * largest, key


def test_gradient_checkpointing_gives_identical_gradients_with_dropout():
    config = tiny_config("groups_inner", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    model = albertlite.AlbertForMaskedLM(config).train()
    inputs = model_inputs("AlbertForMaskedLM", config, labels=True)
    grads = []
    for checkpointing in (False, True):
        model.zero_grad()
        if checkpointing:
            model.gradient_checkpointing_enable()
        torch.manual_seed(7)
        model(**inputs).loss.backward()
        grads.append({k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None})
    for key in grads[0]:
        torch.testing.assert_close(grads[0][key], grads[1][key], atol=1e-6, rtol=1e-5)


def test_dropout_after_ffn_output_in_training_only():
    config = tiny_config("shared", hidden_dropout_prob=0.5)
    model = albertlite.AlbertModel(config)
    layer = model.encoder.albert_layer_groups[0].albert_layers[0]
    assert layer.dropout.p == 0.5
    inputs = model_inputs("AlbertModel", config)
    model.eval()
    with torch.no_grad():
        first, second = model(**inputs).last_hidden_state, model(**inputs).last_hidden_state
    torch.testing.assert_close(first, second, rtol=0, atol=0)
    model.train()
    calls = []
    layer.dropout.register_forward_hook(lambda module, args, out: calls.append(out))
    model(**inputs)
    assert len(calls) == config.num_hidden_layers and (calls[0] == 0).any()


def test_initialisation_scheme():
    config = AlbertConfig(
        **{**tiny_config().to_dict(), "vocab_size": 2000, "hidden_size": 64, "intermediate_size": 256}
    )
    model = albertlite.AlbertForMaskedLM(config)
    embedding = model.albert.embeddings.word_embeddings.weight
    assert torch.all(embedding[config.pad_token_id] == 0)
    assert abs(embedding[1:].std().item() - config.initializer_range) < 0.002
    layer = model.albert.encoder.albert_layer_groups[0].albert_layers[0]
    assert abs(layer.ffn.weight.std().item() - config.initializer_range) < 0.002
    assert torch.all(layer.ffn.bias == 0) and torch.all(layer.full_layer_layer_norm.weight == 1)
    assert torch.all(model.predictions.bias == 0)
    assert model.predictions.decoder.weight is embedding and model.predictions.decoder.bias is model.predictions.bias


def test_resize_token_embeddings_keeps_old_rows_and_ties():
    config = tiny_config()
    old_vocab = config.vocab_size
    model = albertlite.AlbertForMaskedLM(config).eval()
    inputs = model_inputs("AlbertForMaskedLM", config)
    with torch.no_grad():
        before = model(**inputs).logits
    model.resize_token_embeddings(120, pad_to_multiple_of=8)
    assert model.config.vocab_size == 120
    assert model.predictions.decoder.weight is model.albert.embeddings.word_embeddings.weight
    assert model.predictions.bias.shape == (120,) and model.predictions.decoder.bias is model.predictions.bias
    with torch.no_grad():
        after = model(**inputs).logits
    torch.testing.assert_close(after[..., :old_vocab], before, atol=1e-6, rtol=0)
    assert model(torch.tensor([[2, 119, 3]])).logits.shape == (1, 3, 120)


def test_prune_heads_equals_masking_them():
    config = tiny_config("groups_inner")
    model = albertlite.AlbertModel(config).eval()
    scramble(model, 3)
    inputs = model_inputs("AlbertModel", config)
    mask = torch.ones(config.num_applied_layers, config.num_attention_heads)
    # Flattened index: group 0 inner 1 is layer 1, group 1 inner 0 is layer 2 (Hugging Face's numbering).
    for applied, layer in enumerate(model.encoder.execution_order()):
        if layer is model.encoder.albert_layer_groups[0].albert_layers[1]:
            mask[applied, [0, 2]] = 0
        if layer is model.encoder.albert_layer_groups[1].albert_layers[0]:
            mask[applied, 3] = 0
    with torch.no_grad():
        masked = model(**inputs, head_mask=mask).last_hidden_state
        model.prune_heads({1: [0, 2], 2: [3]})
        pruned = model(**inputs).last_hidden_state
    torch.testing.assert_close(
        real(inputs["attention_mask"], pruned), real(inputs["attention_mask"], masked), atol=1e-5, rtol=0
    )
    assert model.encoder.albert_layer_groups[0].albert_layers[1].attention.query.weight.shape == (16, 32)
    assert model.config.extra["pruned_heads"] == {"1": [0, 2], "2": [3]}


def test_pruned_model_round_trips(tmp_path):
    config = tiny_config("groups_inner")
    model = albertlite.AlbertModel(config).eval()
    model.prune_heads({0: [1], 3: [0, 1]})
    model.save_pretrained(tmp_path)
    loaded = albertlite.AlbertModel.from_pretrained(tmp_path)
    inputs = model_inputs("AlbertModel", config)
    with torch.no_grad():
        torch.testing.assert_close(loaded(**inputs).last_hidden_state, model(**inputs).last_hidden_state)


def test_sdpa_and_eager_agree():
    config = tiny_config("groups_inner")
    model = albertlite.AlbertForPreTraining(config).eval()
    scramble(model, 5)
    inputs = model_inputs("AlbertForPreTraining", config)
    with torch.no_grad():
        sdpa = model(**inputs).prediction_logits
        model.set_attn_implementation("eager")
        eager = model(**inputs).prediction_logits
    torch.testing.assert_close(
        real(inputs["attention_mask"], sdpa), real(inputs["attention_mask"], eager), atol=1e-5, rtol=0
    )


def test_inputs_embeds_equal_input_ids():
    config = tiny_config()
    model = albertlite.AlbertModel(config).eval()
    inputs = model_inputs("AlbertModel", config)
    embeds = model.embeddings.word_embeddings(inputs["input_ids"])
    with torch.no_grad():
        a = model(**inputs).last_hidden_state
        b = model(
            inputs_embeds=embeds, attention_mask=inputs["attention_mask"], token_type_ids=inputs["token_type_ids"]
        )
    torch.testing.assert_close(a, b.last_hidden_state)


def test_num_parameters_counts_shared_weights_once():
    config = AlbertConfig.from_preset("albert-base-v2")
    model = albertlite.AlbertModel(config)
    # The paper's 12M for ALBERT-base (embeddings 3.9M + one shared layer 7.1M + projection and pooler).
    assert 11_000_000 < model.num_parameters() < 12_500_000
    hf = transformers.AlbertModel(transformers.AlbertConfig(**config.to_dict()))
    assert model.num_parameters() == hf.num_parameters()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: dict(input_ids=torch.tensor([[2, 99, 3]])), r"input_ids holds 99, outside \[0, vocab_size=99\)"),
        (lambda: dict(input_ids=torch.tensor([[2, -1, 3]])), r"input_ids holds -1"),
        (lambda: dict(input_ids=torch.tensor([[2, 5, 3]]), token_type_ids=torch.tensor([[0, 2, 0]])),
         r"token_type_ids holds 2, outside \[0, type_vocab_size=2\)"),
        (lambda: dict(input_ids=torch.ones(1, 41, dtype=torch.long)), r"41 tokens .* max_position_embeddings=40"),
        (lambda: dict(input_ids=torch.ones(2, 5, dtype=torch.long), attention_mask=torch.ones(2, 4)),
         r"attention_mask has shape \(2, 4\) but the input has shape \(2, 5\)"),
        (lambda: dict(input_ids=torch.ones(2, 5, dtype=torch.long), token_type_ids=torch.zeros(1, 5, dtype=torch.long)),
         r"token_type_ids has shape \(1, 5\)"),
        (lambda: dict(), r"exactly one of input_ids and inputs_embeds \(neither was given\)"),
        (lambda: dict(input_ids=torch.ones(1, 3, dtype=torch.long), inputs_embeds=torch.zeros(1, 3, 16)),
         r"both were given"),
        (lambda: dict(input_ids=torch.ones(3, dtype=torch.long)), r"shape \(batch, sequence_length\)"),
        (lambda: dict(input_ids=torch.ones(1, 3)), r"integer tensor"),
        (lambda: dict(input_ids=torch.ones(1, 3, dtype=torch.long), head_mask=torch.ones(2, 4)),
         r"head_mask has shape"),
    ],
)  # fmt: skip
def test_bad_input_raises_clear_value_error(build, message):
    model = albertlite.AlbertModel(tiny_config()).eval()
    with pytest.raises(ValueError, match=message):
        model(**build())


def test_bad_labels_raise_clear_value_error():
    config = tiny_config()
    model = albertlite.AlbertForSequenceClassification(config)
    with pytest.raises(ValueError, match=r"labels holds 5; expected values in \[0, 2\)"):
        model(torch.tensor([[2, 5, 3]]), labels=torch.tensor([5]))


def test_numpy_inputs_are_not_silently_accepted():
    model = albertlite.AlbertModel(tiny_config())
    with pytest.raises((TypeError, AttributeError)):
        model(np.ones((1, 3), dtype=np.int64))
