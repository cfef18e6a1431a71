"""Fault injection: SIGKILL at seeded points, full disks and write errors, two writers, orphaned workers.

Each case runs a real command in a subprocess through ``tests/fault_runner.py``, breaks it at a fixed point (the
N-th file-system step, counted the same way on every run), then checks what a user would find: the previous good
state loads, nothing half-written is visible, and the command a user runs next ends exactly where an
uninterrupted run ends (bitwise, on the CPU).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from albertlite import AlbertForSequenceClassification, AlbertTokenizer
from albertlite.checkpoints.files import staging_leftovers
from albertlite.checkpoints.run_dir import LOCK_FILE
from albertlite.cli import main
from albertlite.data.shards import PretrainingShards
from albertlite.train import checkpointing as ckpt
from albertlite.train.metrics_log import read_metrics

from .helpers.data import synthetic_documents
from .helpers.finetune import make_model_dir, make_tokenizer_dir, sentiment_examples, write_jsonl
from .helpers.pretrain import build_tiny_corpus, cli_args, tiny_options

pytestmark = pytest.mark.slow
# In-process runs train as the CLI subprocesses here do by default (the padding-free path).
USES_FAST_PATH = True

REPO = Path(__file__).resolve().parents[1]
RUNNER = Path(__file__).with_name("fault_runner.py")
SEED = 20261201  # the kill points below are drawn from it


def run(plan: str, *command: str, fsize: int | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run ``command`` under ``plan`` (see fault_runner) in a subprocess, optionally with RLIMIT_FSIZE."""
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}", "OMP_NUM_THREADS": "1"}
    if fsize is not None:  # set by the runner: a preexec_fn would fork a process that may hold JAX's threads
        env["FAULT_FSIZE"] = str(fsize)
    command_line = [sys.executable, str(RUNNER), plan, *command]
    return subprocess.run(command_line, env=env, capture_output=True, text=True, timeout=timeout)


def count_steps(tmp_path: Path, *command: str) -> dict[str, int]:
    """How many file-system steps (and fsyncs) ``command`` takes, by running it."""
    counts = tmp_path / "counts.json"
    completed = run(f"count:{counts}", *command)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(counts.read_text())


def kill_points(total: int, count: int, seed: int = SEED) -> list[int]:
    """One seeded point in each of ``count`` equal stretches of the command's steps."""
    rng = random.Random(seed)
    edges = np.linspace(1, total + 1, count + 1).astype(int)
    return [rng.randrange(int(a), max(int(a) + 1, int(b))) for a, b in itertools.pairwise(edges)]


def killed(plan_point: int, *command: str) -> None:
    completed = run(f"kill:{plan_point}", *command)
    assert completed.returncode == -signal.SIGKILL, (plan_point, completed.returncode, completed.stderr[-2000:])


def leftovers(directory: Path) -> list[str]:
    """Anything half-written: staging siblings, hidden temporary files or checkpoints, a lock nobody holds."""
    found = [p.name for p in staging_leftovers(directory)]
    if directory.is_dir():
        found += [str(p.relative_to(directory)) for p in directory.rglob(".*") if p.name != LOCK_FILE]
        found += [LOCK_FILE] if (directory / LOCK_FILE).exists() else []
    return found


def weights(directory: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(directory / "model.safetensors"))


def same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def files_of(directory: Path) -> dict[str, bytes]:
    """The visible files of a directory and their bytes (the lock and hidden leftovers are checked apart)."""
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_tiny_corpus(tmp_path_factory.mktemp("corpus"))


# --------------------------------------------------------------------------------------------- pretrain
def _pretrain_args(options: dict) -> list[str]:
    return ["cli", *cli_args(options)]


def _pretrain_options(corpus, output: Path) -> dict:
    return tiny_options(corpus, output, steps=8, save_every=2, keep_checkpoints=2, eval_every=4, eval_samples=16)


def _check_pretrain_state(output: Path) -> None:
    """What a killed run left: every visible checkpoint verifies, and a final model (if any) loads."""
    for _, path in ckpt.list_checkpoints(output / "checkpoints"):
        ckpt.load_checkpoint(path)
    if (output / "config.json").exists():
        from albertlite.modeling_torch import AlbertForPreTraining

        AlbertForPreTraining.from_pretrained(output)


