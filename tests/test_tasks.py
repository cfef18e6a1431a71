"""Task data: reading files, features for the five tasks, QA windows and decoding, batching, TF/Flax feeds."""

from __future__ import annotations

import json

import numpy as np
import pytest

from albertlite import tasks
from albertlite.data.masking import NgramMasker

from .helpers.finetune import FILLER, make_tokenizer_dir, qa_examples, write_jsonl


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from albertlite import AlbertTokenizerFast

    return AlbertTokenizerFast.from_pretrained(make_tokenizer_dir(tmp_path_factory.mktemp("tok")))


# --------------------------------------------------------------------------- reading


def test_reads_jsonl_csv_tsv_with_hugging_face_names(tmp_path):
    rows = [{"sentence1": "a b", "sentence2": "c", "label": 1}, {"sentence1": "d", "sentence2": "e f", "label": 0}]
    jsonl = write_jsonl(tmp_path / "x.jsonl", rows)
    csv_path = tmp_path / "x.csv"
    csv_path.write_text("sentence1,sentence2,label\na b,c,1\nd,e f,0\n")
    tsv_path = tmp_path / "x.tsv"
    tsv_path.write_text("sentence1\tsentence2\tlabel\na b\tc\t1\nd\te f\t0\n")
    expected = [{"text": "a b", "text_pair": "c", "label": 1}, {"text": "d", "text_pair": "e f", "label": 0}]
    assert tasks.load_examples(jsonl, "text-classification") == expected
    as_text = [{**e, "label": str(e["label"])} for e in expected]  # CSV cells are strings
    assert tasks.load_examples(csv_path, "text-classification") == as_text
    assert tasks.load_examples(tsv_path, "classification") == as_text


def test_csv_list_columns_are_json(tmp_path):
    path = tmp_path / "ner.csv"
    path.write_text('tokens,ner_tags\n"[""alice"", ""walks""]","[""B-PER"", ""O""]"\n')
    assert tasks.load_examples(path, "ner") == [{"tokens": ["alice", "walks"], "tags": ["B-PER", "O"]}]


def test_missing_column_names_file_and_column(tmp_path):
    path = write_jsonl(tmp_path / "bad.jsonl", [{"question": "q", "context": "c"}])
    with pytest.raises(ValueError, match=r"bad\.jsonl: missing column 'answers'"):
        tasks.load_examples(path, "question-answering")
    assert tasks.load_examples(path, "question-answering", require_labels=False)[0]["id"] == "0"
    with pytest.raises(FileNotFoundError, match=r"nope\.jsonl"):
        tasks.load_examples(tmp_path / "nope.jsonl", "qa")
    with pytest.raises(ValueError, match="Unknown task"):
        tasks.canonical_task("summarization")


def test_multiple_choice_spellings(tmp_path):
    race = {"article": "text", "question": "q _ end", "options": ["x", "y", "z", "w"], "answer": "C"}
    swag = {"sent1": "ctx", "sent2": "then", "ending0": "a", "ending1": "b", "label": 1}
    assert tasks.load_examples([race], "multiple-choice")[0] == {
        "context": "text", "question": "q _ end", "choices": ["x", "y", "z", "w"], "label": 2,
    }  # fmt: skip
    assert tasks.load_examples([swag], "mc")[0]["choices"] == ["a", "b"]
    with pytest.raises(ValueError, match="out of range"):
        tasks.load_examples([{**race, "answer": "F"}], "multiple-choice")


def test_answers_must_match_context():
    bad = {"id": "1", "question": "q", "context": "hello world", "answers": {"text": ["world"], "answer_start": [0]}}
    with pytest.raises(ValueError, match="not at character 0"):
        tasks.load_examples([bad], "question-answering")


def test_labels_and_regression_detection():
    examples = [{"label": "b"}, {"label": "a"}, {"label": "b"}]
    assert tasks.label_names(examples, "text-classification") == ["a", "b"]
    assert tasks.label_names([{"label": 10}, {"label": 2}], "text-classification") == ["2", "10"]
    assert tasks.label_names([{"label": 0.5}, {"label": 2}], "text-classification") is None
    tags = tasks.label_names([{"tags": ["B-PER", "O", "I-PER", "B-LOC"]}], "ner")
    assert tags == ["O", "B-LOC", "B-PER", "I-PER"]
    with pytest.raises(ValueError, match=r"dev\.jsonl, example 1: label 'c' was not seen"):
        tasks.check_labels([{"label": "a"}, {"label": "c"}], "text-classification", ["a", "b"], "dev.jsonl")


# --------------------------------------------------------------------------- features


def test_classification_pairs(tokenizer):
    examples = [{"text": "alice sees paris", "text_pair": "red house", "label": "x"}]
    (feature,) = tasks.prepare_features("text-classification", examples, tokenizer, {"x": 0, "y": 1})
    expected = tokenizer("alice sees paris", "red house")
    assert feature["input_ids"] == expected["input_ids"]
    assert feature["token_type_ids"] == expected["token_type_ids"] and feature["labels"] == 0
    with pytest.raises(ValueError, match="label 'x' was not seen"):
        tasks.prepare_features("text-classification", examples, tokenizer, {"y": 0})


