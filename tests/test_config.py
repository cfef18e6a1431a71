import json

import pytest

from albertlite import PRESETS, AlbertConfig


def test_defaults_match_hugging_face():
    transformers = pytest.importorskip("transformers")
    ours = AlbertConfig().to_dict()
    theirs = transformers.AlbertConfig().to_dict()
    for key in ("vocab_size", "embedding_size", "hidden_size", "num_hidden_layers", "num_hidden_groups",
                "num_attention_heads", "intermediate_size", "inner_group_num", "hidden_act", "hidden_dropout_prob",
                "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size", "initializer_range",
                "layer_norm_eps", "classifier_dropout_prob", "pad_token_id", "bos_token_id", "eos_token_id",
                "problem_type"):  # fmt: skip
        assert ours[key] == theirs[key], key
    assert ours["id2label"] == {"0": "LABEL_0", "1": "LABEL_1"}


def test_round_trip_keeps_unknown_keys(tmp_path):
    config = AlbertConfig.from_preset("albert-base-v2", num_labels=3)
    config.save_pretrained(tmp_path)
    raw = json.loads((tmp_path / "config.json").read_text())
    assert raw["gap_size"] == 0 and raw["net_structure_type"] == 0 and raw["architectures"] == ["AlbertForMaskedLM"]
    assert raw["id2label"] == {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}
    loaded = AlbertConfig.from_pretrained(tmp_path)
    assert loaded == config and loaded.num_labels == 3 and loaded.id2label[2] == "LABEL_2"


def test_hugging_face_reads_ours_and_we_read_theirs(tmp_path):
    transformers = pytest.importorskip("transformers")
    ours = AlbertConfig(hidden_size=64, num_attention_heads=4, intermediate_size=128, id2label={0: "neg", 1: "pos"},
                        problem_type="single_label_classification", custom_field=[1, 2])  # fmt: skip
    ours.save_pretrained(tmp_path / "ours")
    theirs = transformers.AlbertConfig.from_pretrained(tmp_path / "ours")
    assert theirs.hidden_size == 64 and theirs.id2label == {0: "neg", 1: "pos"} and theirs.custom_field == [1, 2]
    assert theirs.problem_type == "single_label_classification"
    theirs.label2id = {"neg": 0, "pos": 1}
    theirs.save_pretrained(tmp_path / "theirs")
    back = AlbertConfig.from_pretrained(tmp_path / "theirs")
    assert back.hidden_size == 64 and back.id2label == {0: "neg", 1: "pos"} and back.label2id == {"neg": 0, "pos": 1}
    assert back.extra["custom_field"] == [1, 2]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets(name):
    config = AlbertConfig.from_pretrained(name)
    assert config == AlbertConfig.from_pretrained(f"albert/{name}")
    size = name.split("-")[1]
    assert (config.hidden_size, config.num_hidden_layers) == {
        "base": (768, 12), "large": (1024, 24), "xlarge": (2048, 24), "xxlarge": (4096, 12)
    }[size]  # fmt: skip
    if name.endswith("v2"):
        assert config.hidden_act == "gelu_new" and config.hidden_dropout_prob == 0
    else:
        assert config.hidden_act == "gelu"
        assert config.hidden_dropout_prob == (0 if size == "xxlarge" else 0.1)


def test_num_labels_setter_rebuilds_labels():
    config = AlbertConfig()
    config.num_labels = 4
    assert config.id2label == {i: f"LABEL_{i}" for i in range(4)} and config.label2id["LABEL_3"] == 3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(hidden_size=100, num_attention_heads=12), "not divisible by num_attention_heads"),
        (dict(hidden_size=0), "hidden_size must be a positive integer"),
        (dict(vocab_size=-5), "vocab_size must be a positive integer"),
        (dict(num_hidden_layers=2, num_hidden_groups=3), "num_hidden_groups \\(3\\) exceeds num_hidden_layers"),
        (dict(hidden_act="gelu_newer"), "Unknown hidden_act 'gelu_newer'"),
        (dict(position_embedding_type="rotary"), "Unknown position_embedding_type 'rotary'"),
        (dict(problem_type="ranking"), "Unknown problem_type"),
        (dict(hidden_dropout_prob=1.5), "hidden_dropout_prob must lie in"),
        (dict(num_labels=3, id2label={0: "a"}), "disagrees with id2label"),
    ],
)
def test_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AlbertConfig(**kwargs)


def test_malformed_config_files(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        AlbertConfig.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ValueError, match="not an ALBERT model"):
        AlbertConfig.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps([1, 2]))
    with pytest.raises(ValueError, match="JSON object"):
        AlbertConfig.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": "big"}))
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        AlbertConfig.from_pretrained(tmp_path)


def test_import_loads_no_framework():
    import subprocess
    import sys

    code = (
        "import sys, albertlite; albertlite.AlbertConfig(); "
        "print([m for m in ('torch', 'tensorflow', 'jax', 'flax', 'keras') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_missing_framework_names_the_extra():
    import subprocess
    import sys

    # Hide torch from the import system, then ask for a torch class.
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import albertlite\n"
        "try:\n    albertlite.AlbertModel\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'albertlite[torch]'" in out
