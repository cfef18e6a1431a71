"""Checkpoint interchange with transformers, legacy and sharded files, the Hub cache, and unsafe input."""

from __future__ import annotations

import json
import os
import pickle

import pytest
import torch
from safetensors import safe_open

import albertlite
from albertlite.checkpoints.hub import CheckpointNotFoundError
from albertlite.checkpoints.state_dict import CheckpointError

from .helpers.models import MODEL_CLASSES as HEADS
from .helpers.models import fake_hub_cache, tiny_config
from .helpers.torch_pairs import build_pair, model_inputs

transformers = pytest.importorskip("transformers")


def _outputs(model, inputs):
    with torch.no_grad():
        out = model(**inputs)
    return {k: v for k, v in out.items() if isinstance(v, torch.Tensor)}


@pytest.mark.parametrize("name", HEADS)
def test_ours_loads_in_transformers_and_back(name, tmp_path):
    config = tiny_config("groups_inner")
    ours, _ = build_pair(name, config)
    inputs = model_inputs(name, config, labels=True)
    ours.save_pretrained(tmp_path / "ours")
    with safe_open(str(tmp_path / "ours" / "model.safetensors"), "pt") as handle:
        keys = set(handle.keys())
    assert not any(k.startswith("predictions.decoder") for k in keys)  # written as transformers writes it
    theirs = getattr(transformers, name).from_pretrained(tmp_path / "ours").eval()
    expected = _outputs(ours, inputs)
    for key, value in _outputs(theirs, inputs).items():
        torch.testing.assert_close(value, expected[key], atol=1e-5, rtol=0)
    theirs.save_pretrained(tmp_path / "theirs")
    back = getattr(albertlite, name).from_pretrained(tmp_path / "theirs")
    assert not back.training
    for key, value in _outputs(back, inputs).items():
        torch.testing.assert_close(value, expected[key], atol=1e-5, rtol=0)


def test_pytorch_model_bin_with_decoder_keys_loads(tmp_path):
    config = tiny_config()
    ours, _ = build_pair("AlbertForMaskedLM", config)
    config.save_pretrained(tmp_path)
    state = ours.state_dict()
    assert "predictions.decoder.weight" in state  # as pytorch_model.bin files hold them
    state["albert.embeddings.position_ids"] = torch.arange(40)[None]  # old checkpoints carry this buffer
    torch.save(state, tmp_path / "pytorch_model.bin")
    loaded, info = albertlite.AlbertForMaskedLM.from_pretrained(tmp_path, output_loading_info=True)
    assert info == {"missing_keys": [], "unexpected_keys": []}
    inputs = model_inputs("AlbertForMaskedLM", config)
    torch.testing.assert_close(_outputs(loaded, inputs)["logits"], _outputs(ours, inputs)["logits"])


def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    tiny_config().save_pretrained(tmp_path)
    with open(tmp_path / "pytorch_model.bin", "wb") as handle:
        pickle.dump({"albert.embeddings.word_embeddings.weight": Exploit()}, handle)
    with pytest.raises(CheckpointError, match="weights_only"):
        albertlite.AlbertModel.from_pretrained(tmp_path)
    assert not marker.exists()


def test_sharded_safetensors_round_trip(tmp_path):
    config = tiny_config("groups_inner")
    ours, _ = build_pair("AlbertForPreTraining", config)
    ours.save_pretrained(tmp_path, max_shard_size="20KB")
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    shards = set(index["weight_map"].values())
    assert len(shards) > 1 and not (tmp_path / "model.safetensors").exists()
    loaded = albertlite.AlbertForPreTraining.from_pretrained(tmp_path)
    inputs = model_inputs("AlbertForPreTraining", config)
    torch.testing.assert_close(
        _outputs(loaded, inputs)["prediction_logits"], _outputs(ours, inputs)["prediction_logits"]
    )
    theirs = transformers.AlbertForPreTraining.from_pretrained(tmp_path).eval()
    torch.testing.assert_close(_outputs(theirs, inputs)["sop_logits"], _outputs(ours, inputs)["sop_logits"])


