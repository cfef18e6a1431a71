"""Acceptance: pretraining a 4-layer, hidden-128 ALBERT on the standard library's docstrings (benchmarks/)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "pretrain_quality.py"


def _benchmark():
    spec = importlib.util.spec_from_file_location("pretrain_quality", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_stdlib_docstrings_pretraining_quality(tmp_path):
    benchmark = _benchmark()
    # 16 instances per step at 5e-3: a third of the default run's compute, the same margin (loss ratio 0.676 and
    # sentence order 0.749 on a 2-core Xeon; the defaults give 0.67). At 1e-2 this batch collapses to the unigram
    # plateau (0.72, sentence order at chance): the margin is the learning rate's, not luck's.
    flags = ["--work", str(tmp_path), "--quiet", "--batch-size", "16", "--lr", "5e-3"]
    summary = benchmark.run(benchmark.parse_args(flags))
    assert summary["held_out_pairs"] >= 2000
    assert summary["mlm_loss_end"] <= 0.7 * summary["mlm_loss_start"], summary["curve"]
    assert summary["sop_acc_end"] >= 0.6, summary["curve"]
    assert (tmp_path / "run" / "curves.png").is_file()
