"""TensorFlow (Keras 3) models against albertlite's PyTorch models on the same weights, plus the TF-only features:
tf.function, model.fit, SavedModel export, checkpoints in both directions and Hugging Face's legacy tf_model.h5.

TensorFlow imports slowly, so every TF test lives in this one module.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
torch = pytest.importorskip("torch")

import albertlite  # noqa: E402
from albertlite import heads, modeling_tf, modeling_torch  # noqa: E402
from albertlite.config import AlbertConfig  # noqa: E402
from albertlite.export.saved_model import export_saved_model  # noqa: E402

from .helpers.models import MODEL_CLASSES, padded_batch, tiny_config  # noqa: E402
from .helpers.tf_pairs import build_pair  # noqa: E402

pytestmark = pytest.mark.tf

HEADS = MODEL_CLASSES
PARITY_CONFIGS = ("groups_inner", "e_equals_h", "relative_key_query")
ATOL = 1e-4
FIXTURES = Path(__file__).parent / "fixtures"


# ----------------------------------------------------------------------------------------------- helpers
def batch_for(name: str, config: AlbertConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """A padded batch and the head's labels (-100 at padding, one out-of-range answer for QA)."""
    rng = np.random.default_rng(seed)
    batch = padded_batch(config, batch=4, seq_len=9, seed=seed)
    real = batch["attention_mask"] == 1
    if name in ("AlbertForPreTraining", "AlbertForMaskedLM"):
        labels = rng.integers(0, config.vocab_size, size=real.shape)
        batch["labels"] = np.where(real & (rng.random(real.shape) < 0.5), labels, -100)
        batch["labels"][:, 0] = 7  # at least one label per row
    if name == "AlbertForPreTraining":
        batch["sentence_order_label"] = np.array([0, 1, 1, 0])
    if name == "AlbertForSequenceClassification":
        batch["labels"] = np.array([0, 1, 1, 0])
    if name == "AlbertForTokenClassification":
        batch["labels"] = np.where(real, rng.integers(0, config.num_labels, size=real.shape), -100)
    if name == "AlbertForQuestionAnswering":
        batch["start_positions"] = np.array([1, 3, 20, 0])  # 20 > S: clamped to S and ignored
        batch["end_positions"] = np.array([2, 5, 4, 0])
    if name == "AlbertForMultipleChoice":
        batch = {key: value.reshape(2, 2, -1) for key, value in batch.items()}  # (B=2, C=2, S)
        batch["labels"] = np.array([1, 0])
    return batch


def run_both(torch_model, tf_model, batch: dict[str, np.ndarray], **kwargs):
    with torch.no_grad():
        torch_out = torch_model(**{k: torch.from_numpy(v) for k, v in batch.items()}, **kwargs)
    return torch_out, tf_model(**batch, **kwargs)


def assert_close(theirs, ours, real: np.ndarray | None = None, atol: float = ATOL) -> None:
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    ours = np.asarray(ours)
    assert theirs.shape == ours.shape
    if real is not None:
        theirs, ours = theirs[real], ours[real]
    np.testing.assert_allclose(ours, theirs, atol=atol, rtol=0)


# ----------------------------------------------------------------------------------------------- parity
@pytest.mark.parametrize("config_name", PARITY_CONFIGS)
@pytest.mark.parametrize("name", HEADS)
def test_every_head_matches_pytorch(name, config_name):
    config = tiny_config(config_name)
    torch_model, tf_model = build_pair(name, config, seed=len(name))
    batch = batch_for(name, config)
    theirs, ours = run_both(torch_model, tf_model, batch, output_hidden_states=True)
    real = batch["attention_mask"].reshape(-1, batch["attention_mask"].shape[-1]) == 1
    for field in ("last_hidden_state", "prediction_logits", "logits", "start_logits", "end_logits"):
        if field in theirs:
            per_token = field != "logits" or name in ("AlbertForMaskedLM", "AlbertForTokenClassification")
            assert_close(theirs[field], ours[field], real if per_token else None)
    for field in ("pooler_output", "sop_logits", "loss"):
        if field in theirs:
            assert_close(theirs[field], ours[field])
    assert ("loss" in ours) == (name != "AlbertModel")
    assert len(ours.hidden_states) == config.num_hidden_layers * config.inner_group_num + 1
    for their_state, our_state in zip(theirs.hidden_states, ours.hidden_states, strict=True):
        assert_close(their_state, our_state, real)


