"""Progress in a log: a plain line every few seconds (not a bar redrawn per step) when the output is no terminal.

A piped ``make demo`` log held one line per pretraining step. The commands here run with their output captured,
as in a log: the progress lines must appear, stay bounded by the time taken, carry step/total, rate and ETA, and
``--no-progress`` must silence them.
"""

from __future__ import annotations

import io
import time

import pytest

from albertlite.cli import main
from albertlite.progress import INTERVAL_ENV, Progress

from .helpers.finetune import sentiment_examples, write_jsonl
from .helpers.pretrain import build_tiny_corpus, cli_args, tiny_options


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_one_line_per_interval_with_rate_and_eta():
    clock, stream = _Clock(), io.StringIO()
    with Progress(800, desc="train", stream=stream, interval=5.0, clock=clock) as progress:
        for _ in range(800):
            clock.now += 0.125  # 8 steps a second for 100 s
            progress.update(1, loss=0.5)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 20  # one per 5 s; the last step fell on a line, so no extra closing line
    assert lines[0] == "train: step 40/800 (5%), 8 steps/s, ETA 1m35s, loss=0.5"
    assert lines[-1] == "train: step 800/800 (100%), 8 steps/s, done in 1m40s, loss=0.5"
    assert "\r" not in stream.getvalue()


def test_the_last_line_is_written_when_the_loop_ends_between_lines():
    clock, stream = _Clock(), io.StringIO()
    with Progress(None, desc="pretrain-data", unit="chunk", initial=0, stream=stream, interval=5.0,
                  clock=clock) as progress:  # fmt: skip
        for count in range(3):
            clock.now += 0.5
            progress.update(1, instances=f"{(count + 1) * 100:,}")
    assert stream.getvalue() == "pretrain-data: chunk 3, 2 chunks/s, instances=300\n"


def test_a_failed_run_ends_without_a_progress_line():
    clock, stream = _Clock(), io.StringIO()
    with pytest.raises(ValueError, match="bad step"), Progress(10, desc="train", stream=stream, clock=clock) as bar:
        bar.update(1)
        raise ValueError("bad step")
    assert stream.getvalue() == ""  # the CLI's one-line error stays the only line


def test_a_terminal_gets_the_bar_and_disabled_progress_writes_nothing():
    terminal = _Terminal()
    with Progress(5, desc="train", stream=terminal, interval=0.0) as progress:
        for _ in range(5):
            progress.update(1, loss=1.0)
    assert "\r" in terminal.getvalue() and "5/5" in terminal.getvalue()  # tqdm's bar, redrawn in place
    quiet = io.StringIO()
    with Progress(5, desc="train", stream=quiet, enabled=False, interval=0.0) as progress:
        progress.update(5)
    assert quiet.getvalue() == ""


def test_a_bad_interval_setting_is_refused(monkeypatch):
    monkeypatch.setenv(INTERVAL_ENV, "soon")
    with pytest.raises(ValueError, match=f"^{INTERVAL_ENV}='soon' is not a number of seconds; unset it or give"):
        Progress(3, desc="train", stream=io.StringIO())


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_tiny_corpus(tmp_path_factory.mktemp("progress-corpus"))


def _progress_lines(err: str, desc: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(f"{desc}: ")]


INTERVAL = 0.5


def _run_logged(argv: list[str], desc: str, capsys) -> tuple[list[str], float, str]:
    """Run a command with its output captured (no terminal): its progress lines, seconds taken, all stderr."""
    began = time.monotonic()
    assert main(argv) == 0
    elapsed = time.monotonic() - began
    err = capsys.readouterr().err
    assert "\r" not in err  # no bar redraws
    return _progress_lines(err, desc), elapsed, err


def test_pretrain_logs_bounded_progress_lines(corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(INTERVAL_ENV, str(INTERVAL))
    options = tiny_options(corpus, tmp_path / "run", steps=40, save_every=40, eval_every=40)
    del options["progress"]  # progress on, as a user runs it
    lines, elapsed, _ = _run_logged(cli_args(options), "pretrain", capsys)
    assert 1 <= len(lines) <= elapsed / INTERVAL + 1, (elapsed, lines)
    assert lines[-1].startswith("pretrain: step 40/40 (100%), ") and "done in" in lines[-1]
    assert "loss=" in lines[-1] and "mlm_acc=" in lines[-1] and "steps/s" in lines[-1]

    lines, _, err = _run_logged(cli_args({**options, "output": str(tmp_path / "quiet"), "progress": False}),
                                "pretrain", capsys)  # fmt: skip
    assert lines == [] and err == ""


def test_finetune_logs_bounded_progress_lines(base_model, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(INTERVAL_ENV, str(INTERVAL))
    train = write_jsonl(tmp_path / "train.jsonl", sentiment_examples(32, 0))
    argv = ["finetune", "--task", "text-classification", "--model", str(base_model), "--train", str(train),
            "--batch-size", "4", "--epochs", "2", "--no-tensorboard"]  # fmt: skip
    lines, elapsed, _ = _run_logged([*argv, "--output", str(tmp_path / "a")], "fine-tuning", capsys)
    assert 1 <= len(lines) <= elapsed / INTERVAL + 1, (elapsed, lines)
    assert lines[-1].startswith("fine-tuning: step 16/16 (100%), ") and "train_loss=" in lines[-1]

    lines, _, err = _run_logged([*argv, "--output", str(tmp_path / "b"), "--no-progress"], "fine-tuning", capsys)
    assert lines == [] and err == ""


def test_pretrain_data_logs_its_chunks(corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(INTERVAL_ENV, str(INTERVAL))
    argv = ["pretrain-data", "--input", str(corpus.data.parent / "train.txt"), "--tokenizer", str(corpus.tokenizer),
            "--max-seq-length", "64", "--dupe-factor", "1", "--chunk-documents", "20"]  # fmt: skip
    lines, elapsed, _ = _run_logged([*argv, "--output", str(tmp_path / "a")], "pretrain-data", capsys)
    assert 1 <= len(lines) <= elapsed / INTERVAL + 1, (elapsed, lines)
    assert lines[-1].startswith("pretrain-data: chunk 10, ") and "instances=" in lines[-1]

    lines, _, err = _run_logged([*argv, "--output", str(tmp_path / "b"), "--no-progress"], "pretrain-data", capsys)
    assert lines == [] and err == ""
