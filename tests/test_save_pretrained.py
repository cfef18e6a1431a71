"""One save_pretrained for the three frameworks: the same signature, the same call, the same files, and the
caller's config untouched; each framework's file loads in the other two."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest

import albertlite

from .helpers.models import tiny_config

PREFIXES = {"torch": "", "tf": "TF", "flax": "Flax"}
SHARED = ["self", "save_directory", "max_shard_size", "safe_serialization"]


def _model(framework: str, config):
    cls = getattr(albertlite, f"{PREFIXES[framework]}AlbertForMaskedLM")
    return cls(config, seed=0) if framework == "flax" else cls(config)


def _weights(model) -> dict[str, np.ndarray]:
    state = model.state_dict()
    return {k: np.asarray(v.detach().numpy() if hasattr(v, "detach") else v) for k, v in state.items()}


@pytest.mark.parametrize("framework", list(PREFIXES))
def test_one_signature_one_call_one_layout(framework, tmp_path):
    pytest.importorskip({"torch": "torch", "tf": "tensorflow", "flax": "flax"}[framework])
    model = _model(framework, tiny_config("groups_inner"))
    signature = inspect.signature(type(model).save_pretrained)
    assert list(signature.parameters)[: len(SHARED)] == SHARED
    assert signature.parameters["max_shard_size"].kind is inspect.Parameter.KEYWORD_ONLY
    assert signature.parameters["safe_serialization"].default is True
    before = model.config.to_dict()

    saved = model.save_pretrained(tmp_path / framework, max_shard_size="20KB", safe_serialization=True)
    assert saved == tmp_path / framework
    assert model.config.to_dict() == before  # the saved config names the class; the model's own is untouched
    assert json.loads((saved / "config.json").read_text())["architectures"] == ["AlbertForMaskedLM"]
    index = json.loads((saved / "model.safetensors.index.json").read_text())
    assert len(set(index["weight_map"].values())) > 1

    expected = _weights(model)
    for other in PREFIXES:  # the same files load in every framework with the same weights
        loaded = getattr(albertlite, f"{PREFIXES[other]}AlbertForMaskedLM").from_pretrained(saved)
        got = _weights(loaded)
        shared = set(got) & set(expected)
        assert len(shared) >= len(expected) - 2, sorted(set(expected) ^ set(got))  # tied decoder keys aside
        for key in shared:
            np.testing.assert_array_equal(got[key], expected[key], err_msg=f"{framework} -> {other}: {key}")
