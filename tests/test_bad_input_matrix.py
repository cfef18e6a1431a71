"""Bad input as a matrix: per entry point, cases by category, each with the one line (exit 2) a user gets.

This is the start of the matrix: the training commands' settings and pretrain-data's inputs. Each case failed
before (it trained something other than asked, wrote an empty dataset, or ended in a traceback) and must now be
refused in one line naming the setting or file and what works.
"""

from __future__ import annotations

import json

import pytest

from albertlite.cli import main
from albertlite.train import PretrainConfig
from albertlite.train.finetune import FinetuneSettings

from .helpers.finetune import sentiment_examples, write_jsonl
from .helpers.pretrain import build_tiny_corpus, cli_args, tiny_options

# (category, case id, flags added to a working finetune command line, fragment of the one-line error)
FINETUNE_CASES = [
    ("out of range", "epochs-0", ["--epochs", "0"], "epochs (--epochs) must be greater than 0"),
    ("out of range", "epochs-negative", ["--epochs", "-1"], "epochs (--epochs) must be greater than 0"),
    ("out of range", "batch-0", ["--batch-size", "0"], "batch_size (--batch-size) must be at least 1"),
    ("out of range", "grad-accum-0", ["--grad-accum", "0"], "gradient_accumulation_steps (--grad-accum) must be at"),
    ("out of range", "max-steps-0", ["--max-steps", "0"], "max_steps (--max-steps) must be at least 1"),
    ("out of range", "max-length-0", ["--max-length", "0"], "max_length (--max-length) must be at least 1"),
    ("out of range", "warmup-ratio-2", ["--warmup-ratio", "2"], "warmup_ratio (--warmup-ratio) must be at most 1"),
    ("not a number", "lr-nan", ["--lr", "nan"], "learning_rate (--lr) must be a finite number, got nan"),
    ("not a number", "lr-inf", ["--lr", "inf"], "learning_rate (--lr) must be a finite number"),
    ("out of range", "lr-0", ["--lr", "0"], "learning_rate (--lr) must be greater than 0"),
    ("conflicting settings", "batch-not-multiple", ["--batch-size", "10", "--grad-accum", "4"],
     "--batch-size 10 is not a multiple of --grad-accum 4; use e.g. --batch-size 8"),
]  # fmt: skip

# (category, case id, PretrainConfig options changed, fragment of the one-line error)
PRETRAIN_CASES = [
    ("misspelt key", "model-config-typo", {"model_config": json.dumps({"hiden_size": 32})},
     "--model-config: unknown key(s) 'hiden_size' (did you mean 'hidden_size'?)"),
    ("wrong type", "model-config-array", {"model_config": '["hidden_size", 32]'}, "is neither a local directory"),
    ("wrong type", "model-config-value", {"model_config": json.dumps({"hidden_size": "big"})},
     "AlbertConfig.hidden_size must be a positive integer, got 'big'"),
    ("not a number", "lr-nan", {"lr": "nan"}, "lr must be a finite number, got nan"),
    ("out of range", "lr-negative", {"lr": "-0.1"}, "lr must be greater than 0"),
    ("not a number", "max-grad-norm-inf", {"max_grad_norm": "inf"}, "max_grad_norm must be a finite number"),
    ("out of range", "steps-0", {"steps": 0}, "steps must be at least 1"),
]  # fmt: skip


def _one_line_error(capsys, argv: list[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in captured.err, (code, captured.err[-2000:])
    return lines[0]


@pytest.fixture(scope="module")
def finetune_files(tmp_path_factory):
    directory = tmp_path_factory.mktemp("matrix-data")
    return write_jsonl(directory / "train.jsonl", sentiment_examples(16, 0))


@pytest.mark.parametrize(("category", "case", "flags", "fragment"), FINETUNE_CASES, ids=[c[1] for c in FINETUNE_CASES])
def test_finetune_settings(category, case, flags, fragment, base_model, finetune_files, tmp_path, capsys):
    argv = ["finetune", "--task", "text-classification", "--model", str(base_model), "--train", str(finetune_files),
            "--output", str(tmp_path / "out"), "--no-progress", *flags]  # fmt: skip
    assert fragment in _one_line_error(capsys, argv)
    assert not (tmp_path / "out" / "model.safetensors").exists()  # refused before any training


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_tiny_corpus(tmp_path_factory.mktemp("matrix-corpus"))


@pytest.mark.parametrize(
    ("category", "case", "options", "fragment"), PRETRAIN_CASES, ids=[c[1] for c in PRETRAIN_CASES]
)
def test_pretrain_settings(category, case, options, fragment, corpus, tmp_path, capsys):
    argv = cli_args(tiny_options(corpus, tmp_path / "run", **options))
    assert fragment in _one_line_error(capsys, argv)
    assert not (tmp_path / "run" / "checkpoints").exists()


# (category, case id, the input file's bytes, fragment of the one-line error)
PRETRAIN_DATA_CASES = [
    ("empty", "empty-file", b"", "holds no text (it is empty)"),
    ("empty", "blank-lines", b"\n\n  \n", "holds no text (it is empty)"),
    ("wrong type", "binary", bytes(range(256)) * 8, "is not UTF-8 text"),
    ("wrong type", "nul-bytes", b"a sentence.\x00\x00 another.\n", "looks binary (it holds NUL bytes)"),
]  # fmt: skip


@pytest.mark.parametrize(("category", "case", "data", "fragment"), PRETRAIN_DATA_CASES,
                         ids=[c[1] for c in PRETRAIN_DATA_CASES])  # fmt: skip
def test_pretrain_data_inputs(category, case, data, fragment, corpus, tmp_path, capsys):
    source = tmp_path / "input.txt"
    source.write_bytes(data)
    argv = ["pretrain-data", "--input", str(source), "--tokenizer", str(corpus.tokenizer), "--output",
            str(tmp_path / "shards")]  # fmt: skip
    assert fragment in _one_line_error(capsys, argv)
    assert not (tmp_path / "shards" / "manifest.json").exists()  # no dataset written


def test_the_api_refuses_the_same_settings():
    with pytest.raises(ValueError, match=r"epochs \(--epochs\) must be greater than 0"):
        FinetuneSettings(epochs=0)
    with pytest.raises(ValueError, match="finite number"):
        FinetuneSettings(learning_rate=float("nan"))
    FinetuneSettings(epochs=None, max_steps=5)  # a recipe's steps replace the epochs
    with pytest.raises(ValueError, match=r"unknown key\(s\) 'stpes' \(did you mean 'steps'\?\)"):
        PretrainConfig.from_dict({"data": "d", "tokenizer": "t", "output": "o", "stpes": 3})
