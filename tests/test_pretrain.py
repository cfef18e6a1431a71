"""`pretrain`: outputs, accumulation, checkpoints and exact resume after SIGKILL, the CLI and its config file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from albertlite.train import PretrainConfig, pretrain, resolve_model_config
from albertlite.train.checkpointing import STATE_FILE, SUMMARY_FILE, list_checkpoints, load_checkpoint, rng_file_name
from albertlite.train.metrics_log import read_metrics

from .helpers.pretrain import TINY_MODEL, build_tiny_corpus, cli_args, tiny_options

# Runs in this process train as the CLI does by default (the padding-free path), like the subprocesses here.
USES_FAST_PATH = True
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_tiny_corpus(tmp_path_factory.mktemp("corpus"))


def _train_losses(output: Path) -> list[float]:
    return [r["loss"] for r in read_metrics(output / "metrics.jsonl") if r["split"] == "train"]


def _weights(directory: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(directory / "model.safetensors"))


def test_pretrain_writes_model_tokenizer_metrics_and_checkpoints(corpus, tmp_path):
    from albertlite import AlbertTokenizer
    from albertlite.modeling_torch import AlbertForPreTraining

    output = tmp_path / "run"
    result = pretrain(PretrainConfig(**tiny_options(corpus, output, keep_checkpoints=2, plot=True)))
    assert result.step == 12
    records = read_metrics(output / "metrics.jsonl")
    assert [r["step"] for r in records if r["split"] == "train"] == list(range(1, 13))
    assert [r["step"] for r in records if r["split"] == "eval"] == [0, 6, 12]
    assert result.first_eval["pairs"] == 64
    assert result.final_eval == {k: v for k, v in records[-1].items() if k not in ("step", "split")}
    assert result.final_eval["mlm_loss"] < result.first_eval["mlm_loss"]
    assert all(0.0 <= r["mlm_acc"] <= 1.0 and 0.0 <= r["sop_acc"] <= 1.0 for r in records)
    assert (output / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [step for step, _ in list_checkpoints(output / "checkpoints")] == [8, 12]  # keep_checkpoints=2
    assert not [p for p in (output / "checkpoints").iterdir() if p.name.startswith(".")]
    # the final model is the last checkpoint's, and loads with its tokenizer
    model = AlbertForPreTraining.from_pretrained(output)
    checkpoint = load_checkpoint(output / "checkpoints" / "step-00000012", rank=0)
    for name, tensor in checkpoint.model.items():
        assert torch.equal(tensor, model.state_dict()[name]), name
    assert checkpoint.rng is not None and set(checkpoint.rng) >= {"torch", "numpy", "python"}
    assert checkpoint.state["global_batch"] == 8 and checkpoint.state["data_position"] == 96
    assert AlbertTokenizer.from_pretrained(output).vocab_size == 70


def test_accumulation_matches_one_big_batch(corpus, tmp_path):
    big = pretrain(PretrainConfig(**tiny_options(corpus, tmp_path / "big", steps=6, eval_data=None)))
    small = pretrain(
        PretrainConfig(**tiny_options(corpus, tmp_path / "acc", steps=6, eval_data=None, batch_size=4, accumulation=2))
    )
    assert big.step == small.step == 6
    np.testing.assert_allclose(_train_losses(tmp_path / "acc"), _train_losses(tmp_path / "big"), rtol=1e-5)
    big_w, small_w = _weights(tmp_path / "big"), _weights(tmp_path / "acc")
    for name in big_w:
        np.testing.assert_allclose(small_w[name], big_w[name], atol=2e-5, err_msg=name)


def test_bf16_adamw_linear_schedule_runs(corpus, tmp_path):
    options = tiny_options(corpus, tmp_path / "bf16", steps=4, bf16=True, optimizer="adamw", schedule="linear")
    result = pretrain(PretrainConfig(**options))
    losses = _train_losses(tmp_path / "bf16")
    assert len(losses) == 4 and all(np.isfinite(losses))
    assert [r["lr"] for r in result.history if r["split"] == "train"] == pytest.approx([0.0, 2.5e-3, 5e-3, 2.5e-3])


def test_refuses_to_clobber_checkpoints_and_checks_the_tokenizer(corpus, tmp_path):
    options = tiny_options(corpus, tmp_path / "run", steps=4, eval_data=None)
    pretrain(PretrainConfig(**options))
    with pytest.raises(ValueError, match="already holds checkpoints"):
        pretrain(PretrainConfig(**options))
    # resuming a finished run changes nothing
    before = _weights(tmp_path / "run")
    pretrain(PretrainConfig(**{**options, "resume": True}))
    after = _weights(tmp_path / "run")
    assert all(np.array_equal(before[k], after[k]) for k in before)
    with pytest.raises(ValueError, match="global batch"):
        pretrain(PretrainConfig(**{**options, "resume": True, "steps": 6, "batch_size": 4}))
    from albertlite.tokenizer_training import train_tokenizer

    train_tokenizer([corpus.tokenizer.parent / "held_out.txt"], vocab_size=60, output_dir=tmp_path / "other_tok")
    with pytest.raises(ValueError, match="not the one"):
        pretrain(PretrainConfig(**{**options, "tokenizer": str(tmp_path / "other_tok"), "overwrite": True}))


def test_resolve_model_config_forms(tmp_path):
    preset = resolve_model_config("albert-base-v2", vocab_size=70)
    assert (preset.hidden_size, preset.vocab_size) == (768, 70)
    inline = resolve_model_config(TINY_MODEL, vocab_size=70, pad_token_id=0)
    assert (inline.hidden_size, inline.num_hidden_layers, inline.hidden_act) == (32, 2, "gelu_new")
    path = tmp_path / "config.json"
    inline.copy(hidden_size=64, num_attention_heads=2).save_pretrained(tmp_path)
    assert resolve_model_config(str(path), vocab_size=71).hidden_size == 64
    with pytest.raises(ValueError, match="not valid JSON"):
        resolve_model_config("{hidden_size: 3}", vocab_size=70)


def test_cli_config_file_and_flags(tmp_path):
    from albertlite.cli import build_parser
    from albertlite.commands.pretrain import build_config

    (tmp_path / "run.json").write_text(
        json.dumps({"data": "d", "tokenizer": "t", "output": "o", "batch-size": 5, "lr": 0.1})
    )
    args = build_parser().parse_args(
        [
            "pretrain",
            "--config",
            str(tmp_path / "run.json"),
            "--lr",
            "0.2",
            "--bf16",
            "--no-tensorboard",
            "--steps",
            "7",
        ]
    )
    config = build_config(args)
    assert (config.data, config.batch_size, config.lr, config.steps, config.bf16, config.tensorboard) == (
        "d", 5, 0.2, 7, True, False,
    )  # fmt: skip
    assert config.plot and config.optimizer == "lamb" and config.warmup == 0  # round(2.5% of 7)
    assert PretrainConfig.from_json_file(tmp_path / "run.json").lr == 0.1
    with pytest.raises(ValueError, match=r"pretraining options: unknown key\(s\) 'learning_rate'; known keys: acc"):
        PretrainConfig.from_dict({"data": "d", "tokenizer": "t", "output": "o", "learning_rate": 1.0})
    with pytest.raises(ValueError, match="missing required"):
        build_config(build_parser().parse_args(["pretrain", "--data", "d"]))


def _cli(options: dict) -> list[str]:
    return [sys.executable, "-m", "albertlite", *cli_args(options)]


def test_sigkill_then_resume_ends_with_the_weights_of_an_uninterrupted_run(corpus, tmp_path):
    options = tiny_options(corpus, tmp_path / "killed", steps=40, save_every=5, eval_every=20, keep_checkpoints=3)
    reference = {**options, "output": str(tmp_path / "reference")}
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(_cli(options), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    checkpoints = tmp_path / "killed" / "checkpoints"
    deadline = time.monotonic() + 120
    while not any(step >= 10 for step, _ in list_checkpoints(checkpoints)):
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL
    process.stderr.close()
    assert not (tmp_path / "killed" / "model.safetensors").exists()  # it really died before the end
    # every visible checkpoint is whole; only dot-names may be leftovers, and the resume removes them
    survivors = list_checkpoints(checkpoints)
    assert survivors and max(step for step, _ in survivors) < 40
    for step, path in survivors:
        assert {STATE_FILE, SUMMARY_FILE, rng_file_name(0)} <= {p.name for p in path.iterdir()}
        assert load_checkpoint(path, 0).step == step
        assert json.loads((path / SUMMARY_FILE).read_text())["step"] == step
    resumed = pretrain(PretrainConfig(**{**options, "resume": True}))
    assert resumed.step == 40 and not resumed.first_eval
    assert not [p for p in checkpoints.iterdir() if p.name.startswith(".")]
    pretrain(PretrainConfig(**reference))
    killed_w, reference_w = _weights(tmp_path / "killed"), _weights(tmp_path / "reference")
    assert killed_w.keys() == reference_w.keys()
    for name in reference_w:
        assert np.array_equal(killed_w[name], reference_w[name]), name  # bitwise
    assert _train_losses(tmp_path / "killed") == _train_losses(tmp_path / "reference")


@pytest.mark.slow
@pytest.mark.tf
@pytest.mark.flax
def test_output_loads_in_every_framework_and_tensorboard_events(corpus, tmp_path):
    from albertlite import AlbertForPreTraining, FlaxAlbertForPreTraining, TFAlbertForPreTraining

    output = tmp_path / "run"
    pretrain(PretrainConfig(**tiny_options(corpus, output, steps=2, eval_data=None, tensorboard=True)))
    assert any((output / "tensorboard").iterdir())
    ids = np.array([[2, 10, 11, 12, 3, 13, 14, 3]])
    expected = AlbertForPreTraining.from_pretrained(output)(torch.from_numpy(ids)).prediction_logits.detach().numpy()
    tf_logits = np.asarray(TFAlbertForPreTraining.from_pretrained(output)(ids).prediction_logits)
    flax_logits = np.asarray(FlaxAlbertForPreTraining.from_pretrained(output)(ids).prediction_logits)
    np.testing.assert_allclose(tf_logits, expected, atol=1e-4)
    np.testing.assert_allclose(flax_logits, expected, atol=1e-4)


def test_dynamic_masking_draws_a_fresh_mask_each_epoch(corpus, tmp_path):
    from albertlite.data.shard_builder import write_pretraining_shards
    from albertlite.train.distributed import DistributedContext
    from albertlite.train.pretrain import _Trainer

    data = tmp_path / "unmasked"
    train_text = corpus.tokenizer.parent / "train.txt"
    write_pretraining_shards(
        [train_text], corpus.tokenizer, data, max_seq_length=64, max_predictions_per_seq=10, mask=False
    )
    options = tiny_options(corpus, tmp_path / "run", data=str(data), steps=3, eval_data=None)
    assert pretrain(PretrainConfig(**options)).step == 3
    trainer = _Trainer(PretrainConfig(**options), DistributedContext())
    size = len(trainer.data)
    index = trainer.order[0][1]
    position_next_epoch = size + [trainer.order[size + p][1] for p in range(size)].index(index)
    first, again = trainer._samples(iter([0])), trainer._samples(iter([position_next_epoch]))
    assert np.array_equal(first[0]["token_type_ids"], again[0]["token_type_ids"])  # the same instance
    assert not np.array_equal(first[0]["masked_lm_positions"], again[0]["masked_lm_positions"]) or not np.array_equal(
        first[0]["input_ids"], again[0]["input_ids"]
    )
