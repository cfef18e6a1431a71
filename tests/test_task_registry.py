"""The task registry: every task through pipeline(), predict and a short finetune; the task a directory records;
one default maximum length; one tokenizer rule; and no task dispatch outside the registry."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import albertlite
from albertlite import tasks
from albertlite.cli import main
from albertlite.tasks import registry
from albertlite.train import finetune as ft

from .helpers.finetune import (
    FILLER,
    choice_examples,
    make_model_dir,
    mlm_examples,
    ner_examples,
    qa_examples,
    same_results,
    sentiment_examples,
    write_jsonl,
)

SOURCE = Path(albertlite.__file__).parent
POSITIONS = 64  # shorter than fine-tuning's default max_length of 128
LONG = " ".join(FILLER * 10)  # 140 words: longer than the model accepts


def _long_sentiment(count: int, seed: int) -> list[dict]:
    rows = sentiment_examples(count, seed)
    rows[0] = {**rows[0], "text": f"{rows[0]['text']} {LONG}"}
    return rows


def _long_ner(count: int, seed: int) -> list[dict]:
    rows = ner_examples(count, seed)
    rows[0] = {"tokens": rows[0]["tokens"] + LONG.split(), "tags": rows[0]["tags"] + ["O"] * len(LONG.split())}
    return rows


def _long_mlm(count: int, seed: int) -> list[dict]:
    return [*mlm_examples(count, seed), {"text": LONG}]


# task -> (training rows, one input for the pipeline, rows of a prediction file); every training set has an input
# longer than the model's 64 positions
CASES = {
    "text-classification": (_long_sentiment, "alice sees a good house", lambda: sentiment_examples(4, 2)),
    "token-classification": (_long_ner, {"tokens": ["alice", "sees", "paris"]}, lambda: ner_examples(4, 2)),
    "question-answering": (
        lambda n, s: qa_examples(n, s, context_words=100),
        {"question": "what color is it", "context": "the big red house"},
        lambda: qa_examples(4, 2, context_words=100),
    ),
    "multiple-choice": (
        choice_examples,
        {"question": "which one", "choices": ["the tree", "a red"]},
        lambda: choice_examples(4, 2),
    ),
    "masked-lm": (_long_mlm, "alice sees [MASK]", lambda: [{"text": "[MASK] sees paris"}, {"text": f"[MASK] {LONG}"}]),
}


@pytest.fixture(scope="module")
def short_model(base_model, tmp_path_factory):
    """A tiny masked-LM with 64 positions, and the base model's tokenizer."""
    return make_model_dir(tmp_path_factory.mktemp("short"), base_model, max_position_embeddings=POSITIONS)


def test_every_task_has_one_entry_and_every_name_finds_it():
    assert tuple(task.name for task in registry.REGISTRY) == registry.TASKS
    names = [name for task in registry.REGISTRY for name in (task.name, *task.aliases)]
    assert len(names) == len(set(names))  # an alias means one task
    for task in registry.REGISTRY:
        assert registry.get_task(task.name.upper().replace("-", "_")) is task
        assert task.head_class().__name__ == task.head
        assert task.pipeline_class().task_name == task.name
        assert task.trainable == (task.featurize is not None and task.score is not None)
    assert (
        registry.get_task("fill-mask").name == "masked-lm" and registry.get_task("squad").name == "question-answering"
    )
    with pytest.raises(ValueError, match="Unknown task 'summarization'; choose one of text-classification"):
        registry.get_task("summarization")
    with pytest.raises(ValueError, match="feature-extraction has nothing to fine-tune"):
        registry.trainable_task("embeddings")


@pytest.mark.parametrize("task", registry.TRAINABLE_TASKS)
def test_each_task_through_finetune_pipeline_and_predict(task, short_model, tmp_path, capsys):
    make, one_input, prediction_rows = CASES[task]
    output = tmp_path / "out"
    settings = ft.FinetuneSettings(max_steps=2, batch_size=8, learning_rate=1e-3, progress=False, seed=0,
                                   tensorboard=False, plot=False)  # fmt: skip
    assert settings.max_length == 128  # the default, longer than the model's 64 positions
    result = ft.finetune(task, short_model, make(16, 0), make(8, 1), output, settings)
    assert result.epochs_run >= 1
    saved = json.loads((output / ft.RESULTS_FILE).read_text())["settings"]
    assert saved["max_length"] == POSITIONS  # capped, and the inputs were truncated to fit
    assert json.loads((output / "task.json").read_text())["task"] == task

    pipe = albertlite.pipeline(model=output)  # no task: the directory records it
    assert pipe.task.name == task and pipe.max_length == POSITIONS
    alone = pipe(one_input)
    same_results(pipe([one_input, one_input], batch_size=2), [alone, alone])

    rows = albertlite.predict(output, prediction_rows())
    assert len(rows) == len(prediction_rows())
    expected = alone if isinstance(alone, dict) else {pipe.task.result_key: alone}
    assert set(rows[0]) - {"id"} == set(expected)

    data = write_jsonl(tmp_path / "in.jsonl", prediction_rows())
    assert main(["predict", "--model", str(output), "--input", str(data), "--output", str(tmp_path / "p.jsonl")]) == 0
    written = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    same_results(written, json.loads(json.dumps(rows)))  # the CLI is predict()
    other = next(t for t in registry.TRAINABLE_TASKS if t != task)
    with pytest.raises(ValueError, match=f"is a {task} model .*task.json.*not a {other} one"):
        albertlite.pipeline(other, model=output)
    assert main(["predict", "--task", other, "--model", str(output), "--input", str(data), "--output", "-"]) == 2
    assert f"not a {other} one" in capsys.readouterr().err
    assert albertlite.pipeline("feature-extraction", model=output)("alice sees paris", pooling="mean")  # any model