@pytest.mark.parametrize(
    ("problem_type", "num_labels", "labels"),
    [
        ("regression", 1, np.array([0.5, -1.0, 2.0], np.float32)),
        ("single_label_classification", 3, np.array([2, 0, 1])),
        ("multi_label_classification", 3, np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0]], np.float32)),
    ],
)
def test_sequence_classification_losses_match_pytorch(problem_type, num_labels, labels):
    config = tiny_config("shared", num_labels=num_labels)  # problem_type unset: chosen from labels as HF does
    torch_model, tf_model = build_pair("AlbertForSequenceClassification", config, seed=3)
    theirs, ours = run_both(torch_model, tf_model, {**padded_batch(config), "labels": labels})
    integer = tf.constant(labels).dtype.is_integer
    assert heads.problem_type(heads.HEADS["ForSequenceClassification"], config, integer) == problem_type
    assert_close(theirs.logits, ours.logits)
    assert_close(theirs.loss, ours.loss)


def test_head_mask_matches_pytorch():
    config = tiny_config("groups_inner")  # 8 applied layers from 2 groups of 2
    torch_model, tf_model = build_pair("AlbertForPreTraining", config, seed=5)
    batch = padded_batch(config)
    real = batch["attention_mask"] == 1
    rng = np.random.default_rng(0)
    unmasked = tf_model(**batch).prediction_logits.numpy()
    for head_mask in (np.array([1.0, 0.0, 0.5, 1.0], np.float32), rng.random((8, 4)).astype(np.float32)):
        theirs, ours = run_both(torch_model, tf_model, {**batch, "head_mask": head_mask}, output_attentions=True)
        assert_close(theirs.prediction_logits, ours.prediction_logits, real)
        for their_probs, our_probs in zip(theirs.attentions, ours.attentions, strict=True):
            assert_close(their_probs, our_probs)
        assert np.abs(ours.prediction_logits.numpy() - unmasked)[real].max() > 1e-2  # the mask did something
    # Row k masks the k-th applied layer: zeroing row 5 only zeroes the sixth attention map.
    head_mask = np.ones((8, 4), np.float32)
    head_mask[5] = 0.0
    ours = tf_model(**batch, head_mask=head_mask, output_attentions=True)
    assert [float(tf.reduce_max(a)) == 0.0 for a in ours.attentions] == [k == 5 for k in range(8)]


def test_matches_transformers_457_relative_and_head_mask_fixtures():
    """The lead's 4.57 reference cases (relative positions, head_mask) hold for TensorFlow too."""
    cases = sorted(p for p in (FIXTURES / "hf457").iterdir() if (p / "io.npz").exists())
    assert len(cases) >= 6
    for case in cases:
        data = dict(np.load(case / "io.npz"))
        meta = json.loads((case / "meta.json").read_text())
        model = modeling_tf.TFAlbertForPreTraining.from_pretrained(case)
        names = ("input_ids", "attention_mask", "token_type_ids", "labels", "sentence_order_label", "head_mask")
        out = model(**{k: data[k] for k in names if k in data}, output_hidden_states=True, output_attentions=True)
        real = data["attention_mask"] == 1
        assert_close(data["prediction_logits"], out.prediction_logits, real)
        assert_close(data["sop_logits"], out.sop_logits)
        assert_close(data["loss"], out.loss)
        assert_close(data["attentions"], np.stack([a.numpy() for a in out.attentions]))
        for index, expected in zip(meta["comparable"]["hidden_states"]["albertlite_indices"], data["hidden_states"]):
            assert_close(expected, out.hidden_states[index], real)


