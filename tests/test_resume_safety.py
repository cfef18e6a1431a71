"""Resuming without pickles, checking what changed, falling back past broken checkpoints; outputs kept apart
from inputs and from other kinds of output. Each case is one of the faults a user met before."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from albertlite.cli import main
from albertlite.train import PretrainConfig, pretrain
from albertlite.train import checkpointing as ckpt
from albertlite.train import finetune as ft
from albertlite.train.metrics_log import read_metrics

from .helpers.finetune import sentiment_examples, write_jsonl
from .helpers.pretrain import TINY_MODEL, build_tiny_corpus, tiny_options

SRC = Path(__file__).resolve().parents[1] / "src"


class _Planted:
    """A pickle that creates a directory when it is unpickled: proof that a file ran code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def plant(path: Path, marker: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(_Planted(marker)))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_tiny_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    return {
        "train": write_jsonl(root / "train.jsonl", sentiment_examples(48, 0)),
        "other_train": write_jsonl(root / "other.jsonl", sentiment_examples(48, 5)),
        "dev": write_jsonl(root / "dev.jsonl", sentiment_examples(16, 1)),
    }


def _settings(**overrides) -> ft.FinetuneSettings:
    values = dict(learning_rate=1e-3, batch_size=16, epochs=2, max_length=48, progress=False, seed=0)
    return ft.FinetuneSettings(**{**values, **overrides})


class _Stop(Exception):
    pass


def _stopped_finetune(base_model, data, output: Path, **settings) -> None:
    """A fine-tuning run stopped after its first epoch's resume point, as a killed one would be."""
    original = ft._Run._save_resume_point

    def stop(self, *args):
        original(self, *args)
        raise _Stop

    ft._Run._save_resume_point = stop
    try:
        with pytest.raises(_Stop):
            ft.finetune("text-classification", base_model, data["train"], data["dev"], output, _settings(**settings))
    finally:
        ft._Run._save_resume_point = original


def _weights(directory: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(directory / "model.safetensors"))


def _same_weights_as(directory: Path, expected: dict[str, np.ndarray]) -> bool:
    found = _weights(directory)
    return found.keys() == expected.keys() and all(np.array_equal(found[k], expected[k]) for k in found)


def test_no_pickle_loading_anywhere_in_src():
    offenders = [str(p) for p in SRC.rglob("*.py") if "weights_only=False" in p.read_text(encoding="utf-8")]
    assert offenders == []


# ------------------------------------------------------------------------------------------- planted pickles
def test_a_pickle_at_the_old_finetune_resume_file_is_refused_and_never_runs(base_model, data, tmp_path):
    output, marker = tmp_path / "out", tmp_path / "ran"
    plant(output / "last-epoch" / "state.pt", marker)
    with pytest.raises(ValueError, match=r"last-epoch/state\.pt .*pickle.*pass resume=False to start over"):
        ft.finetune("text-classification", base_model, data["train"], data["dev"], output, _settings())
    assert not marker.exists()
    ft.finetune("text-classification", base_model, data["train"], data["dev"], output, _settings(resume=False))
    assert not marker.exists() and not (output / "last-epoch").exists()


@pytest.mark.parametrize("name", ["model.safetensors", "optimizer.safetensors", "training_state.json", "rng-0.json",
                                  "checkpoint.json"])  # fmt: skip
def test_a_pickle_in_any_finetune_resume_file_never_runs(base_model, data, tmp_path, name):
    output, marker = tmp_path / "out", tmp_path / "ran"
    _stopped_finetune(base_model, data, output)
    (point,) = [path for _, path in ckpt.list_checkpoints(output / ft.RESUME_DIR)]
    plant(point / name, marker)
    with pytest.raises(ValueError, match=rf"{name}.*resume=False"):  # no older resume point to fall back on
        ft.finetune("text-classification", base_model, data["train"], data["dev"], output, _settings())
    assert not marker.exists()


def test_a_pickle_at_the_old_pretrain_resume_files_is_refused_and_never_runs(corpus, tmp_path):
    output, marker = tmp_path / "run", tmp_path / "ran"
    options = tiny_options(corpus, output, steps=4, eval_data=None)
    pretrain(PretrainConfig(**options))
    step_dir = output / "checkpoints" / "step-00000008"
    for name in ("training_state.pt", "rng-0.pt"):
        plant(step_dir / name, marker)
    (step_dir / "checkpoint.json").write_text(json.dumps({"step": 8}))
    with pytest.raises(ValueError, match=r"training_state\.pt .*pickle.*pass overwrite=True to start over"):
        pretrain(PretrainConfig(**{**options, "steps": 10, "resume": True}))
    assert not marker.exists()