def _train_records(output: Path) -> list[dict]:
    timing = ("tokens_per_s", "elapsed_s")  # the clock's, not the run's
    return [{k: v for k, v in r.items() if k not in timing} for r in read_metrics(output / "metrics.jsonl")]


def test_pretrain_killed_at_seeded_points_resumes_to_the_uninterrupted_weights(corpus, tmp_path):
    reference = tmp_path / "reference"
    total = count_steps(tmp_path, *_pretrain_args(_pretrain_options(corpus, reference)))["steps"]
    points = kill_points(total, 6)
    for point in points:
        output = tmp_path / f"killed-{point}"
        options = _pretrain_options(corpus, output)
        killed(point, *_pretrain_args(options))
        _check_pretrain_state(output)
        assert main(_pretrain_args({**options, "resume": True})[1:]) == 0, point  # what a user runs next
        assert same(weights(output), weights(reference)), point
        assert _train_records(output) == _train_records(reference), point
        assert leftovers(output) == [], (point, leftovers(output))


def test_pretrain_with_a_full_disk_or_failing_writes_keeps_its_last_checkpoint(corpus, tmp_path):
    reference = tmp_path / "reference"
    fsyncs = count_steps(tmp_path, *_pretrain_args(_pretrain_options(corpus, reference)))["fsyncs"]
    checkpoint_bytes = (reference / "checkpoints" / "step-00000008" / "model.safetensors").stat().st_size
    cases = {
        "fsize": dict(plan="none", fsize=checkpoint_bytes + 1),  # the first optimizer file does not fit
        "metrics": dict(plan="metrics-full:5"),  # half a record on disk, then nothing more fits
        **{f"fsync-{n}": dict(plan=f"enospc:{n}") for n in kill_points(fsyncs, 3, SEED + 1)},
    }
    for name, case in cases.items():
        output = tmp_path / name
        options = _pretrain_options(corpus, output)
        completed = run(case["plan"], *_pretrain_args(options), fsize=case.get("fsize"))
        assert completed.returncode == 2, (name, completed.returncode, completed.stderr[-2000:])
        message = completed.stderr.strip().splitlines()
        assert len(message) == 1 and message[0].startswith("albertlite pretrain: error:"), (name, message)
        _check_pretrain_state(output)
        assert leftovers(output) == [], (name, leftovers(output))
        assert main(_pretrain_args({**options, "resume": True})[1:]) == 0, name
        assert same(weights(output), weights(reference)), name
        assert _train_records(output) == _train_records(reference), name