def test_feature_extraction_through_predict_and_the_cli(base_model, tmp_path, capsys):
    data = write_jsonl(tmp_path / "texts.jsonl", [{"text": "alice sees paris"}, {"text": "the big house"}])
    rows = albertlite.predict(base_model, data, task="feature-extraction")
    embed = albertlite.pipeline("feature-extraction", model=base_model)
    for row, text in zip(rows, ["alice sees paris", "the big house"]):
        np.testing.assert_allclose(row["embedding"], embed(text, pooling="mean"), atol=1e-6)
    assert main(["predict", "--task", "feature-extraction", "--model", str(base_model), "--input", str(data),
                 "--output", "-", "--pooling", "cls"]) == 0  # fmt: skip
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    np.testing.assert_allclose(lines[0]["embedding"], embed("alice sees paris", pooling="cls"), atol=1e-6)
    with pytest.raises(ValueError, match="nothing to fine-tune"):
        ft.finetune("feature-extraction", base_model, data, None, tmp_path / "o")


def test_fill_mask_through_predict(base_model, tmp_path):
    data = write_jsonl(tmp_path / "masked.jsonl", [{"text": "alice sees [MASK]"}, {"text": "[MASK] and [MASK]"}])
    rows = albertlite.predict(base_model, data, top_k=3)  # the base model is a masked-LM checkpoint
    fill = albertlite.pipeline("fill-mask", model=base_model)
    expected = [{"predictions": fill(text, top_k=3)} for text in ("alice sees [MASK]", "[MASK] and [MASK]")]
    same_results(rows, expected)


def test_multiple_choice_pipeline_batched_equals_single(base_model):
    pipe = albertlite.pipeline("multiple-choice", model=albertlite.AlbertForMultipleChoice.from_pretrained(base_model),
                               tokenizer=base_model)  # fmt: skip
    inputs = [{"question": "which one", "choices": ["the tree", "a red", "big house"]},
              {"context": "alice sees the river", "question": "who _", "choices": ["walks", "sees"]}]  # fmt: skip
    batched = pipe(inputs, batch_size=2)
    for result, item in zip(batched, inputs):
        single = pipe(item)
        assert result["label"] == single["label"] and result["choice"] == item["choices"][result["label"]]
        np.testing.assert_allclose(result["scores"], single["scores"], atol=1e-5)
        assert sum(result["scores"]) == pytest.approx(1.0) and result["score"] == max(result["scores"])
    with pytest.raises(ValueError, match="input 0: 'choices' must be a list of at least two options"):
        pipe({"question": "which", "choices": ["only one"]})


def test_the_task_comes_from_the_model_and_a_conflict_is_refused(base_model, tmp_path):
    model = albertlite.AlbertForTokenClassification.from_pretrained(base_model, num_labels=3)
    model.save_pretrained(tmp_path / "tagger")  # no task.json: config.json's head says token-classification
    pipe = albertlite.pipeline(model=tmp_path / "tagger", tokenizer=base_model)
    assert pipe.task.name == "token-classification"
    with pytest.raises(ValueError, match=r"tagger is a token-classification model \(.*config.json names "
                       r"AlbertForTokenClassification\), not a text-classification one"):  # fmt: skip
        albertlite.pipeline("text-classification", model=tmp_path / "tagger", tokenizer=base_model)
    assert albertlite.pipeline(model=model, tokenizer=base_model).task.name == "token-classification"
    with pytest.raises(ValueError, match="the AlbertForTokenClassification is a token-classification model"):
        albertlite.pipeline("question-answering", model=model, tokenizer=base_model)
    base = albertlite.AlbertModel.from_pretrained(base_model)
    base.save_pretrained(tmp_path / "encoder")
    with pytest.raises(ValueError, match=r"records no task .*name one of text-classification"):
        albertlite.pipeline(model=tmp_path / "encoder", tokenizer=base_model)


