"""Scoring a masked-LM model on pretraining instances: MLM loss and accuracy, SOP accuracy, a unigram baseline.

One place computes these numbers for ``albertlite pretrain`` (its training statistics and its ``--eval-data``
evaluations) and for ``albertlite evaluate`` (any checkpoint on any text, with fixed seeded masks built by the
pretraining data pipeline), so the two agree on the same instances.

The **unigram baseline** is the MLM loss a unigram model of the training tokens scores on the same masked
positions: ``-mean log p(label)`` with add-one (Laplace) smoothing, ``p(t) = (count(t) + 1) / (N + V)`` over the
``V`` ids of the vocabulary. ``pretrain`` writes the counts of its training instances' tokens (their original ids
at masked positions, special tokens left out) to ``unigram_counts.npy`` in its output directory.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from albertlite.checkpoints.files import fsync_file
from albertlite.data.corpus import read_documents
from albertlite.data.pretraining import PretrainingInstance, create_pretraining_instances
from albertlite.data.shard_builder import check_text_file
from albertlite.data.shards import IGNORE_INDEX, collate_pretraining_batch
from albertlite.validation import check_number

UNIGRAM_FILE = "unigram_counts.npy"
# order of the summed statistics of a batch; a statistic a model or run cannot give is NaN
STATS = (
    "mlm_loss_sum", "mlm_correct", "masked", "sop_loss_sum", "sop_correct", "pairs", "tokens", "unigram_loss_sum",
)  # fmt: skip


class UnigramBaseline:
    """Add-one smoothed unigram log-probabilities from token counts.

    Args:
        counts: count of each vocabulary id, shape (V,).
    """

    def __init__(self, counts: np.ndarray) -> None:
        counts = np.asarray(counts, dtype=np.float64)
        if counts.ndim != 1 or len(counts) == 0 or (counts < 0).any():
            raise ValueError(f"unigram counts must be a 1-d array of non-negative counts, got shape {counts.shape}")
        self.log_probs = torch.from_numpy(np.log((counts + 1.0) / (counts.sum() + len(counts))))

    def loss_sum(self, labels: torch.Tensor) -> torch.Tensor:
        """``-sum log p(label)`` over ``labels`` (float64)."""
        return -self.log_probs.to(labels.device)[labels].sum()


def write_unigram_counts(directory: str | os.PathLike, counts: np.ndarray) -> Path:
    """Save ``counts`` as ``directory/unigram_counts.npy`` (whole or not at all)."""
    path = Path(directory) / UNIGRAM_FILE
    temp = path.with_name(f".{UNIGRAM_FILE}.tmp")
    with open(temp, "wb") as handle:
        np.save(handle, np.asarray(counts, dtype=np.int64))
    fsync_file(temp)
    os.replace(temp, path)
    return path


def read_unigram_counts(directory: str | os.PathLike, vocab_size: int) -> UnigramBaseline | None:
    """The baseline of the counts a pretraining run left in ``directory``; None when there are none."""
    path = Path(directory) / UNIGRAM_FILE
    if not path.is_file():
        return None
    counts = np.load(path, allow_pickle=False)
    if counts.shape != (vocab_size,):
        raise ValueError(f"{path} holds counts of shape {counts.shape}, not one per id of a {vocab_size}-id vocabulary")
    return UnigramBaseline(counts)


def score_batch(
    model: nn.Module, batch: Mapping[str, torch.Tensor], unigram: UnigramBaseline | None = None
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """Per-token MLM losses, per-pair SOP losses (None without an SOP head) and the ``STATS`` sums of a batch.

    The MLM head runs only on masked positions (as the authors' ``gather_indexes``), which saves the
    vocabulary-sized projection of every other token.

    Args:
        model: an ``AlbertForPreTraining``, or an ``AlbertForMaskedLM`` (no SOP figures).
        batch: a collated batch (``collate_pretraining_batch``) as tensors.
        unigram: the baseline to score the masked labels with (NaN in the statistics when None).
    """
    outputs = model.albert(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    labels = batch["labels"]
    selected = labels != IGNORE_INDEX  # (B, L)
    mlm_logits = model.predictions(outputs.last_hidden_state[selected]).float()  # (M, V)
    mlm_labels = labels[selected]
    mlm_losses = F.cross_entropy(mlm_logits, mlm_labels, reduction="none")
    sop_head = getattr(model, "sop_classifier", None)
    sop_labels = batch["sentence_order_label"]
    sop_logits = sop_head(outputs.pooler_output).float() if sop_head is not None else None  # (B, 2)
    sop_losses = F.cross_entropy(sop_logits, sop_labels, reduction="none") if sop_logits is not None else None
    with torch.no_grad():
        nan = torch.tensor(math.nan, device=mlm_losses.device)
        terms = [
            mlm_losses.sum(),
            (mlm_logits.argmax(-1) == mlm_labels).sum().float(),
            torch.tensor(float(mlm_labels.numel()), device=mlm_losses.device),
            sop_losses.sum() if sop_losses is not None else nan,
            (sop_logits.argmax(-1) == sop_labels).sum().float() if sop_logits is not None else nan,
            torch.tensor(float(sop_labels.numel()), device=mlm_losses.device),
            batch["attention_mask"].sum().float(),
            unigram.loss_sum(mlm_labels).to(mlm_losses.device) if unigram is not None else nan,
        ]
        stats = torch.stack([term.double() for term in terms])  # the baseline's float64 sum stays float64
    return mlm_losses, sop_losses, stats


def summarize(stats: torch.Tensor, prefix: str = "") -> dict[str, float]:
    """Loss and accuracies from summed ``STATS``; the SOP and unigram figures only where they were computed."""
    s = dict(zip(STATS, stats.tolist()))
    mlm_loss = s["mlm_loss_sum"] / max(s["masked"], 1.0)
    values = {"mlm_loss": mlm_loss, "mlm_acc": s["mlm_correct"] / max(s["masked"], 1.0)}
    if not math.isnan(s["sop_loss_sum"]):
        sop_loss = s["sop_loss_sum"] / max(s["pairs"], 1.0)
        values = {"loss": mlm_loss + sop_loss, **values, "sop_loss": sop_loss}
        values["sop_acc"] = s["sop_correct"] / max(s["pairs"], 1.0)
    if not math.isnan(s["unigram_loss_sum"]):
        values["unigram_mlm_loss"] = s["unigram_loss_sum"] / max(s["masked"], 1.0)
    return {f"{prefix}{key}": value for key, value in values.items()}


@torch.no_grad()
def score_samples(
    model: nn.Module,
    samples: Iterable[Mapping[str, np.ndarray]],
    *,
    batch_size: int,
    pad_token_id: int,
    device: torch.device,
    unigram: UnigramBaseline | None = None,
    autocast: bool = False,
) -> torch.Tensor:
    """The summed ``STATS`` of a model over pretraining samples (``PretrainingShards`` items), in eval mode.

    Args:
        model: an ``AlbertForPreTraining`` or ``AlbertForMaskedLM``; its train/eval mode is restored after.
        samples: the instances (read lazily), scored in batches of ``batch_size`` in this order.
        pad_token_id: the tokenizer's padding id.
        device: where the model is.
        unigram: the baseline (None: NaN in the statistics).
        autocast: run under bfloat16 autocast.

    Returns:
        float64 sums of ``STATS`` (combine ranks with a sum, then :func:`summarize`).
    """
    stats = torch.zeros(len(STATS), dtype=torch.float64, device=device)
    if unigram is None:
        stats[STATS.index("unigram_loss_sum")] = math.nan
    was_training = model.training
    model.eval()
    try:
        iterator = iter(samples)
        while chunk := list(itertools.islice(iterator, batch_size)):
            arrays = collate_pretraining_batch(chunk, pad_token_id=pad_token_id)
            batch = {key: torch.from_numpy(value).to(device) for key, value in arrays.items()}
            context = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=autocast)
            with context:
                stats += score_batch(model, batch, unigram)[2]
    finally:
        model.train(was_training)
    return stats


# ---------------------------------------------------------------------------------------------- any model, any text
def text_samples(
    paths: Sequence[str | os.PathLike],
    tokenizer: Any,
    *,
    max_seq_length: int = 128,
    masked_lm_prob: float = 0.15,
    max_predictions_per_seq: int = 20,
    seed: int = 12345,
    ngram: int = 3,
    do_whole_word_mask: bool = True,
) -> list[dict[str, np.ndarray]]:
    """Masked sentence-order instances of text files, built by the pretraining pipeline with seeded masks.

    The same files, settings and tokenizer give the same instances and masked positions on every call, so two
    runs, or two models with one vocabulary, are scored on the same predictions.

    Args:
        paths: text files, one sentence per line and a blank line between documents (``albertlite pretrain-data``'s
            "lines" format).
        tokenizer: the model's tokenizer.
        max_seq_length / masked_lm_prob / max_predictions_per_seq / seed / ngram / do_whole_word_mask: as for
            :func:`~albertlite.data.pretraining.create_pretraining_instances`.

    Returns:
        Samples in the form ``PretrainingShards`` items have.

    Raises:
        FileNotFoundError / ValueError: a file is missing, empty or not text, or no instance could be built.
    """
    check_text_files(paths)
    instances = create_pretraining_instances(
        read_documents(paths), tokenizer, max_seq_length=max_seq_length, masked_lm_prob=masked_lm_prob,
        max_predictions_per_seq=max_predictions_per_seq, seed=seed, ngram=ngram, do_whole_word_mask=do_whole_word_mask,
    )  # fmt: skip
    samples = [_sample(instance) for instance in instances]
    if not samples:
        raise ValueError(f"--input {' '.join(map(str, paths))}: no instance could be built from the text")
    return samples


def check_text_files(paths: Sequence[str | os.PathLike]) -> None:
    """Refuse a missing, empty or binary input file, naming it."""
    if not paths:
        raise ValueError("--input: give at least one text file")
    for path in paths:
        if not Path(path).is_file():
            raise FileNotFoundError(f"--input {path} is not a file")
        check_text_file(path)


def _sample(instance: PretrainingInstance) -> dict[str, np.ndarray]:
    return {
        "input_ids": instance.input_ids.astype(np.int64),
        "token_type_ids": instance.token_type_ids.astype(np.int64),
        "masked_lm_positions": instance.masked_lm_positions.astype(np.int64),
        "masked_lm_labels": instance.masked_lm_labels.astype(np.int64),
        "sentence_order_label": np.array(instance.sentence_order_label, dtype=np.int64),
    }


def load_masked_lm(directory: str | os.PathLike, device: torch.device) -> nn.Module:
    """An ``AlbertForPreTraining`` from a model directory, or an ``AlbertForMaskedLM`` when it has no SOP head.

    Raises:
        ValueError: the directory holds no model, or a model without a masked-LM head.
    """
    from safetensors import safe_open

    from albertlite.modeling_torch import AlbertForMaskedLM, AlbertForPreTraining

    root = Path(directory)
    weights = root / "model.safetensors"
    if not (root / "config.json").is_file() or not weights.is_file():
        raise ValueError(f"{directory} is not a model directory (it needs config.json and model.safetensors)")
    with safe_open(str(weights), "pt") as handle:
        keys = set(handle.keys())
    if any(key.startswith("sop_classifier.") for key in keys):
        return AlbertForPreTraining.from_pretrained(root, device=device)
    if any(key.startswith("predictions.") for key in keys):
        return AlbertForMaskedLM.from_pretrained(root, device=device)
    raise ValueError(f"{directory} holds a model without a masked-LM head; give a pretrained (masked-LM) model")


def evaluate_model(
    directory: str | os.PathLike,
    paths: Sequence[str | os.PathLike],
    *,
    max_seq_length: int | None = None,
    masked_lm_prob: float = 0.15,
    max_predictions_per_seq: int = 20,
    seed: int = 12345,
    batch_size: int = 32,
    device: str | None = None,
) -> dict[str, Any]:
    """Score a pretrained model directory on text files (``albertlite evaluate``).

    Args:
        directory: a model directory with its tokenizer (a ``pretrain`` output, or a masked-LM-only model).
        paths: the text files (see :func:`text_samples`, as the other settings).
        max_seq_length: the longest instance (None: 128, or the model's ``max_position_embeddings`` if smaller).
        batch_size: instances per forward pass (the figures do not depend on it, to float rounding).
        device: "cpu", "cuda" or "mps" (None: the CPU).

    Returns:
        ``instances``, ``masked``, ``mlm_loss``, ``mlm_acc``, ``sop_loss``, ``sop_acc`` and ``unigram_mlm_loss``;
        the SOP figures are None for a model without an SOP head, the baseline None without the counts
        (``unigram_counts.npy``) of a pretraining run.

    Example:
        >>> evaluate_model("run", ["held_out.txt"])["mlm_loss"]  # doctest: +SKIP
    """
    from albertlite.devices import resolve_device
    from albertlite.tokenization_auto import load_tokenizer

    check_number("--batch-size", batch_size, above=0)
    check_text_files(paths)  # before the model loads
    chosen = resolve_device(device)
    model = load_masked_lm(directory, chosen)
    if max_seq_length is None:
        max_seq_length = min(128, model.config.max_position_embeddings)
    if max_seq_length > model.config.max_position_embeddings:
        raise ValueError(f"--max-seq-length {max_seq_length} exceeds the model's max_position_embeddings "
                         f"({model.config.max_position_embeddings})")  # fmt: skip
    settings = dict(max_seq_length=max_seq_length, masked_lm_prob=masked_lm_prob, seed=seed,
                    max_predictions_per_seq=max_predictions_per_seq)  # fmt: skip
    samples = text_samples(paths, load_tokenizer(str(directory)), **settings)
    unigram = read_unigram_counts(directory, model.config.vocab_size)
    stats = score_samples(model, samples, batch_size=int(batch_size), pad_token_id=model.config.pad_token_id,
                          device=chosen, unigram=unigram)  # fmt: skip
    values = summarize(stats.cpu())
    figures = {key: values.get(key) for key in ("mlm_loss", "mlm_acc", "sop_loss", "sop_acc", "unigram_mlm_loss")}
    masked = int(stats[STATS.index("masked")].item())
    return {"model": str(directory), "instances": len(samples), "masked": masked, **settings, **figures}