@pytest.mark.parametrize("name", ["model.safetensors", "optimizer.safetensors", "training_state.json", "rng-0.json",
                                  "checkpoint.json"])  # fmt: skip
def test_a_pickle_in_any_pretrain_resume_file_falls_back_and_never_runs(corpus, tmp_path, name, caplog):
    output, marker = tmp_path / "run", tmp_path / "ran"
    options = tiny_options(corpus, output, steps=8, save_every=4, eval_data=None)
    pretrain(PretrainConfig(**options))  # checkpoints at steps 4 and 8
    finished = _weights(output)
    plant(output / "checkpoints" / "step-00000008" / name, marker)
    pretrain(PretrainConfig(**{**options, "resume": True}))
    assert not marker.exists()
    assert f"step-00000008/{name}" in caplog.text  # the broken file is named, and step 4 was used
    assert _same_weights_as(output, finished)  # resumed from step 4, exactly


# ------------------------------------------------------------------------------------------- corrupt checkpoints
def test_a_truncated_checkpoint_is_named_and_the_newest_intact_one_is_used(corpus, tmp_path, caplog):
    output = tmp_path / "run"
    options = tiny_options(corpus, output, steps=8, save_every=2, keep_checkpoints=3, eval_data=None)
    pretrain(PretrainConfig(**options))  # checkpoints at steps 4, 6 and 8
    finished = _weights(output)
    state = output / "checkpoints" / "step-00000008" / "optimizer.safetensors"
    state.write_bytes(state.read_bytes()[:100])
    flipped = output / "checkpoints" / "step-00000006" / "model.safetensors"
    content = bytearray(flipped.read_bytes())
    content[-1] ^= 0xFF  # one bit of one weight: only the hash can tell
    flipped.write_bytes(bytes(content))
    pretrain(PretrainConfig(**{**options, "resume": True}))
    assert "step-00000008/optimizer.safetensors is truncated" in caplog.text
    assert "step-00000006/model.safetensors is corrupt" in caplog.text
    assert _same_weights_as(output, finished)  # from step 4


def test_when_every_checkpoint_is_broken_resume_says_so_in_one_line(corpus, tmp_path, capsys):
    output = tmp_path / "run"
    options = tiny_options(corpus, output, steps=4, save_every=4, eval_data=None)
    pretrain(PretrainConfig(**options))
    (output / "checkpoints" / "step-00000004" / "training_state.json").write_text("{")
    args = ["pretrain", "--data", options["data"], "--tokenizer", options["tokenizer"], "--output", str(output),
            "--model-config", TINY_MODEL, "--steps", "6", "--resume", "--no-progress", "--no-tensorboard"]  # fmt: skip
    assert main(args) == 2
    message = capsys.readouterr().err.strip()
    assert len(message.splitlines()) == 1
    assert "no intact checkpoint" in message and "training_state.json" in message and "--overwrite" in message


# ------------------------------------------------------------------------------------------- changed settings
def test_finetune_resume_refuses_changed_data_batch_and_rate_naming_each(base_model, data, tmp_path):
    output = tmp_path / "out"
    _stopped_finetune(base_model, data, output)
    with pytest.raises(ValueError) as refused:
        ft.finetune("text-classification", base_model, data["other_train"], data["dev"], output,
                    _settings(batch_size=8, learning_rate=2e-3))  # fmt: skip
    message = str(refused.value)
    assert "--train (its contents)" in message and "--batch-size 16 -> 8" in message
    assert "--lr 0.001 -> 0.002" in message and "resume=False" in message and "\n" not in message
    assert not (output / ft.RESULTS_FILE).exists()  # nothing recorded of the refused run


def test_finetune_resume_applies_more_epochs_and_records_them(base_model, data, tmp_path):
    output = tmp_path / "out"
    _stopped_finetune(base_model, data, output)
    result = ft.finetune("text-classification", base_model, data["train"], data["dev"], output, _settings(epochs=3))
    assert [h["epoch"] for h in result.history] == [1, 2, 3]
    assert json.loads((output / ft.RESULTS_FILE).read_text())["settings"]["epochs"] == 3
    two_epochs = ft.finetune("text-classification", base_model, data["train"], data["dev"], tmp_path / "two",
                             _settings())  # fmt: skip
    assert result.history[0] == two_epochs.history[0]  # the first epoch is the stopped run's (3 epochs decay later)
    assert not (output / ft.RESUME_DIR).exists()


