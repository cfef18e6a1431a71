"""Metrics against their references: scikit-learn, scipy, seqeval (default mode) and the official SQuAD rules."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats
from seqeval import metrics as seqeval
from seqeval.metrics import sequence_labeling
from sklearn import metrics as skm

from albertlite import scoring

RNG = np.random.default_rng(7)
BINARY_TRUE = RNG.integers(0, 2, size=50)
BINARY_PRED = np.where(RNG.random(50) < 0.7, BINARY_TRUE, 1 - BINARY_TRUE)
MULTI_TRUE = RNG.integers(0, 4, size=60)
MULTI_PRED = np.where(RNG.random(60) < 0.5, MULTI_TRUE, RNG.integers(0, 4, size=60))


def test_classification_matches_scikit_learn():
    assert scoring.accuracy(BINARY_TRUE, BINARY_PRED) == pytest.approx(skm.accuracy_score(BINARY_TRUE, BINARY_PRED))
    assert scoring.f1(BINARY_TRUE, BINARY_PRED) == pytest.approx(skm.f1_score(BINARY_TRUE, BINARY_PRED))
    for average in ("macro", "micro"):
        expected = skm.f1_score(MULTI_TRUE, MULTI_PRED, average=average)
        assert scoring.f1(MULTI_TRUE, MULTI_PRED, average=average) == pytest.approx(expected)
    for y_true, y_pred in ((BINARY_TRUE, BINARY_PRED), (MULTI_TRUE, MULTI_PRED)):
        expected = skm.matthews_corrcoef(y_true, y_pred)
        assert scoring.matthews_corrcoef(y_true, y_pred) == pytest.approx(expected, abs=1e-12)


def test_degenerate_cases_match_scikit_learn():
    # a constant prediction: MCC undefined (0); F1 of a class never predicted nor present is 0
    assert scoring.matthews_corrcoef([0, 1, 1], [1, 1, 1]) == skm.matthews_corrcoef([0, 1, 1], [1, 1, 1]) == 0.0
    assert scoring.f1([0, 0, 0], [0, 0, 0]) == skm.f1_score([0, 0, 0], [0, 0, 0], zero_division=0) == 0.0
    labels, predictions = ["a", "b", "c", "a"], ["a", "c", "c", "b"]
    assert scoring.f1(labels, predictions, average="macro") == pytest.approx(
        skm.f1_score(labels, predictions, average="macro")
    )


def test_correlations_match_scipy():
    x = RNG.normal(size=40)
    y = 0.6 * x + RNG.normal(size=40)
    tied_x, tied_y = np.round(x), np.round(y * 2) / 2  # many ties exercise average ranks
    assert scoring.pearson(x, y) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-12)
    assert scoring.spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert scoring.spearman(tied_x, tied_y) == pytest.approx(stats.spearmanr(tied_x, tied_y).statistic, abs=1e-12)
    assert math.isnan(scoring.pearson([1, 1, 1], [1, 2, 3]))


TAG_CASES = {
    "iob2": (
        [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG", "I-ORG", "I-ORG", "O", "B-PER"]],
        [["B-PER", "I-PER", "O", "B-ORG"], ["O", "B-ORG", "I-ORG", "O", "O", "B-PER"]],
    ),
    "iob1": (
        [["I-PER", "I-PER", "O", "I-LOC", "B-LOC", "O"], ["I-ORG", "I-ORG", "I-MISC"]],
        [["I-PER", "I-PER", "O", "I-LOC", "I-LOC", "O"], ["I-ORG", "B-ORG", "I-MISC"]],
    ),
    "bioes": (
        [["S-PER", "O", "B-LOC", "I-LOC", "E-LOC"], ["B-ORG", "E-ORG", "S-ORG", "O"]],
        [["S-PER", "O", "B-LOC", "E-LOC", "O"], ["B-ORG", "E-ORG", "B-ORG", "O"]],
    ),
    "ill_formed": (
        [["I-PER", "E-PER", "E-PER", "O", "I-LOC", "B-PER"], ["E-X", "S-X", "I-X", "B-Y", "I-X"]],
        [["B-PER", "I-LOC", "E-PER", "O", "O", "S-PER"], ["E-X", "I-X", "I-X", "B-Y", "B-X"]],
    ),
}

# seqeval 1.2.2 (default mode) on TAG_CASES: (precision, recall, f1); regenerate with the `seqeval` check below
SEQEVAL_EXPECTED = {
    "iob2": (0.5, 0.5, 0.5),
    "iob1": (0.4, 0.4, 0.4),
    "bioes": (0.75, 0.75, 0.75),
    "ill_formed": (0.625, 5 / 9, 0.5882352941176471),
}


@pytest.mark.parametrize("case", sorted(TAG_CASES))
def test_entity_scores_match_recorded_seqeval(case):
    y_true, y_pred = TAG_CASES[case]
    scores = scoring.entity_scores(y_true, y_pred)
    assert (scores["precision"], scores["recall"], scores["f1"]) == pytest.approx(SEQEVAL_EXPECTED[case])


@pytest.mark.parametrize("case", sorted(TAG_CASES))
def test_entity_scores_match_seqeval_package(case):
    y_true, y_pred = TAG_CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seqeval warns about tags it does not expect and zero divisions
        expected = (
            seqeval.precision_score(y_true, y_pred),
            seqeval.recall_score(y_true, y_pred),
            seqeval.f1_score(y_true, y_pred),
        )
        expected_entities = sequence_labeling.get_entities(y_true)
        report = seqeval.classification_report(y_true, y_pred, output_dict=True)
        expected_accuracy = seqeval.accuracy_score(y_true, y_pred)
    scores = scoring.entity_scores(y_true, y_pred)
    assert (scores["precision"], scores["recall"], scores["f1"]) == pytest.approx(expected)
    assert scoring.get_entities(y_true) == expected_entities
    assert scores["accuracy"] == pytest.approx(expected_accuracy)
    for type_, values in scores["per_type"].items():
        assert values["f1"] == pytest.approx(report[type_]["f1-score"])
        assert values["support"] == report[type_]["support"]


def test_squad_v1_official_formulas():
    assert scoring.normalize_answer("The  Quick, brown fox!") == "quick brown fox"
    assert scoring.normalize_answer("an apple a day") == "apple day"
    predictions = {"q1": "the Eiffel tower", "q2": "in 1889", "q3": "Paris France"}
    references = {"q1": ["Eiffel Tower"], "q2": ["1889", "the year 1889"], "q3": ["Lyon"], "q4": ["x"]}
    scores = scoring.squad_v1(predictions, references)
    # q1 exact; q2 F1 max(2*.5*1/1.5, 2*(1/2)*(1/2)/1) = 2/3; q3 0; q4 missing counts 0
    assert scores["exact_match"] == pytest.approx(100 * 1 / 4)
    assert scores["f1"] == pytest.approx(100 * (1 + 2 / 3) / 4)


def test_squad_v1_refuses_unanswerable_questions():
    with pytest.raises(ValueError, match="squad_v2"):
        scoring.squad_v1({"q1": "x", "q2": ""}, {"q1": ["x"], "q2": []})


def test_squad_v2_no_answer_handling():
    references = {"a": ["blue sky"], "b": [], "c": ["red"], "d": [""]}
    predictions = {"a": "the blue sky", "b": "", "c": "red", "d": "something"}
    scores = scoring.squad_v2(predictions, references)
    assert scores["exact_match"] == pytest.approx(75.0)
    assert scores["HasAns_exact"] == pytest.approx(100.0) and scores["HasAns_total"] == 2
    assert scores["NoAns_exact"] == pytest.approx(50.0) and scores["NoAns_total"] == 2
    # a confident no-answer turns "d" into "" (correct) and "c" into "" (wrong)
    thresholded = scoring.squad_v2(predictions, references, {"a": 0.1, "b": 0.9, "c": 0.8, "d": 0.9}, 0.5)
    assert thresholded["exact_match"] == pytest.approx(75.0)
    assert thresholded["NoAns_exact"] == pytest.approx(100.0)
    assert thresholded["HasAns_f1"] == pytest.approx(50.0)
