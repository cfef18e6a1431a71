"""Hugging Face ``datasets`` objects as fine-tuning data: the same examples and features as the JSONL spelling.

Every dataset is built here with ``Dataset.from_dict``/``from_list``; nothing downloads.
"""

from __future__ import annotations

import json

import pytest

from albertlite import tasks
from albertlite.train import finetune as ft

from .helpers.finetune import (
    choice_examples,
    ner_examples,
    qa_examples,
    sentiment_examples,
    write_jsonl,
)

datasets = pytest.importorskip("datasets")
Features, Value, ClassLabel, Sequence = datasets.Features, datasets.Value, datasets.ClassLabel, datasets.Sequence

# CoNLL-2003's ClassLabel order, which is not label_names()' sorted order; B-ORG and the MISC tags never occur
CONLL = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"]
SENTIMENT = ["pos", "neg"]  # reversed from the sorted order, for the same reason
CHOICES = ["first", "second", "third"]  # names that are neither indices nor letters: a choice label stays its id


# --------------------------------------------------------------------------- rows -> Dataset, per layout


def sentiment_class_label(rows: list[dict]):
    features = Features({"sentence": Value("string"), "label": ClassLabel(names=SENTIMENT)})
    data = {"sentence": [r["text"] for r in rows], "label": [SENTIMENT.index(r["label"]) for r in rows]}
    return datasets.Dataset.from_dict(data, features=features)


def sentiment_strings(rows: list[dict]):
    return datasets.Dataset.from_dict({"sentence": [r["text"] for r in rows], "label": [r["label"] for r in rows]})


def conll(rows: list[dict]):
    features = Features({"tokens": Sequence(Value("string")), "ner_tags": Sequence(ClassLabel(names=CONLL))})
    data = {"tokens": [r["tokens"] for r in rows], "ner_tags": [[CONLL.index(t) for t in r["tags"]] for r in rows]}
    return datasets.Dataset.from_dict(data, features=features)


def squad(rows: list[dict]):
    answers = {"text": Sequence(Value("string")), "answer_start": Sequence(Value("int32"))}
    features = Features({k: Value("string") for k in ("id", "question", "context")} | {"answers": answers})
    return datasets.Dataset.from_dict({k: [r[k] for r in rows] for k in features}, features=features)


def choices_class_label(rows: list[dict]):
    features = Features(
        {"context": Value("string"), "question": Value("string"), "choices": Sequence(Value("string")),
         "label": ClassLabel(names=CHOICES)}
    )  # fmt: skip
    return datasets.Dataset.from_dict({k: [r[k] for r in rows] for k in features}, features=features)


def _jsonl_rows(rows: list[dict], task: str) -> list[dict]:
    """The file spelling of the same rows (the column names the Dataset uses)."""
    if task == "text-classification":
        return [{"sentence": r["text"], "label": r["label"]} for r in rows]
    if task == "token-classification":
        return [{"tokens": r["tokens"], "ner_tags": r["tags"]} for r in rows]
    return rows


CASES = {
    "class-label": ("text-classification", sentiment_examples, sentiment_class_label, SENTIMENT),
    "string-labels": ("text-classification", sentiment_examples, sentiment_strings, None),
    "conll": ("token-classification", ner_examples, conll, CONLL),
    "squad": ("question-answering", lambda n, seed: qa_examples(n, seed, unanswerable=0.3), squad, None),
    "choice": ("multiple-choice", choice_examples, choices_class_label, None),
}


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize("case", sorted(CASES))
def test_dataset_reads_like_its_jsonl_file(case, tmp_path):
    task, make, to_dataset, names = CASES[case]
    rows = make(12, 0)
    path = write_jsonl(tmp_path / "x.jsonl", _jsonl_rows(rows, task))
    from_dataset = tasks.load_examples(to_dataset(rows), task)
    assert from_dataset == tasks.load_examples(path, task)
    assert tasks.dataset_label_names(to_dataset(rows), task) == names
    if task == "question-answering":
        assert any(e["answers"]["text"] == [] for e in from_dataset)  # unanswerable rows survive the Arrow round trip