# ----------------------------------------------------------------------------------------------- errors
def _messages(config: AlbertConfig, name: str, **inputs) -> tuple[str, str]:
    torch_model = getattr(modeling_torch, name)(config).eval()
    tf_model = getattr(modeling_tf, f"TF{name}")(config)
    with pytest.raises(ValueError) as torch_error:
        torch_model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
    with pytest.raises(ValueError) as tf_error:
        tf_model(**inputs)
    return str(torch_error.value), str(tf_error.value)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("id_out_of_range", "input_ids holds 99"),
        ("token_type_out_of_range", "token_type_ids holds 2"),
        ("too_long", "at most max_position_embeddings=40"),
        ("mismatched_mask", "attention_mask has shape (2, 4)"),
        ("both_ids_and_embeds", "Pass exactly one of input_ids and inputs_embeds"),
        ("bad_head_mask", "head_mask has shape (3,)"),
        ("bad_label", "labels holds 5"),
    ],
)
def test_bad_inputs_raise_the_pytorch_message(case, expected):
    config = tiny_config("shared")
    ids = np.full((2, 5), 6)
    inputs = {
        "id_out_of_range": dict(input_ids=np.where(np.eye(2, 5) == 1, 99, ids)),
        "token_type_out_of_range": dict(input_ids=ids, token_type_ids=np.full((2, 5), 2)),
        "too_long": dict(input_ids=np.full((1, 41), 6)),
        "mismatched_mask": dict(input_ids=ids, attention_mask=np.ones((2, 4), np.int64)),
        "both_ids_and_embeds": dict(input_ids=ids, inputs_embeds=np.zeros((2, 5, 16), np.float32)),
        "bad_head_mask": dict(input_ids=ids, head_mask=np.ones(3, np.float32)),
        "bad_label": dict(input_ids=ids, labels=np.array([[5, -100, 1, 1, 1], [1, 1, 1, 1, 1]])),
    }[case]
    name = "AlbertForTokenClassification" if case == "bad_label" else "AlbertModel"
    torch_message, tf_message = _messages(config, name, **inputs)
    assert tf_message == torch_message
    assert expected in tf_message


def test_float_ids_and_static_shapes_under_tracing_are_rejected():
    model = modeling_tf.TFAlbertModel(tiny_config("shared"))
    with pytest.raises(ValueError, match="Expected an integer tensor of ids, got dtype float32"):
        model(input_ids=np.ones((1, 3), np.float32))
    # While tracing, values are unknown but fully known shapes are still checked with the shared message.
    traced = tf.function(lambda ids, mask: model(input_ids=ids, attention_mask=mask).last_hidden_state)
    with pytest.raises(ValueError, match=r"attention_mask has shape \(2, 4\) but the input has shape \(2, 5\)"):
        traced(tf.ones((2, 5), tf.int32), tf.ones((2, 4), tf.int32))


def test_multiple_choice_needs_a_choice_axis():
    model = modeling_tf.TFAlbertForMultipleChoice(tiny_config("shared"))
    with pytest.raises(ValueError, match="num_choices"):
        model(input_ids=np.ones((2, 5), np.int64))


# ----------------------------------------------------------------------------------------------- tf.function, dropout
def test_runs_in_tf_function_with_dynamic_batch_and_length():
    config = tiny_config("relative_key_query")
    _, model = build_pair("AlbertForSequenceClassification", config)
    spec = tf.TensorSpec([None, None], tf.int32)

    @tf.function(input_signature=[spec, spec])
    def logits(input_ids, attention_mask):
        return model(input_ids=input_ids, attention_mask=attention_mask).logits

    for batch, seq_len in ((2, 5), (3, 9)):
        inputs = {k: v.astype(np.int32) for k, v in padded_batch(config, batch, seq_len).items()}
        eager = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).logits
        assert_close(eager, logits(inputs["input_ids"], inputs["attention_mask"]), atol=1e-5)
    assert logits.experimental_get_tracing_count() == 1


def test_dropout_only_in_training_including_after_the_ffn_output():
    config = tiny_config("shared", hidden_dropout_prob=0.3)
    model = modeling_tf.TFAlbertModel(config)
    batch = padded_batch(config)
    eval_a, eval_b = (model(**batch).last_hidden_state.numpy() for _ in range(2))
    np.testing.assert_array_equal(eval_a, eval_b)
    assert np.abs(model(**batch, training=True).last_hidden_state.numpy() - eval_a).max() > 1e-3
    # The FFN-output dropout alone: turn off the attention output's and the layer output still changes in training.
    layer = model.albert.encoder.albert_layer_groups[0].albert_layers[0]
    layer.attention.output_dropout.rate = 0.0
    hidden = tf.random.normal((2, 4, config.hidden_size))
    assert np.abs(layer(hidden, training=True)[0].numpy() - layer(hidden, training=False)[0].numpy()).max() > 1e-3


def test_outputs_index_like_hugging_face_and_return_tuples():
    config = tiny_config("shared")
    model = modeling_tf.TFAlbertForPreTraining(config)
    batch = batch_for("AlbertForPreTraining", config)
    out = model(**batch)
    assert isinstance(out, albertlite.TFAlbertForPreTrainingOutput)
    assert isinstance(out, albertlite.AlbertForPreTrainingOutput)
    as_tuple = model(**batch, return_dict=False)
    assert len(as_tuple) == 3
    np.testing.assert_array_equal(as_tuple[1].numpy(), out[1].numpy())
    assert float(out[0]) == pytest.approx(float(out.loss))


