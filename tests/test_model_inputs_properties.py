"""Any input_ids, attention_mask and token_type_ids give an output or a ValueError/TypeError, in every framework.

Hypothesis draws shapes (rank 1-3, sizes 0-6), dtypes (int32, int64, bool, float32, float64) and values (ids in and
out of the vocabulary, negative ones, masks of 0/1 and of other values); the models must never fail with an
IndexError, a RuntimeError, a TensorFlow or JAX internal error, or any other crash. When they answer, the hidden
states have the ids' shape plus the hidden size.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import albertlite
from albertlite import AlbertConfig
from albertlite.fast import fast_path

VOCAB, HIDDEN = 50, 16
CONFIG = dict(vocab_size=VOCAB, embedding_size=8, hidden_size=HIDDEN, num_attention_heads=2, intermediate_size=20,
              num_hidden_layers=2, max_position_embeddings=8)  # fmt: skip
DTYPES = (np.int32, np.int64, np.bool_, np.float32, np.float64)
ACCEPTED = (ValueError, TypeError)  # what a bad input may raise; anything else is a crash


def _settings(max_examples: int):
    # Derandomized: the same examples on every run; no deadline, as TF and Flax calls vary with the machine's load.
    return settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip


def _elements(dtype: type, high: int, wild: bool) -> st.SearchStrategy:
    if dtype is np.bool_:
        return st.booleans()
    # values in [0, high), or (wild) also out of range, negative and (floats) fractional
    values = st.integers(-3, high + 3) if wild else st.integers(0, high - 1)
    if np.issubdtype(dtype, np.floating):
        return values.map(float) | st.sampled_from([0.5, -1.0]) if wild else values.map(float)
    return values


@st.composite
def array(draw, high: int, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """An array with values mostly in [0, high), of ``shape`` or of a drawn one (rank 1-3, sizes 0-6).

    Half the arrays are (batch, sequence) int arrays of valid values (empty batches and sequences included), so
    that many examples get past the shape, dtype and range checks to the model itself; the other half draw any
    shape, dtype and value.
    """
    plain = draw(st.booleans())
    if shape is None:
        shape = draw(st.tuples(st.integers(0, 6), st.integers(0, 6)) if plain else
                     hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=6))  # fmt: skip
    dtype = draw(st.sampled_from((np.int64, np.int32) if plain else DTYPES))
    return draw(hnp.arrays(dtype, shape, elements=_elements(dtype, high, wild=not plain)))


@st.composite
def model_inputs(draw) -> dict[str, np.ndarray]:
    """input_ids, and maybe an attention mask and token types: of the ids' shape (often) or of their own."""
    ids = draw(array(VOCAB))
    inputs = {"input_ids": ids}
    for name in ("attention_mask", "token_type_ids"):
        kind = draw(st.sampled_from(["none", "same", "same", "own"]))
        if kind != "none":
            inputs[name] = draw(array(2, ids.shape if kind == "same" else None))
    return inputs


def _answers_or_refuses(call, inputs: dict[str, np.ndarray]) -> None:
    try:
        hidden = call(inputs)
    except ACCEPTED:
        return
    assert tuple(hidden.shape) == (*inputs["input_ids"].shape, HIDDEN)


@pytest.fixture(scope="module")
def torch_model():
    return albertlite.AlbertModel(AlbertConfig(**CONFIG)).eval()


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "plain"])
def test_torch_answers_or_refuses(fast, torch_model):
    def run(inputs):
        with torch.no_grad(), fast_path(fast):
            return torch_model(**{k: torch.from_numpy(v) for k, v in inputs.items()}).last_hidden_state

    @_settings(60)
    @given(model_inputs())
    def check(inputs):
        _answers_or_refuses(run, inputs)

    check()


@pytest.mark.tf
def test_tensorflow_answers_or_refuses():
    tf = pytest.importorskip("tensorflow")
    model = albertlite.TFAlbertModel(AlbertConfig(**CONFIG))

    @_settings(30)
    @given(model_inputs(), st.booleans())
    def check(inputs, fast):
        with fast_path(fast):
            _answers_or_refuses(lambda x: model(**{k: tf.constant(v) for k, v in x.items()}).last_hidden_state, inputs)

    check()


@pytest.mark.flax
def test_flax_answers_or_refuses():
    pytest.importorskip("flax")
    model = albertlite.FlaxAlbertModel(AlbertConfig(**CONFIG))

    @_settings(25)
    @given(model_inputs(), st.booleans())
    def check(inputs, fast):
        with fast_path(fast):
            _answers_or_refuses(lambda x: model(**x).last_hidden_state, inputs)

    check()
