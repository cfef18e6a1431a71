"""albertlite's PyTorch models beside its Flax ones holding the very same (scrambled) weights."""

from __future__ import annotations

import torch

import albertlite
from albertlite import modeling_flax

from .torch_pairs import scramble


def build_pair(name: str, config, seed: int = 0):
    """A PyTorch model with scrambled random weights and the Flax model holding the very same weights."""
    torch.manual_seed(seed)
    ours_pt = getattr(albertlite, name)(config).eval()
    scramble(ours_pt, seed)
    flax_model = getattr(modeling_flax, f"Flax{name}")(config, _do_init=False)
    report = flax_model.load_state_dict({k: v.numpy() for k, v in ours_pt.state_dict().items()})
    assert not report.missing_keys and not report.unexpected_keys
    return ours_pt, flax_model
