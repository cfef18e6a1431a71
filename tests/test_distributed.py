"""Data parallelism: the global order does not depend on the number of processes; 2-process DDP (gloo) matches
one process with the same global batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch.multiprocessing as mp

from albertlite.train import PretrainConfig, pretrain
from albertlite.train.distributed import DistributedContext, GlobalOrder, epoch_order, rank_positions
from albertlite.train.metrics_log import read_metrics

from .helpers.pretrain import TINY_MODEL, build_tiny_corpus, tiny_options

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_tiny_corpus(tmp_path_factory.mktemp("corpus"))


def test_ranks_split_the_one_process_micro_batch():
    alone = DistributedContext()
    for step, micro in [(0, 0), (0, 1), (3, 1)]:
        single = list(rank_positions(step, micro, batch_size=6, accumulation=2, context=alone))
        ranks = [
            list(
                rank_positions(
                    step, micro, batch_size=2, accumulation=2, context=DistributedContext(rank=r, world_size=3)
                )
            )
            for r in range(3)
        ]
        assert single == list(range((step * 2 + micro) * 6, (step * 2 + micro + 1) * 6))
        assert ranks[1] == single[1::3]  # rank r reads positions r, r + N, r + 2N, ...
        assert sorted(p for positions in ranks for p in positions) == single


def test_global_order_is_a_fresh_permutation_per_epoch():
    order = GlobalOrder(10, seed=3)
    first = [order[p][1] for p in range(10)]
    second = [order[p][1] for p in range(10, 20)]
    assert sorted(first) == sorted(second) == list(range(10)) and first != second
    assert order[13] == (1, int(epoch_order(10, 3, 1)[3]))
    assert [GlobalOrder(10, seed=3, shuffle=False)[p][1] for p in range(12)] == [*range(10), 0, 1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, options: dict) -> None:
    os.environ.update(
        {"RANK": str(rank), "WORLD_SIZE": str(world_size), "LOCAL_RANK": str(rank), "MASTER_ADDR": "127.0.0.1",
         "MASTER_PORT": str(port)}
    )  # fmt: skip
    pretrain(PretrainConfig(**options))


def _budget_worker(rank: int, world_size: int, port: int, options: dict) -> None:
    import itertools

    from albertlite.train import budget

    # rank 1 reads a clock twice as slow: alone it would resolve to fewer steps than rank 0
    counter = itertools.count()
    budget.clock = lambda: float(next(counter)) * (1 + rank)
    _worker(rank, world_size, port, options)


def test_under_ddp_rank_0_resolves_the_budget_for_every_rank(corpus, tmp_path):
    options = tiny_options(corpus, tmp_path / "ddp", batch_size=4, steps=50, max_time=10.0, eval_data=None,
                           save_every=4, warmup_steps=4)  # fmt: skip
    mp.start_processes(_budget_worker, args=(2, _free_port(), options), nprocs=2, join=True, start_method="spawn")
    # rank 0: 4 s measured, 6 one-second steps left (rank 1's own clock would have allowed 4 + 1)
    assert [r["step"] for r in read_metrics(tmp_path / "ddp" / "metrics.jsonl") if r["split"] == "train"] == list(
        range(1, 11)
    )
    state = json.loads((tmp_path / "ddp" / "checkpoints" / "step-00000010" / "training_state.json").read_text())
    assert state["budget"]["resolved_steps"] == 10
    assert {"rng-0.json", "rng-1.json"} <= {p.name for p in (tmp_path / "ddp/checkpoints/step-00000010").iterdir()}


def _train_losses(output: Path) -> np.ndarray:
    return np.array([r["loss"] for r in read_metrics(output / "metrics.jsonl") if r["split"] == "train"])


def test_two_process_ddp_matches_one_process(corpus, tmp_path):
    common = dict(steps=20, eval_every=20, eval_samples=32, save_every=20, accumulation=2)
    single = pretrain(PretrainConfig(**tiny_options(corpus, tmp_path / "single", batch_size=8, **common)))
    options = tiny_options(corpus, tmp_path / "ddp", batch_size=4, **common)
    mp.start_processes(_worker, args=(2, _free_port(), options), nprocs=2, join=True, start_method="spawn")
    single_losses, ddp_losses = _train_losses(tmp_path / "single"), _train_losses(tmp_path / "ddp")
    assert len(ddp_losses) == 20
    np.testing.assert_allclose(ddp_losses, single_losses, rtol=1e-4)
    ddp_eval = [r for r in read_metrics(tmp_path / "ddp" / "metrics.jsonl") if r["split"] == "eval"]
    assert ddp_eval[-1]["mlm_loss"] == pytest.approx(single.final_eval["mlm_loss"], rel=1e-4)
    assert ddp_eval[-1]["pairs"] == 32
    from safetensors.numpy import load_file

    one, two = (
        load_file(str(tmp_path / "single" / "model.safetensors")),
        load_file(str(tmp_path / "ddp" / "model.safetensors")),
    )
    for name in one:
        np.testing.assert_allclose(two[name], one[name], atol=1e-4, err_msg=name)
    # both ranks wrote their generator states into each checkpoint
    written = {p.name for p in (tmp_path / "ddp" / "checkpoints" / "step-00000020").iterdir()}
    assert {"rng-0.json", "rng-1.json"} <= written


@pytest.mark.slow
def test_cli_under_torchrun(corpus, tmp_path):
    options = tiny_options(corpus, tmp_path / "torchrun", batch_size=4, steps=6, save_every=3, eval_every=3)
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2"]
    command = [*launcher, "--master_port", str(_free_port()), "-m", "albertlite", "pretrain"]
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            command += [flag] if value else ["--no-" + key.replace("_", "-")]
        else:
            command += [flag, str(value)]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.count("model and tokenizer saved") == 1  # rank 0 reports
    single = pretrain(
        PretrainConfig(**tiny_options(corpus, tmp_path / "single", batch_size=8, steps=6, save_every=3, eval_every=3))
    )
    assert single.step == 6
    np.testing.assert_allclose(_train_losses(tmp_path / "torchrun"), _train_losses(tmp_path / "single"), rtol=1e-4)


@pytest.mark.slow
def test_two_process_ddp_matches_one_process_with_dropout(corpus, tmp_path):
    # every dropout on (the SOP head's default 0.1, hidden and attention 0.1): each sample's masks come from its
    # global position, so 2 ranks of batch 4 draw what one process of batch 8 draws (per-rank streams ended 1.9%
    # of the largest weight apart after 20 steps)
    dropout = json.dumps({**json.loads(TINY_MODEL), "classifier_dropout_prob": 0.1, "hidden_dropout_prob": 0.1,
                          "attention_probs_dropout_prob": 0.1})  # fmt: skip
    common = dict(steps=20, eval_every=20, eval_samples=32, save_every=20, accumulation=2, model_config=dropout)
    pretrain(PretrainConfig(**tiny_options(corpus, tmp_path / "single", batch_size=8, **common)))
    options = tiny_options(corpus, tmp_path / "ddp", batch_size=4, **common)
    mp.start_processes(_worker, args=(2, _free_port(), options), nprocs=2, join=True, start_method="spawn")
    np.testing.assert_allclose(_train_losses(tmp_path / "ddp"), _train_losses(tmp_path / "single"), rtol=1e-4)
    from safetensors.numpy import load_file

    one, two = (load_file(str(tmp_path / run / "model.safetensors")) for run in ("single", "ddp"))
    largest = max(float(np.abs(value).max()) for value in one.values())
    for name in one:
        np.testing.assert_allclose(two[name], one[name], atol=1e-5 * largest, err_msg=name)
    # and dropout did act: the same run without it ends elsewhere
    plain = tiny_options(corpus, tmp_path / "plain", batch_size=8, **{**common, "model_config": TINY_MODEL})
    pretrain(PretrainConfig(**plain))
    assert not np.allclose(_train_losses(tmp_path / "plain"), _train_losses(tmp_path / "single"), rtol=1e-3)