def test_inputs_embeds_and_predict_match_the_eager_call():
    config = tiny_config("shared")
    torch_model, model = build_pair("AlbertForSequenceClassification", config, seed=2)
    batch = padded_batch(config)
    table = model.albert.embeddings.word_embeddings.embeddings.numpy()
    embeds = {**batch, "inputs_embeds": table[batch["input_ids"]]}
    del embeds["input_ids"]
    theirs, ours = run_both(torch_model, model, embeds)
    assert_close(theirs.logits, ours.logits)
    assert_close(model(**batch).logits, ours.logits, atol=1e-6)
    predicted = model.predict({k: v.astype(np.int32) for k, v in batch.items()}, batch_size=2, verbose=0)
    assert sorted(predicted) == ["logits"]
    assert_close(ours.logits, predicted["logits"], atol=1e-5)


# ----------------------------------------------------------------------------------------------- Keras training
def _classification_data(config: AlbertConfig, labels_in_x: bool) -> tf.data.Dataset:
    batch = padded_batch(config, batch=16, seq_len=8)
    labels = (batch["input_ids"][:, 1] % 2).astype(np.int32)  # learnable from the first real token
    features = {k: v.astype(np.int32) for k, v in batch.items()}
    if labels_in_x:
        return tf.data.Dataset.from_tensor_slices({**features, "labels": labels}).batch(8)
    return tf.data.Dataset.from_tensor_slices((features, labels)).batch(8)


def test_fit_on_tf_data_lowers_the_loss():
    import keras

    keras.utils.set_random_seed(0)
    config = tiny_config("shared")
    model = modeling_tf.TFAlbertForSequenceClassification(config)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), jit_compile=False)  # XLA compiles slowly on CPU
    labels_as_y = _classification_data(config, labels_in_x=False)
    before = model.evaluate(labels_as_y, verbose=0)
    losses = model.fit(labels_as_y, epochs=8, verbose=0).history["loss"]
    assert losses[-1] < losses[0] - 0.05
    after = model.evaluate(labels_as_y, verbose=0)
    assert after < before
    # Labels inside the input dict give the same loss as labels passed as y.
    assert model.evaluate(_classification_data(config, labels_in_x=True), verbose=0) == pytest.approx(after, abs=1e-6)


def test_fit_pretraining_with_tuple_labels():
    import keras

    keras.utils.set_random_seed(0)
    config = tiny_config("shared")
    model = modeling_tf.TFAlbertForPreTraining(config)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), jit_compile=False)
    batch = batch_for("AlbertForPreTraining", config)
    features = {k: batch[k].astype(np.int32) for k in ("input_ids", "attention_mask", "token_type_ids")}
    labels = (batch["labels"].astype(np.int32), batch["sentence_order_label"].astype(np.int32))
    losses = model.fit(tf.data.Dataset.from_tensors((features, labels)), epochs=5, verbose=0).history["loss"]
    assert losses[-1] < losses[0]


# ----------------------------------------------------------------------------------------------- export, checkpoints
def test_saved_model_round_trip_gives_the_same_logits(tmp_path):
    config = tiny_config("groups_inner", num_labels=3)
    _, model = build_pair("AlbertForSequenceClassification", config)
    export_saved_model(model, tmp_path / "exported")
    serve = tf.saved_model.load(str(tmp_path / "exported")).signatures["serving_default"]
    for batch, seq_len in ((3, 9), (1, 4)):
        inputs = {k: tf.constant(v, tf.int32) for k, v in padded_batch(config, batch, seq_len).items()}
        assert_close(model(**inputs).logits, serve(**inputs)["logits"], atol=1e-5)


