"""Pipelines: long-context QA with exact character offsets, entity spans, and batched == one by one."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import albertlite
from albertlite import (
    AlbertForMaskedLM,
    AlbertForQuestionAnswering,
    AlbertForSequenceClassification,
    AlbertForTokenClassification,
    AlbertModel,
    AlbertTokenizerFast,
)
from albertlite.train import finetune as ft

from .helpers.finetune import COLORS, FILLER, ner_examples, qa_examples, same_results

TEXTS = ["alice sees paris", "the big red house near the river with bob and carol", "rome", "a tree over oslo"]


@pytest.fixture(scope="module")
def tokenizer(base_model):
    return AlbertTokenizerFast.from_pretrained(base_model)


def _check_batched_equals_single(pipe, inputs, **params):
    batched = pipe(list(inputs), batch_size=3, **params)
    single = [pipe(item, **params) for item in inputs]
    same_results(batched, single)
    return batched


def test_fill_mask_batched_equals_single(base_model, tokenizer):
    pipe = albertlite.pipeline("fill-mask", model=base_model)
    texts = ["alice sees [MASK]", "the [MASK] house near the river", "[MASK] and [MASK] walk over the tree"]
    results = _check_batched_equals_single(pipe, texts, top_k=3)
    assert len(results[0]) == 3 and len(results[2]) == 2  # one list per mask for several masks
    model = AlbertForMaskedLM.from_pretrained(base_model)
    encoded = tokenizer(texts[0], return_tensors="pt")
    with torch.no_grad():
        logits = model(**encoded).logits[0, encoded["input_ids"][0].tolist().index(tokenizer.mask_token_id)]
    probabilities = logits.softmax(-1)
    assert [r["token"] for r in results[0]] == probabilities.topk(3).indices.tolist()
    assert results[0][0]["score"] == pytest.approx(float(probabilities.max()), abs=1e-6)
    assert results[0][0]["sequence"] == tokenizer.decode(
        [t if t != tokenizer.mask_token_id else results[0][0]["token"] for t in encoded["input_ids"][0].tolist()],
        skip_special_tokens=True,
    )


def test_text_classification_batched_equals_single(base_model, tokenizer):
    model = AlbertForSequenceClassification.from_pretrained(base_model, id2label={0: "neg", 1: "mid", 2: "pos"})
    pipe = albertlite.pipeline("text-classification", model=model, tokenizer=tokenizer)
    results = _check_batched_equals_single(pipe, TEXTS, top_k=None)
    assert [r["label"] for r in results[0]] != [] and sum(r["score"] for r in results[0]) == pytest.approx(1.0)
    pairs = [{"text": "alice", "text_pair": "sees paris"}, {"text": "bob", "text_pair": "a tree near the river"}]
    top = _check_batched_equals_single(pipe, pairs)
    encoded = tokenizer("alice", "sees paris", return_tensors="pt")
    with torch.no_grad():
        expected = model(**encoded).logits.softmax(-1)[0]
    assert top[0]["label"] == model.config.id2label[int(expected.argmax())]
    assert top[0]["score"] == pytest.approx(float(expected.max()), abs=1e-6)


@pytest.mark.parametrize("strategy", ["none", "simple", "first", "average", "max"])
def test_token_classification_batched_equals_single(base_model, tokenizer, strategy):
    labels = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
    model = AlbertForTokenClassification.from_pretrained(base_model, id2label=labels)
    torch.manual_seed(1)
    with torch.no_grad():
        model.classifier.weight.normal_(0, 2.0)  # a random head that does predict entities
    pipe = albertlite.pipeline("token-classification", model=model, tokenizer=tokenizer, max_length=8)
    long_text = " ".join(FILLER * 2)  # longer than one 8-token window
    results = _check_batched_equals_single(pipe, [*TEXTS, long_text], aggregation_strategy=strategy)
    for text, entities in zip([*TEXTS, long_text], results):
        for entity in entities:
            assert text[entity["start"] : entity["end"]] == entity["word"]
            assert entity["word"] == entity["word"].strip() and entity["word"]


def test_feature_extraction_matches_the_model(base_model, tokenizer):
    pipe = albertlite.pipeline("feature-extraction", model=base_model)
    features = _check_batched_equals_single(pipe, TEXTS)
    model = AlbertModel.from_pretrained(base_model)
    encoded = tokenizer(TEXTS[1], return_tensors="pt")
    with torch.no_grad():
        hidden = model(**encoded).last_hidden_state.numpy()
    np.testing.assert_allclose(np.array(features[1]), hidden, atol=1e-5)  # (1, tokens, H) as Hugging Face
    mean = _check_batched_equals_single(pipe, TEXTS, pooling="mean")
    cls = pipe(TEXTS, pooling="cls", return_tensors=True)
    np.testing.assert_allclose(mean[1], hidden[0].mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(cls[1], hidden[0, 0], atol=1e-5)
    with pytest.raises(ValueError, match="pooling"):
        pipe("a", pooling="max")


def test_question_answering_batched_equals_single(base_model, tokenizer):
    model = AlbertForQuestionAnswering.from_pretrained(base_model)
    pipe = albertlite.pipeline("question-answering", model=model, tokenizer=tokenizer, max_length=24)
    inputs = [{"question": e["question"], "context": e["context"]} for e in qa_examples(4, 9, context_words=30)]
    results = _check_batched_equals_single(pipe, inputs, doc_stride=4)
    for item, result in zip(inputs, results):
        assert item["context"][result["start"] : result["end"]] == result["answer"]
    assert pipe(question=inputs[0]["question"], context=inputs[0]["context"], doc_stride=4) == results[0]


def test_unknown_task_and_missing_mask(base_model):
    with pytest.raises(ValueError, match="Unknown task 'summarization'"):
        albertlite.pipeline("summarization", model=base_model)
    with pytest.raises(ValueError, match=r"No \[MASK\]"):
        albertlite.pipeline("fill-mask", model=base_model)("no mask here")


@pytest.mark.slow
def test_question_answering_over_three_windows_finds_the_exact_span(base_model, tmp_path):
    # train on contexts longer than a window, so the model also learns "no colour in this window"
    settings = ft.FinetuneSettings(learning_rate=1e-3, batch_size=16, epochs=4, max_length=32, doc_stride=8,
                                   progress=False, seed=0)  # fmt: skip
    result = ft.finetune("qa", base_model, qa_examples(200, 0, context_words=30), qa_examples(32, 1, 30),
                         tmp_path / "qa", settings)  # fmt: skip
    assert result.best_metric >= 80.0, result.history
    pipe = albertlite.pipeline("question-answering", model=tmp_path / "qa", max_length=32)
    tokenizer = AlbertTokenizerFast.from_pretrained(tmp_path / "qa")
    rng = np.random.default_rng(5)
    for position in (5, 50, 88):  # first, middle and last window of a 3x-max-length context
        words = [str(w) for w in rng.choice(FILLER, size=96)]
        words[position] = COLORS[position % len(COLORS)]
        context = " ".join(words)
        assert len(tokenizer(context)["input_ids"]) >= 3 * 32
        answer = pipe(question="what color is it", context=context, doc_stride=8)
        start = len(" ".join(words[:position])) + 1
        assert answer["answer"] == words[position]
        assert (answer["start"], answer["end"]) == (start, start + len(words[position]))


@pytest.mark.slow
def test_token_classification_entities_with_character_spans(base_model, tmp_path):
    settings = ft.FinetuneSettings(learning_rate=1e-3, batch_size=16, epochs=6, max_length=48, progress=False)
    ft.finetune("ner", base_model, ner_examples(160, 0), ner_examples(32, 1), tmp_path / "ner", settings)
    pipe = albertlite.pipeline("ner", model=tmp_path / "ner")
    text = "alice walks near  paris rome with bob"
    entities = pipe(text)
    assert [(e["entity_group"], e["word"], e["start"], e["end"]) for e in entities] == [
        ("PER", "alice", 0, 5), ("LOC", "paris rome", 18, 28), ("PER", "bob", 34, 37),
    ]  # fmt: skip
    pieces = pipe(text, aggregation_strategy="none")
    assert [(e["entity"][2:], e["word"], e["start"], e["end"]) for e in pieces] == [
        ("PER", "alice", 0, 5), ("LOC", "paris", 18, 23), ("LOC", "rome", 24, 28), ("PER", "bob", 34, 37),
    ]  # fmt: skip
