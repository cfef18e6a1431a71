"""The authors' TF1 release -> Hub layout: every original variable lands under its PyTorch name.

The checkpoints are written here with tf.compat.v1 under the names google-research/ALBERT gives its
variables (kernels [in, out]), from known arrays, with the optimizer slots and global_step the
release's training leaves in them. The expected names below are written out by hand from the
original's modeling.py, independently of the converter's table.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from albertlite.checkpoints.google import (
    convert_config_dict,
    convert_google_checkpoint,
    find_checkpoint,
    map_variable_name,
)
from albertlite.checkpoints.state_dict import read_safetensors
from albertlite.cli import main

from .helpers.data import train_sentencepiece

# The original's albert_config.json fields, tiny; "gelu" there is the tanh approximation.
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
    "num_hidden_layers": 3,
    "num_hidden_groups": 2,
    "net_structure_type": 0,
    "layers_to_keep": [],
    "gap_size": 0,
    "num_memory_blocks": 0,
    "inner_group_num": 2,
    "down_scale_factor": 1,
    "type_vocab_size": 2,
    "vocab_size": 40,
}
E_EQUALS_H = {**ORIGINAL_CONFIG, "embedding_size": 12, "num_hidden_groups": 1, "inner_group_num": 1}

Layout = dict[str, tuple[str, tuple[int, ...], bool]]  # original name -> (PyTorch key, original shape, transposed)


def original_layout(cfg: dict, heads: tuple[str, ...] = ("pretraining",), mapping_in: bool = True) -> Layout:
    V, E, H, I = cfg["vocab_size"], cfg["embedding_size"], cfg["hidden_size"], cfg["intermediate_size"]  # noqa: E741
    layout: Layout = {
        "bert/embeddings/word_embeddings": ("albert.embeddings.word_embeddings.weight", (V, E), False),
        "bert/embeddings/position_embeddings": (
            "albert.embeddings.position_embeddings.weight",
            (cfg["max_position_embeddings"], E),
            False,
        ),
        "bert/embeddings/token_type_embeddings": (
            "albert.embeddings.token_type_embeddings.weight",
            (cfg["type_vocab_size"], E),
            False,
        ),
        "bert/embeddings/LayerNorm/gamma": ("albert.embeddings.LayerNorm.weight", (E,), False),
        "bert/embeddings/LayerNorm/beta": ("albert.embeddings.LayerNorm.bias", (E,), False),
        "bert/pooler/dense/kernel": ("albert.pooler.weight", (H, H), True),
        "bert/pooler/dense/bias": ("albert.pooler.bias", (H,), False),
    }
    if mapping_in:
        layout["bert/encoder/embedding_hidden_mapping_in/kernel"] = (
            "albert.encoder.embedding_hidden_mapping_in.weight",
            (E, H),
            True,
        )
        layout["bert/encoder/embedding_hidden_mapping_in/bias"] = (
            "albert.encoder.embedding_hidden_mapping_in.bias",
            (H,),
            False,
        )
    for g in range(cfg["num_hidden_groups"]):
        for i in range(cfg["inner_group_num"]):
            src = f"bert/encoder/transformer/group_{g}/inner_group_{i}/"
            dst = f"albert.encoder.albert_layer_groups.{g}.albert_layers.{i}."
            for proj in ("query", "key", "value"):
                layout[f"{src}attention_1/self/{proj}/kernel"] = (f"{dst}attention.{proj}.weight", (H, H), True)
                layout[f"{src}attention_1/self/{proj}/bias"] = (f"{dst}attention.{proj}.bias", (H,), False)
            layout[f"{src}attention_1/output/dense/kernel"] = (f"{dst}attention.dense.weight", (H, H), True)
            layout[f"{src}attention_1/output/dense/bias"] = (f"{dst}attention.dense.bias", (H,), False)
            layout[f"{src}LayerNorm/gamma"] = (f"{dst}attention.LayerNorm.weight", (H,), False)
            layout[f"{src}LayerNorm/beta"] = (f"{dst}attention.LayerNorm.bias", (H,), False)
            layout[f"{src}ffn_1/intermediate/dense/kernel"] = (f"{dst}ffn.weight", (H, I), True)
            layout[f"{src}ffn_1/intermediate/dense/bias"] = (f"{dst}ffn.bias", (I,), False)
            layout[f"{src}ffn_1/intermediate/output/dense/kernel"] = (f"{dst}ffn_output.weight", (I, H), True)
            layout[f"{src}ffn_1/intermediate/output/dense/bias"] = (f"{dst}ffn_output.bias", (H,), False)
            layout[f"{src}LayerNorm_1/gamma"] = (f"{dst}full_layer_layer_norm.weight", (H,), False)
            layout[f"{src}LayerNorm_1/beta"] = (f"{dst}full_layer_layer_norm.bias", (H,), False)
    if "pretraining" in heads:
        layout.update(
            {
                "cls/predictions/transform/dense/kernel": ("predictions.dense.weight", (H, E), True),
                "cls/predictions/transform/dense/bias": ("predictions.dense.bias", (E,), False),
                "cls/predictions/transform/LayerNorm/gamma": ("predictions.LayerNorm.weight", (E,), False),
                "cls/predictions/transform/LayerNorm/beta": ("predictions.LayerNorm.bias", (E,), False),
                "cls/predictions/output_bias": ("predictions.bias", (V,), False),
                # Created [2, H] and multiplied transposed: already PyTorch's layout.
                "cls/seq_relationship/output_weights": ("sop_classifier.classifier.weight", (2, H), False),
                "cls/seq_relationship/output_bias": ("sop_classifier.classifier.bias", (2,), False),
            }
        )
    if "classifier" in heads:
        layout["output_weights"] = ("classifier.weight", (3, H), False)
        layout["output_bias"] = ("classifier.bias", (3,), False)
    if "squad" in heads:
        layout["cls/squad/output_weights"] = ("qa_outputs.weight", (2, H), False)
        layout["cls/squad/output_bias"] = ("qa_outputs.bias", (2,), False)
    return layout


def known_arrays(layout: Layout, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(shape).astype(np.float32) for name, (_, shape, _) in layout.items()}


def write_tf1_checkpoint(directory: Path, variables: dict[str, np.ndarray], prefix: str = "", step: int = 125000):
    """A graph-mode Saver checkpoint, as run_pretraining.py leaves it: weights, LAMB slots, global_step."""
    tf = pytest.importorskip("tensorflow")
    slots = {f"{name}/{slot}": value + 100.0 for name, value in variables.items() for slot in ("adam_m", "adam_v")}
    with tf.Graph().as_default():
        tf_vars = {f"{prefix}{name}": tf.compat.v1.Variable(value) for name, value in {**variables, **slots}.items()}
        tf_vars["global_step"] = tf.compat.v1.train.get_or_create_global_step()
        saver = tf.compat.v1.train.Saver(var_list=tf_vars)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saver.save(session, str(directory / "model.ckpt"), global_step=step)


def make_release(
    directory: Path, cfg: dict, layout: Layout, *, prefix: str = "", spiece: bytes | None = None, extra=None
) -> dict[str, np.ndarray]:
    directory.mkdir(parents=True)
    (directory / "albert_config.json").write_text(json.dumps(cfg))
    arrays = known_arrays(layout)
    write_tf1_checkpoint(directory, {**arrays, **(extra or {})}, prefix=prefix)
    if spiece is not None:
        (directory / "30k-clean.model").write_bytes(spiece)
    return arrays


def expected_state(layout: Layout, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {key: arrays[name].T if transposed else arrays[name] for name, (key, _, transposed) in layout.items()}


@pytest.fixture(scope="module")
def spiece_model() -> bytes:
    return train_sentencepiece(vocab_size=40)


@pytest.fixture(scope="module")
def pretraining_release(tmp_path_factory, spiece_model):
    root = tmp_path_factory.mktemp("release")
    layout = original_layout(ORIGINAL_CONFIG)
    arrays = make_release(root / "albert_tiny", ORIGINAL_CONFIG, layout, spiece=spiece_model)
    out = convert_google_checkpoint(root / "albert_tiny", root / "converted")
    return out, expected_state(layout, arrays)


@pytest.fixture(scope="module")
def e_equals_h_release(tmp_path_factory):
    """E == H: the original has no embedding_hidden_mapping_in; the converter adds an identity."""
    root = tmp_path_factory.mktemp("release_e_equals_h")
    layout = original_layout(E_EQUALS_H, mapping_in=False)
    arrays = make_release(root / "albert_tiny", E_EQUALS_H, layout)
    out = convert_google_checkpoint(root / "albert_tiny", root / "converted")
    expected = expected_state(layout, arrays)
    expected["albert.encoder.embedding_hidden_mapping_in.weight"] = np.eye(12, dtype=np.float32)
    expected["albert.encoder.embedding_hidden_mapping_in.bias"] = np.zeros(12, dtype=np.float32)
    return out, expected


RELEASES = ["pretraining_release", "e_equals_h_release"]


# ------------------------------------------------------------------------------------------------ names
def test_name_rules_without_tensorflow():
    layer = "bert/encoder/transformer/group_1/inner_group_0"
    assert map_variable_name(f"module/{layer}/ffn_1/intermediate/output/dense/kernel") == (
        "albert.encoder.albert_layer_groups.1.albert_layers.0.ffn_output.weight",
        True,
    )
    assert map_variable_name(f"{layer}/LayerNorm_1/beta") == (
        "albert.encoder.albert_layer_groups.1.albert_layers.0.full_layer_layer_norm.bias",
        False,
    )
    for state in ("global_step", f"{layer}/LayerNorm/gamma/adam_m", "cls/predictions/output_bias/lamb_v"):
        assert map_variable_name(state) is None
    with pytest.raises(ValueError, match="bert/encoder/transformer/group_0/extra/kernel"):
        map_variable_name("bert/encoder/transformer/group_0/extra/kernel")


def test_config_activation_names():
    assert convert_config_dict({"hidden_act": "gelu"})["hidden_act"] == "gelu_new"
    assert convert_config_dict({"hidden_act": "ReLU"})["hidden_act"] == "relu"
    assert convert_config_dict({"hidden_act": None})["hidden_act"] == "linear"  # the original: no activation
    converted = convert_config_dict({"vocab_size": 30000})
    assert converted["hidden_act"] == "gelu_new"  # the original's default
    assert (converted["down_scale_factor"], converted["gap_size"], converted["num_memory_blocks"]) == (1, 0, 0)
    with pytest.raises(ValueError, match="swish"):
        convert_config_dict({"hidden_act": "swish"})


def test_checkpoint_choice(tmp_path):
    for name in ("model.ckpt-900", "model.ckpt-12000", "model.ckpt-5000"):
        (tmp_path / f"{name}.index").write_bytes(b"")
    assert find_checkpoint(tmp_path) == tmp_path / "model.ckpt-12000"  # the highest step, not the last name
    assert find_checkpoint(tmp_path, "model.ckpt-900.index") == tmp_path / "model.ckpt-900"
    assert find_checkpoint(tmp_path, tmp_path / "model.ckpt-5000") == tmp_path / "model.ckpt-5000"
    with pytest.raises(FileNotFoundError, match=r"model\.ckpt-7"):
        find_checkpoint(tmp_path, "model.ckpt-7")
    (tmp_path / "model.ckpt-best.index").write_bytes(b"")
    assert find_checkpoint(tmp_path) == tmp_path / "model.ckpt-best"
    (tmp_path / "model.ckpt-best.index").unlink()
    (tmp_path / "model.ckpt-final.index").write_bytes(b"")
    with pytest.raises(ValueError, match="--checkpoint"):
        find_checkpoint(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no TF1 checkpoint"):
        find_checkpoint(tmp_path / "empty")


# ------------------------------------------------------------------------------------------------ tensors
@pytest.mark.tf
def test_every_tensor_lands_in_its_place(pretraining_release):
    out, expected = pretraining_release
    state = read_safetensors(out / "model.safetensors", "np")
    assert sorted(state) == sorted(expected)  # optimizer slots and global_step are gone
    for key, value in expected.items():
        np.testing.assert_array_equal(state[key], value, err_msg=key)


@pytest.mark.tf
def test_config_maps_the_original_fields(pretraining_release):
    out, _ = pretraining_release
    config = json.loads((out / "config.json").read_text())
    assert config["hidden_act"] == "gelu_new"  # the original's gelu is the tanh approximation
    assert config["architectures"] == ["AlbertForPreTraining"]
    for key in ("embedding_size", "hidden_size", "num_hidden_groups", "inner_group_num", "intermediate_size"):
        assert config[key] == ORIGINAL_CONFIG[key]
    for key in ("down_scale_factor", "gap_size", "net_structure_type", "num_memory_blocks", "layers_to_keep"):
        assert config[key] == ORIGINAL_CONFIG[key]  # Hub extras kept
    assert (config["pad_token_id"], config["bos_token_id"], config["eos_token_id"]) == (0, 2, 3)
    assert len(config["id2label"]) == 2 and config["layer_norm_eps"] == 1e-12


@pytest.mark.tf
def test_pytorch_model_holds_the_original_arrays(pretraining_release):
    from albertlite import AlbertForPreTraining

    out, expected = pretraining_release
    model, info = AlbertForPreTraining.from_pretrained(out, output_loading_info=True)
    assert info == {"missing_keys": [], "unexpected_keys": []}
    state = {key: value.numpy() for key, value in model.state_dict().items()}
    for key, value in expected.items():
        np.testing.assert_array_equal(state[key], value, err_msg=key)
    # The MLM decoder is tied: word embeddings and the original's cls/predictions/output_bias.
    np.testing.assert_array_equal(
        state["predictions.decoder.weight"], expected["albert.embeddings.word_embeddings.weight"]
    )
    np.testing.assert_array_equal(state["predictions.decoder.bias"], expected["predictions.bias"])


@pytest.mark.tf
def test_tokenizer_files(pretraining_release, spiece_model):
    out, _ = pretraining_release
    assert (out / "spiece.model").read_bytes() == spiece_model
    tokenizer_config = json.loads((out / "tokenizer_config.json").read_text())
    expected = {
        "bos_token": "[CLS]",
        "eos_token": "[SEP]",
        "unk_token": "<unk>",
        "sep_token": "[SEP]",
        "pad_token": "<pad>",
        "cls_token": "[CLS]",
        "mask_token": "[MASK]",
        "do_lower_case": True,
        "remove_space": True,
        "keep_accents": False,
        "tokenizer_class": "AlbertTokenizer",
        "model_max_length": ORIGINAL_CONFIG["max_position_embeddings"],
    }
    assert {key: tokenizer_config[key] for key in expected} == expected
    decoder = tokenizer_config["added_tokens_decoder"]
    assert {int(i): entry["content"] for i, entry in decoder.items()} == {
        0: "<pad>",
        1: "<unk>",
        2: "[CLS]",
        3: "[SEP]",
        4: "[MASK]",
    }
    assert decoder["4"]["lstrip"] and not decoder["2"]["lstrip"]
    special = json.loads((out / "special_tokens_map.json").read_text())
    assert special["mask_token"] == {
        "content": "[MASK]",
        "lstrip": True,
        "normalized": False,
        "rstrip": False,
        "single_word": False,
    }
    assert special["cls_token"] == "[CLS]" and special["pad_token"] == "<pad>"
    from albertlite import AlbertTokenizer

    text = "Alpha bravo [MASK] charlie."
    direct = AlbertTokenizer(vocab_file=out / "spiece.model", model_max_length=16)
    assert AlbertTokenizer.from_pretrained(out)(text)["input_ids"] == direct(text)["input_ids"]


# ------------------------------------------------------------------------------------------------ frameworks
def _torch_outputs(out: Path, batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    import torch

    from albertlite import AlbertForPreTraining

    model = AlbertForPreTraining.from_pretrained(out)
    with torch.no_grad():
        outputs = model(**{key: torch.from_numpy(value) for key, value in batch.items()})
    return outputs.prediction_logits.numpy(), outputs.sop_logits.numpy()


def _padded_batch() -> dict[str, np.ndarray]:
    input_ids = np.array([[2, 7, 9, 11, 30, 3], [2, 5, 6, 3, 0, 0]], dtype=np.int64)
    attention_mask = (input_ids != 0).astype(np.int64)
    token_type_ids = np.array([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 0, 0]], dtype=np.int64)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": token_type_ids}


def _assert_same_outputs(logits, sop, reference, mask):
    real = mask.astype(bool)  # padded positions are not compared
    np.testing.assert_allclose(np.asarray(logits)[real], reference[0][real], atol=1e-4, rtol=0)
    np.testing.assert_allclose(np.asarray(sop), reference[1], atol=1e-4, rtol=0)


def _assert_holds_every_array(model, directory: Path, expected: dict[str, np.ndarray]) -> None:
    """The model's parameters, written back in the one checkpoint format, are the original arrays."""
    model.save_pretrained(directory)
    state = read_safetensors(directory / "model.safetensors", "np")
    assert sorted(state) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(state[key], value, err_msg=key)