def test_checkpoint_round_trip_torch_to_tf_to_torch(tmp_path):
    config = tiny_config("relative_key_query")
    torch_model, _ = build_pair("AlbertForPreTraining", config, seed=9)
    torch_model.save_pretrained(tmp_path / "pt")
    tf_model = modeling_tf.TFAlbertForPreTraining.from_pretrained(tmp_path / "pt")
    batch = padded_batch(config)
    real = batch["attention_mask"] == 1
    theirs, ours = run_both(torch_model, tf_model, batch)
    assert_close(theirs.prediction_logits, ours.prediction_logits, real)

    tf_model.save_pretrained(tmp_path / "tf")
    from safetensors.numpy import load_file

    saved = load_file(tmp_path / "tf" / "model.safetensors")
    assert "predictions.bias" in saved and not any(k.startswith("predictions.decoder") for k in saved)
    assert json.loads((tmp_path / "tf" / "config.json").read_text())["architectures"] == ["AlbertForPreTraining"]
    reloaded = modeling_torch.AlbertForPreTraining.from_pretrained(tmp_path / "tf")
    expected = torch_model.state_dict()
    for key, value in reloaded.state_dict().items():
        torch.testing.assert_close(value, expected[key], rtol=0, atol=0)
    # A base-model checkpoint loads into a head: the head's weights are reported missing, nothing else.
    modeling_tf.TFAlbertModel.from_pretrained(tmp_path / "tf").save_pretrained(tmp_path / "base")
    head, info = modeling_tf.TFAlbertForSequenceClassification.from_pretrained(
        tmp_path / "base", output_loading_info=True
    )
    assert info == {"missing_keys": ["classifier.bias", "classifier.weight"], "unexpected_keys": []}
    kernel = tf_model.albert.encoder.embedding_hidden_mapping_in.kernel.numpy()
    assert kernel.shape == (config.embedding_size, config.hidden_size)  # Keras layout: transposed on disk
    np.testing.assert_array_equal(head.albert.encoder.embedding_hidden_mapping_in.kernel.numpy(), kernel)


def test_save_pretrained_shards_by_size_string_and_leaves_the_config_alone(tmp_path):
    config = tiny_config("groups_inner")
    model = modeling_tf.TFAlbertForPreTraining(config)
    before = config.to_dict()
    assert model.save_pretrained(tmp_path, max_shard_size="20KB") == tmp_path
    assert config.to_dict() == before and "architectures" not in config.extra
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    assert len(set(index["weight_map"].values())) > 1 and not (tmp_path / "model.safetensors").exists()
    assert json.loads((tmp_path / "config.json").read_text())["architectures"] == ["AlbertForPreTraining"]
    reloaded = modeling_tf.TFAlbertForPreTraining.from_pretrained(tmp_path)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(reloaded.state_dict()[key], value, err_msg=key)


def test_save_pretrained_refuses_unsafe_serialization(tmp_path):
    model = modeling_tf.TFAlbertModel(tiny_config("shared"))
    with pytest.raises(ValueError, match="safetensors only"):
        model.save_pretrained(tmp_path, safe_serialization=False)
    assert not any(tmp_path.iterdir())
    with pytest.raises(TypeError):
        model.save_pretrained(tmp_path, 10_000)  # max_shard_size is keyword-only, as in every framework


def test_from_pretrained_applies_overrides(tmp_path):
    modeling_tf.TFAlbertModel(tiny_config("shared")).save_pretrained(tmp_path)
    model = modeling_tf.TFAlbertForTokenClassification.from_pretrained(tmp_path, num_labels=5)
    assert model.config.num_labels == 5 and model.classifier.kernel.shape == (32, 5)


def test_reads_transformers_457_tf_model_h5():
    directory = FIXTURES / "hf457_tf"
    assert sorted(p.name for p in directory.iterdir()) == ["config.json", "outputs.npz", "tf_model.h5"]
    expected = np.load(directory / "outputs.npz")
    inputs = {k: expected[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    real = expected["attention_mask"] == 1
    model, info = modeling_tf.TFAlbertForPreTraining.from_pretrained(directory, output_loading_info=True)
    assert info == {"missing_keys": [], "unexpected_keys": []}
    out = model(**inputs, output_hidden_states=True)
    assert_close(expected["prediction_logits"], out.prediction_logits, real, atol=1e-5)
    assert_close(expected["sop_logits"], out.sop_logits, atol=1e-5)
    assert_close(expected["last_hidden_state"], out.hidden_states[-1], real, atol=1e-5)
    # The same file through the shared reader into PyTorch.
    torch_model = modeling_torch.AlbertForPreTraining.from_pretrained(directory)
    with torch.no_grad():
        torch_out = torch_model(**{k: torch.from_numpy(v) for k, v in inputs.items()})
    assert_close(expected["prediction_logits"], torch_out.prediction_logits, real, atol=1e-5)


def test_lazy_public_names():
    for name in HEADS:
        assert getattr(albertlite, f"TF{name}") is getattr(modeling_tf, f"TF{name}")
    assert albertlite.TFAlbertPreTrainedModel is modeling_tf.TFAlbertPreTrainedModel
