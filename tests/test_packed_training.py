"""Padding-free training: the packed step's loss and gradients equal the padded step's, for every head."""

from __future__ import annotations

import pytest
import torch

import albertlite
from albertlite.fast import fast_path, packed_training
from albertlite.fast.packed import FastOptions
from albertlite.tasks import get_task

from .helpers.models import MODEL_CLASSES, tiny_config
from .helpers.torch_pairs import model_inputs, scramble

USES_FAST_PATH = True
NO_DROPOUT = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, classifier_dropout_prob=0.0)
CONFIG_NAMES = ("shared", "relative_key_query")  # one shared layer; 2 groups x 2 inner layers, relative positions


class Calls:
    """Counts packed_train_forward calls (so a test knows which path ran)."""

    def __init__(self, monkeypatch) -> None:
        self.count = 0
        original = packed_training.packed_train_forward

        def counted(*args, **kwargs):
            self.count += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(packed_training, "packed_train_forward", counted)


def _step(model: torch.nn.Module, batch: dict, packed: bool) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    model.base_model.packed_training = packed
    loss = model(**batch).loss
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def _assert_same_gradients(packed: dict, padded: dict) -> None:
    assert packed.keys() == padded.keys()
    largest = max(float(g.abs().max()) for g in padded.values())
    for name, grad in padded.items():
        error = float((packed[name] - grad).abs().max())
        assert error <= 1e-5 * largest, (name, error, largest)


def _model(name: str, config_name: str, checkpointing: bool = False, **overrides) -> torch.nn.Module:
    config = tiny_config(config_name, **{**NO_DROPOUT, **overrides})
    torch.manual_seed(0)
    model = getattr(albertlite, name)(config).train()
    scramble(model, 0)
    if checkpointing:
        model.gradient_checkpointing_enable()
    return model


TRAINED_PACKED = [n for n in MODEL_CLASSES if n not in ("AlbertModel", "AlbertForQuestionAnswering")]


@pytest.mark.parametrize("checkpointing", [False, True], ids=["plain", "checkpointing"])
@pytest.mark.parametrize("config_name", CONFIG_NAMES)
@pytest.mark.parametrize("name", TRAINED_PACKED)
def test_packed_step_gradients_equal_the_padded_steps(name, config_name, checkpointing, monkeypatch):
    model = _model(name, config_name, checkpointing)
    batch = model_inputs(name, model.config, labels=True)
    calls = Calls(monkeypatch)
    padded_loss, padded = _step(model, batch, packed=False)
    assert calls.count == 0
    packed_loss, packed = _step(model, batch, packed=True)
    assert calls.count == 1  # the packed path ran
    torch.testing.assert_close(packed_loss, padded_loss, atol=1e-6, rtol=1e-6)
    _assert_same_gradients(packed, padded)


def test_the_base_model_trains_packed_on_a_loss_of_its_real_positions(monkeypatch):
    model = _model("AlbertModel", "groups_inner")
    batch = model_inputs("AlbertModel", model.config)
    real = batch["attention_mask"].bool()
    calls = Calls(monkeypatch)
    grads = {}
    for packed in (False, True):
        model.zero_grad(set_to_none=True)
        model.packed_training = packed
        out = model(**batch)
        (out.last_hidden_state[real].square().mean() + out.pooler_output.sum()).backward()
        grads[packed] = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        if packed:
            assert bool((out.last_hidden_state[~real] == 0).all())  # padded positions are zeros
    assert calls.count == 1
    _assert_same_gradients(grads[True], grads[False])


def test_question_answering_trains_padded_because_its_span_loss_reads_padded_positions(monkeypatch):
    model = _model("AlbertForQuestionAnswering", "shared")
    calls = Calls(monkeypatch)
    model(**model_inputs("AlbertForQuestionAnswering", model.config, labels=True)).loss.backward()
    assert calls.count == 0 and model.albert.packed_training is False


@pytest.mark.parametrize(
    "switch",
    [
        "fast_path_off",
        "eval",
        "no_grad",
        "no_padding",
        "little_padding",
        "head_mask",
        "output_attentions",
        "left_padded_relative",
    ],
)
def test_the_padded_path_runs_where_packing_would_not_reproduce_it(switch, monkeypatch):
    config_name = "relative_key_query" if switch == "left_padded_relative" else "shared"
    model = _model("AlbertForSequenceClassification", config_name)
    batch = model_inputs("AlbertForSequenceClassification", model.config, labels=True)
    if switch == "no_padding":
        batch["attention_mask"] = torch.ones_like(batch["attention_mask"])
    if switch == "little_padding":  # one padded position: below packed_training.MIN_PADDING_SHARE
        batch["attention_mask"] = torch.ones_like(batch["attention_mask"])
        batch["attention_mask"][0, -1] = 0
        assert 1 / batch["attention_mask"].numel() < packed_training.MIN_PADDING_SHARE
    if switch == "left_padded_relative":
        batch = {k: v.flip(1) if v.dim() == 2 else v for k, v in batch.items()}
        model.config.classifier_pooling = "mean"  # position 0 may be padding now
    extra = {"head_mask": torch.ones(model.config.num_attention_heads)} if switch == "head_mask" else {}
    extra |= {"output_attentions": True} if switch == "output_attentions" else {}
    calls = Calls(monkeypatch)
    if switch == "eval":
        model.eval()
    with fast_path(switch != "fast_path_off"), torch.set_grad_enabled(switch != "no_grad"):
        model(**batch, **extra)
    assert calls.count == 0