@pytest.mark.tf
@pytest.mark.parametrize("release", RELEASES)
def test_tensorflow_model_loads_the_converted_directory(release, request, tmp_path):
    from albertlite import TFAlbertForPreTraining

    out, expected = request.getfixturevalue(release)
    model = TFAlbertForPreTraining.from_pretrained(out)
    batch = _padded_batch()
    outputs = model(**batch)
    _assert_same_outputs(
        outputs.prediction_logits, outputs.sop_logits, _torch_outputs(out, batch), batch["attention_mask"]
    )
    _assert_holds_every_array(model, tmp_path / "tf", expected)


@pytest.mark.flax
@pytest.mark.tf
@pytest.mark.parametrize("release", RELEASES)
def test_flax_model_loads_the_converted_directory(release, request, tmp_path):
    pytest.importorskip("flax")
    from albertlite import FlaxAlbertForPreTraining

    out, expected = request.getfixturevalue(release)
    model = FlaxAlbertForPreTraining.from_pretrained(out)
    batch = _padded_batch()
    outputs = model(batch["input_ids"], attention_mask=batch["attention_mask"], token_type_ids=batch["token_type_ids"])
    _assert_same_outputs(
        outputs.prediction_logits, outputs.sop_logits, _torch_outputs(out, batch), batch["attention_mask"]
    )
    _assert_holds_every_array(model, tmp_path / "flax", expected)


