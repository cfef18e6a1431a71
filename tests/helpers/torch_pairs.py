"""albertlite's PyTorch models beside transformers' with the very same (scrambled) weights, and inputs per head."""

from __future__ import annotations

import pytest
import torch

import albertlite
from albertlite import AlbertConfig

from .models import padded_batch

transformers = pytest.importorskip("transformers")


def build_pair(name: str, config: AlbertConfig, seed: int = 0, attn: str = "eager"):
    """Our model with random weights and Hugging Face's with the very same weights."""
    torch.manual_seed(seed)
    ours = getattr(albertlite, name)(config).eval()
    scramble(ours, seed)
    hf_config = transformers.AlbertConfig(**config.to_dict())
    hf_config._attn_implementation = attn
    theirs = getattr(transformers, name)(hf_config).eval()
    result = theirs.load_state_dict(ours.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    return ours, theirs


def scramble(model: torch.nn.Module, seed: int) -> None:
    # Larger-than-init weights so that attention is far from uniform and LayerNorm/bias matter.
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            noise = torch.randn(param.shape, generator=generator)
            if name.endswith(("LayerNorm.weight", "layer_norm.weight")):
                param.copy_(1 + 0.1 * noise)
            elif name.endswith("bias"):
                param.copy_(0.05 * noise)
            elif "attention.query" in name or "attention.key" in name:
                param.copy_(0.3 * noise)  # peaked attention, so a wrong mask or position term shows
            elif "attention.value" in name or "attention.dense" in name:
                param.copy_(0.05 * noise)  # the residual stays dominant: no collapse over shared layers
            else:
                param.copy_(0.1 * noise)


def model_inputs(name: str, config: AlbertConfig, seed: int = 0, labels: bool = False) -> dict[str, torch.Tensor]:
    batch = {k: torch.from_numpy(v) for k, v in padded_batch(config, seed=seed).items()}
    if name == "AlbertForMultipleChoice":
        batch = {k: torch.stack([v, v.flip(0)], dim=1) for k, v in batch.items()}  # (B, 2, S)
    if not labels:
        return batch
    generator = torch.Generator().manual_seed(seed)
    batch_size, seq_len = batch["input_ids"].shape[0], batch["input_ids"].shape[-1]
    if name in ("AlbertForPreTraining", "AlbertForMaskedLM"):
        mlm = torch.randint(0, config.vocab_size, (batch_size, seq_len), generator=generator)
        batch["labels"] = mlm.masked_fill(batch["attention_mask"] == 0, -100)
        if name == "AlbertForPreTraining":
            batch["sentence_order_label"] = torch.tensor([0, 1, 1])
    elif name == "AlbertForSequenceClassification":
        batch["labels"] = torch.tensor([0, 1, 1])
    elif name == "AlbertForMultipleChoice":
        batch["labels"] = torch.tensor([1, 0, 1])
    elif name == "AlbertForTokenClassification":
        batch["labels"] = torch.randint(0, 2, (batch_size, seq_len), generator=generator).masked_fill(
            batch["attention_mask"] == 0, -100
        )
    elif name == "AlbertForQuestionAnswering":
        batch["start_positions"] = torch.tensor([1, 2, 50])  # 50 is outside: clamped and ignored
        batch["end_positions"] = torch.tensor([3, 2, 4])
    return batch
