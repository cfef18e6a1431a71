"""The README's Python examples, run as written: every ```python block in order, in one fresh interpreter.

The files the examples read as the user's own (corpus.txt, train.jsonl, dev.jsonl, test.jsonl, squad-train.jsonl)
are written here, and "albert/albert-base-v2" resolves offline to a tiny model in a local Hub cache.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .helpers.finetune import qa_examples, sentiment_examples, write_jsonl
from .helpers.models import fake_hub_cache

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _stdlib_docstrings():
    """The quality benchmark's corpus writer (the standard library's docstrings)."""
    spec = importlib.util.spec_from_file_location("pretrain_quality", ROOT / "benchmarks" / "pretrain_quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", README.read_text(encoding="utf-8"), flags=re.M | re.S)


def test_the_readme_has_examples_for_every_framework():
    text = "\n".join(python_blocks())
    for name in ("AlbertForSequenceClassification", "TFAlbert", "FlaxAlbert", "AlbertTokenizerFast", "finetune",
                 "pipeline", "predict"):  # fmt: skip
        assert name in text, name


@pytest.mark.slow
def test_the_readme_examples_run_as_written(base_model, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    _stdlib_docstrings().write_corpus(work)  # about 1 MB of real prose: enough text for 5,000 pieces
    (work / "train.txt").rename(work / "corpus.txt")
    write_jsonl(work / "train.jsonl", sentiment_examples(48, 0))
    write_jsonl(work / "dev.jsonl", sentiment_examples(16, 1))
    write_jsonl(work / "test.jsonl", [{"text": row["text"]} for row in sentiment_examples(4, 2)])
    write_jsonl(work / "squad-train.jsonl", qa_examples(32, 0))
    fake_hub_cache(tmp_path / "hub", "albert/albert-base-v2", base_model)
    script = "\n\n".join(python_blocks()) + "\nprint('README examples ran')\n"
    (work / "readme_examples.py").write_text(script, encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(tmp_path / "hub")}
    completed = subprocess.run([sys.executable, "readme_examples.py"], cwd=work, env=env, capture_output=True,
                               text=True, timeout=900, check=False)  # fmt: skip
    assert completed.returncode == 0, textwrap.shorten(completed.stderr[-3000:], 3000)
    assert completed.stdout.strip().endswith("README examples ran")
    assert json.loads((work / "my-classifier" / "task.json").read_text())["task"] == "text-classification"
    assert json.loads((work / "my-squad" / "task.json").read_text())["task"] == "question-answering"
    assert (work / "my-tokenizer" / "spiece.model").is_file()
