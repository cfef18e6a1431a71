"""`pretrain --recipe small-cpu`: a named set of measured settings under --config and the flags given."""

from __future__ import annotations

import json

import pytest

from albertlite.cli import build_parser, main
from albertlite.commands.pretrain import build_config
from albertlite.config import AlbertConfig
from albertlite.train import PretrainConfig
from albertlite.train.metrics_log import read_metrics
from albertlite.train.pretrain_recipes import PRETRAIN_RECIPES, get_pretrain_recipe

from .helpers.pretrain import build_tiny_corpus

USES_FAST_PATH = True  # the CLI trains on the packed path by default

REQUIRED = ["--data", "d", "--tokenizer", "t", "--output", "o"]


def _config(*flags: str) -> PretrainConfig:
    return build_config(build_parser().parse_args(["pretrain", *REQUIRED, *flags]))


def test_the_recipe_sets_its_values_and_flags_override_them():
    recipe = get_pretrain_recipe("small-cpu")
    config = _config("--recipe", "small-cpu", "--lr", "3e-3")
    assert config.lr == 3e-3
    for key, value in recipe.settings.items():
        if key != "lr":
            assert getattr(config, key) == value, key
    assert config.batch_size != PretrainConfig.batch_size  # really differs from the defaults
    assert _config().batch_size == PretrainConfig.batch_size


def test_a_config_file_names_the_recipe_and_flags_still_win(tmp_path):
    options = tmp_path / "options.json"
    options.write_text(json.dumps({"recipe": "Small-CPU", "batch_size": 8, "seed": 3}))
    config = _config("--config", str(options), "--batch-size", "4")
    assert (config.batch_size, config.seed, config.optimizer) == (4, 3, "lamb")
    assert config.warmup_share == PRETRAIN_RECIPES["small-cpu"].settings["warmup_share"]
    direct = PretrainConfig.from_dict({"recipe": "small-cpu", "data": "d", "tokenizer": "t", "output": "o"})
    assert direct.batch_size == PRETRAIN_RECIPES["small-cpu"].settings["batch_size"]


def test_an_unknown_recipe_is_one_line_naming_the_recipes(tmp_path, capsys):
    assert main(["pretrain", *REQUIRED, "--recipe", "huge-gpu"]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "huge-gpu" in error and "small-cpu" in error
    with pytest.raises(ValueError, match="recipe must be"):
        PretrainConfig.from_dict({"recipe": 3, "data": "d", "tokenizer": "t", "output": "o"})


def test_data_of_the_recipe_then_a_recipe_run_trains_its_model(tmp_path):
    corpus = build_tiny_corpus(tmp_path)
    recipe = get_pretrain_recipe("small-cpu")
    data = tmp_path / "recipe_data"
    # the documented pretrain-data command for the recipe (its flags), on a small text
    assert main(["pretrain-data", "--input", str(tmp_path / "train.txt"), "--tokenizer",
                 str(corpus.tokenizer), "--output", str(data), "--dupe-factor", "1", "--no-progress",
                 *recipe.data_flags()]) == 0  # fmt: skip
    manifest = json.loads((data / "manifest.json").read_text())
    assert manifest["settings"]["max_seq_length"] == recipe.data["max_seq_length"]
    assert manifest["num_masked"] == 0  # written unmasked: masked anew each epoch
    output = tmp_path / "run"
    flags = ["--recipe", "small-cpu", "--data", str(data), "--tokenizer", str(corpus.tokenizer), "--output"]
    assert main(["pretrain", *flags, str(output), "--steps", "3", "--threads", "1", "--no-progress", "--no-plot",
                 "--no-tensorboard"]) == 0  # fmt: skip
    config = AlbertConfig.from_pretrained(str(output))
    model = json.loads(recipe.settings["model_config"])
    assert (config.hidden_size, config.num_hidden_layers) == (model["hidden_size"], model["num_hidden_layers"])
    steps = [r for r in read_metrics(output / "metrics.jsonl") if r["split"] == "train"]
    assert [r["step"] for r in steps] == [1, 2, 3]
