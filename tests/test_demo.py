"""The demo end to end at toy sizes, in a subprocess (its corpus walk imports the whole standard library)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.mark.slow
def test_demo_runs_end_to_end(tmp_path):
    out = tmp_path / "demo"
    command = [sys.executable, "-m", "albertlite.demo", "--output", str(out), "--pretrain-steps", "3",
               "--vocab-size", "800", "--finetune-epochs", "1", "--train-per-class", "8", "--threads", "1"]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stderr[-2000:]
    for step in ("[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]", "pretrained  : accuracy", "from scratch: accuracy"):
        assert step in completed.stdout
    figures = json.loads((out / "demo_results.json").read_text())
    assert 0.0 <= figures["finetuned_pretrained"]["accuracy"] <= 1.0
    assert 0.0 <= figures["finetuned_from_scratch"]["accuracy"] <= 1.0
    assert len(figures["fill_mask"]) == 3 and all(len(words) == 5 for _, words in figures["fill_mask"])
    for directory in ("pretrained", "finetuned", "finetuned-from-scratch", "tokenizer"):
        assert (out / directory / "config.json").is_file() or (out / directory / "spiece.model").is_file()
    from albertlite import AlbertForSequenceClassification

    model = AlbertForSequenceClassification.from_pretrained(out / "finetuned")
    assert len(model.config.id2label) == 6