def test_token_labels_on_first_piece(tokenizer):
    words = ["alice", "zanzibarqux", "paris"]  # the middle word splits into several pieces
    (feature,) = tasks.prepare_features(
        "token-classification", [{"tokens": words, "tags": ["B-PER", "O", "B-LOC"]}], tokenizer,
        {"O": 0, "B-LOC": 1, "B-PER": 2},
    )  # fmt: skip
    pieces = [len(tokenizer(w, add_special_tokens=False)["input_ids"]) for w in words]
    assert pieces[1] > 1
    expected = [-100, 2] + [0] + [-100] * (pieces[1] - 1) + [1] + [-100]
    assert feature["labels"] == expected
    assert feature["word_ids"] == [None, 0] + [1] * pieces[1] + [2, None]
    assert feature["input_ids"] == tokenizer(words, is_split_into_words=True)["input_ids"]


def test_question_answering_windows_cover_long_context(tokenizer):
    (example,) = qa_examples(1, seed=3, context_words=90)
    settings = tasks.FeatureSettings(max_length=40, doc_stride=8, max_query_length=16)
    features = tasks.prepare_features("question-answering", [example], tokenizer, settings=settings)
    assert len(features) >= 3 and all(len(f["input_ids"]) <= 40 for f in features)
    start_char = example["answers"]["answer_start"][0]
    end_char = start_char + len(example["answers"]["text"][0])
    holding = [f for f in features if f["start_positions"] != 0]
    assert holding, "some window holds the answer"
    for feature in holding:
        span = feature["offset_mapping"]
        first, last = span[feature["start_positions"]], span[feature["end_positions"]]
        text = example["context"][first[0] : last[1]].strip()
        assert text == example["answers"]["text"][0]
        assert first[1] > start_char and last[1] == end_char
    # consecutive windows share `doc_stride` context tokens
    context_tokens = [[o for o in f["offset_mapping"] if o is not None] for f in features]
    assert context_tokens[0][-8:] == context_tokens[1][:8]


def test_decode_answers_maps_to_exact_characters(tokenizer):
    (example,) = qa_examples(1, seed=4, context_words=90)
    settings = tasks.FeatureSettings(max_length=40, doc_stride=8)
    features = tasks.prepare_features("question-answering", [example], tokenizer, settings=settings)
    target = next(i for i, f in enumerate(features) if f["start_positions"] != 0)
    starts = [np.zeros(len(f["input_ids"])) for f in features]
    ends = [np.zeros(len(f["input_ids"])) for f in features]
    starts[target][features[target]["start_positions"]] = 8.0
    ends[target][features[target]["end_positions"]] = 8.0
    (answer,) = tasks.decode_answers([example], features, starts, ends)
    start = example["answers"]["answer_start"][0]
    assert (answer["answer"], answer["start"], answer["end"]) == (
        example["answers"]["text"][0], start, start + len(example["answers"]["text"][0]),
    )  # fmt: skip
    assert answer["feature_index"] == target and 0 < answer["score"] <= 1
    # a strong [CLS] score in every window (the null score is their minimum, as in Hugging Face's decoding)
    # means "no answer", with SQuAD v2 decoding only
    for start_row, end_row in zip(starts, ends):
        start_row[0] = end_row[0] = 20.0
    v2 = tasks.decode_answers([example], features, starts, ends, tasks.DecodeSettings(allow_no_answer=True))
    assert v2[0]["answer"] == "" and v2[0]["null_score_diff"] > 0
    v1 = tasks.decode_answers([example], features, starts, ends)
    assert v1[0]["answer"] == example["answers"]["text"][0]


def test_decode_respects_max_answer_length():
    context = "one two three four five"
    offsets = [None, (0, 3), (3, 7), (7, 13), (13, 18), (18, 23), None]
    features = [{"example_index": 0, "offset_mapping": offsets}]
    starts, ends = np.array([0, 5, 0, 0, 0, 0, 0.0]), np.array([0, 0, 0, 0, 0, 5, 0.0])
    long = tasks.decode_answers([{"context": context}], features, [starts], [ends])
    assert long[0]["answer"] == "one two three four five"
    short = tasks.decode_answers(
        [{"context": context}], features, [starts], [ends], tasks.DecodeSettings(max_answer_length=2)
    )
    assert len(short[0]["answer"].split()) <= 2


def test_multiple_choice_layout(tokenizer):
    example = {"context": "alice sees paris", "question": "what _ is it", "choices": ["red", "blue"], "label": 1}
    (feature,) = tasks.prepare_features("multiple-choice", [example], tokenizer)
    assert feature["labels"] == 1 and len(feature["input_ids"]) == 2
    assert feature["input_ids"][1] == tokenizer("alice sees paris", "what blue is it")["input_ids"]
    batch = tasks.collate([feature, feature])
    assert batch["input_ids"].shape[:2] == (2, 2) and batch["labels"].tolist() == [1, 1]


