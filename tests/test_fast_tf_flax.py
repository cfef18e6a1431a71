"""The TensorFlow and Flax fast path (packed rows) against their plain padded path, value by value.

Every head class of both frameworks on tiny configs (weight sharing across groups and inner groups, relative
positions): outputs at real positions equal the plain path within 1e-4, padded positions of per-token outputs are
zeros, and the cases packing cannot reproduce (labels, a padded first token under a pooler, holes in a row's mask
under relative positions) fall back to the plain path.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from albertlite.fast import fast_path
from albertlite.fast.packing_plan import plan_packing

from .helpers.models import MODEL_CLASSES, padded_batch, tiny_config

USES_FAST_PATH = True
ATOL = 1e-4
HEADS = MODEL_CLASSES
needs_tf = pytest.mark.skipif(importlib.util.find_spec("tensorflow") is None, reason="needs TensorFlow")
needs_flax = pytest.mark.skipif(importlib.util.find_spec("flax") is None, reason="needs Flax")


def _num_labels(head: str) -> int:
    return 2 if head == "AlbertForQuestionAnswering" else 3  # a span head has 2 outputs (start, end)


# ----------------------------------------------------------------------------------------------- the plan
def test_plan_packs_every_real_token_once_with_restarting_positions():
    rng = np.random.default_rng(0)
    lengths = np.array([9, 3, 7, 1, 12, 5])
    mask = (np.arange(12)[None] < lengths[:, None]).astype(np.int64)
    ids = rng.integers(5, 50, mask.shape)
    types = rng.integers(0, 2, mask.shape)
    plan = plan_packing(mask, ids, types, max_row_len=32)
    rows, row_len = plan.shape
    assert row_len == 32 and rows == 2  # 37 tokens: first fit into two rows of 32
    flat = {name: getattr(plan, name).reshape(-1) for name in ("input_ids", "token_type_ids", "position_ids")}
    slots = plan.index.reshape(mask.shape)
    keep = mask.astype(bool)
    assert (slots[~keep] == rows * row_len).all()
    assert len(set(slots[keep].tolist())) == keep.sum()  # one slot per real token
    np.testing.assert_array_equal(flat["input_ids"][slots[keep]], ids[keep])
    np.testing.assert_array_equal(flat["token_type_ids"][slots[keep]], types[keep])
    np.testing.assert_array_equal(flat["position_ids"][slots[keep]], np.nonzero(keep)[1])  # restart per sequence
    segments = plan.segments.reshape(-1)
    np.testing.assert_array_equal(segments[slots[keep]], np.nonzero(keep)[0] + 1)
    np.testing.assert_array_equal(plan.first, slots[:, 0])


def test_plan_refuses_what_packing_cannot_reproduce():
    mask = (np.arange(64)[None] < np.array([10, 5, 3, 8])[:, None]).astype(np.int64)  # 26 real of 256
    ids = np.ones_like(mask)
    assert plan_packing(mask, ids, first_real=True, contiguous=True).shape == (1, 32)
    shifted = np.roll(mask, 2, axis=1)  # contiguous, but every row starts with padding
    assert plan_packing(shifted, ids, contiguous=True) is not None
    assert plan_packing(shifted, ids, first_real=True) is None  # a pooler reads position 0
    holed = mask.copy()
    holed[0, 4] = 0
    assert plan_packing(holed, ids) is not None
    assert plan_packing(holed, ids, contiguous=True) is None  # relative distances would shift
    holed[2] = 0
    assert plan_packing(holed, ids) is None  # a row of padding only
    assert plan_packing(np.ones((1, 40)), np.ones((1, 40)), max_row_len=32) is None
    assert plan_packing(np.ones((4, 20)), np.ones((4, 20))) is None  # no padding: 4 x 32 slots > 4 x 20 padded


# ----------------------------------------------------------------------------------------------- helpers
def _inputs(head: str, config, seed: int = 0) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """A padded batch (rows of different lengths) and its mask; (B, C, S) for multiple choice."""
    batch = padded_batch(config, batch=6, seq_len=16, seed=seed)  # 61 real tokens: 2 rows of 32 slots, not 96
    if head == "AlbertForMultipleChoice":
        batch = {k: v.reshape(3, 2, 16) for k, v in batch.items()}
    return batch, batch["attention_mask"].astype(bool)


def _compare(fast, plain, mask: np.ndarray, to_numpy) -> int:
    """Every output field: per-token ones at real positions (zeros at padding), the others everywhere."""
    compared = 0
    for name, value in plain.items():
        values = value if isinstance(value, tuple) else (value,)
        others = fast[name] if isinstance(value, tuple) else (fast[name],)
        for a, b in zip(others, values, strict=True):
            a, b = to_numpy(a), to_numpy(b)
            assert a.shape == b.shape, name
            # Multiple choice: per-token outputs are (B, C, S, ...), hidden states (B * C, S, ...).
            real = next((m for m in (mask, mask.reshape(-1, mask.shape[-1])) if a.shape[: m.ndim] == m.shape), None)
            if real is not None:
                np.testing.assert_allclose(a[real], b[real], atol=ATOL, err_msg=name)
                np.testing.assert_array_equal(a[~real], 0.0, err_msg=f"{name} at padding")
            else:
                np.testing.assert_allclose(a, b, atol=ATOL, err_msg=name)
            compared += 1
    return compared


# ----------------------------------------------------------------------------------------------- TensorFlow
@pytest.fixture(scope="module")
def tf_models():
    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("needs TensorFlow")
    import albertlite
    from albertlite.fast import packed_tf

    cache: dict = {}

    def build(head: str, name: str):
        if (head, name) not in cache:
            model = getattr(albertlite, f"TF{head}")(tiny_config(name, num_labels=_num_labels(head)))
            # jit_compile is off by default (no faster on CPU); one model covers it, as XLA compiles for seconds.
            jit, packed_tf.PACKED_JIT_COMPILE = packed_tf.PACKED_JIT_COMPILE, (head, name) == XLA_CASE
            try:
                packed_tf.packed_encoder(model.albert, True)  # made (and cached) now, under the flag above
                packed_tf.packed_encoder(model.albert, False)
            finally:
                packed_tf.PACKED_JIT_COMPILE = jit
            cache[head, name] = model
        return cache[head, name]

    return build


# every head on groups/inner, plus the shared config and both relative position types
PACKED_CASES = [(head, "groups_inner") for head in HEADS] + [
    ("AlbertModel", "shared"),
    ("AlbertModel", "relative_key"),
    ("AlbertForQuestionAnswering", "relative_key_query"),
]
XLA_CASE = ("AlbertModel", "shared")


@pytest.mark.tf
@needs_tf
@pytest.mark.parametrize(("head", "name"), PACKED_CASES)
def test_tf_packed_equals_plain(tf_models, head, name):
    model = tf_models(head, name)
    batch, mask = _inputs(head, model.config)
    with fast_path(False):
        plain = model(**batch, output_hidden_states=True)
    fast = model(**batch, output_hidden_states=True)
    assert _compare(fast, plain, mask, np.asarray) >= 2


@pytest.mark.tf
@needs_tf
def test_tf_falls_back_when_packing_does_not_apply(tf_models):
    model = tf_models("AlbertModel", "relative_key")
    batch, mask = _inputs("AlbertModel", model.config)
    batch["attention_mask"][0, 3] = 0  # a hole: relative distances between packed slots would shift
    with fast_path(False):
        plain = model(**batch).last_hidden_state.numpy()
    out = model(**batch).last_hidden_state.numpy()
    np.testing.assert_allclose(out, plain, atol=1e-6)  # padded positions too: the plain path ran
    assert np.abs(out[~batch["attention_mask"].astype(bool)]).min() > 0

    classifier = tf_models("AlbertForTokenClassification", "groups_inner")
    batch, mask = _inputs("AlbertForTokenClassification", classifier.config)
    labels = np.where(mask, 1, 2)  # labels at padded positions count in the loss: the plain path's values
    with fast_path(False):
        plain_loss = float(classifier(**batch, labels=labels).loss)
    np.testing.assert_allclose(float(classifier(**batch, labels=labels).loss), plain_loss, rtol=1e-6)


# ----------------------------------------------------------------------------------------------- Flax
@pytest.fixture(scope="module")
def flax_models():
    if importlib.util.find_spec("flax") is None:
        pytest.skip("needs Flax")
    import albertlite

    cache: dict = {}

    def build(head: str, name: str):
        if (head, name) not in cache:
            cache[head, name] = getattr(albertlite, f"Flax{head}")(tiny_config(name, num_labels=_num_labels(head)))
        return cache[head, name]

    return build


@pytest.mark.flax
@needs_flax
@pytest.mark.parametrize(("head", "name"), PACKED_CASES)
def test_flax_packed_equals_plain(flax_models, head, name):
    model = flax_models(head, name)
    batch, mask = _inputs(head, model.config)
    with fast_path(False):
        plain = model(**batch, output_hidden_states=True)
    fast = model(**batch, output_hidden_states=True)
    assert _compare(fast, plain, mask, np.asarray) >= 2


@pytest.mark.flax
@needs_flax
def test_flax_falls_back_when_packing_does_not_apply(flax_models):
    model = flax_models("AlbertModel", "groups_inner")
    batch, mask = _inputs("AlbertModel", model.config)
    batch["attention_mask"][1, 0] = 0  # the pooler reads position 0, which is now padding
    with fast_path(False):
        plain = model(**batch)
    out = model(**batch)
    np.testing.assert_allclose(np.asarray(out.pooler_output), np.asarray(plain.pooler_output), atol=1e-6)
    np.testing.assert_allclose(np.asarray(out.last_hidden_state), np.asarray(plain.last_hidden_state), atol=1e-6)

    classifier = flax_models("AlbertForTokenClassification", "groups_inner")
    batch, mask = _inputs("AlbertForTokenClassification", classifier.config)
    labels = np.where(mask, 1, 2)
    with fast_path(False):
        plain_loss = float(classifier(**batch, labels=labels).loss)
    np.testing.assert_allclose(float(classifier(**batch, labels=labels).loss), plain_loss, rtol=1e-6)