def test_loop_attention_kernel_gives_the_same_gradients():
    model = _model("AlbertForSequenceClassification", "relative_key_query")
    batch = model_inputs("AlbertForSequenceClassification", model.config, labels=True)
    _, padded = _step(model, batch, packed=False)
    model.albert.fast_options = FastOptions(attention="loop")
    _, looped = _step(model, batch, packed=True)
    _assert_same_gradients(looped, padded)


def test_seeded_dropout_repeats_exactly():
    model = _model("AlbertForSequenceClassification", "groups_inner", hidden_dropout_prob=0.2,
                   attention_probs_dropout_prob=0.1, classifier_dropout_prob=0.1)  # fmt: skip
    batch = model_inputs("AlbertForSequenceClassification", model.config, labels=True)
    runs = []
    for _ in range(2):
        torch.manual_seed(7)
        runs.append(_step(model, batch, packed=True))
    assert torch.equal(runs[0][0], runs[1][0])
    assert all(torch.equal(runs[0][1][n], runs[1][1][n]) for n in runs[0][1])
    torch.manual_seed(8)
    other_loss, _ = _step(model, batch, packed=True)
    assert not torch.equal(other_loss, runs[0][0])  # dropout is really drawn


def test_sample_keyed_dropout_draws_the_padded_steps_masks_for_packed_tokens(monkeypatch):
    """Pretraining's dropout keyed by sample position: with hidden dropout on, the packed step equals the padded one."""
    from albertlite.train.sample_dropout import key_dropout_per_sample, sample_dropout, sample_keys

    model = _model("AlbertForPreTraining", "groups_inner", hidden_dropout_prob=0.2, classifier_dropout_prob=0.1)
    assert key_dropout_per_sample(model) > 0
    batch = model_inputs("AlbertForPreTraining", model.config, labels=True)
    keys = sample_keys(3, range(batch["input_ids"].shape[0]))
    calls = Calls(monkeypatch)
    steps = {}
    for packed in (False, True):
        with sample_dropout(keys):
            steps[packed] = _step(model, batch, packed=packed)
    assert calls.count == 1
    torch.testing.assert_close(steps[True][0], steps[False][0], atol=1e-6, rtol=1e-6)
    _assert_same_gradients(steps[True][1], steps[False][1])
    model.eval()
    with torch.no_grad():
        undropped = model(**batch).loss
    assert abs(float(undropped) - float(steps[True][0])) > 1e-4  # dropout really dropped something


@pytest.mark.parametrize(
    ("task", "make"),
    [("text-classification", "sentiment_examples"), ("token-classification", "ner_examples")],
    ids=["classification", "tagging"],
)
def test_finetune_packed_ends_with_the_padded_runs_weights_and_metrics(base_model, tmp_path, task, make, monkeypatch):
    from albertlite.train import finetune as ft

    from .helpers import finetune as data

    examples = getattr(data, make)
    train, validation = examples(48, 0), examples(16, 1)
    monkeypatch.setattr(packed_training, "MIN_PADDING_SHARE", 0.0)  # pack every padded batch of these short sentences
    calls = Calls(monkeypatch)
    runs = {}
    for packed in (True, False):
        settings = ft.FinetuneSettings(learning_rate=1e-3, batch_size=8, epochs=2, max_length=32, progress=False,
                                       seed=0, dropout=0.0, classifier_dropout=0.0, packed=packed, plot=False,
                                       tensorboard=False)  # fmt: skip
        result = ft.finetune(task, base_model, train, validation, tmp_path / str(packed), settings)
        runs[packed] = (result, get_task(task).head_class().from_pretrained(result.output_dir))
        if packed:
            assert calls.count > 0  # the packed path trained
            seen = calls.count
    assert calls.count == seen  # and --no-packed did not use it
    (packed_result, packed_model), (padded_result, padded_model) = runs[True], runs[False]
    padded_state = padded_model.state_dict()
    for name, value in packed_model.state_dict().items():
        torch.testing.assert_close(value, padded_state[name], atol=1e-5, rtol=1e-4, msg=name)
    for a, b in zip(packed_result.history, padded_result.history):
        for key, value in a.items():
            if isinstance(value, float):
                assert value == pytest.approx(b[key], abs=1e-4), key
    assert packed_result.best_metric == pytest.approx(padded_result.best_metric, abs=1e-6)
