"""Flax models against the PyTorch models on the same weights, and against transformers 4.57 fixtures.

The PyTorch models are themselves tested against transformers 5 (test_modeling_torch.py) and 4.57
(test_hf457_reference.py); here every Flax head is compared with its PyTorch twin at real positions of
padded batches, plus the Flax-only promises: one traced layer (jaxpr size independent of depth),
jit/optax training, bf16, checkpoints in both directions and transformers 4.57's flax_model.msgpack.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.flax

jax = pytest.importorskip("jax")
pytest.importorskip("flax")
optax = pytest.importorskip("optax")
torch = pytest.importorskip("torch")

import flax.linen as nn  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import albertlite  # noqa: E402
from albertlite import modeling_flax  # noqa: E402
from albertlite.checkpoints.state_dict import CheckpointError, read_safetensors  # noqa: E402

from .helpers.flax_pairs import build_pair  # noqa: E402
from .helpers.models import CONFIGS, RELATIVE_CONFIGS, padded_batch, tiny_config  # noqa: E402
from .helpers.models import MODEL_CLASSES as HEADS  # noqa: E402
from .helpers.torch_pairs import model_inputs  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
ATOL = 1e-5  # float32 on CPU; measured max differences are ~1e-6


def to_numpy(batch: dict) -> dict:
    return {k: v.numpy() for k, v in batch.items()}


def assert_close_at_real(ours, theirs, mask: np.ndarray, atol: float = ATOL) -> None:
    """Compare every output field; (B, S, ...) fields only where mask == 1 (padding holds arbitrary values)."""
    assert ours.keys() == theirs.keys()
    mask = mask.astype(bool)
    for key in ours:
        a, b = ours[key], theirs[key]
        pairs = zip(a, b) if key in ("hidden_states", "attentions") else [(a, b)]
        if key in ("hidden_states", "attentions"):
            assert len(a) == len(b), key
        for x, y in pairs:
            x, y = np.asarray(x, np.float32), y.detach().numpy()
            assert x.shape == y.shape, key
            if key != "attentions" and x.shape[: mask.ndim] == mask.shape:
                x, y = x[mask], y[mask]
            np.testing.assert_allclose(x, y, atol=atol, rtol=0, err_msg=key)


# ------------------------------------------------------------------------------------------ parity with PyTorch
PARITY_CASES = [(head, "groups_inner") for head in HEADS] + [
    (head, config)
    for config in sorted({*CONFIGS, *RELATIVE_CONFIGS} - {"groups_inner"})
    for head in ("AlbertForPreTraining", "AlbertForSequenceClassification")
]


@pytest.mark.parametrize(("name", "config_name"), PARITY_CASES)
def test_matches_pytorch(name, config_name):
    config = tiny_config(config_name)
    pt_model, flax_model = build_pair(name, config)
    batch = model_inputs(name, config, labels=True)
    with torch.no_grad():
        expected = pt_model(**batch, output_hidden_states=True, output_attentions=True)
    outputs = flax_model(**to_numpy(batch), output_hidden_states=True, output_attentions=True)
    assert type(outputs).__name__ == type(expected).__name__ or name == "AlbertForPreTraining"
    assert ("loss" in outputs) == (name != "AlbertModel")
    assert len(outputs.hidden_states) == config.num_applied_layers + 1
    mask = batch["attention_mask"].numpy()
    if name == "AlbertForMultipleChoice":
        mask = mask.reshape(-1, mask.shape[-1])  # hidden states are (B*C, S, H)
    assert_close_at_real(outputs, expected, mask)


@pytest.mark.parametrize("problem_type", ["regression", "single_label_classification", "multi_label_classification"])
def test_sequence_classification_losses(problem_type):
    config = tiny_config(num_labels=1 if problem_type == "regression" else 3)
    pt_model, flax_model = build_pair("AlbertForSequenceClassification", config)
    batch = to_numpy(model_inputs("AlbertForSequenceClassification", config))
    labels = {
        "regression": np.array([0.5, -1.0, 2.0], np.float32),
        "single_label_classification": np.array([0, 2, -100]),
        "multi_label_classification": np.array([[1, 0, 1], [0, 0, 1], [1, 1, 0]], np.float32),
    }[problem_type]
    with torch.no_grad():
        expected = pt_model(**{k: torch.from_numpy(v) for k, v in batch.items()}, labels=torch.from_numpy(labels))
    outputs = flax_model(**batch, labels=labels)
    np.testing.assert_allclose(float(outputs.loss), float(expected.loss), atol=ATOL, rtol=0)


def test_question_answering_positions_clamped_and_ignored():
    config = tiny_config()
    pt_model, flax_model = build_pair("AlbertForQuestionAnswering", config)
    batch = to_numpy(model_inputs("AlbertForQuestionAnswering", config))
    start, end = np.array([[1], [50], [-3]]), np.array([[3], [2], [99]])  # (B, 1), out of range on both sides
    with torch.no_grad():
        expected = pt_model(
            **{k: torch.from_numpy(v) for k, v in batch.items()},
            start_positions=torch.from_numpy(start),
            end_positions=torch.from_numpy(end),
        )
    outputs = flax_model(**batch, start_positions=start, end_positions=end)
    np.testing.assert_allclose(float(outputs.loss), float(expected.loss), atol=ATOL, rtol=0)


@pytest.mark.parametrize("two_dimensional", [False, True])
def test_head_mask_matches_pytorch(two_dimensional):
    config = tiny_config("groups_inner")
    pt_model, flax_model = build_pair("AlbertModel", config)
    rng = np.random.default_rng(0)
    shape = (config.num_applied_layers, config.num_attention_heads) if two_dimensional else (4,)
    head_mask = (rng.random(shape) * (rng.random(shape) > 0.3)).astype(np.float32)
    batch = to_numpy(model_inputs("AlbertModel", config))
    with torch.no_grad():
        expected = pt_model(**{k: torch.from_numpy(v) for k, v in batch.items()}, head_mask=torch.from_numpy(head_mask))
    outputs = flax_model(**batch, head_mask=head_mask)
    unmasked = flax_model(**batch)
    mask = batch["attention_mask"]
    assert_close_at_real(outputs, expected, mask)
    assert np.abs(np.asarray(outputs.last_hidden_state) - np.asarray(unmasked.last_hidden_state)).max() > 1e-2


# ------------------------------------------------------------------------------------------ transformers 4.57
HF457 = FIXTURES / "hf457"
HF457_CASES = sorted(p.name for p in HF457.iterdir() if (p / "io.npz").exists())


@pytest.mark.parametrize("case", HF457_CASES)
def test_matches_transformers_457_relative_and_head_mask(case):
    data = dict(np.load(HF457 / case / "io.npz"))
    meta = json.loads((HF457 / case / "meta.json").read_text())
    model = modeling_flax.FlaxAlbertForPreTraining.from_pretrained(HF457 / case)
    inputs = {k: data[k] for k in ("input_ids", "attention_mask", "token_type_ids", "labels", "sentence_order_label")}
    out = model(**inputs, head_mask=data.get("head_mask"), output_hidden_states=True, output_attentions=True)
    real = data["attention_mask"].astype(bool)
    np.testing.assert_allclose(np.asarray(out.prediction_logits)[real], data["prediction_logits"][real], atol=ATOL)
    np.testing.assert_allclose(np.asarray(out.sop_logits), data["sop_logits"], atol=ATOL)
    np.testing.assert_allclose(float(out.loss), float(data["loss"]), atol=ATOL)
    np.testing.assert_allclose(np.stack(out.attentions), data["attentions"], atol=ATOL)
    for ours_index, theirs in zip(meta["comparable"]["hidden_states"]["albertlite_indices"], data["hidden_states"]):
        np.testing.assert_allclose(np.asarray(out.hidden_states[ours_index])[real], theirs[real], atol=ATOL)


def test_legacy_flax_msgpack_from_transformers_457():
    """A directory holding only 4.57's flax_model.msgpack loads, with no flag, in Flax and PyTorch."""
    directory = FIXTURES / "hf457_flax"
    assert not (directory / "model.safetensors").exists()
    data = dict(np.load(directory / "outputs.npz"))
    inputs = {k: data[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    real = data["attention_mask"].astype(bool)
    model, info = modeling_flax.FlaxAlbertForPreTraining.from_pretrained(directory, output_loading_info=True)
    assert info == {"missing_keys": [], "unexpected_keys": []}
    out = model(**inputs, output_hidden_states=True, output_attentions=True)
    np.testing.assert_allclose(np.asarray(out.prediction_logits)[real], data["prediction_logits"][real], atol=ATOL)
    np.testing.assert_allclose(np.asarray(out.sop_logits), data["sop_logits"], atol=ATOL)
    np.testing.assert_allclose(np.stack(out.attentions), data["attentions"], atol=ATOL)
    inner = model.config.inner_group_num  # 4.57 kept one hidden state per group call
    for k, theirs in enumerate(data["hidden_states"]):
        np.testing.assert_allclose(np.asarray(out.hidden_states[k * inner])[real], theirs[real], atol=ATOL)

    pt_model = albertlite.AlbertForPreTraining.from_pretrained(directory)
    with torch.no_grad():
        pt_out = pt_model(**{k: torch.from_numpy(v.astype(np.int64)) for k, v in inputs.items()})
    np.testing.assert_allclose(pt_out.prediction_logits.numpy()[real], data["prediction_logits"][real], atol=ATOL)


def test_corrupt_msgpack_is_a_clear_checkpoint_error(tmp_path):
    tiny_config().save_pretrained(tmp_path)
    (tmp_path / "flax_model.msgpack").write_bytes(b"\x93not a msgpack tree")
    with pytest.raises(CheckpointError, match=r"flax_model\.msgpack is not a readable Flax msgpack"):
        modeling_flax.FlaxAlbertModel.from_pretrained(tmp_path)


# ------------------------------------------------------------------------------------------ checkpoints
def test_checkpoint_round_trip_torch_flax_torch(tmp_path):
    config = tiny_config("relative_key_query")
    pt_model, _ = build_pair("AlbertForPreTraining", config)
    pt_model.save_pretrained(tmp_path / "torch")
    flax_model = modeling_flax.FlaxAlbertForPreTraining.from_pretrained(tmp_path / "torch")
    flax_model.save_pretrained(tmp_path / "flax")

    written = read_safetensors(tmp_path / "flax" / "model.safetensors")
    original = read_safetensors(tmp_path / "torch" / "model.safetensors")
    assert sorted(written) == sorted(original)
    assert "predictions.bias" in written and not any(k.startswith("predictions.decoder") for k in written)
    for key, value in original.items():
        np.testing.assert_array_equal(written[key], value, err_msg=key)
    assert json.loads((tmp_path / "flax" / "config.json").read_text())["architectures"] == ["AlbertForPreTraining"]

    reloaded = albertlite.AlbertForPreTraining.from_pretrained(tmp_path / "flax")
    batch = model_inputs("AlbertForPreTraining", config)
    with torch.no_grad():
        expected = pt_model(**batch).prediction_logits
        got = reloaded(**batch).prediction_logits
    torch.testing.assert_close(got, expected, atol=0, rtol=0)


def test_save_pretrained_shards_returns_the_directory_and_leaves_the_config(tmp_path):
    config = tiny_config("groups_inner")
    model = modeling_flax.FlaxAlbertForPreTraining(config, seed=1)
    before = config.to_dict()
    other = jax.tree_util.tree_map(lambda leaf: leaf + 0.5, model.params)  # saved instead of model.params
    assert model.save_pretrained(tmp_path / "sharded", max_shard_size="20KB", params=other) == tmp_path / "sharded"
    assert config.to_dict() == before
    index = json.loads((tmp_path / "sharded" / "model.safetensors.index.json").read_text())
    assert len(set(index["weight_map"].values())) > 1 and not (tmp_path / "sharded" / "model.safetensors").exists()
    reloaded = modeling_flax.FlaxAlbertForPreTraining.from_pretrained(tmp_path / "sharded")
    batch = padded_batch(config)
    np.testing.assert_array_equal(
        np.asarray(reloaded(**batch).prediction_logits), np.asarray(model(**batch, params=other).prediction_logits)
    )
    with pytest.raises(ValueError, match="safetensors only"):
        model.save_pretrained(tmp_path / "pickle", safe_serialization=False)
    assert not (tmp_path / "pickle").exists()


def test_base_checkpoint_into_head_initialises_only_the_head(tmp_path, caplog):
    config = tiny_config()
    base = modeling_flax.FlaxAlbertModel(config, seed=3)
    base.save_pretrained(tmp_path)
    head, info = modeling_flax.FlaxAlbertForSequenceClassification.from_pretrained(
        tmp_path, num_labels=3, output_loading_info=True
    )
    assert info["missing_keys"] == ["classifier.bias", "classifier.weight"]
    assert head.params["classifier"]["kernel"].shape == (config.hidden_size, 3)
    np.testing.assert_array_equal(
        head.params["albert"]["encoder"]["albert_layer_groups"]["0"]["albert_layers"]["0"]["ffn"]["kernel"],
        base.params["encoder"]["albert_layer_groups"]["0"]["albert_layers"]["0"]["ffn"]["kernel"],
    )


def test_relative_checkpoint_with_absolute_config_is_refused(tmp_path):
    config = tiny_config("relative_key")
    modeling_flax.FlaxAlbertModel(config).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="relative-position weights"):
        modeling_flax.FlaxAlbertModel.from_pretrained(tmp_path, position_embedding_type="absolute")


def test_shape_mismatch_is_refused(tmp_path):
    modeling_flax.FlaxAlbertModel(tiny_config()).save_pretrained(tmp_path)
    with pytest.raises(ValueError, match="shapes do not match"):
        modeling_flax.FlaxAlbertModel.from_pretrained(tmp_path, intermediate_size=38)


def test_parameter_layout_is_the_checkpoint_layout():
    """Every head's parameter paths and shapes, as jax.tree_util key paths, equal the pre-rewrite layout."""
    fixture = json.loads((FIXTURES / "flax_param_layout.json").read_text())["layouts"]
    config = tiny_config("relative_key_query", num_labels=3)
    assert sorted(fixture) == sorted(HEADS)
    for head in HEADS:
        params = getattr(modeling_flax, f"Flax{head}")(config).params
        layout = {
            jax.tree_util.keystr(path, simple=True, separator="/"): list(leaf.shape)
            for path, leaf in jax.tree_util.tree_leaves_with_path(params)
        }
        assert layout == fixture[head], head


# ------------------------------------------------------------------------------------------ one traced layer
def _forward_jaxpr(num_layers: int):
    config = tiny_config("groups_inner", num_hidden_layers=num_layers, num_hidden_groups=2)
    model = modeling_flax.FlaxAlbertForPreTraining(config)
    ids = jnp.ones((2, 8), jnp.int32)
    positions = jnp.broadcast_to(jnp.arange(8), ids.shape)

    def forward(params, ids):
        return model.module.apply({"params": params}, ids, jnp.ones_like(ids), jnp.zeros_like(ids), positions)

    return forward, model.params, ids


def _count_equations(jaxpr) -> int:
    """Equations of a jaxpr including those of nested jaxprs (scan bodies, pjit calls)."""
    total = 0
    for equation in jaxpr.eqns:
        total += 1
        for param in equation.params.values():
            for sub in param if isinstance(param, (list, tuple)) else [param]:
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    total += _count_equations(inner)
    return total


def test_layer_is_traced_once_whatever_the_depth():
    counts, compile_seconds = {}, {}
    for layers in (4, 24, 4):
        forward, params, ids = _forward_jaxpr(layers)
        closed = jax.make_jaxpr(forward)(params, ids)
        counts[layers] = (len(closed.jaxpr.eqns), _count_equations(closed.jaxpr))
        start = time.perf_counter()
        jax.jit(forward).lower(params, ids).compile()
        compile_seconds[layers] = time.perf_counter() - start  # the second 4-layer run is the warm one
    assert counts[4] == counts[24]
    assert any(eq.primitive.name == "scan" for eq in jax.make_jaxpr(forward)(params, ids).jaxpr.eqns)
    # Generous bound: an unrolled 24-layer model compiles several times slower than a 4-layer one.
    assert compile_seconds[24] < 2.0 * compile_seconds[4] + 0.5, compile_seconds


# ------------------------------------------------------------------------------------------ packed rows (segment ids)
SLOTS = (slice(0, 5), slice(5, 9))  # where _two_sequences puts its two sequences in the packed row


def _two_sequences(config, lengths=(5, 4), row_len=12, seed=0) -> tuple[list[dict], dict]:
    """Two sequences alone ((1, n) inputs each) and packed into one padded row with segment ids 1, 2 (0: padding)."""
    rng = np.random.default_rng(seed)
    alone = [
        {"input_ids": rng.integers(5, config.vocab_size, (1, n)), "token_type_ids": (np.arange(n)[None] >= n // 2) * 1}
        for n in lengths
    ]
    pad = row_len - sum(lengths)
    packed = {
        "input_ids": np.concatenate([a["input_ids"] for a in alone] + [np.zeros((1, pad), int)], axis=1),
        "token_type_ids": np.concatenate([a["token_type_ids"] for a in alone] + [np.zeros((1, pad), int)], axis=1),
        "position_ids": np.concatenate([np.arange(n) for n in lengths] + [np.zeros(pad, int)])[None],
        "segment_ids": np.repeat([1, 2, 0], [*lengths, pad])[None],
        "attention_mask": (np.arange(row_len) < sum(lengths))[None] * 1,
    }
    return alone, packed


@pytest.mark.parametrize("config_name", ["groups_inner", "relative_key_query"])
def test_packed_row_equals_each_sequence_alone(config_name):
    config = tiny_config(config_name)
    model = modeling_flax.FlaxAlbertModel(config, seed=1)
    alone, packed = _two_sequences(config)
    out = model(**packed, output_hidden_states=True)
    for sequence, slots in zip(alone, SLOTS):
        expected = model(**sequence, output_hidden_states=True)
        for ours, theirs in zip(out.hidden_states, expected.hidden_states, strict=True):
            np.testing.assert_allclose(np.asarray(ours)[:, slots], np.asarray(theirs), atol=1e-5, rtol=0)
        np.testing.assert_allclose(np.asarray(out.last_hidden_state)[:, slots], expected.last_hidden_state, atol=1e-5)
        if sequence is alone[0]:  # the pooler reads the row's first token: the first sequence's
            np.testing.assert_allclose(np.asarray(out.pooler_output), expected.pooler_output, atol=1e-5, rtol=0)

    apply = jax.jit(lambda params, batch: model.module.apply({"params": params}, **batch).last_hidden_state)
    np.testing.assert_allclose(apply(model.params, packed), np.asarray(out.last_hidden_state), atol=1e-6)  # the module
    # Without the restriction (one segment for every real token) the two sequences see each other.
    unrestricted = model(**{**packed, "segment_ids": packed["attention_mask"]}, output_hidden_states=True)
    changed = np.abs(np.asarray(unrestricted.last_hidden_state) - np.asarray(out.last_hidden_state)).max(axis=-1)
    assert changed[:, :9].min() > 1e-3  # every real token


@pytest.mark.parametrize(
    ("head", "field"),
    [
        ("AlbertForMaskedLM", "logits"),
        ("AlbertForTokenClassification", "logits"),
        ("AlbertForQuestionAnswering", "start_logits"),
        ("AlbertForSequenceClassification", "logits"),
        ("AlbertForMultipleChoice", "logits"),
    ],
)
def test_heads_take_segment_ids(head, field):
    """Per-token outputs equal each sequence run alone; sequence-level ones the row's first sequence alone."""
    config = tiny_config("groups_inner", num_labels=3)
    model = getattr(modeling_flax, f"Flax{head}")(config, seed=2)
    alone, packed = _two_sequences(config)
    first = alone[0]
    if head == "AlbertForMultipleChoice":  # two choices, each a packed row: (1, 2, 12) against (1, 2, 5) alone
        alone_2, packed_2 = _two_sequences(config, seed=1)
        packed = {k: np.stack([packed[k], packed_2[k]], axis=1) for k in packed}
        first = {k: np.stack([first[k], alone_2[0][k]], axis=1) for k in first}
    out = np.asarray(getattr(model(**packed), field))
    if head in ("AlbertForSequenceClassification", "AlbertForMultipleChoice"):
        np.testing.assert_allclose(out, np.asarray(getattr(model(**first), field)), atol=1e-5, rtol=0)
        return
    for sequence, slots in zip(alone, SLOTS):
        np.testing.assert_allclose(out[:, slots], np.asarray(getattr(model(**sequence), field)), atol=1e-5, rtol=0)


# ------------------------------------------------------------------------------------------ jit, training, bf16
def test_jitted_call_returns_the_output_dataclass():
    config = tiny_config("groups_inner")
    model = modeling_flax.FlaxAlbertForQuestionAnswering(config)
    batch = padded_batch(config)
    eager = model(**batch, output_hidden_states=True)
    jitted = jax.jit(lambda params, ids, mask, types: model(ids, mask, types, params=params, output_hidden_states=True))
    out = jitted(model.params, batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    assert isinstance(out, albertlite.outputs.QuestionAnsweringModelOutput)
    assert len(jax.tree_util.tree_leaves(out)) == 2 + config.num_applied_layers + 1
    np.testing.assert_allclose(np.asarray(out.start_logits), np.asarray(eager.start_logits), atol=1e-6)
    tuple_out = model(**batch, return_dict=False)
    assert len(tuple_out) == 2 and np.array_equal(tuple_out[0], eager.start_logits)


def test_optax_training_under_jit_lowers_the_loss():
    config = tiny_config(hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    model = modeling_flax.FlaxAlbertForPreTraining(config, seed=0)
    batch = padded_batch(config)
    mlm = np.where(batch["attention_mask"] == 1, batch["input_ids"], -100)
    sop = np.array([0, 1, 1])
    optimizer = optax.adamw(3e-3)

    @jax.jit
    def step(params, opt_state, key):
        def loss_fn(params):
            return model(**batch, params=params, train=True, dropout_rng=key, labels=mlm, sentence_order_label=sop).loss

        loss, grads = jax.value_and_grad(loss_fn)(params)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    params, opt_state = model.params, optimizer.init(model.params)
    losses = []
    for key in jax.random.split(jax.random.PRNGKey(0), 8):
        params, opt_state, loss = step(params, opt_state, key)
        losses.append(float(loss))
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.9 * losses[0] and np.mean(losses[-3:]) < np.mean(losses[:3]), losses


def test_padding_row_gets_no_gradient_from_the_lookup():
    """As PyTorch's Embedding(padding_idx=pad): looking up the pad id contributes no gradient to its row."""
    config = tiny_config()
    model = modeling_flax.FlaxAlbertModel(config)
    batch = padded_batch(config)
    grads = jax.grad(lambda params: jnp.sum(model(**batch, params=params).last_hidden_state ** 2))(model.params)
    table = np.asarray(grads["embeddings"]["word_embeddings"]["embedding"])
    assert (batch["input_ids"] == config.pad_token_id).any()
    np.testing.assert_array_equal(table[config.pad_token_id], 0.0)
    assert np.abs(table[batch["input_ids"][0, 0]]).max() > 0


def test_dropout_only_in_training_and_reproducible():
    config = tiny_config(hidden_dropout_prob=0.2)
    model = modeling_flax.FlaxAlbertModel(config)
    batch = padded_batch(config)
    key = jax.random.PRNGKey(7)
    eval_out = model(**batch).last_hidden_state
    train_a = model(**batch, train=True, dropout_rng=key).last_hidden_state
    train_b = model(**batch, train=True, dropout_rng=key).last_hidden_state
    np.testing.assert_array_equal(np.asarray(train_a), np.asarray(train_b))
    assert np.abs(np.asarray(train_a) - np.asarray(eval_out)).max() > 1e-2
    with pytest.raises(ValueError, match="dropout_rng"):
        model(**batch, train=True)


def test_ffn_output_dropout_is_applied():
    """The layer drops out the FFN output before the residual, as the original (HF PyTorch omits it)."""
    config = tiny_config(hidden_dropout_prob=0.5)
    layer = modeling_flax.FlaxAlbertLayer(config)
    params = modeling_flax.FlaxAlbertModel(config).params["encoder"]["albert_layer_groups"]["0"]["albert_layers"]["0"]
    hidden = jax.random.normal(jax.random.PRNGKey(0), (1, 4, config.hidden_size))

    @jax.jit
    def ffn_dropout_output(params, hidden):
        seen = []

        def spy(next_fun, args, kwargs, context):
            output = next_fun(*args, **kwargs)
            if context.module.name == "dropout" and context.module.parent.name is None:  # the layer's own
                seen.append(output)
            return output

        with nn.intercept_methods(spy):
            bias = jnp.zeros((1, 1, 1, 4))
            layer.apply({"params": params}, hidden, bias, None, False, rngs={"dropout": jax.random.PRNGKey(2)})
        assert len(seen) == 1
        return seen[0]

    dropped = np.asarray(ffn_dropout_output(params, hidden))
    assert dropped.shape == (1, 4, config.hidden_size)
    assert 0.3 < float(np.mean(dropped == 0)) < 0.7


def test_bfloat16_computation_close_to_float32():
    config = tiny_config("groups_inner")
    _, fp32 = build_pair("AlbertForPreTraining", config)
    bf16 = modeling_flax.FlaxAlbertForPreTraining(config, dtype=jnp.bfloat16, _do_init=False)
    bf16.params = fp32.params
    batch = padded_batch(config)
    a = fp32(**batch).prediction_logits
    b = bf16(**batch).prediction_logits
    assert b.dtype == jnp.bfloat16
    assert all(leaf.dtype == jnp.float32 for leaf in jax.tree_util.tree_leaves(bf16.params))
    real = batch["attention_mask"].astype(bool)
    error = np.abs(np.asarray(b, np.float32) - np.asarray(a))[real]
    scale = np.abs(np.asarray(a))[real].max()
    assert error.max() < 0.05 * scale, (error.max(), scale)


# ------------------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: dict(input_ids=np.array([[2, 99, 3]])), r"input_ids holds 99, outside \[0, vocab_size=99\)"),
        (lambda: dict(input_ids=np.array([[2, -1, 3]])), r"input_ids holds -1"),
        (lambda: dict(input_ids=np.array([[2, 5, 3]]), token_type_ids=np.array([[0, 2, 0]])),
         r"token_type_ids holds 2, outside \[0, type_vocab_size=2\)"),
        (lambda: dict(input_ids=np.ones((1, 41), int)), r"41 tokens .* max_position_embeddings=40"),
        (lambda: dict(input_ids=np.ones((1, 3), int), position_ids=np.array([[0, 1, 40]])),
         r"position_ids holds 40"),
        (lambda: dict(input_ids=np.ones((2, 5), int), attention_mask=np.ones((2, 4))),
         r"attention_mask has shape \(2, 4\) but the input has shape \(2, 5\)"),
        (lambda: dict(input_ids=np.ones((2, 5), int), token_type_ids=np.zeros((1, 5), int)),
         r"token_type_ids has shape \(1, 5\)"),
        (lambda: dict(input_ids=np.ones(3, int)), r"shape \(batch, sequence_length\)"),
        (lambda: dict(input_ids=np.ones((1, 3))), r"integer tensor"),
        (lambda: dict(input_ids=np.ones((1, 3), int), head_mask=np.ones((2, 4))), r"head_mask has shape"),
    ],
)  # fmt: skip
def test_bad_input_raises_the_pytorch_value_error(build, message):
    flax_model = modeling_flax.FlaxAlbertModel(tiny_config())
    pt_model = albertlite.AlbertModel(tiny_config())
    with pytest.raises(ValueError, match=message):
        flax_model(**build())
    pt_inputs = {k: torch.from_numpy(np.asarray(v)) for k, v in build().items()}
    with pytest.raises(ValueError, match=message):
        pt_model(**pt_inputs)


# (category, case id, keyword arguments of a FlaxAlbertModel call, exception, fragment of its message)
SEGMENT_IDS_CASES = [
    ("wrong type", "segment-ids-float", dict(input_ids=np.ones((1, 4), int), segment_ids=np.ones((1, 4))),
     ValueError, "segment_ids must hold integer segment ids, got dtype float"),
    ("too long", "segment-ids-longer", dict(input_ids=np.ones((2, 4), int), segment_ids=np.ones((2, 5), int)),
     ValueError, "segment_ids has shape (2, 5) but the input has shape (2, 4); pass one segment id per token"),
    ("empty", "segment-ids-empty", dict(input_ids=np.ones((1, 4), int), segment_ids=np.array([], int)),
     ValueError, "segment_ids has shape (0,) but the input has shape (1, 4)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("category", "case_id", "kwargs", "error", "fragment"), SEGMENT_IDS_CASES, ids=[c[1] for c in SEGMENT_IDS_CASES]
)
def test_bad_segment_ids_are_refused(category, case_id, kwargs, error, fragment):
    with pytest.raises(error) as raised:
        modeling_flax.FlaxAlbertModel(tiny_config())(**kwargs)
    assert fragment in str(raised.value)


def test_shapes_are_still_checked_under_jit():
    model = modeling_flax.FlaxAlbertModel(tiny_config())
    jitted = jax.jit(lambda ids, mask: model(ids, mask).last_hidden_state)
    with pytest.raises(ValueError, match="attention_mask has shape"):
        jitted(jnp.ones((2, 5), jnp.int32), jnp.ones((2, 4), jnp.int32))


def test_bad_labels_raise_the_pytorch_value_error():
    config = tiny_config()
    model = modeling_flax.FlaxAlbertForSequenceClassification(config)
    with pytest.raises(ValueError, match=r"labels holds 5; expected values in \[0, 2\)"):
        model(np.array([[2, 5, 3]]), labels=np.array([5]))
    with pytest.raises(ValueError, match=r"labels holds 3; expected values in \[0, 2\)"):
        modeling_flax.FlaxAlbertForMultipleChoice(config)(np.ones((1, 2, 3), int), labels=np.array([3]))
    with pytest.raises(ValueError, match=r"sentence_order_label holds 2"):
        modeling_flax.FlaxAlbertForPreTraining(config)(
            np.array([[2, 5, 3]]), labels=np.array([[-100, 5, -100]]), sentence_order_label=np.array([2])
        )
    with pytest.raises(TypeError, match="start_positions"):
        model(np.array([[2, 5, 3]]), start_positions=np.array([1]))
    with pytest.raises(ValueError, match=r"\(batch, num_choices, sequence_length\)"):
        modeling_flax.FlaxAlbertForMultipleChoice(config)(np.ones((1, 3), int))


def test_public_api_is_lazy_and_complete():
    for head in ("Model", *(h.removeprefix("Albert") for h in HEADS if h != "AlbertModel")):
        assert getattr(albertlite, f"FlaxAlbert{head}") is getattr(modeling_flax, f"FlaxAlbert{head}")
    assert albertlite.FlaxAlbertForPreTrainingOutput is modeling_flax.FlaxAlbertForPreTrainingOutput
    assert issubclass(albertlite.FlaxAlbertForPreTrainingOutput, albertlite.AlbertForPreTrainingOutput)
