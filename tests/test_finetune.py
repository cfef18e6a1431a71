"""Fine-tuning: every task learns a rule-decided dataset to >= 0.8 on its metric; saving, resuming, recipes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import albertlite
from albertlite import AlbertForSequenceClassification
from albertlite.optim import LearningRateSchedule, parameter_groups
from albertlite.recipes import RECIPES, get_recipe
from albertlite.tasks import get_task, word_tags
from albertlite.train import finetune as ft
from albertlite.train.metrics_log import read_metrics

from .helpers.finetune import (
    choice_examples,
    mlm_examples,
    ner_examples,
    pair_regression_examples,
    qa_examples,
    sentiment_examples,
    write_jsonl,
)


def _settings(**overrides):
    values = dict(learning_rate=1e-3, batch_size=16, epochs=4, max_length=48, progress=False, seed=0)
    values.update(overrides)
    return ft.FinetuneSettings(**values)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("task", "make", "metric", "threshold", "overrides"),
    [
        ("text-classification", sentiment_examples, "accuracy", 0.8, {}),
        ("text-classification", pair_regression_examples, "pearson", 0.8, {"epochs": 10}),
        ("token-classification", ner_examples, "f1", 0.8, {"epochs": 6}),
        ("question-answering", qa_examples, "f1", 80.0, {}),  # SQuAD scores are percentages
        ("multiple-choice", choice_examples, "accuracy", 0.8, {}),
        ("masked-lm", mlm_examples, "accuracy", 0.8, {"epochs": 10, "max_length": 12, "learning_rate": 2e-3}),
    ],
    ids=["classification", "regression", "tagging", "squad", "choice", "mlm"],
)
def test_every_task_learns_its_rule(base_model, tmp_path, task, make, metric, threshold, overrides):
    count = 240 if task == "masked-lm" else 160  # masked-LM blocks are one short text each
    result = ft.finetune(task, base_model, make(count, 0), make(48, 1), tmp_path / "out", _settings(**overrides))
    assert result.metric == metric
    assert result.best_metric >= threshold, result.history
    # the best epoch's model is what the directory holds, and it reloads with from_pretrained
    reloaded = get_task(task).head_class().from_pretrained(tmp_path / "out")
    assert json.loads((tmp_path / "out" / "task.json").read_text())["task"] == task
    assert reloaded.config.num_labels >= 1
    assert not (tmp_path / "out" / ft.RESUME_DIR).exists()


def test_saved_directory_reloads_with_labels_and_predicts(base_model, tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", sentiment_examples(64, 0))
    dev = write_jsonl(tmp_path / "dev.jsonl", sentiment_examples(32, 1))
    result = ft.finetune("text-classification", base_model, train, dev, tmp_path / "out", _settings(epochs=3))
    model = AlbertForSequenceClassification.from_pretrained(tmp_path / "out")
    assert model.config.id2label == {0: "neg", 1: "pos"}
    saved = json.loads((tmp_path / "out" / ft.RESULTS_FILE).read_text())
    assert saved["best"] == pytest.approx(result.best_metric) and len(saved["history"]) == 3
    assert {"accuracy", "f1", "matthews_correlation", "train_loss"} <= set(saved["history"][0])
    rows = albertlite.predict(tmp_path / "out", dev)  # the task comes from the directory
    accuracy = np.mean([r["label"] == e["label"] for r, e in zip(rows, sentiment_examples(32, 1))])
    assert accuracy == pytest.approx(result.best_metric)  # the saved model is the best epoch's


def test_resume_continues_from_the_last_finished_epoch(base_model, tmp_path):
    train, dev = sentiment_examples(48, 0), sentiment_examples(16, 1)
    full = ft.finetune("classification", base_model, train, dev, tmp_path / "full", _settings(epochs=2))

    class Interrupt(Exception):
        pass

    original = ft._Run._save_resume_point
    calls = {"n": 0}

    def stop_after_first(self, *args):
        original(self, *args)
        calls["n"] += 1
        if calls["n"] == 1:
            raise Interrupt

    ft._Run._save_resume_point = stop_after_first
    try:
        with pytest.raises(Interrupt):
            ft.finetune("classification", base_model, train, dev, tmp_path / "resumed", _settings(epochs=2))
    finally:
        ft._Run._save_resume_point = original
    assert [p.name for p in (tmp_path / "resumed" / ft.RESUME_DIR).iterdir()] == ["step-00000003"]
    resumed = ft.finetune("classification", base_model, train, dev, tmp_path / "resumed", _settings(epochs=2))
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    assert resumed.history[-1]["train_loss"] == pytest.approx(full.history[-1]["train_loss"], rel=1e-4)
    a = AlbertForSequenceClassification.from_pretrained(tmp_path / "full").state_dict()
    b = AlbertForSequenceClassification.from_pretrained(tmp_path / "resumed").state_dict()
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-5


def test_gradient_accumulation_matches_a_full_batch(base_model, tmp_path):
    train = sentiment_examples(32, 0)
    common = dict(epochs=1, batch_size=16, group_by_length=False, warmup_ratio=0.0)
    one = ft.finetune("classification", base_model, train, None, tmp_path / "one", _settings(**common))
    two = ft.finetune(
        "classification", base_model, train, None, tmp_path / "two", _settings(gradient_accumulation_steps=2, **common)
    )
    assert one.history[0]["step"] == two.history[0]["step"] == 2
    a = AlbertForSequenceClassification.from_pretrained(tmp_path / "one").state_dict()
    b = AlbertForSequenceClassification.from_pretrained(tmp_path / "two").state_dict()
    # mean of two half-batch means == the full-batch mean (equal halves): the same update up to rounding
    assert max(float((a[k] - b[k]).abs().max()) for k in a) < 1e-4


def test_early_stopping_and_bf16(base_model, tmp_path):
    settings = _settings(epochs=6, learning_rate=1e-9, early_stopping_patience=1, bf16=True, warmup_ratio=0.0)
    result = ft.finetune("classification", base_model, sentiment_examples(32, 0), sentiment_examples(16, 1),
                         tmp_path / "out", settings)  # fmt: skip
    assert result.epochs_run < 6  # a rate of 1e-9 cannot improve the metric twice in a row


def test_fine_tuning_logs_and_schedules_with_the_shared_toolkit(base_model, tmp_path):
    settings = _settings(epochs=2, batch_size=8, warmup_ratio=0.25, learning_rate=1e-3)
    ft.finetune("classification", base_model, sentiment_examples(32, 0), sentiment_examples(16, 1), tmp_path / "o",
                settings)  # fmt: skip
    records = read_metrics(tmp_path / "o" / "metrics.jsonl")
    train = [r for r in records if r["split"] == "train"]
    evals = [r for r in records if r["split"] == "eval"]
    assert [r["step"] for r in train] == list(range(1, 9)) and [r["step"] for r in evals] == [4, 8]
    schedule = LearningRateSchedule(1e-3, total_steps=8, warmup_steps=2, kind="linear")  # transformers' linear
    assert [r["lr"] for r in train] == pytest.approx([schedule(step) for step in range(8)])
    assert all(np.isfinite(r["loss"]) and r["grad_norm"] > 0 for r in train)
    assert {"accuracy", "f1", "train_loss", "epoch"} <= set(evals[0])
    assert (tmp_path / "o" / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "o" / "tensorboard").is_dir()


def test_weight_decay_skips_biases_and_layer_norms(base_model):
    model = AlbertForSequenceClassification.from_pretrained(base_model, num_labels=2)
    decay, no_decay = parameter_groups(model, 0.01)
    names = {id(p): n for n, p in model.named_parameters()}
    assert all(not names[id(p)].endswith("bias") and "LayerNorm" not in names[id(p)] for p in decay["params"])
    assert any("LayerNorm" in names[id(p)] for p in no_decay["params"]) and no_decay["weight_decay"] == 0.0


def test_recipes_follow_the_paper():
    squad2 = get_recipe("SQuAD2")
    assert (squad2.learning_rate, squad2.batch_size, squad2.max_steps, squad2.warmup_steps) == (3e-5, 48, 8144, 814)
    assert squad2.extra["doc_stride"] == 128 and squad2.extra["version_2"] is True
    assert get_recipe("race").task == "multiple-choice" and get_recipe("stsb").extra == {"regression": True}
    assert len(RECIPES) == 12
    settings = ft.FinetuneSettings.from_recipe("squad2", batch_size=8, epochs=None)
    assert (settings.batch_size, settings.learning_rate, settings.version_2, settings.max_length) == (
        8,
        3e-5,
        True,
        512,
    )
    with pytest.raises(ValueError, match="Unknown recipe"):
        get_recipe("glue")


@pytest.mark.parametrize("flags", ["avx512f avx512_bf16", "avx512f amx_bf16 amx_tile", "avx2 avx512f avx512_vnni"])
@pytest.mark.parametrize("rates", [(240.0, 700.0), (243.0, 142.0)])  # fp32, bf16 GFLOP/s: AMX-like; no bf16 gain
def test_recipes_train_in_bf16_where_bf16_arithmetic_measures_faster(flags, rates, monkeypatch):
    from albertlite import devices

    monkeypatch.setattr(devices, "_cpu_flags", lambda: set(flags.split()))
    monkeypatch.setattr(devices, "cpu_gemm_rates", lambda: rates)
    native = "bf16" in flags
    assert devices.native_bf16(torch.device("cpu")) is native
    faster = native and rates[1] >= devices.BF16_MIN_SPEEDUP * rates[0]
    assert devices.bf16_pays_off(torch.device("cpu")) is faster
    assert ft.FinetuneSettings.from_recipe("mrpc", device="cpu").bf16 is faster
    assert ft.FinetuneSettings.from_recipe("mrpc", device="cpu", bf16=False).bf16 is False  # --no-bf16
    assert ft.FinetuneSettings().bf16 is False  # without a recipe: off
    from albertlite.fast.machine_report import bf16_line  # what `albertlite info --fast-path` says about it

    expected = "under bf16 autocast" if faster else ("in float32: a 512x768x3072" if native else "reports no bf16")
    assert expected in bf16_line()


def test_cpu_gemm_rates_are_measured_once():
    from albertlite import devices

    devices.cpu_gemm_rates.cache_clear()
    fp32, bf16 = devices.cpu_gemm_rates()
    assert fp32 > 0 and bf16 > 0
    assert devices.cpu_gemm_rates() == (fp32, bf16)  # cached: one measurement per process


def test_cpu_flags_come_from_cpuinfo_never_the_vendor(tmp_path, monkeypatch):
    from albertlite import devices

    cpuinfo = "vendor_id\t: SomeVendor\nmodel name\t: Anything bf16\nflags\t\t: fpu avx512f avx512_bf16\n"
    real_open = open
    monkeypatch.setattr("builtins.open", lambda path, *a, **k: real_open(tmp_path / "cpuinfo", *a, **k)
                        if path == "/proc/cpuinfo" else real_open(path, *a, **k))  # fmt: skip
    (tmp_path / "cpuinfo").write_text(cpuinfo)
    assert devices._cpu_flags() == {"fpu", "avx512f", "avx512_bf16"}
    (tmp_path / "cpuinfo").write_text(cpuinfo.replace("avx512_bf16", "avx2"))
    assert devices.native_bf16(torch.device("cpu")) is False  # "bf16" in the model name does not count


def test_unseen_validation_label_is_an_error(base_model, tmp_path):
    dev = write_jsonl(tmp_path / "dev.jsonl", [{"text": "a", "label": "maybe"}])
    with pytest.raises(ValueError, match=r"dev\.jsonl, example 0: label 'maybe' was not seen in training"):
        ft.finetune("classification", base_model, sentiment_examples(8, 0), dev, tmp_path / "out", _settings())


def test_squad_v1_with_unanswerable_validation_fails_before_training(base_model, tmp_path):
    dev = qa_examples(4, 1, unanswerable=1.0)
    with pytest.raises(ValueError, match=r"validation data, example 0: a question without an answer.*version_2=True"):
        ft.finetune("squad", base_model, qa_examples(8, 0), dev, tmp_path / "out", _settings())
    assert not (tmp_path / "out" / "model.safetensors").exists()


def test_word_tags_take_the_first_piece():
    logits = torch.tensor([[9, 0], [0, 9], [9, 0], [9, 0], [0, 9]], dtype=torch.float32).numpy()
    assert word_tags([None, 0, 0, 1, None], logits, ["O", "B-X"], 3) == ["B-X", "O", "O"]