def test_two_pretrain_runs_on_one_output_the_second_is_refused(corpus, tmp_path, capsys, caplog):
    output = tmp_path / "run"
    options = {**_pretrain_options(corpus, output), "steps": 100000, "save_every": 1000}
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen([sys.executable, "-m", "albertlite", *_pretrain_args(options)[1:]], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (output / "metrics.jsonl").exists():
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        assert main(_pretrain_args({**options, "steps": 8})[1:]) == 2
        error = capsys.readouterr().err
        assert f"in use by albertlite pretrain (pid {first.pid}" in error, error
    finally:
        first.kill()
        first.wait()
    # the first one is gone: its lock is taken over, and the run starts afresh whole
    assert main(_pretrain_args({**_pretrain_options(corpus, output), "overwrite": True})[1:]) == 0
    assert f"taking over the lock left by albertlite pretrain (pid {first.pid}" in caplog.text
    assert [r["step"] for r in read_metrics(output / "metrics.jsonl") if r["split"] == "train"] == list(range(1, 9))
    assert leftovers(output) == []


# --------------------------------------------------------------------------------------------- finetune
@pytest.fixture(scope="module")
def finetune_inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("finetune")
    model = make_model_dir(root / "base", make_tokenizer_dir(root / "tok"))
    train = write_jsonl(root / "train.jsonl", sentiment_examples(48, 0))
    dev = write_jsonl(root / "dev.jsonl", sentiment_examples(16, 1))
    return model, train, dev


def _finetune_args(inputs, output: Path) -> list[str]:
    model, train, dev = inputs
    return ["cli", "finetune", "--task", "text-classification", "--model", str(model), "--train", str(train),
            "--validation", str(dev), "--output", str(output), "--epochs", "3", "--batch-size", "16",
            "--max-length", "48", "--lr", "1e-3", "--seed", "0", "--no-progress"]  # fmt: skip


def _check_finetune_state(output: Path) -> None:
    if (output / "task.json").exists():  # a best model was saved before the kill: it is whole
        json.loads((output / "task.json").read_text())
        AlbertForSequenceClassification.from_pretrained(output)
        AlbertTokenizer.from_pretrained(output)
    for _, path in ckpt.list_checkpoints(output / "checkpoints"):
        ckpt.load_checkpoint(path)


def _history(output: Path) -> list[dict]:
    return json.loads((output / "finetune_results.json").read_text())["history"]


def test_finetune_killed_at_seeded_points_resumes_to_the_uninterrupted_model(finetune_inputs, tmp_path):
    reference = tmp_path / "reference"
    total = count_steps(tmp_path, *_finetune_args(finetune_inputs, reference))["steps"]
    for point in kill_points(total, 5):
        output = tmp_path / f"killed-{point}"
        killed(point, *_finetune_args(finetune_inputs, output))
        _check_finetune_state(output)
        assert main(_finetune_args(finetune_inputs, output)[1:]) == 0, point
        assert same(weights(output), weights(reference)), point
        assert _history(output) == _history(reference), point
        assert leftovers(output) == [], (point, leftovers(output))


# --------------------------------------------------------------------------------------------- pretrain-data
def _data_args(corpus, output: Path, seed: int) -> list[str]:
    return ["cli", "pretrain-data", "--input", str(corpus.tokenizer.parent / "train.txt"), "--tokenizer",
            str(corpus.tokenizer), "--output", str(output), "--max-seq-length", "64", "--max-predictions-per-seq",
            "10", "--dupe-factor", "2", "--instances-per-shard", "60", "--seed", str(seed), "--overwrite"]  # fmt: skip


def _readable(directory: Path) -> int:
    data = PretrainingShards(directory)
    return sum(len(data[i]["input_ids"]) for i in range(len(data)))


def test_pretrain_data_killed_or_out_of_space_leaves_the_old_dataset_never_a_mix(corpus, tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    assert main(_data_args(corpus, old, 1)[1:]) == 0
    assert main(_data_args(corpus, new, 2)[1:]) == 0
    old_files, new_files = files_of(old), files_of(new)
    assert len([name for name in new_files if name.startswith("shard-")]) > 7  # several shards
    counted = tmp_path / "counted"
    assert main(_data_args(corpus, counted, 1)[1:]) == 0  # counted over an old dataset, as the faults run
    total = count_steps(tmp_path, *_data_args(corpus, counted, 2))["steps"]
    faults = {f"kill-{n}": dict(plan=f"kill:{n}") for n in kill_points(total, 4)}
    faults["fsize"] = dict(plan="none", fsize=2000)
    for name, fault in faults.items():
        output = tmp_path / name
        assert main(_data_args(corpus, output, 1)[1:]) == 0  # the previous good dataset
        completed = run(fault["plan"], *_data_args(corpus, output, 2), fsize=fault.get("fsize"))
        assert completed.returncode in (-signal.SIGKILL, 2), (name, completed.stderr[-2000:])
        assert files_of(output) in (old_files, new_files), name  # never a mix of the two
        _readable(output)
        assert main(_data_args(corpus, output, 2)[1:]) == 0, name  # run again
        assert files_of(output) == new_files, name
        assert leftovers(output) == [], (name, leftovers(output))


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found |= {int(child) for child in text}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_pretrain_data_workers_end_when_their_parent_is_killed_and_the_rerun_is_clean(corpus, tmp_path):
    text = tmp_path / "big.txt"
    documents = synthetic_documents(3000, seed=3)
    text.write_text("\n\n".join("\n".join(d) for d in documents) + "\n", encoding="utf-8")
    output = tmp_path / "data"
    args = ["pretrain-data", "--input", str(text), "--tokenizer", str(corpus.tokenizer), "--output", str(output),
            "--max-seq-length", "64", "--dupe-factor", "3", "--chunk-documents", "20", "--instances-per-shard",
            "200"]  # fmt: skip
    args_with_workers = [*args, "--workers", "2"]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "albertlite", *args_with_workers]
    parent = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    children: set[int] = set()
    while len(children) < 3:  # two workers and multiprocessing's resource tracker
        assert parent.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
        children = _children(parent.pid)
        time.sleep(0.05)
    time.sleep(1.0)  # let it write some shards
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(child) for child in children):
        assert time.monotonic() < deadline, [child for child in children if _alive(child)]
        time.sleep(0.1)
    assert not output.exists() or not any(p.name.startswith("shard-") for p in output.iterdir())
    assert main(args) == 0  # what a user runs next
    manifest = json.loads((output / "manifest.json").read_text())
    expected = {f"{s['name']}.{array}.bin" for s in manifest["shards"] for array in manifest["arrays"]}
    assert {p.name for p in output.iterdir() if p.name.startswith("shard-")} == expected  # no stale shard
    assert leftovers(output) == []