@pytest.mark.tf
def test_matches_hugging_face_457_converter(tmp_path):
    """A checkpoint written by scripts/make_google_checkpoint_fixture.py, converted there by transformers 4.57."""
    fixture = Path(__file__).parent / "fixtures" / "google_checkpoint"
    out = convert_google_checkpoint(fixture, tmp_path / "out")
    ours = read_safetensors(out / "model.safetensors", "np")
    with np.load(fixture / "hf457_state.npz") as reference:
        theirs = {key: reference[key] for key in reference.files if not key.startswith("predictions.decoder.")}
    assert sorted(ours) == sorted(theirs)
    for key, value in theirs.items():
        np.testing.assert_array_equal(ours[key], value, err_msg=key)


# ------------------------------------------------------------------------------------------------ variants
@pytest.mark.tf
def test_tf_hub_module_prefix(tmp_path):
    layout = original_layout(ORIGINAL_CONFIG)
    arrays = make_release(tmp_path / "hub", ORIGINAL_CONFIG, layout, prefix="module/")
    out = convert_google_checkpoint(tmp_path / "hub", tmp_path / "out")
    state = read_safetensors(out / "model.safetensors", "np")
    expected = expected_state(layout, arrays)
    assert sorted(state) == sorted(expected)
    for key, value in expected.items():
        np.testing.assert_array_equal(state[key], value, err_msg=key)
    assert not (out / "spiece.model").exists()  # no SentencePiece model in the release, no tokenizer files


