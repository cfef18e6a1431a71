"""`albertlite evaluate` and the scoring it shares with `pretrain --eval-data`: hand-computed figures, fixed masks,
the unigram baseline, bad inputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from albertlite.cli import main
from albertlite.data.shards import PretrainingShards
from albertlite.train import PretrainConfig, pretrain
from albertlite.train.evaluation import (
    UNIGRAM_FILE,
    UnigramBaseline,
    evaluate_model,
    text_samples,
)

from .helpers.pretrain import build_tiny_corpus, tiny_options


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_tiny_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def run(corpus, tmp_path_factory):
    """A pretrain output: the model, its tokenizer and the unigram counts of its training tokens."""
    output = tmp_path_factory.mktemp("run") / "run"
    pretrain(PretrainConfig(**tiny_options(corpus, output, steps=6, save_every=6, eval_every=6)))
    return output


def _held_out(corpus):
    return corpus.tokenizer.parent / "held_out.txt"


def _by_hand(model, samples) -> dict[str, float]:
    """The figures from whole-sequence forward passes, one instance at a time, without the library's batching."""
    losses, correct, sop_right = [], [], []
    with torch.no_grad():
        for sample in samples:
            ids, types = torch.from_numpy(sample["input_ids"])[None], torch.from_numpy(sample["token_type_ids"])[None]
            out = model(input_ids=ids, token_type_ids=types)
            logits = out.prediction_logits[0, torch.from_numpy(sample["masked_lm_positions"])]
            labels = torch.from_numpy(sample["masked_lm_labels"])
            losses += F.cross_entropy(logits, labels, reduction="none").tolist()
            correct += (logits.argmax(-1) == labels).tolist()
            sop_right.append(int(out.sop_logits[0].argmax()) == int(sample["sentence_order_label"]))
    return {"mlm_loss": np.mean(losses), "mlm_acc": np.mean(correct), "sop_acc": np.mean(sop_right)}


def test_evaluate_equals_a_hand_computation(run, corpus):
    from albertlite.modeling_torch import AlbertForPreTraining
    from albertlite.tokenization_auto import load_tokenizer

    result = evaluate_model(run, [_held_out(corpus)], max_seq_length=64, batch_size=7)
    samples = text_samples([_held_out(corpus)], load_tokenizer(str(run)), max_seq_length=64)
    expected = _by_hand(AlbertForPreTraining.from_pretrained(run), samples)
    assert result["instances"] == len(samples) > 10
    assert result["masked"] == sum(len(s["masked_lm_labels"]) for s in samples)
    assert result["mlm_loss"] == pytest.approx(expected["mlm_loss"], rel=1e-5)
    assert result["mlm_acc"] == pytest.approx(expected["mlm_acc"], abs=1e-12)
    assert result["sop_acc"] == pytest.approx(expected["sop_acc"], abs=1e-12)
    # the baseline: add-one smoothed counts of the training tokens, on the same masked labels
    counts = np.load(run / UNIGRAM_FILE)
    labels = np.concatenate([s["masked_lm_labels"] for s in samples])
    by_hand = -np.mean(np.log((counts[labels] + 1) / (counts.sum() + len(counts))))
    assert result["unigram_mlm_loss"] == pytest.approx(by_hand, rel=1e-12)
    assert result["mlm_loss"] < result["unigram_mlm_loss"] + 1.0  # a trained model is near the plateau or below


def test_fixed_masks_give_identical_figures_and_the_seed_changes_them(run, corpus):
    first = evaluate_model(run, [_held_out(corpus)], max_seq_length=64)
    assert evaluate_model(run, [_held_out(corpus)], max_seq_length=64, batch_size=5)["masked"] == first["masked"]
    assert evaluate_model(run, [_held_out(corpus)], max_seq_length=64) == first
    assert evaluate_model(run, [_held_out(corpus)], max_seq_length=64, seed=1)["mlm_loss"] != first["mlm_loss"]


def test_unigram_baseline_on_a_tiny_counts_table():
    baseline = UnigramBaseline(np.array([3, 1, 0, 0]))  # N = 4 tokens, V = 4 ids: p = (c + 1) / 8
    expected = -(math.log(4 / 8) + math.log(2 / 8) + math.log(1 / 8) + math.log(4 / 8))
    assert float(baseline.loss_sum(torch.tensor([0, 1, 2, 0]))) == pytest.approx(expected, rel=1e-15)
    with pytest.raises(ValueError, match="non-negative"):
        UnigramBaseline(np.array([1, -1]))


