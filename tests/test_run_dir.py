"""An output directory's owner (the lock), its kind, and its distance from the command's inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from albertlite.checkpoints.run_dir import (
    LOCK_FILE,
    OutputBusyError,
    OutputLock,
    check_apart,
    claim_output,
    directory_kind,
)

SRC = Path(__file__).resolve().parents[1] / "src"
HOLD = """
import sys, time
from albertlite.checkpoints.run_dir import OutputLock
lock = OutputLock(sys.argv[1], "albertlite pretrain").acquire()
print("held", flush=True)
time.sleep(60)
"""


def _holder(directory: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(directory)], env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def _end(process: subprocess.Popen) -> None:
    process.kill()
    process.wait()
    process.stdout.close()


def test_a_second_writer_is_refused_at_once_naming_the_first(tmp_path):
    holder = _holder(tmp_path / "out")
    try:
        began = time.monotonic()
        with pytest.raises(OutputBusyError, match=rf"in use by albertlite pretrain \(pid {holder.pid} on "):
            OutputLock(tmp_path / "out", "albertlite finetune").acquire()
        assert time.monotonic() - began < 1.0
    finally:
        _end(holder)


def test_the_lock_of_a_process_that_is_gone_is_taken_over_with_a_warning(tmp_path, caplog):
    holder = _holder(tmp_path / "out")
    _end(holder)
    assert (tmp_path / "out" / LOCK_FILE).exists()  # killed: nothing removed it
    with OutputLock(tmp_path / "out", "albertlite finetune"):
        owner = json.loads((tmp_path / "out" / LOCK_FILE).read_text())
        assert owner["pid"] == os.getpid() and owner["command"] == "albertlite finetune"
    assert f"taking over the lock left by albertlite pretrain (pid {holder.pid}" in caplog.text
    assert not (tmp_path / "out" / LOCK_FILE).exists()  # released on exit


def test_one_process_may_take_its_own_lock_twice(tmp_path):
    with OutputLock(tmp_path, "a"), OutputLock(tmp_path, "b"):
        assert (tmp_path / LOCK_FILE).exists()
    assert not (tmp_path / LOCK_FILE).exists()


@pytest.mark.parametrize(
    ("inputs", "fragment"),
    [
        ({"--model": "out"}, "--output out is also --model"),
        ({"--model": "link"}, "is also --model"),  # the same directory through a symlink
        ({"--train": "out/train.jsonl"}, "--train out/train.jsonl lies inside --output out"),
    ],
)
def test_an_output_may_not_be_or_hold_an_input(tmp_path, monkeypatch, inputs, fragment):
    monkeypatch.chdir(tmp_path)
    Path("out").mkdir()
    Path("out/train.jsonl").write_text("{}\n")
    Path("link").symlink_to(tmp_path / "out")
    with pytest.raises(ValueError, match=fragment):
        check_apart("out", "--output", inputs)


def test_outputs_apart_from_inputs_pass(tmp_path):
    (tmp_path / "model").mkdir()
    check_apart(tmp_path / "model" / "finetuned", "--output", {"--model": tmp_path / "model", "--train": None,
                                                               "--hub": "albert/albert-base-v2"})  # fmt: skip


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "kind"),
    [
        ({}, None),
        ({LOCK_FILE: ""}, None),
        ({"manifest.json": "{}"}, "pretraining data"),
        ({"config.json": "{}", "task.json": '{"task": "question-answering"}'}, "a fine-tuned question-answering model"),
        ({"config.json": '{"architectures": ["AlbertForPreTraining"]}', "metrics.jsonl": ""}, "a pretraining run"),
        ({"checkpoints/step-00000002/checkpoint.json": '{"kind": "a fine-tuned masked-lm model"}'},
         "a fine-tuned masked-lm model"),
        ({"config.json": '{"architectures": ["AlbertForMaskedLM"]}'}, "a model"),
        ({"spiece.model": "x"}, "a tokenizer"),
        ({"notes.txt": "mine"}, "other files"),
    ],
)  # fmt: skip
def test_directory_kind(tmp_path, files, kind):
    assert directory_kind(_write(tmp_path / "d", files) if files else tmp_path / "missing") == kind


def test_claim_output_refuses_another_kind_and_with_overwrite_empties_it_whole(tmp_path):
    target = _write(tmp_path / "d", {"config.json": "{}", "task.json": '{"task": "text-classification"}',
                                     "model.safetensors": "w"})  # fmt: skip
    with pytest.raises(ValueError, match="holds a fine-tuned text-classification model, not a pretraining run; pass "
                                         "overwrite=True"):  # fmt: skip
        claim_output(target, "a pretraining run", overwrite=False)
    assert claim_output(target, "a fine-tuned text-classification model", overwrite=False) is False
    assert claim_output(_write(tmp_path / "mine", {"notes.txt": "x"}), "a model", overwrite=False) is False
    with OutputLock(target, "test"):
        assert claim_output(target, "a pretraining run", overwrite=True) is True
        assert [p.name for p in target.iterdir()] == [LOCK_FILE]


def test_taking_the_lock_removes_what_a_killed_atomic_write_left(tmp_path):
    from albertlite.checkpoints.files import atomic_write_text

    (tmp_path / ".curves.png.k3j2x9.tmp").write_bytes(b"half a png")  # a writer killed before its rename
    (tmp_path / ".tmp-step-00000004").mkdir()  # not an atomic write's file: checkpoints clean their own
    with OutputLock(tmp_path, "test"):
        assert sorted(p.name for p in tmp_path.iterdir()) == [".albertlite.lock", ".tmp-step-00000004"]
        atomic_write_text(tmp_path / "results.json", "{}\n")
    assert (tmp_path / "results.json").read_text() == "{}\n"
