"""Write a tiny Hugging Face 4.57 ``tf_model.h5`` checkpoint and its outputs into tests/fixtures/hf457_tf/.

Run with the transformers 4.57 venv (transformers 5 has no TensorFlow models):

    .venv-hf457/bin/python scripts/make_tf_legacy_fixture.py   (or: make fixtures, which makes that venv)

The config has two groups of two inner layers (4.57 needs inner_group_num <= layers per group), so
the file holds both the group and the inner-layer indices (``albert_layer_groups_._1/albert_layers_._1``).
outputs.npz holds the inputs and TFAlbertForPreTraining's eval outputs; 4.57 returns num_hidden_layers + 1
hidden states, so only the last one (the final hidden state, the same in every version) is stored.
Every weight is drawn at random (not zero biases and unit LayerNorms), so a misplaced bias or gamma shows.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # transformers 4.57's TF models need tf_keras
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf
from transformers import AlbertConfig, TFAlbertForPreTraining

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "hf457_tf"


def main() -> None:
    tf.random.set_seed(0)
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
    )
    model = TFAlbertForPreTraining(config)
    input_ids = np.array([[2, 11, 7, 23, 41, 3, 0], [2, 5, 3, 0, 0, 0, 0]], dtype=np.int32)
    attention_mask = (input_ids != 0).astype(np.int32)
    token_type_ids = np.array([[0, 0, 0, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0]], dtype=np.int32)
    model(input_ids)  # build
    rng = np.random.default_rng(0)
    for weight in model.weights:
        weight.assign(rng.normal(0.0, 0.3, size=weight.shape).astype(np.float32))
    outputs = model(
        input_ids,
        attention_mask=attention_mask,
        token_type_ids=token_type_ids,
        output_hidden_states=True,
        training=False,
    )
    OUT.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(OUT)
    np.savez(
        OUT / "outputs.npz",
        input_ids=input_ids,
        attention_mask=attention_mask,
        token_type_ids=token_type_ids,
        prediction_logits=outputs.prediction_logits.numpy(),
        sop_logits=outputs.sop_logits.numpy(),
        last_hidden_state=outputs.hidden_states[-1].numpy(),
    )
    for path in sorted(OUT.iterdir()):
        print(path.name, path.stat().st_size)


if __name__ == "__main__":
    main()
