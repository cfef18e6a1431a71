"""Shared by the pretraining tests: a tiny tokenizer and tiny train/held-out shards built with the real pipeline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .data import synthetic_documents

# a 2-layer, hidden-32 model: a step takes milliseconds. No dropout anywhere (the SOP head's classifier dropout
# included), so that runs compare without it; test_distributed.py checks the per-sample dropout of DDP runs.
TINY_MODEL = json.dumps(
    {
        "base": "albert-base-v2",
        "embedding_size": 16,
        "hidden_size": 32,
        "num_attention_heads": 4,
        "intermediate_size": 37,
        "num_hidden_layers": 2,
        "max_position_embeddings": 64,
        "classifier_dropout_prob": 0.0,
    }
)


@dataclass(frozen=True)
class TinyCorpus:
    tokenizer: Path
    data: Path
    eval_data: Path


def build_tiny_corpus(root: Path) -> TinyCorpus:
    """Train a 70-piece tokenizer on synthetic documents and write training and held-out shards (64 tokens)."""
    from albertlite.data.shard_builder import write_pretraining_shards
    from albertlite.tokenizer_training import train_tokenizer

    documents = synthetic_documents(240, seed=1)
    train_text, held_out_text = root / "train.txt", root / "held_out.txt"
    train_text.write_text("\n\n".join("\n".join(d) for d in documents[:200]) + "\n", encoding="utf-8")
    held_out_text.write_text("\n\n".join("\n".join(d) for d in documents[200:]) + "\n", encoding="utf-8")
    train_tokenizer([train_text], vocab_size=70, output_dir=root / "tokenizer")
    settings = dict(max_seq_length=64, max_predictions_per_seq=10)
    write_pretraining_shards([train_text], root / "tokenizer", root / "data", dupe_factor=2, **settings)
    write_pretraining_shards([held_out_text], root / "tokenizer", root / "eval", seed=7, **settings)
    return TinyCorpus(root / "tokenizer", root / "data", root / "eval")


def tiny_options(corpus: TinyCorpus, output: Path, **overrides) -> dict:
    """PretrainConfig keyword arguments for a quiet, single-thread, deterministic tiny run."""
    options = dict(
        data=str(corpus.data),
        tokenizer=str(corpus.tokenizer),
        output=str(output),
        model_config=TINY_MODEL,
        steps=12,
        batch_size=8,
        lr=5e-3,
        warmup_steps=2,
        save_every=4,
        eval_every=6,
        eval_samples=64,
        eval_data=str(corpus.eval_data),
        threads=1,
        deterministic=True,
        tensorboard=False,
        plot=False,
        progress=False,
    )
    options.update(overrides)
    return options


def cli_args(options: dict) -> list[str]:
    """``albertlite pretrain`` arguments for PretrainConfig options (True: the flag, False: its --no- form)."""
    args = ["pretrain"]
    for key, value in options.items():
        flag = "--" + key.replace("_", "-")
        if value is True:
            args.append(flag)
        elif value is False:
            args.append("--no-" + key.replace("_", "-"))
        elif value is not None:
            args += [flag, str(value)]
    return args
