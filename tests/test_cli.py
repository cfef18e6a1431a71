"""The finetune, predict and fill-mask commands: --help, a working run, and one-line errors with exit code 2."""

from __future__ import annotations

import argparse
import json

import pytest

from albertlite.cli import build_parser, main

from .helpers.finetune import sentiment_examples, write_jsonl

COMMANDS = ("finetune", "predict", "fill-mask", "serve", "evaluate", "pretrain")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    directory = tmp_path_factory.mktemp("data")
    return {
        "train": write_jsonl(directory / "train.jsonl", sentiment_examples(48, 0)),
        "dev": write_jsonl(directory / "dev.jsonl", sentiment_examples(16, 1)),
        "unseen": write_jsonl(directory / "unseen.jsonl", [{"text": "a tree", "label": "maybe"}]),
        "no_text": write_jsonl(directory / "no_text.jsonl", [{"sentence_a": "a tree", "label": "pos"}]),
    }


def _error(capsys, argv) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    shown = capsys.readouterr().out
    assert f"usage: albertlite {command}" in shown
    text = "".join(shown.split())  # argparse wraps lines (also at hyphens): compare without whitespace
    subparser = next(a for a in build_parser()._actions if a.dest == "command").choices[command]
    assert "".join(subparser.description.split()) in text
    for action in subparser._actions:  # every option is shown with its help and, for choices, every choice
        assert any(flag in text for flag in action.option_strings or [action.dest]), action.dest
        if action.help and action.help != argparse.SUPPRESS and "%" not in action.help:
            assert "".join(action.help.split()) in text, action.help
        for choice in action.choices or ():
            assert str(choice) in text, (action.dest, choice)


def test_finetune_then_predict(base_model, data, tmp_path, capsys):
    out = tmp_path / "model"
    argv = ["finetune", "--task", "text-classification", "--model", str(base_model), "--train", str(data["train"]),
            "--validation", str(data["dev"]), "--output", str(out), "--epochs", "2", "--lr", "1e-3",
            "--batch-size", "16", "--max-length", "32", "--no-progress", "--classifier-pooling", "mean"]  # fmt: skip
    assert main(argv) == 0
    assert "best accuracy" in capsys.readouterr().out
    assert json.loads((out / "config.json").read_text())["classifier_pooling"] == "mean"
    predictions = tmp_path / "predictions.jsonl"
    assert main(["predict", "--model", str(out), "--input", str(data["dev"]), "--output", str(predictions)]) == 0
    rows = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert len(rows) == 16 and {r["label"] for r in rows} <= {"neg", "pos"}
    assert all(0.5 <= r["score"] <= 1.0 for r in rows)


def test_fill_mask_prints_guesses(base_model, capsys):
    assert main(["fill-mask", "--model", str(base_model), "--top-k", "2", "alice sees [MASK]"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "alice sees [MASK]" and out[1].startswith("  [MASK] 1: ") and out[1].count("(") == 2


def test_missing_file(base_model, tmp_path, capsys):
    argv = ["finetune", "--task", "text-classification", "--model", str(base_model),
            "--train", str(tmp_path / "nope.jsonl"), "--output", str(tmp_path)]  # fmt: skip
    line = _error(capsys, argv)
    assert "nope.jsonl" in line and "no such file" in line
    line = _error(capsys, ["predict", "--task", "text-classification", "--model", str(base_model), "--input",
                           str(tmp_path / "gone.csv"), "--output", str(tmp_path / "p.jsonl")])  # fmt: skip
    assert "gone.csv" in line


def test_missing_column(base_model, data, tmp_path, capsys):
    line = _error(capsys, ["finetune", "--task", "text-classification", "--model", str(base_model), "--train",
                           str(data["no_text"]), "--output", str(tmp_path / "o")])  # fmt: skip
    assert "no_text.jsonl" in line and "missing column 'text'" in line


def test_unseen_label(base_model, data, tmp_path, capsys):
    argv = ["finetune", "--task", "text-classification", "--model", str(base_model), "--train", str(data["train"]),
            "--validation", str(data["unseen"]), "--output", str(tmp_path / "o")]  # fmt: skip
    line = _error(capsys, argv)
    assert "unseen.jsonl" in line and "label 'maybe' was not seen in training" in line


def test_unreadable_model_directory(data, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    for argv in (
        ["finetune", "--task", "text-classification", "--model", str(empty), "--train", str(data["train"]),
         "--output", str(tmp_path / "o")],
        ["predict", "--task", "text-classification", "--model", str(empty), "--input", str(data["dev"]),
         "--output", str(tmp_path / "p.jsonl")],
        ["fill-mask", "--model", str(empty), "a [MASK]"],
    ):  # fmt: skip
        assert str(empty) in _error(capsys, argv)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    assert "broken" in _error(capsys, ["fill-mask", "--model", str(broken), "a [MASK]"])


def test_bad_recipe_and_missing_task(base_model, data, tmp_path, capsys):
    common = ["--model", str(base_model), "--train", str(data["train"]), "--output", str(tmp_path / "o")]
    assert "Unknown recipe 'glue'" in _error(capsys, ["finetune", "--recipe", "glue", *common])
    assert "--task" in _error(capsys, ["finetune", *common])
    # the base model is a masked-LM checkpoint: with no task named, predict runs fill-mask, and says what is missing
    assert "No [MASK]" in _error(capsys, ["predict", "--model", str(base_model), "--input", str(data["dev"]),
                                          "--output", str(tmp_path / "p.jsonl")])  # fmt: skip
