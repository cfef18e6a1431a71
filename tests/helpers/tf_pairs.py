"""albertlite's PyTorch models beside its TensorFlow ones holding the very same (random) weights."""

from __future__ import annotations

import numpy as np
import torch

from albertlite import modeling_tf, modeling_torch
from albertlite.config import AlbertConfig


def scramble(model: torch.nn.Module, seed: int) -> None:
    """Random values everywhere: zero biases and unit LayerNorms would hide a misplaced or untransposed weight."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            scale = 0.1 if name.endswith("bias") else 0.3
            values = rng.normal(1.0 if "LayerNorm.weight" in name else 0.0, scale, size=tuple(param.shape))
            param.copy_(torch.from_numpy(values.astype(np.float32)))


def build_pair(name: str, config: AlbertConfig, seed: int = 0):
    """albertlite's PyTorch model with random weights and the TF model loaded from its numpy state dict."""
    torch_model = getattr(modeling_torch, name)(config).eval()
    scramble(torch_model, seed)
    tf_model = getattr(modeling_tf, f"TF{name}")(config)
    state = {key: value.detach().numpy() for key, value in torch_model.state_dict().items()}
    report = tf_model.load_state_dict(state)
    assert report.missing_keys == [] and report.unexpected_keys == []
    return torch_model, tf_model