def test_mlm_blocks_and_whole_word_masking(tokenizer):
    examples = [{"text": " ".join(FILLER * 3)}] * 4
    features = tasks.prepare_features("masked-lm", examples, tokenizer, settings=tasks.FeatureSettings(max_length=32))
    assert all(len(f["input_ids"]) <= 32 for f in features) and len(features) > 3
    assert all(f["input_ids"][0] == tokenizer.cls_token_id for f in features)
    masker = NgramMasker.from_tokenizer(tokenizer, masked_lm_prob=0.3, max_predictions_per_seq=32)
    batch = tasks.mask_batch(tasks.collate(features), masker, np.random.default_rng(0))
    original = tasks.collate(features)["input_ids"]
    chosen = batch["labels"] != -100
    assert chosen.any() and np.array_equal(batch["labels"][chosen], original[chosen])
    assert np.array_equal(batch["input_ids"][~chosen], original[~chosen])
    assert not chosen[:, 0].any()  # [CLS] is never a target


# --------------------------------------------------------------------------- batching


def test_collate_pads_dynamically():
    features = [{"input_ids": [2, 5, 3], "token_type_ids": [0, 0, 0], "labels": [-100, 1, -100]},
                {"input_ids": [2, 3], "token_type_ids": [0, 0], "labels": [-100, -100]}]  # fmt: skip
    batch = tasks.collate(features, pad_token_id=0)
    assert batch["input_ids"].tolist() == [[2, 5, 3], [2, 3, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 1, 0]]
    assert batch["labels"].tolist() == [[-100, 1, -100], [-100, -100, -100]]
    assert tasks.collate(features, pad_to_multiple_of=8)["input_ids"].shape == (2, 8)


def test_length_grouped_batches_cover_everything_and_pad_less():
    rng = np.random.default_rng(0)
    features = [{"input_ids": [1] * int(n)} for n in rng.integers(2, 100, size=300)]
    plain = tasks.batch_indices(features, 10, shuffle=True, seed=1)
    grouped = tasks.batch_indices(features, 10, shuffle=True, group_by_length=True, seed=1)
    assert sorted(i for b in grouped for i in b) == list(range(300))

    def padding(batches):
        return sum(max(len(features[i]["input_ids"]) for i in b) * len(b) for b in batches)

    assert padding(grouped) < 0.7 * padding(plain)


@pytest.mark.tf
@pytest.mark.slow
def test_numpy_batches_feed_tensorflow_fit(tokenizer, tmp_path):
    tf = pytest.importorskip("tensorflow")
    albertlite = pytest.importorskip("albertlite")
    from .helpers.finetune import sentiment_examples, tiny_model_config

    examples = sentiment_examples(16, seed=0)
    features = tasks.prepare_features("text-classification", examples, tokenizer, {"neg": 0, "pos": 1})
    dataset = tasks.to_tf_dataset(features, batch_size=8, pad_token_id=tokenizer.pad_token_id, shuffle=True)
    inputs, labels = next(iter(dataset))
    assert set(inputs) == {"input_ids", "token_type_ids", "attention_mask"} and labels.shape == (8,)
    model = albertlite.TFAlbertForSequenceClassification(tiny_model_config(tokenizer.vocab_size, num_labels=2))
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3))
    history = model.fit(dataset, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.flax
@pytest.mark.slow
def test_numpy_batches_feed_a_flax_optax_loop(tokenizer):
    jax = pytest.importorskip("jax")
    optax = pytest.importorskip("optax")
    albertlite = pytest.importorskip("albertlite")
    from .helpers.finetune import sentiment_examples, tiny_model_config

    examples = sentiment_examples(16, seed=0)
    features = tasks.prepare_features("text-classification", examples, tokenizer, {"neg": 0, "pos": 1})
    model = albertlite.FlaxAlbertForSequenceClassification(tiny_model_config(tokenizer.vocab_size, num_labels=2))
    optimizer = optax.adam(1e-3)
    params = model.params
    state = optimizer.init(params)

    def loss_fn(params, batch):
        logits = model(batch["input_ids"], attention_mask=batch["attention_mask"],
                       token_type_ids=batch["token_type_ids"], params=params).logits  # fmt: skip
        return optax.softmax_cross_entropy_with_integer_labels(logits, batch["labels"]).mean()

    losses = []
    for epoch in range(3):
        for batch in tasks.numpy_batches(features, 8, tokenizer.pad_token_id, shuffle=True, seed=epoch):
            loss, grads = jax.value_and_grad(loss_fn)(params, batch)
            updates, state = optimizer.update(grads, state, params)
            params = optax.apply_updates(params, updates)
            losses.append(float(loss))
    assert np.mean(losses[-2:]) < np.mean(losses[:2])


def test_jsonl_round_trip_for_prediction_files(tmp_path):
    rows = [{"id": "a", "question": "q", "context": "c"}]
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert tasks.load_examples(path, "qa", require_labels=False) == [{"id": "a", "question": "q", "context": "c"}]