def test_pretrain_writes_the_counts_of_its_training_tokens(run, corpus):
    data = PretrainingShards(corpus.data)
    specials = data.manifest["tokenizer"]["all_special_ids"]
    by_hand = np.zeros(data.manifest["tokenizer"]["vocab_size"], dtype=np.int64)
    for index in range(len(data)):
        sample = data[index]
        ids = sample["input_ids"].copy()
        ids[sample["masked_lm_positions"]] = sample["masked_lm_labels"]  # the text's tokens, not [MASK]
        for token in ids:
            by_hand[token] += token not in specials
    assert by_hand.sum() > 1000
    assert np.array_equal(np.load(run / UNIGRAM_FILE), by_hand)
    assert np.array_equal(data.token_counts(), by_hand)


def test_eval_data_during_training_is_the_same_scoring(run, corpus):
    from albertlite.train.metrics_log import read_metrics

    last = [r for r in read_metrics(run / "metrics.jsonl") if r["split"] == "eval"][-1]
    assert last["step"] == 6 and "unigram_mlm_loss" in last
    data = PretrainingShards(corpus.eval_data)
    labels = np.concatenate([data[i]["masked_lm_labels"] for i in range(64)])  # eval_samples=64
    counts = np.load(run / UNIGRAM_FILE)
    by_hand = -np.mean(np.log((counts[labels] + 1) / (counts.sum() + len(counts))))
    assert last["unigram_mlm_loss"] == pytest.approx(by_hand, rel=1e-12)


def test_cli_table_and_json(run, corpus, capsys):
    assert main(["evaluate", str(run), "--input", str(_held_out(corpus)), "--max-seq-length", "64"]) == 0
    table = capsys.readouterr().out
    assert "MLM loss" in table and "SOP accuracy" in table and "unigram baseline MLM loss" in table
    assert "unavailable" not in table
    args = ["evaluate", str(run), "--input", str(_held_out(corpus)), "--max-seq-length", "64", "--output", "json"]
    assert main(args) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures == evaluate_model(run, [_held_out(corpus)], max_seq_length=64)
    assert f"{figures['mlm_loss']:.4f}" in table
    assert figures == evaluate_model(run, [_held_out(corpus)])  # the default length: the model's 64


def test_a_masked_lm_only_model_reports_sop_and_baseline_unavailable(base_model, tmp_path, capsys):
    text = tmp_path / "text.txt"
    text.write_text("the cat sat on the mat.\nit was warm there.\n\na tree grew.\nits leaves were green.\n")
    assert main(["evaluate", str(base_model), "--input", str(text), "--max-seq-length", "32"]) == 0
    out = capsys.readouterr().out
    assert "SOP accuracy" in out and "unavailable (no SOP head)" in out
    assert "unavailable (no unigram_counts.npy" in out
    result = evaluate_model(base_model, [text], max_seq_length=32)
    assert result["sop_acc"] is None and result["unigram_mlm_loss"] is None and math.isfinite(result["mlm_loss"])


def _one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    return lines[0]


def test_bad_inputs_are_one_line_errors(run, corpus, tmp_path, capsys):
    held_out = str(_held_out(corpus))
    message = _one_line_error(capsys, ["evaluate", str(run), "--input", str(tmp_path / "missing.txt")])
    assert message == f"albertlite evaluate: error: --input {tmp_path / 'missing.txt'} is not a file"
    (tmp_path / "empty.txt").write_text("")
    assert "holds no text" in _one_line_error(capsys, ["evaluate", str(run), "--input", str(tmp_path / "empty.txt")])
    (tmp_path / "not_a_model").mkdir()
    message = _one_line_error(capsys, ["evaluate", str(tmp_path / "not_a_model"), "--input", held_out])
    assert "is not a model directory" in message
    message = _one_line_error(capsys, ["evaluate", str(run), "--input", held_out, "--max-seq-length", "512"])
    assert "exceeds the model's max_position_embeddings (64)" in message
