"""Bad model inputs as a matrix: one table of cases, run by every framework and path.

Each case is called on PyTorch (fast path on and off), TensorFlow and Flax (fast path on and off) and must give the
same outcome everywhere: an exception of the type and message in the table, or correctly shaped empty outputs. Before
these checks the cases failed deep inside (IndexError in the PyTorch fast path, RuntimeError in an embedding lookup,
InvalidArgumentError in TensorFlow), differed between frameworks, or ran on a mask of 0.5, 2 or -1 as if it were 1.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import albertlite
from albertlite import AlbertConfig
from albertlite.fast import fast_path

# (B, S, E, H) of the table's inputs and the tiny model they run on
B, S, E, H = 2, 4, 8, 16
CONFIG = dict(vocab_size=50, embedding_size=E, hidden_size=H, num_attention_heads=2, intermediate_size=20,
              num_hidden_layers=2, max_position_embeddings=16)  # fmt: skip
IDS = np.array([[2, 5, 7, 3], [2, 9, 3, 0]], np.int64)
MASK = np.array([[1, 1, 1, 1], [1, 1, 1, 0]], np.int64)
EMPTY = "empty output"


def _zeros(*shape: int, dtype: type = np.int64) -> np.ndarray:
    return np.zeros(shape, dtype)


# (category, case id, head, config overrides, inputs, expected: (EMPTY, output shapes) or (exception, fragment))
CASES = [
    ("empty", "empty-batch", "Model", {}, {"input_ids": _zeros(0, S)},
     (EMPTY, {"last_hidden_state": (0, S, H), "pooler_output": (0, H)})),
    ("empty", "empty-batch-masked-lm", "ForMaskedLM", {}, {"input_ids": _zeros(0, S), "token_type_ids": _zeros(0, S)},
     (EMPTY, {"logits": (0, S, 50)})),
    ("empty", "empty-batch-classifier", "ForSequenceClassification", {}, {"input_ids": _zeros(0, S)},
     (EMPTY, {"logits": (0, 2)})),
    ("empty", "empty-batch-span-head", "ForQuestionAnswering", {}, {"input_ids": _zeros(0, S)},
     (EMPTY, {"start_logits": (0, S), "end_logits": (0, S)})),
    ("empty", "empty-batch-choices", "ForMultipleChoice", {}, {"input_ids": _zeros(0, 3, S)},
     (EMPTY, {"logits": (0, 3)})),
    ("empty", "zero-length", "Model", {}, {"input_ids": _zeros(B, 0)},
     (ValueError, "input_ids has shape (2, 0): sequence_length is 0")),
    ("empty", "zero-length-with-mask", "ForMaskedLM", {}, {"input_ids": _zeros(B, 0), "attention_mask": _zeros(B, 0)},
     (ValueError, "input_ids has shape (2, 0): sequence_length is 0")),
    ("empty", "zero-length-empty-batch", "Model", {}, {"input_ids": _zeros(0, 0)},
     (ValueError, "input_ids has shape (0, 0): sequence_length is 0")),
    ("empty", "zero-length-embeds", "Model", {}, {"inputs_embeds": _zeros(B, 0, E, dtype=np.float32)},
     (ValueError, "inputs_embeds has shape (2, 0, 8): sequence_length is 0")),
    ("empty", "zero-choices", "ForMultipleChoice", {}, {"input_ids": _zeros(B, 0, S)},
     (ValueError, "shape (2, 0, 4): num_choices is 0")),
    ("wrong type", "bool-ids", "Model", {}, {"input_ids": IDS.astype(bool)},
     (ValueError, "got dtype bool (input_ids): pass input_ids as int32 or int64")),
    ("wrong type", "float-ids", "Model", {}, {"input_ids": IDS.astype(np.float32)},
     (ValueError, "got dtype float32 (input_ids): pass input_ids as int32 or int64")),
    ("wrong type", "bool-token-types", "Model", {}, {"input_ids": IDS, "token_type_ids": _zeros(B, S, dtype=bool)},
     (ValueError, "got dtype bool (token_type_ids)")),
    ("wrong type", "float-positions", "Model", {}, {"input_ids": IDS, "position_ids": _zeros(B, S, dtype=np.float32)},
     (ValueError, "got dtype float32 (position_ids)")),
    ("wrong type", "float64-embeds", "Model", {}, {"inputs_embeds": _zeros(B, S, E, dtype=np.float64)},
     (ValueError, "inputs_embeds has dtype float64, but the model computes in float32: cast inputs_embeds")),
    ("out of range", "mask-half", "Model", {}, {"input_ids": IDS, "attention_mask": MASK * 0.5},
     (ValueError, "attention_mask holds 0.5; it must hold only 0 (padding) and 1 (real token)")),
    ("out of range", "mask-two", "Model", {}, {"input_ids": IDS, "attention_mask": MASK * 2},
     (ValueError, "attention_mask holds 2; it must hold only 0")),
    ("out of range", "mask-negative", "ForSequenceClassification", {}, {"input_ids": IDS, "attention_mask": -MASK},
     (ValueError, "attention_mask holds -1; it must hold only 0")),
    ("out of range", "mask-nan", "Model", {}, {"input_ids": IDS, "attention_mask": np.where(MASK, np.nan, 0.0)},
     (ValueError, "attention_mask holds nan")),
    ("conflicting settings", "span-head-three-labels", "ForQuestionAnswering", {"num_labels": 3},
     {"input_ids": IDS}, (ValueError, "is a span head with 2 outputs per token (start and end logits), but "
                                      "config.num_labels=3; build it with num_labels=2")),
]  # fmt: skip

# Every framework and path; the Flax models take no inputs_embeds (as Hugging Face's), so those cases are PyTorch's
# and TensorFlow's.
RUNS = [
    pytest.param("torch", True, id="torch-fast"),
    pytest.param("torch", False, id="torch-plain"),
    pytest.param("tf", True, id="tf-fast", marks=pytest.mark.tf),
    pytest.param("tf", False, id="tf-plain", marks=pytest.mark.tf),
    pytest.param("flax", True, id="flax-fast", marks=pytest.mark.flax),
    pytest.param("flax", False, id="flax-plain", marks=pytest.mark.flax),
]
_PREFIX = {"torch": "", "tf": "TF", "flax": "Flax"}


def _class_name(framework: str, head: str) -> str:
    return f"{_PREFIX[framework]}Albert{head}"


@pytest.fixture(scope="module")
def build():
    """Models built once per (framework, head, config) for the whole module."""
    cache: dict = {}

    def get(framework: str, head: str, overrides: dict):
        key = (framework, head, tuple(sorted(overrides.items())))
        if key not in cache:
            pytest.importorskip({"torch": "torch", "tf": "tensorflow", "flax": "flax"}[framework])
            model = getattr(albertlite, _class_name(framework, head))(AlbertConfig(**CONFIG, **overrides))
            cache[key] = model.eval() if framework == "torch" else model
        return cache[key]

    return get


def call(framework: str, model, inputs: dict[str, np.ndarray]):
    """``model`` on ``inputs`` as each framework's users pass them: tensors for PyTorch and TensorFlow, numpy for
    Flax."""
    if framework == "torch":
        with torch.no_grad():
            return model(**{name: torch.from_numpy(value) for name, value in inputs.items()})
    if framework == "tf":
        import tensorflow as tf

        return model(**{name: tf.constant(value) for name, value in inputs.items()})
    return model(**inputs)


@pytest.mark.parametrize(("framework", "fast"), RUNS)
@pytest.mark.parametrize(
    ("category", "case", "head", "overrides", "inputs", "expected"), CASES, ids=[case[1] for case in CASES]
)
def test_model_inputs(framework, fast, category, case, head, overrides, inputs, expected, build):
    if framework == "flax" and "inputs_embeds" in inputs:
        # The Flax models take no inputs_embeds (as Hugging Face's): they need input_ids.
        expected = (TypeError, "missing 1 required positional argument: 'input_ids'")
    outcome, detail = expected
    with fast_path(fast):
        if outcome == EMPTY:
            output = call(framework, build(framework, head, overrides), inputs)
            shapes = {name: tuple(getattr(output, name).shape) for name in detail}
            assert shapes == detail
            return
        with pytest.raises(outcome) as raised:
            call(framework, build(framework, head, overrides), inputs)
    assert detail in str(raised.value)


# ----------------------------------------------------------------------------------------------- lists and numpy
@pytest.mark.parametrize("convert", [np.asarray, lambda ids: ids.tolist()], ids=["numpy", "list"])
def test_torch_refuses_numpy_and_lists_naming_torch_tensor(convert, build):
    model = build("torch", "ForMultipleChoice", {})  # the head that reads its input's shape before the encoder
    with pytest.raises(TypeError, match=r"takes input_ids as a torch.Tensor, got (ndarray|list): pass torch.tensor"):
        model(input_ids=convert(IDS[None]))
    with pytest.raises(TypeError, match=r"takes labels as a torch.Tensor, got list"):
        model(input_ids=torch.from_numpy(IDS[None]), labels=[0])


@pytest.mark.parametrize(("framework", "fast"), [run for run in RUNS if run.values[0] != "torch"])
def test_tf_and_flax_take_numpy_and_lists_as_their_tensors(framework, fast, build):
    model = build(framework, "Model", {})
    with fast_path(fast):
        expected = np.asarray(call(framework, model, {"input_ids": IDS, "attention_mask": MASK}).last_hidden_state)
        for given in (IDS, IDS.tolist()):
            got = model(input_ids=given, attention_mask=MASK.tolist()).last_hidden_state
            np.testing.assert_allclose(np.asarray(got), expected, atol=1e-6)


# ----------------------------------------------------------------------------------------------- accepted dtypes
# (head, label arguments): int32 labels and span positions are cast, giving the int64 loss.
LABELS = [
    ("ForSequenceClassification", {"labels": np.array([1, 0])}),
    ("ForTokenClassification", {"labels": np.array([[0, 1, 1, -100], [1, 0, 1, -100]])}),
    ("ForMaskedLM", {"labels": np.array([[-100, 7, -100, -100], [9, -100, -100, -100]])}),
    ("ForQuestionAnswering", {"start_positions": np.array([1, 2]), "end_positions": np.array([2, 3])}),
    ("ForPreTraining", {"labels": np.array([[-100, 7, -100, -100], [9, -100, -100, -100]]),
                        "sentence_order_label": np.array([0, 1])}),
]  # fmt: skip


@pytest.mark.parametrize(("framework", "fast"), RUNS[::2])  # labels always run the plain path
@pytest.mark.parametrize(("head", "labels"), LABELS, ids=[head for head, _ in LABELS])
def test_int32_labels_give_the_int64_loss(framework, fast, head, labels, build):
    model = build(framework, head, {})
    losses = {}
    for dtype in (np.int64, np.int32):
        inputs = {"input_ids": IDS, "attention_mask": MASK, **{k: v.astype(dtype) for k, v in labels.items()}}
        with fast_path(fast):
            losses[dtype] = float(np.asarray(call(framework, model, inputs).loss))
    assert np.isfinite(losses[np.int64]) and losses[np.int32] == pytest.approx(losses[np.int64], abs=1e-6)


@pytest.mark.parametrize(("framework", "fast"), RUNS[::2])
def test_narrow_integer_ids_and_bool_or_float_masks_give_the_int64_outputs(framework, fast, build):
    model = build(framework, "Model", {})
    with fast_path(fast):
        expected = np.asarray(call(framework, model, {"input_ids": IDS, "attention_mask": MASK}).last_hidden_state)
        for ids, mask in ((IDS.astype(np.int32), MASK.astype(bool)), (IDS.astype(np.uint8), MASK.astype(np.float32))):
            got = call(framework, model, {"input_ids": ids, "attention_mask": mask}).last_hidden_state
            np.testing.assert_allclose(np.asarray(got), expected, atol=1e-6)


def test_torch_casts_positional_int32_span_positions(build):
    model = build("torch", "ForQuestionAnswering", {})
    ids, mask = torch.from_numpy(IDS), torch.from_numpy(MASK)
    start, end = torch.tensor([1, 2]), torch.tensor([2, 3])
    with torch.no_grad():
        expected = model(ids, mask, start_positions=start, end_positions=end).loss
        got = model(ids, mask, None, None, None, None, start.int(), end.int()).loss  # positional, as the signature
    assert float(got) == pytest.approx(float(expected), abs=1e-6)


def test_torch_entry_checks_survive_graph_capture(build):
    # The forward pre-hook reads no values while a graph is captured, so fullgraph compilation does not break.
    model = build("torch", "ForSequenceClassification", {})
    inputs = {"input_ids": torch.from_numpy(IDS), "attention_mask": torch.from_numpy(MASK)}
    with torch.no_grad(), fast_path(False):
        expected = model(**inputs).logits
        compiled = torch.compile(model, fullgraph=True, backend="eager")
        torch.testing.assert_close(compiled(**inputs).logits, expected, atol=1e-5, rtol=1e-5)