def test_one_default_maximum_length(base_model, short_model):
    pipe = albertlite.pipeline("feature-extraction", model=short_model)
    assert pipe.max_length == POSITIONS  # the model's position table
    tokenizer = albertlite.load_tokenizer(short_model)
    tokenizer.model_max_length = 20
    assert albertlite.pipeline("feature-extraction", model=short_model, tokenizer=tokenizer).max_length == 20
    with pytest.raises(ValueError, match="max_length=65 is outside what the model accepts \\(1 to 64 tokens\\)"):
        albertlite.pipeline("feature-extraction", model=short_model, max_length=65)
    long = " ".join(FILLER * 10)
    (vector,) = pipe([long], return_tensors=True)
    assert vector.shape[1] == POSITIONS  # truncated to the model's maximum, not an index error


def test_one_tokenizer_rule(base_model, monkeypatch):
    from albertlite import tokenization_auto

    assert type(albertlite.load_tokenizer(base_model)).__name__ == "AlbertTokenizerFast"
    assert albertlite.pipeline("fill-mask", model=base_model).tokenizer.is_fast
    monkeypatch.setattr(tokenization_auto, "fast_tokenizer_available", lambda: False)
    assert type(albertlite.load_tokenizer(base_model)).__name__ == "AlbertTokenizer"
    # every loader goes through this one function
    for module in ("inference/pipelines.py", "train/finetune.py", "train/pretrain.py", "data/shard_builder.py"):
        text = (SOURCE / module).read_text()
        assert "from albertlite.tokenization_auto import load_tokenizer" in text, module
        assert "AlbertTokenizer.from_pretrained" not in text and "AlbertTokenizerFast.from_pretrained" not in text


def _python_files() -> list[Path]:
    return [p for p in SOURCE.rglob("*.py") if p != SOURCE / "tasks" / "registry.py"]


def test_no_task_dispatch_outside_the_registry():
    # canonical names and the hyphenated aliases (short ones such as "choice" or "regression" are ordinary dict keys)
    names = "|".join(re.escape(n) for task in registry.REGISTRY for n in (task.name, *task.aliases) if "-" in n)
    dispatch = re.compile(rf"""(==|!=|\bin\b)\s*\(?\s*["']({names})["']|["']({names})["']\s*(==|!=|:\s*[A-Za-z_])""")
    found = [f"{p.relative_to(SOURCE)}:{n}: {line.strip()}" for p in _python_files()
             for n, line in enumerate(p.read_text().splitlines(), 1)
             if dispatch.search(line)]  # fmt: skip
    assert not found, "task dispatch outside tasks/registry.py:\n" + "\n".join(found)


def test_finetune_keeps_only_what_is_its_own():
    text = (SOURCE / "train" / "finetune.py").read_text()
    for own_toolkit in ("named_parameters", "lr_scheduler", "LambdaLR", "SummaryWriter", "save_file", "torch.save",
                        "write_training_state", "def predict", "def load_tokenizer", "def word_tags"):  # fmt: skip
        assert own_toolkit not in text, own_toolkit
    assert "from albertlite.train import checkpointing" in text and "MetricsLogger(" in text
    assert "parameter_groups" not in text or "build_optimizer" in text


def test_the_task_modules_are_framework_free():
    for path in (SOURCE / "tasks").glob("*.py"):
        imports = re.findall(r"^(?:from|import) (\w+)", path.read_text(), flags=re.M)  # tf.data loads on use
        assert not {"torch", "tensorflow", "jax", "flax"} & set(imports), path.name
    assert not re.search(r"^from albertlite\.train", (SOURCE / "inference" / "pipelines.py").read_text(), re.M)


def test_tasks_read_the_same_examples_as_before(tmp_path):
    swag = [{"sent1": "a", "sent2": "b", "ending0": "x", "ending1": "y", "ending2": "z", "label": 2}]
    assert tasks.load_examples(swag, "mc") == [
        {"context": "a", "question": "b", "label": 2, "choices": ["x", "y", "z"]}
    ]
    with pytest.raises(ValueError, match=r"missing column 'choices' for multiple-choice \(accepted names: choices, "
                       r"options, endings, ending0, 1, \.\.\.;"):  # fmt: skip
        tasks.load_examples([{"question": "q", "label": 0}], "multiple-choice")
    with pytest.raises(ValueError, match="missing column 'context' for question-answering"):
        tasks.load_examples([{"question": "q"}], "qa", require_labels=False)
