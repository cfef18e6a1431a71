"""Write a tiny transformers 4.57 ``flax_model.msgpack`` checkpoint and its outputs into tests/fixtures/hf457_flax/.

Run with the transformers 4.57 venv (transformers 5 has no Flax models):

    .venv-hf457/bin/python scripts/make_flax_legacy_fixture.py   (or: make fixtures, which makes that venv)

The config has two groups of two inner layers, so the file holds both indices
(``albert/encoder/albert_layer_groups/1/albert_layers/1/...``). Every parameter is overwritten from a numpy
generator (weights N(0, 0.3), biases N(0, 0.1), LayerNorm scales 1 + N(0, 0.1)) so that a transposed kernel or a
misplaced bias changes the outputs by O(1). outputs.npz holds the inputs and FlaxAlbertForPreTraining's eval outputs:
``hidden_states`` stacked as 4.57 returns them (num_hidden_layers + 1 entries, one per group call; entry k equals
albertlite's hidden_states[k * inner_group_num]) and ``attentions`` (one per applied layer).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("USE_TF", "0")
os.environ.setdefault("USE_TORCH", "0")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np
import transformers

if not transformers.__version__.startswith("4.57"):
    sys.exit(f"make_flax_legacy_fixture.py needs transformers 4.57.x, found {transformers.__version__}")

import jax  # after the version gate, so a wrong venv fails fast
from flax.traverse_util import flatten_dict, unflatten_dict
from transformers import AlbertConfig, FlaxAlbertForPreTraining

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "hf457_flax"


def randomized(params: dict, rng: np.random.Generator, pad_id: int) -> dict:
    """Every parameter replaced by numpy draws (zero padding row of the word embeddings, as HF)."""
    flat = flatten_dict(params)
    for path, value in flat.items():
        if path[-1] == "scale":
            new = 1.0 + rng.normal(0.0, 0.1, size=value.shape)
        elif path[-1] == "bias":
            new = rng.normal(0.0, 0.1, size=value.shape)
        else:
            new = rng.normal(0.0, 0.3, size=value.shape)
        if path[-2:] == ("word_embeddings", "embedding"):
            new[pad_id] = 0.0
        flat[path] = new.astype(np.float32)
    return unflatten_dict(flat)


def main() -> None:
    config = AlbertConfig(
        vocab_size=50,
        embedding_size=8,
        hidden_size=16,
        num_hidden_layers=4,
        num_hidden_groups=2,
        inner_group_num=2,
        num_attention_heads=2,
        intermediate_size=24,
        max_position_embeddings=16,
        hidden_act="gelu_new",
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    model = FlaxAlbertForPreTraining(config, seed=0)
    model.params = randomized(jax.device_get(model.params), np.random.default_rng(0), config.pad_token_id)
    input_ids = np.array([[2, 11, 7, 23, 41, 3, 0], [2, 5, 3, 0, 0, 0, 0]], dtype=np.int32)
    attention_mask = (input_ids != 0).astype(np.int32)
    token_type_ids = np.array([[0, 0, 0, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0]], dtype=np.int32)
    outputs = model(
        input_ids,
        attention_mask=attention_mask,
        token_type_ids=token_type_ids,
        output_hidden_states=True,
        output_attentions=True,
    )
    OUT.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(OUT)
    np.savez(
        OUT / "outputs.npz",
        input_ids=input_ids,
        attention_mask=attention_mask,
        token_type_ids=token_type_ids,
        prediction_logits=np.asarray(outputs.prediction_logits),
        sop_logits=np.asarray(outputs.sop_logits),
        hidden_states=np.stack([np.asarray(h) for h in outputs.hidden_states]),
        attentions=np.stack([np.asarray(a) for a in outputs.attentions]),
    )
    print(f"wrote {sorted(p.name for p in OUT.iterdir())} to {OUT}")


if __name__ == "__main__":
    main()