# --------------------------------------------------------------------------------------------- save_pretrained
@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    tokenizer = make_tokenizer_dir(root / "tok")
    first, second = root / "a", root / "b"
    for seed, directory in ((0, first), (1, second)):
        make_model_dir(directory, tokenizer, seed=seed)
        # two head sizes: the new config beside the old weights would not load
        model = AlbertForSequenceClassification.from_pretrained(directory, num_labels=2 + seed)
        model.save_pretrained(directory)
    return first, second


def _copy_dir(source: Path, target: Path) -> Path:
    target.mkdir(parents=True)
    for name, data in files_of(source).items():
        (target / name).write_bytes(data)
    (target / "notes.txt").write_text("the user's own file")
    return target


def test_save_pretrained_killed_or_out_of_space_leaves_a_model_that_loads(two_models, tmp_path):
    first, second = two_models
    expected = {"old": weights(first), "new": weights(second)}
    total = count_steps(tmp_path, "save-model", str(second), str(_copy_dir(first, tmp_path / "counted")))["steps"]
    faults = {f"kill-{n}": dict(plan=f"kill:{n}") for n in kill_points(total, 5)}
    faults["fsize"] = dict(plan="none", fsize=(second / "model.safetensors").stat().st_size // 2)
    faults.update({f"fsync-{n}": dict(plan=f"enospc:{n}") for n in (1, 2)})
    for name, fault in faults.items():
        target = _copy_dir(first, tmp_path / name)
        completed = run(fault["plan"], "save-model", str(second), str(target), fsize=fault.get("fsize"))
        assert completed.returncode != 0, name
        state = weights(target)
        assert same(state, expected["old"]) or same(state, expected["new"]), name
        AlbertForSequenceClassification.from_pretrained(target)
        AlbertTokenizer.from_pretrained(target)  # the tokenizer beside the model was kept
        assert (target / "notes.txt").read_text() == "the user's own file"
        assert run("none", "save-model", str(second), str(target)).returncode == 0  # save again
        assert same(weights(target), expected["new"]) and leftovers(target) == [], name


def test_tokenizer_save_killed_or_out_of_space_leaves_a_tokenizer_that_loads(two_models, corpus, tmp_path):
    first, _ = two_models
    source = corpus.tokenizer  # another vocabulary than the model directory's
    old_vocab = AlbertTokenizer.from_pretrained(first).get_vocab()
    new_vocab = AlbertTokenizer.from_pretrained(source).get_vocab()
    counted = _copy_dir(first, tmp_path / "counted")
    total = count_steps(tmp_path, "save-tokenizer", str(source), str(counted))["steps"]
    faults = {f"kill-{n}": dict(plan=f"kill:{n}") for n in kill_points(total, 3)}
    faults["fsize"] = dict(plan="none", fsize=(source / "spiece.model").stat().st_size // 2)
    for name, fault in faults.items():
        target = _copy_dir(first, tmp_path / name)
        completed = run(fault["plan"], "save-tokenizer", str(source), str(target), fsize=fault.get("fsize"))
        assert completed.returncode != 0, name
        assert AlbertTokenizer.from_pretrained(target).get_vocab() in (old_vocab, new_vocab), name
        assert same(weights(target), weights(first))  # the model beside it was kept
        assert run("none", "save-tokenizer", str(source), str(target)).returncode == 0
        assert AlbertTokenizer.from_pretrained(target).get_vocab() == new_vocab and leftovers(target) == []