def test_base_checkpoint_into_head_and_head_into_base(tmp_path, caplog):
    config = tiny_config()
    base, _ = build_pair("AlbertModel", config)
    base.save_pretrained(tmp_path / "base")
    head, info = albertlite.AlbertForSequenceClassification.from_pretrained(
        tmp_path / "base", num_labels=3, output_loading_info=True
    )
    assert info["missing_keys"] == ["classifier.bias", "classifier.weight"] and info["unexpected_keys"] == []
    assert "newly initialised" in caplog.text
    torch.testing.assert_close(head.albert.pooler.weight, base.pooler.weight)
    assert head.config.num_labels == 3
    head.save_pretrained(tmp_path / "head")
    back, info = albertlite.AlbertModel.from_pretrained(tmp_path / "head", output_loading_info=True)
    assert info == {"missing_keys": [], "unexpected_keys": ["classifier.bias", "classifier.weight"]}
    inputs = model_inputs("AlbertModel", config)
    torch.testing.assert_close(_outputs(back, inputs)["last_hidden_state"], _outputs(base, inputs)["last_hidden_state"])


def test_shape_mismatch_names_key_and_shapes(tmp_path):
    albertlite.AlbertModel(tiny_config()).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["intermediate_size"] = 40
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"albert_layers\.0\.ffn\.weight: checkpoint \(37, 32\) vs model \(40, 32\)"):
        albertlite.AlbertModel.from_pretrained(tmp_path)


def test_relative_checkpoint_under_absolute_config_is_an_error(tmp_path):
    albertlite.AlbertModel(tiny_config("relative_key")).save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    config["position_embedding_type"] = "absolute"
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="position_embedding_type"):
        albertlite.AlbertModel.from_pretrained(tmp_path)


def test_corrupt_and_missing_weights(tmp_path):
    tiny_config().save_pretrained(tmp_path)
    with pytest.raises(CheckpointNotFoundError, match="No weights found"):
        albertlite.AlbertModel.from_pretrained(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        albertlite.AlbertModel.from_pretrained(tmp_path)
    with pytest.raises(CheckpointNotFoundError):
        albertlite.AlbertModel.from_pretrained(tmp_path / "does-not-exist")


@pytest.mark.parametrize("argument", ["dtype", "torch_dtype"])
def test_dtype_and_device_arguments(tmp_path, argument):
    model = albertlite.AlbertModel(tiny_config())
    model.to(torch.bfloat16).save_pretrained(tmp_path)
    assert albertlite.AlbertModel.from_pretrained(tmp_path).dtype == torch.float32
    assert albertlite.AlbertModel.from_pretrained(tmp_path, **{argument: "auto"}).dtype == torch.bfloat16
    loaded = albertlite.AlbertModel.from_pretrained(tmp_path, **{argument: torch.float16}, device="cpu")
    assert loaded.dtype == torch.float16 and loaded.device.type == "cpu"
    with pytest.raises(ValueError, match="Unknown dtype"):
        albertlite.AlbertModel.from_pretrained(tmp_path, **{argument: "float13"})


def test_hub_id_resolves_from_local_cache_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    config = tiny_config()
    model, _ = build_pair("AlbertForMaskedLM", config)
    model.save_pretrained(tmp_path / "src")
    cache = tmp_path / "cache"
    fake_hub_cache(cache, "albert-test/tiny", tmp_path / "src")
    loaded = albertlite.AlbertForMaskedLM.from_pretrained("albert-test/tiny", cache_dir=cache)
    inputs = model_inputs("AlbertForMaskedLM", config)
    torch.testing.assert_close(_outputs(loaded, inputs)["logits"], _outputs(model, inputs)["logits"])
    saved = albertlite.AlbertConfig.from_pretrained("albert-test/tiny", cache_dir=cache)
    assert saved.extra.pop("architectures") == ["AlbertForMaskedLM"] and saved == model.config  # saving copies it
    with pytest.raises(CheckpointNotFoundError, match="not in the local cache"):
        albertlite.AlbertModel.from_pretrained("albert-test/absent", cache_dir=cache)


def test_save_into_a_file_path_is_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="is a file"):
        albertlite.AlbertModel(tiny_config()).save_pretrained(tmp_path / "file")