def test_pretrain_resume_refuses_another_model_config_and_applies_more_steps(corpus, tmp_path, caplog):
    output = tmp_path / "run"
    options = tiny_options(corpus, output, steps=4, eval_data=None)
    pretrain(PretrainConfig(**options))
    wider = json.dumps({**json.loads(TINY_MODEL), "hidden_size": 64})
    with pytest.raises(ValueError, match=r"--model-config .*changed since.*pass overwrite=True to start over"):
        pretrain(PretrainConfig(**{**options, "model_config": wider, "resume": True}))
    with pytest.raises(ValueError, match=r"--lr 0.005 -> 0.001; --seed 12345 -> 1 changed"):
        pretrain(PretrainConfig(**{**options, "seed": 1, "lr": 1e-3, "resume": True}))
    result = pretrain(PretrainConfig(**{**options, "steps": 8, "resume": True}))
    assert result.step == 8 and "steps 4 -> 8" in caplog.text
    checkpoint = ckpt.load_checkpoint(output / "checkpoints" / "step-00000008")
    assert checkpoint.state["config"]["steps"] == 8 and checkpoint.state["settings"]["warmup"] == 2


# ------------------------------------------------------------------------------------------- inputs and kinds
def _finetune_args(model, data, output, *extra) -> list[str]:
    return ["finetune", "--task", "text-classification", "--model", str(model), "--train", str(data["train"]),
            "--output", str(output), "--epochs", "1", "--max-length", "48", "--no-progress", *extra]  # fmt: skip


def test_finetune_refuses_to_write_over_its_starting_model(base_model, data, tmp_path, capsys):
    before = _weights(base_model)
    assert main(_finetune_args(base_model, data, base_model)) == 2
    assert "is also --model" in capsys.readouterr().err
    link = tmp_path / "link"
    link.symlink_to(base_model)
    assert main(_finetune_args(base_model, data, link)) == 2
    assert "is also --model" in capsys.readouterr().err
    assert _same_weights_as(base_model, before)


def test_finetune_refuses_a_training_file_inside_its_output(base_model, data, tmp_path, capsys):
    output = tmp_path / "out"
    output.mkdir()
    train = write_jsonl(output / "train.jsonl", sentiment_examples(16, 0))
    assert main(_finetune_args(base_model, {"train": train}, output)) == 2
    assert "--train" in capsys.readouterr().err and train.is_file()


def test_predict_refuses_to_write_over_its_input(base_model, data, tmp_path, capsys):
    output = tmp_path / "ft"
    assert main(_finetune_args(base_model, data, output)) == 0
    before = data["dev"].read_bytes()
    args = ["predict", "--model", str(output), "--input", str(data["dev"]), "--output", str(data["dev"])]
    assert main(args) == 2
    assert "is also --input" in capsys.readouterr().err
    assert data["dev"].read_bytes() == before


def test_pretrain_over_a_fine_tuned_model_needs_overwrite_and_then_replaces_it_whole(base_model, corpus, data,
                                                                                      tmp_path, capsys):  # fmt: skip
    output = tmp_path / "ft"
    assert main(_finetune_args(base_model, data, output)) == 0
    capsys.readouterr()
    options = tiny_options(corpus, output, steps=2, eval_data=None)
    with pytest.raises(ValueError, match=r"holds a fine-tuned text-classification model.*pass overwrite=True"):
        pretrain(PretrainConfig(**options))
    assert (output / "task.json").is_file() and (output / ft.RESULTS_FILE).is_file()  # untouched
    pretrain(PretrainConfig(**{**options, "overwrite": True}))
    assert not (output / "task.json").exists() and not (output / ft.RESULTS_FILE).exists()
    assert main(["predict", "--model", str(output), "--input", str(data["dev"]), "--output", "-"]) == 2
    assert "records no task" in capsys.readouterr().err


def test_finetune_over_a_pretraining_run_needs_overwrite(base_model, corpus, data, tmp_path, capsys):
    output = tmp_path / "run"
    pretrain(PretrainConfig(**tiny_options(corpus, output, steps=2, eval_data=None)))
    assert main(_finetune_args(base_model, data, output)) == 2
    assert "holds a pretraining run" in capsys.readouterr().err and (output / "checkpoints").is_dir()
    assert main(_finetune_args(base_model, data, output, "--overwrite")) == 0
    assert not (output / "checkpoints").exists()
    assert all("mlm_loss" not in record for record in read_metrics(output / "metrics.jsonl"))  # fine-tuning's own
    assert json.loads((output / "task.json").read_text())["task"] == "text-classification"
