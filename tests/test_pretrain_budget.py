"""`pretrain --max-time`: the budget becomes a step count after the first timed steps, recorded for an exact resume."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from albertlite.cli import main
from albertlite.optim import LearningRateSchedule
from albertlite.train import PretrainConfig, pretrain
from albertlite.train import budget as budget_module
from albertlite.train.budget import MEASURED_STEPS, StepBudget, parse_duration
from albertlite.train.checkpointing import list_checkpoints, load_checkpoint
from albertlite.train.metrics_log import read_metrics
from albertlite.train.pretrain import _Trainer

from .helpers.pretrain import build_tiny_corpus, cli_args, tiny_options

USES_FAST_PATH = True  # as the CLI trains by default, like tests/test_pretrain.py


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_tiny_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture
def one_second_steps(monkeypatch):
    """A clock that advances 1 s at every reading: the budget reads it once at the start and once per step."""
    counter = itertools.count()
    monkeypatch.setattr(budget_module, "clock", lambda: float(next(counter)))


def _weights(directory) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(directory / "model.safetensors"))


def _train_records(output) -> list[dict]:
    return [r for r in read_metrics(output / "metrics.jsonl") if r["split"] == "train"]


def _budgeted(corpus, output, **overrides) -> dict:
    values = dict(steps=50, max_time=10.0, eval_data=None, save_every=4, warmup_steps=4)
    return tiny_options(corpus, output, **{**values, **overrides})


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("10m", 600), ("1h", 3600), ("1h30m", 5400), ("2m30s", 150), ("45", 45)]
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_step_budget_takes_the_median_of_the_timed_steps_after_the_untimed_one():
    ends = iter([0.0, 5.0, 6.0, 9.0, 10.0])  # start, then the end of each step: 5 s (untimed), 1 s, 3 s, 1 s
    budget = StepBudget(30.0, cap=1000, read_clock=lambda: next(ends))
    assert [budget.tick(done) for done in range(1, MEASURED_STEPS)] == [None] * (MEASURED_STEPS - 1)
    assert budget.tick(MEASURED_STEPS) == 4 + 20  # 20 s left at the median 1 s
    assert budget.median_step_s == 1.0
    spent = iter([0.0, 50.0, 51.0, 52.0, 53.0])  # already over budget: the run stops where it is
    over = StepBudget(30.0, cap=1000, read_clock=lambda: next(spent))
    assert [over.tick(done) for done in range(1, 5)] == [None, None, None, 4]
    capped = StepBudget(1e6, cap=7, read_clock=itertools.count().__next__)
    assert [capped.tick(done) for done in range(1, 5)] == [None, None, None, 7]


def test_a_budgeted_run_stops_at_its_resolved_count_and_equals_a_steps_run(corpus, tmp_path, one_second_steps):
    result = pretrain(PretrainConfig(**_budgeted(corpus, tmp_path / "budget")))
    # 4 s spent on the 4 measured steps, 6 s left at 1 s a step
    assert result.step == 10
    assert [r["step"] for r in _train_records(tmp_path / "budget")] == list(range(1, 11))
    checkpoint = load_checkpoint(tmp_path / "budget" / "checkpoints" / "step-00000010")
    assert checkpoint.state["budget"] == {"max_time": 10.0, "resolved_steps": 10, "warmup": 4}
    assert checkpoint.state["schedule"]["total_steps"] == 10
    # the measured steps lie inside the 4-step warm-up, whose rates do not depend on the total
    reference = pretrain(PretrainConfig(**tiny_options(corpus, tmp_path / "steps", steps=10, eval_data=None,
                                                       save_every=4, warmup_steps=4)))  # fmt: skip
    assert reference.step == 10
    expected = [LearningRateSchedule(5e-3, 10, 4)(step) for step in range(10)]
    assert [r["lr"] for r in _train_records(tmp_path / "budget")] == pytest.approx(expected)
    budget_w, steps_w = _weights(tmp_path / "budget"), _weights(tmp_path / "steps")
    assert all(np.array_equal(budget_w[name], steps_w[name]) for name in steps_w)  # bitwise


def test_the_default_warm_up_is_a_fraction_of_the_resolved_count(corpus, tmp_path, one_second_steps):
    options = _budgeted(corpus, tmp_path / "run", max_time=84.0, warmup_steps=None, steps=1000, save_every=1000)
    result = pretrain(PretrainConfig(**options))
    assert result.step == 84  # 4 measured + 80 more
    checkpoint = load_checkpoint(tmp_path / "run" / "checkpoints" / "step-00000084")
    assert checkpoint.state["budget"]["warmup"] == 2 == round(0.025 * 84)
    rates = [r["lr"] for r in _train_records(tmp_path / "run")]
    # the measured steps ramp as the cap's warm-up (25 steps of 1000), then the resolved schedule takes over
    assert rates[:4] == pytest.approx([LearningRateSchedule(5e-3, 1000, 25)(s) for s in range(4)])
    assert rates[4:] == pytest.approx([LearningRateSchedule(5e-3, 84, 2)(s) for s in range(4, 84)])


class _Stop(Exception):
    pass


def test_an_interrupted_budgeted_run_resumes_to_the_uninterrupted_weights(corpus, tmp_path, monkeypatch):
    counter = itertools.count()
    monkeypatch.setattr(budget_module, "clock", lambda: float(next(counter)))
    pretrain(PretrainConfig(**_budgeted(corpus, tmp_path / "whole")))
    original = _Trainer._save_checkpoint

    def stop_after_step_8(self, step):
        original(self, step)
        if step == 8:
            raise _Stop

    monkeypatch.setattr(_Trainer, "_save_checkpoint", stop_after_step_8)
    counter = itertools.count()
    options = _budgeted(corpus, tmp_path / "stopped")
    with pytest.raises(_Stop):
        pretrain(PretrainConfig(**options))
    monkeypatch.setattr(_Trainer, "_save_checkpoint", original)
    # the resumed process reads a slower clock: the count comes from the checkpoint, not from a new measurement
    monkeypatch.setattr(budget_module, "clock", lambda: 100.0 * next(counter))
    assert [step for step, _ in list_checkpoints(tmp_path / "stopped" / "checkpoints")] == [4, 8]
    resumed = pretrain(PretrainConfig(**{**options, "resume": True}))
    assert resumed.step == 10
    whole, stopped = _weights(tmp_path / "whole"), _weights(tmp_path / "stopped")
    assert all(np.array_equal(whole[name], stopped[name]) for name in whole)  # bitwise
    records = _train_records(tmp_path / "stopped")
    assert [r["loss"] for r in records] == [r["loss"] for r in _train_records(tmp_path / "whole")]


def test_a_real_clock_budget_ends_near_its_time(corpus, tmp_path):
    options = _budgeted(corpus, tmp_path / "run", max_time=2.0, steps=100_000, save_every=100_000)
    began = time.perf_counter()
    result = pretrain(PretrainConfig(**options))
    elapsed = time.perf_counter() - began
    assert MEASURED_STEPS <= result.step < 100_000
    assert elapsed < 2.0 + 30.0  # loosely: set-up, the final save and a shared machine's noise on top
    checkpoint = load_checkpoint(list_checkpoints(tmp_path / "run" / "checkpoints")[-1][1])
    assert checkpoint.step == result.step == checkpoint.state["budget"]["resolved_steps"]


def test_cli_max_time(corpus, tmp_path, capsys, one_second_steps):
    options = _budgeted(corpus, tmp_path / "run", steps=5, max_time="1h30m", save_every=5)
    assert main(cli_args(options)) == 0
    assert "time budget 5400s: trained 5 steps" in capsys.readouterr().out  # --steps caps it


@pytest.mark.parametrize("value", ["abc", "0", "-5m", "10x", "1h30", "m", "inf", "1m1h"])
def test_bad_max_time_values_are_one_line_errors(corpus, tmp_path, capsys, value):
    options = _budgeted(corpus, tmp_path / "run", max_time=None)
    assert main([*cli_args(options), f"--max-time={value}"]) == 2  # "=": argparse takes "-5m" for a flag
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("albertlite pretrain: error: --max-time must be a"), err
    assert not (tmp_path / "run").exists()


def test_max_time_in_the_api_must_be_positive(corpus, tmp_path):
    with pytest.raises(ValueError, match="max_time must be greater than 0"):
        PretrainConfig(**_budgeted(corpus, tmp_path / "run", max_time=0))


def test_warmup_share_sets_the_warm_up_of_the_resolved_count(corpus, tmp_path, one_second_steps):
    options = _budgeted(corpus, tmp_path / "run", max_time=84.0, warmup_steps=None, warmup_share=0.1, steps=1000,
                        save_every=1000)  # fmt: skip
    pretrain(PretrainConfig(**options))
    checkpoint = load_checkpoint(tmp_path / "run" / "checkpoints" / "step-00000084")
    assert checkpoint.state["budget"]["warmup"] == 8 == round(0.1 * 84)
    rates = [r["lr"] for r in _train_records(tmp_path / "run")]
    assert rates[4:] == pytest.approx([LearningRateSchedule(5e-3, 84, 8)(s) for s in range(4, 84)])
    with pytest.raises(ValueError, match="warmup_share"):
        PretrainConfig(**{**options, "warmup_share": 1.5})
