"""Write a tiny TF1 checkpoint in the authors' layout and Hugging Face 4.57's conversion of it.

Run with the transformers 4.57 venv (transformers 5 dropped ``load_tf_weights_in_albert``):

    .venv-hf457/bin/python scripts/make_google_checkpoint_fixture.py   (or: make fixtures, which makes that venv)

tests/fixtures/google_checkpoint/ then holds what a release tarball holds (albert_config.json,
model.ckpt-125000.index/.data-*) with the variable names of google-research/ALBERT's modeling.py and
run_pretraining.py, plus the LAMB slots and global_step training leaves behind, and hf457_state.npz:
the PyTorch state_dict that 4.57's converter makes of it, the reference our converter must match.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf
from transformers import AlbertConfig, AlbertForPreTraining, load_tf_weights_in_albert

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "google_checkpoint"
STEP = 125000
# albert_config.json as the release writes it (two groups of two inner layers), tiny.
ORIGINAL_CONFIG = {
    "attention_probs_dropout_prob": 0,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0,
    "embedding_size": 8,
    "hidden_size": 12,
    "initializer_range": 0.02,
    "intermediate_size": 20,
    "max_position_embeddings": 16,
    "num_attention_heads": 2,
    "num_hidden_layers": 4,
    "num_hidden_groups": 2,
    "net_structure_type": 0,
    "layers_to_keep": [],
    "gap_size": 0,
    "num_memory_blocks": 0,
    "inner_group_num": 2,
    "down_scale_factor": 1,
    "type_vocab_size": 2,
    "vocab_size": 30,
}


def original_shapes(cfg: dict) -> dict[str, tuple[int, ...]]:
    """Variable name -> shape, as the original's modeling.py and run_pretraining.py create them."""
    V, E, H, I = cfg["vocab_size"], cfg["embedding_size"], cfg["hidden_size"], cfg["intermediate_size"]  # noqa: E741
    shapes = {
        "bert/embeddings/word_embeddings": (V, E),
        "bert/embeddings/position_embeddings": (cfg["max_position_embeddings"], E),
        "bert/embeddings/token_type_embeddings": (cfg["type_vocab_size"], E),
        "bert/embeddings/LayerNorm/gamma": (E,),
        "bert/embeddings/LayerNorm/beta": (E,),
        "bert/encoder/embedding_hidden_mapping_in/kernel": (E, H),
        "bert/encoder/embedding_hidden_mapping_in/bias": (H,),
        "bert/pooler/dense/kernel": (H, H),
        "bert/pooler/dense/bias": (H,),
        "cls/predictions/transform/dense/kernel": (H, E),
        "cls/predictions/transform/dense/bias": (E,),
        "cls/predictions/transform/LayerNorm/gamma": (E,),
        "cls/predictions/transform/LayerNorm/beta": (E,),
        "cls/predictions/output_bias": (V,),
        "cls/seq_relationship/output_weights": (2, H),
        "cls/seq_relationship/output_bias": (2,),
    }
    for g in range(cfg["num_hidden_groups"]):
        for i in range(cfg["inner_group_num"]):
            layer = f"bert/encoder/transformer/group_{g}/inner_group_{i}"
            for dense, (n_in, n_out) in {
                "attention_1/self/query": (H, H),
                "attention_1/self/key": (H, H),
                "attention_1/self/value": (H, H),
                "attention_1/output/dense": (H, H),
                "ffn_1/intermediate/dense": (H, I),
                "ffn_1/intermediate/output/dense": (I, H),
            }.items():
                shapes[f"{layer}/{dense}/kernel"] = (n_in, n_out)
                shapes[f"{layer}/{dense}/bias"] = (n_out,)
            for norm in ("LayerNorm", "LayerNorm_1"):
                shapes[f"{layer}/{norm}/gamma"] = (H,)
                shapes[f"{layer}/{norm}/beta"] = (H,)
    return shapes


def write_checkpoint(arrays: dict[str, np.ndarray]) -> Path:
    slots = {f"{name}/{slot}": value + 100.0 for name, value in arrays.items() for slot in ("adam_m", "adam_v")}
    with tf.Graph().as_default():
        variables = {name: tf.compat.v1.Variable(value) for name, value in {**arrays, **slots}.items()}
        variables["global_step"] = tf.compat.v1.train.get_or_create_global_step()
        saver = tf.compat.v1.train.Saver(var_list=variables)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            prefix = saver.save(session, str(OUT / "model.ckpt"), global_step=STEP, write_meta_graph=False)
    (OUT / "checkpoint").unlink()  # it records absolute paths of this machine
    return Path(prefix)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "albert_config.json").write_text(json.dumps(ORIGINAL_CONFIG, indent=2) + "\n")
    rng = np.random.default_rng(0)
    arrays = {
        name: rng.standard_normal(shape).astype(np.float32) for name, shape in original_shapes(ORIGINAL_CONFIG).items()
    }
    prefix = write_checkpoint(arrays)

    config = AlbertConfig.from_json_file(str(OUT / "albert_config.json"))
    model = AlbertForPreTraining(config)
    with contextlib.redirect_stdout(io.StringIO()):  # the converter prints every variable name
        load_tf_weights_in_albert(model, config, str(prefix))
    state = {key: value.numpy() for key, value in model.state_dict().items()}
    np.savez(OUT / "hf457_state.npz", **state)
    print(f"wrote {prefix} and hf457_state.npz ({len(state)} tensors)")


if __name__ == "__main__":
    main()