def test_class_label_ids_become_names_and_minus_one_no_label():
    data = datasets.Dataset.from_dict(
        {"text": ["a b", "c", "d"], "label": [1, 0, -1]},
        features=Features({"text": Value("string"), "label": ClassLabel(names=SENTIMENT)}),
    )
    examples = tasks.load_examples(data, "text-classification", require_labels=False)  # a test split
    assert [e["label"] for e in examples] == ["neg", "pos", None]
    with pytest.raises(ValueError, match=r"the dataset, example 2: no label \('label' is empty\)"):
        tasks.load_examples(data, "text-classification")  # training: a row without a label is refused
    # a sequence of ClassLabel under an accepted tags spelling other than ner_tags
    tagged = datasets.Dataset.from_dict(
        {"words": [["alice", "paris"]], "labels": [[1, 5]]},
        features=Features({"words": Sequence(Value("string")), "labels": Sequence(ClassLabel(names=CONLL))}),
    )
    assert tasks.load_examples(tagged, "ner") == [{"tokens": ["alice", "paris"], "tags": ["B-PER", "B-LOC"]}]
    assert tasks.dataset_label_names(tagged, "ner") == CONLL
    assert tasks.dataset_label_names(tagged, "multiple-choice") is None


def test_dataset_dict_asks_for_one_split():
    data = datasets.Dataset.from_dict({"text": ["a"], "label": [0]})
    splits = datasets.DatasetDict(train=data, validation=data)
    with pytest.raises(TypeError, match=r"splits \(train, validation\): pass one, e.g. data\['train'\]"):
        tasks.load_examples(splits, "text-classification")
    assert tasks.load_examples(splits["validation"], "text-classification") == [{"text": "a", "label": 0}]


# --------------------------------------------------------------------------- fine-tuning


def _named(features: list[dict], label_list: list[str] | None) -> list[dict]:
    """Features with label ids spelt as names, so runs whose label orders differ compare."""
    if label_list is None:
        return features

    def name(i: int) -> str | int:
        return label_list[i] if i != tasks.IGNORE_INDEX else i

    return [
        {**f, "labels": [name(i) for i in f["labels"]] if isinstance(f["labels"], list) else name(f["labels"])}
        for f in features
    ]


@pytest.mark.parametrize("case", sorted(CASES))
def test_finetune_on_a_dataset_dict_builds_the_jsonl_features(case, base_model, tmp_path, monkeypatch):
    task, make, to_dataset, names = CASES[case]
    train, validation = make(16, 0), make(8, 1)
    built: list[list[dict]] = []

    def recording(*args, **kwargs):
        built.append(prepare(*args, **kwargs))
        return built[-1]

    prepare = tasks.registry.prepare_features
    monkeypatch.setattr(tasks.registry, "prepare_features", recording)  # what fine-tuning calls
    # SQuAD v1 scoring has no rule for the unanswerable questions of the squad case
    settings = ft.FinetuneSettings(
        max_steps=1, batch_size=8, max_length=48, progress=False, seed=0, version_2=task == "question-answering"
    )
    splits = datasets.DatasetDict(train=to_dataset(train), validation=to_dataset(validation))
    ft.finetune(task, base_model, splits["train"], splits["validation"], tmp_path / "hf", settings)
    files = [write_jsonl(tmp_path / f"{n}.jsonl", _jsonl_rows(r, task)) for n, r in (("tr", train), ("va", validation))]
    ft.finetune(task, base_model, *files, tmp_path / "jsonl", settings)

    hf_labels, jsonl_labels = (json.loads((tmp_path / d / "task.json").read_text())["labels"] for d in ("hf", "jsonl"))
    assert len(built) == 4  # train and validation features of each run
    for from_dataset, from_file in zip(built[:2], built[2:]):
        assert _named(from_dataset, hf_labels) == _named(from_file, jsonl_labels)
    # ClassLabel names are the model's labels in the dataset's order, unseen ones included; else the sorted names
    assert hf_labels == (names or jsonl_labels)
    if names is not None:
        config = tasks.get_task(task).head_class().from_pretrained(tmp_path / "hf").config
        assert config.id2label == dict(enumerate(names))