@pytest.mark.tf
def test_embedding_size_equal_to_hidden_size_gets_an_identity_projection(e_equals_h_release):
    from albertlite import AlbertForPreTraining

    out, expected = e_equals_h_release
    model, info = AlbertForPreTraining.from_pretrained(out, output_loading_info=True)
    assert info == {"missing_keys": [], "unexpected_keys": []}
    state = {key: value.numpy() for key, value in model.state_dict().items()}
    np.testing.assert_array_equal(state["albert.encoder.embedding_hidden_mapping_in.weight"], np.eye(12))
    np.testing.assert_array_equal(state["albert.encoder.embedding_hidden_mapping_in.bias"], np.zeros(12))
    for key, value in expected.items():
        np.testing.assert_array_equal(state[key], value, err_msg=key)


@pytest.mark.tf
@pytest.mark.parametrize(
    ("head", "model_class", "num_labels"),
    [("classifier", "AlbertForSequenceClassification", 3), ("squad", "AlbertForQuestionAnswering", 2)],
)
def test_fine_tuned_heads(tmp_path, head, model_class, num_labels):
    import albertlite

    layout = original_layout(ORIGINAL_CONFIG, heads=(head,))
    arrays = make_release(tmp_path / "release", ORIGINAL_CONFIG, layout)
    out = convert_google_checkpoint(tmp_path / "release", tmp_path / "out")
    config = json.loads((out / "config.json").read_text())
    assert config["architectures"] == [model_class] and len(config["id2label"]) == num_labels
    model, info = getattr(albertlite, model_class).from_pretrained(out, output_loading_info=True)
    # The file keeps every weight of the release; the QA model (as Hugging Face's) has no pooler.
    unused = ["albert.pooler.bias", "albert.pooler.weight"] if head == "squad" else []
    assert info == {"missing_keys": [], "unexpected_keys": unused}
    state = {key: value.numpy() for key, value in model.state_dict().items()}
    for key, value in expected_state(layout, arrays).items():
        if key not in unused:
            np.testing.assert_array_equal(state[key], value, err_msg=key)


