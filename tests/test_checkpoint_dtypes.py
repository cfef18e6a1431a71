"""Checkpoint tensors keep their dtype kind in every framework: floats take the model's float dtype, integer and
bool tensors stay integer and bool, and a tensor of the other kind than the model's entry is refused by name.

The files are real safetensors files as the Hub holds them: float16 weights, the int64 ``embeddings.position_ids``
buffer transformers used to save, and int64 and bool buffers of a model that has them.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file, save_file

import albertlite
from albertlite import AlbertConfig
from albertlite.checkpoints.state_dict import CheckpointError, loaded_dtype

CONFIG = dict(vocab_size=50, embedding_size=8, hidden_size=16, num_attention_heads=2, intermediate_size=20,
              num_hidden_layers=2, max_position_embeddings=16)  # fmt: skip
IDS = np.array([[2, 5, 7, 3], [2, 9, 3, 0]])
COUNTS = np.array([3, 1, 4, 1], np.int64)
SPECIAL = np.array([True, False, False, True])
FRAMEWORKS = ["torch", pytest.param("tf", marks=pytest.mark.tf), pytest.param("flax", marks=pytest.mark.flax)]


class AlbertModelWithBuffers(albertlite.AlbertModel):
    """An AlbertModel with an int64 and a bool buffer saved in its state dict."""

    def __init__(self, config: AlbertConfig) -> None:
        super().__init__(config)
        self.register_buffer("token_counts", torch.zeros(4, dtype=torch.int64))
        self.register_buffer("special_tokens", torch.zeros(4, dtype=torch.bool))


def _write(directory, changes: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A model directory whose model.safetensors holds float16 weights and ``changes``; returns the tensors."""
    torch.manual_seed(0)
    albertlite.AlbertModel(AlbertConfig(**CONFIG)).save_pretrained(directory)
    tensors = {key: value.astype(np.float16) for key, value in load_file(directory / "model.safetensors").items()}
    tensors.update(changes)
    save_file(tensors, directory / "model.safetensors", metadata={"format": "pt"})
    return tensors


def _load(framework: str, directory):
    pytest.importorskip({"torch": "torch", "tf": "tensorflow", "flax": "flax"}[framework])
    prefix = {"torch": "", "tf": "TF", "flax": "Flax"}[framework]
    return getattr(albertlite, f"{prefix}AlbertModel").from_pretrained(directory)


def _hidden(framework: str, model) -> np.ndarray:
    if framework == "torch":
        with torch.no_grad():
            return model(input_ids=torch.from_numpy(IDS)).last_hidden_state.numpy()
    return np.asarray(model(input_ids=IDS).last_hidden_state)


def test_torch_integer_and_bool_buffers_keep_their_dtype_and_values(tmp_path):
    position_ids = np.arange(16, dtype=np.int64)[None]
    stored = _write(tmp_path, {"embeddings.position_ids": position_ids, "token_counts": COUNTS,
                               "special_tokens": SPECIAL})  # fmt: skip
    model = AlbertModelWithBuffers.from_pretrained(tmp_path)
    assert model.token_counts.dtype == torch.int64 and model.token_counts.tolist() == COUNTS.tolist()
    assert model.special_tokens.dtype == torch.bool and model.special_tokens.tolist() == SPECIAL.tolist()
    assert model.embeddings.position_ids.dtype == torch.int64
    assert torch.equal(model.embeddings.position_ids, torch.from_numpy(position_ids))
    weight = model.embeddings.word_embeddings.weight
    assert weight.dtype == torch.float32
    np.testing.assert_array_equal(weight.detach().numpy(), stored["embeddings.word_embeddings.weight"])


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_float16_weights_load_as_the_model_float_dtype_beside_int_and_bool_tensors(framework, tmp_path):
    stored = _write(tmp_path, {"embeddings.position_ids": np.arange(16, dtype=np.int64)[None],
                               "token_counts": COUNTS, "special_tokens": SPECIAL})  # fmt: skip
    reference = _hidden("torch", albertlite.AlbertModel.from_pretrained(tmp_path))
    model = _load(framework, tmp_path)
    state = model.state_dict()
    assert {np.asarray(value).dtype.name for value in state.values()} == {"float32"}
    np.testing.assert_array_equal(np.asarray(state["pooler.weight"]), stored["pooler.weight"].astype(np.float32))
    np.testing.assert_allclose(_hidden(framework, model), reference, atol=1e-5)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("dtype", [np.bool_, np.int64], ids=["bool", "int64"])
def test_a_bool_or_integer_tensor_for_a_float_weight_is_refused_naming_it(framework, dtype, tmp_path):
    _write(tmp_path, {"pooler.bias": np.ones(16, dtype)})
    with pytest.raises(
        CheckpointError,
        match=rf"'pooler.bias' has dtype {np.dtype(dtype).name}, but the model's "
        r"'pooler.bias' is float32",
    ):
        _load(framework, tmp_path)


# (stored, model dtype, the dtype loaded or the error's kinds)
RULES = [
    ("float16", "float32", "float32"),
    ("bfloat16", "float32", "float32"),
    ("float32", "bfloat16", "bfloat16"),
    ("int32", "int64", "int32"),
    ("int64", "int64", "int64"),
    ("bool", "bool", "bool"),
    ("bool", "float32", "bool values cannot be loaded as floating ones"),
    ("int64", "float32", "integer values cannot be loaded as floating ones"),
    ("float32", "int64", "floating values cannot be loaded as integer ones"),
]


@pytest.mark.parametrize(("stored", "model", "expected"), RULES, ids=[f"{s}-into-{m}" for s, m, _ in RULES])
def test_loaded_dtype_rule(stored, model, expected):
    if " " not in expected:
        assert loaded_dtype("key", stored, model) == expected
    else:
        with pytest.raises(CheckpointError, match=expected):
            loaded_dtype("key", stored, model)
