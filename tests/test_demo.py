"""The demo end to end at toy sizes, in a subprocess (its corpus walk imports the whole standard library).

With ``--model`` it fine-tunes a Hub id, answered offline from a local Hub cache built by the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    out = tmp_path / "demo"
    command = [sys.executable, "-m", "albertlite.demo", "--output", str(out), "--pretrain-steps", "3",
               "--vocab-size", "800", "--dupe-factor", "2", "--finetune-epochs", "1", "--train-per-class", "8",
               "--few-per-class", "3", "--finetune-seeds", "2", "--threads", "1"]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    for step in (
        "[1/5]",
        "[2/5]",
        "[3/5]",
        "[4/5]",
        "[5/5]",
        "labels per module   pretrained             from scratch",
    ):
        assert step in completed.stdout
    figures = json.loads((out / "demo_results.json").read_text())
    assert [row["train_per_class"] for row in figures["finetuning"]] == [3, 8]
    assert [row["train_examples"] for row in figures["finetuning"]] == [18, 48]
    for row in figures["finetuning"]:
        for start in ("pretrained", "from_scratch"):
            assert 0.0 <= row[start]["accuracy"] <= 1.0
            assert len(row[start]["accuracy_per_seed"]) == 2
            assert row[start]["accuracy"] == pytest.approx(np.mean(row[start]["accuracy_per_seed"]), abs=1e-4)
        assert row["gain"] == round(row["pretrained"]["accuracy"] - row["from_scratch"]["accuracy"], 4)
        # the first seed's runs are on disk: the printed figures are their best epochs, not made up on the way
        folder = out if row["train_per_class"] == 8 else out / f"{row['train_per_class']}-per-class"
        for start, name in (("pretrained", "finetuned"), ("from_scratch", "finetuned-from-scratch")):
            results = json.loads((folder / name / "finetune_results.json").read_text())
            assert row[start]["accuracy_per_seed"][0] == round(results["best"], 4), (start, row)
            assert json.loads((folder / name / "task.json").read_text())["metrics"]["accuracy"] == results["best"]
    assert len(figures["fill_mask"]) == 3 and all(len(words) == 5 for _, words in figures["fill_mask"])
    check_held_out_figures(out, figures["pretraining"])
    for directory in ("pretrained", "finetuned", "finetuned-from-scratch", "3-per-class/finetuned", "tokenizer"):
        assert (out / directory / "config.json").is_file() or (out / directory / "spiece.model").is_file()
    from albertlite import AlbertForSequenceClassification

    assert not (out / "other-seeds").exists() and not (out / "scratch-init").exists()  # only the first seed's models
    model = AlbertForSequenceClassification.from_pretrained(out / "finetuned")
    assert len(model.config.id2label) == 6
    assert model.config.classifier_pooling == "mean"  # the demo's head, saved with the model


def check_held_out_figures(out, figures):
    """The printed held-out figures are those of the saved model on documents it never trained on."""
    from albertlite.demo import RECIPE, score_masked_words
    from albertlite.tokenization_auto import load_tokenizer
    from albertlite.train.evaluation import evaluate_model

    assert figures["steps"] == 3
    # the recipe's data settings, the flag's dupe factor; the held-out shards masked once
    manifest = json.loads((out / "shards" / "manifest.json").read_text())["settings"]
    assert {k: manifest[k] for k in RECIPE.data if k != "dynamic_masking"} == {
        k: v for k, v in RECIPE.data.items() if k != "dynamic_masking"
    }
    assert manifest["dupe_factor"] == 2 and manifest["mask"] is False
    assert json.loads((out / "held-out-shards" / "manifest.json").read_text())["settings"]["mask"] is True
    held_out = out / "data" / "held_out.txt"
    documents = [d for d in held_out.read_text().split("\n\n") if d.strip()]
    trained_on = set((out / "data" / "corpus.txt").read_text().split("\n\n"))
    assert documents and not trained_on & set(documents)
    again = evaluate_model(out / "pretrained", [held_out], max_seq_length=RECIPE.data["max_seq_length"],
                           max_predictions_per_seq=RECIPE.data["max_predictions_per_seq"], seed=0)  # fmt: skip
    for key in ("instances", "masked", "mlm_acc", "mlm_loss", "unigram_mlm_loss", "sop_acc"):
        assert figures[key] == pytest.approx(again[key], rel=1e-6), key
    assert figures["mlm_loss"] > figures["unigram_mlm_loss"]  # 3 steps: not yet better than counting pieces
    # the masked words: drawn from held-out sentences before pretraining, one single-piece word each
    probe = [json.loads(line) for line in (out / "data" / "masked_words.jsonl").read_text().splitlines()]
    assert len(probe) == figures["masked_words"]["words"] == 200
    tokenizer = load_tokenizer(str(out / "tokenizer"))
    text = held_out.read_text()
    for row in probe:
        assert row["text"].split().count("[MASK]") == 1
        assert row["text"].replace("[MASK]", row["word"]) in text
        assert tokenizer(row["word"], add_special_tokens=False)["input_ids"] == [row["token"]]
    assert score_masked_words(out / "pretrained", probe) == figures["masked_words"]


@pytest.mark.slow
def test_demo_fine_tunes_a_hub_model_instead_of_pretraining(tmp_path):
    import numpy as np

    from albertlite import AlbertForMaskedLM, AlbertForSequenceClassification
    from albertlite.demo import show_fill_mask

    from .helpers.finetune import make_model_dir, make_tokenizer_dir
    from .helpers.models import fake_hub_cache

    # seed 7: not the demo's seed, or its from-scratch draw would equal these weights
    hub_model = make_model_dir(tmp_path / "model", make_tokenizer_dir(tmp_path / "tok"), seed=7)
    fake_hub_cache(tmp_path / "hub", "albertlite-test/tiny-albert", hub_model)
    out = tmp_path / "demo"
    command = [sys.executable, "-m", "albertlite.demo", "--model", "albertlite-test/tiny-albert", "--output", str(out),
               "--finetune-epochs", "1", "--train-per-class", "8", "--threads", "1"]  # fmt: skip
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hub")}
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False, env=env)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "[3/5] pretraining: skipped, using albertlite-test/tiny-albert" in completed.stdout
    figures = json.loads((out / "demo_results.json").read_text())
    assert "pretraining" not in figures and "pretraining_seconds" not in figures
    assert not any((out / d).exists() for d in ("pretrained", "tokenizer", "shards"))
    full = figures["finetuning"][-1]
    for key, directory in (("pretrained", "finetuned"), ("from_scratch", "finetuned-from-scratch")):
        assert 0.0 <= full[key]["accuracy"] <= 1.0
        assert json.loads((out / directory / "finetune_results.json").read_text())["history"][0]["epoch"] == 1
    # fill-mask ran on the Hub model itself: the same guesses as its local copy
    assert figures["fill_mask"] == [[sentence, words] for sentence, words in show_fill_mask(hub_model)]

    def embeddings(model) -> np.ndarray:
        return model.albert.embeddings.word_embeddings.weight.detach().numpy()

    # one short epoch barely moves the Hub weights; the from-scratch run starts from a new draw of the same shapes
    start = embeddings(AlbertForMaskedLM.from_pretrained(hub_model))
    tuned = embeddings(AlbertForSequenceClassification.from_pretrained(out / "finetuned"))
    scratch = embeddings(AlbertForSequenceClassification.from_pretrained(out / "finetuned-from-scratch"))
    assert tuned.shape == scratch.shape == start.shape
    assert np.abs(tuned - start).mean() < 0.1 * np.abs(scratch - start).mean()


def test_demo_pretraining_budget_from_its_flags(capsys):
    from albertlite.demo import DemoSettings, main, pretraining_budget

    assert pretraining_budget(None, None) == (DemoSettings.pretrain_steps, DemoSettings.pretrain_time)
    assert pretraining_budget("90s", None) == (DemoSettings.pretrain_steps, 90.0)
    assert pretraining_budget(None, 3) == (3, None)
    assert pretraining_budget("1m", 50) == (50, 60.0)
    for time_budget, steps in (("soon", None), ("-5", None), (None, 0)):
        with pytest.raises(ValueError, match="--pretrain-"):
            pretraining_budget(time_budget, steps)
    with pytest.raises(SystemExit) as exited:
        main(["--pretrain-time", "soon"])
    assert exited.value.code == 2
    assert "--pretrain-time must be a duration" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["--dupe-factor", "0"])
    assert exited.value.code == 2
    assert "--dupe-factor must be at least 1, got 0" in capsys.readouterr().err