# ------------------------------------------------------------------------------------------------ errors
@pytest.mark.tf
def test_unmapped_variable_is_an_error_naming_it(tmp_path):
    layout = original_layout(ORIGINAL_CONFIG)
    stray = "bert/encoder/transformer/group_0/inner_group_0/attention_1/self/relative_bias"
    make_release(tmp_path / "release", ORIGINAL_CONFIG, layout, extra={stray: np.ones(3, np.float32)})
    with pytest.raises(ValueError, match=stray):
        convert_google_checkpoint(tmp_path / "release", tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.tf
def test_shapes_are_checked_against_the_config(tmp_path):
    layout = original_layout(ORIGINAL_CONFIG)
    make_release(tmp_path / "release", {**ORIGINAL_CONFIG, "intermediate_size": 24}, layout)
    with pytest.raises(ValueError, match=r"albert_layers\.0\.ffn\.weight: checkpoint \(20, 12\) vs config \(24, 12\)"):
        convert_google_checkpoint(tmp_path / "release", tmp_path / "out")


@pytest.mark.tf
def test_a_group_the_config_lacks_is_an_error(tmp_path):
    layout = original_layout(ORIGINAL_CONFIG)
    make_release(tmp_path / "release", {**ORIGINAL_CONFIG, "num_hidden_groups": 1}, layout)
    with pytest.raises(ValueError, match=r"albert_layer_groups\.1\."):
        convert_google_checkpoint(tmp_path / "release", tmp_path / "out")


@pytest.mark.tf
def test_a_missing_weight_is_an_error(tmp_path):
    layout = original_layout(ORIGINAL_CONFIG)
    del layout["bert/pooler/dense/bias"]
    make_release(tmp_path / "release", ORIGINAL_CONFIG, layout)
    with pytest.raises(ValueError, match=r"lacks .*albert\.pooler\.bias"):
        convert_google_checkpoint(tmp_path / "release", tmp_path / "out")


@pytest.mark.tf
def test_an_unreadable_checkpoint_is_a_value_error(tmp_path):
    pytest.importorskip("tensorflow")
    release = tmp_path / "release"
    release.mkdir()
    (release / "albert_config.json").write_text(json.dumps(ORIGINAL_CONFIG))
    (release / "model.ckpt-best.index").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="Cannot read the TF checkpoint"):
        convert_google_checkpoint(release, tmp_path / "out")


