"""Tiny ALBERT configs, the seven model classes, padded batches and a local Hub cache: what model tests share."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from albertlite import AlbertConfig

TINY = dict(
    vocab_size=99,
    embedding_size=16,
    hidden_size=32,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=40,
    hidden_act="gelu_new",
)

# name -> config overrides; together they cover sharing (groups, inner groups), E == H, and relative positions.
CONFIGS = {
    "shared": dict(num_hidden_layers=3, num_hidden_groups=1, inner_group_num=1),
    "groups_inner": dict(num_hidden_layers=4, num_hidden_groups=2, inner_group_num=2),
    "e_equals_h": dict(
        num_hidden_layers=2, num_hidden_groups=2, inner_group_num=1, embedding_size=32, hidden_act="gelu"
    ),
}
RELATIVE_CONFIGS = {
    "relative_key": dict(num_hidden_layers=2, position_embedding_type="relative_key"),
    "relative_key_query": dict(num_hidden_layers=4, num_hidden_groups=2, inner_group_num=2,
                               position_embedding_type="relative_key_query"),
}  # fmt: skip


# The seven model classes every framework has (each prefixed TF / Flax there).
MODEL_CLASSES = (
    "AlbertModel",
    "AlbertForPreTraining",
    "AlbertForMaskedLM",
    "AlbertForSequenceClassification",
    "AlbertForMultipleChoice",
    "AlbertForTokenClassification",
    "AlbertForQuestionAnswering",
)


def tiny_config(name: str = "shared", **overrides) -> AlbertConfig:
    settings = {**TINY, **{**CONFIGS, **RELATIVE_CONFIGS}[name], **overrides}
    return AlbertConfig(**settings)


def fake_hub_cache(cache: Path, repo_id: str, source: Path, revision: str = "a" * 40) -> None:
    """Copy ``source``'s files into the layout huggingface_hub writes: models--org--name/{refs/main, snapshots/<sha>/}.

    With ``HF_HUB_OFFLINE=1`` and ``cache_dir=cache`` (or ``HF_HUB_CACHE=cache``), ``repo_id`` then resolves locally.
    """
    repo_dir = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo_dir / "snapshots" / revision
    snapshot.mkdir(parents=True)
    for file in source.iterdir():
        (snapshot / file.name).write_bytes(file.read_bytes())
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text(revision)


def padded_batch(config: AlbertConfig, batch: int = 3, seq_len: int = 9, seed: int = 0) -> dict[str, np.ndarray]:
    """Random ids with rows of different real lengths (trailing padding), as numpy int64."""
    rng = np.random.default_rng(seed)
    input_ids = rng.integers(5, config.vocab_size, size=(batch, seq_len))
    lengths = np.linspace(seq_len, max(2, seq_len // 3), batch).astype(int)
    attention_mask = (np.arange(seq_len)[None, :] < lengths[:, None]).astype(np.int64)
    input_ids = np.where(attention_mask == 1, input_ids, config.pad_token_id)
    token_type_ids = (np.arange(seq_len)[None, :] >= lengths[:, None] // 2).astype(np.int64) * attention_mask
    return {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}