@pytest.mark.tf
def test_a_vocabulary_larger_than_the_model_is_an_error(tmp_path):
    layout = original_layout(ORIGINAL_CONFIG)
    make_release(tmp_path / "release", ORIGINAL_CONFIG, layout, spiece=train_sentencepiece(vocab_size=60))
    with pytest.raises(ValueError, match=r"60 pieces but albert_config\.json says vocab_size=40"):
        convert_google_checkpoint(tmp_path / "release", tmp_path / "out")


def test_missing_tensorflow_names_the_extra(tmp_path, monkeypatch):
    release = tmp_path / "release"
    release.mkdir()
    (release / "albert_config.json").write_text(json.dumps(ORIGINAL_CONFIG))
    (release / "model.ckpt-best.index").write_bytes(b"")
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # makes `import tensorflow` fail
    with pytest.raises(ImportError, match=r"albertlite\[tf\]"):
        convert_google_checkpoint(release, tmp_path / "out")


# ------------------------------------------------------------------------------------------------ CLI
@pytest.mark.tf
def test_cli_end_to_end(tmp_path, capsys):
    layout = original_layout(ORIGINAL_CONFIG)
    arrays = make_release(tmp_path / "release", ORIGINAL_CONFIG, layout)
    assert main(["convert", "google-checkpoint", str(tmp_path / "release"), str(tmp_path / "out")]) == 0
    printed = capsys.readouterr()
    assert printed.err == "" and "parameters" in printed.out  # the summary of the converted directory
    state = read_safetensors(tmp_path / "out" / "model.safetensors", "np")
    key = "albert.encoder.albert_layer_groups.1.albert_layers.1.attention.query.weight"
    np.testing.assert_array_equal(state[key], expected_state(layout, arrays)[key])


def test_cli_missing_directory_is_a_one_line_error(tmp_path):
    missing = tmp_path / "no-such-release"
    result = subprocess.run(
        [sys.executable, "-m", "albertlite", "convert", "google-checkpoint", str(missing), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(missing) in lines[0] and lines[0].startswith("albertlite convert: error:")
