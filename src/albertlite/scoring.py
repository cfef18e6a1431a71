"""Task metrics: classification, regression, entity-level tagging (seqeval's default mode) and SQuAD.

Everything here is plain Python and numpy, so every framework's training loop can use it. Each function
equals a reference implementation on the same inputs:

- ``accuracy``, ``f1`` (binary / macro / micro), ``matthews_corrcoef``: scikit-learn;
- ``pearson``, ``spearman``: scipy.stats (ties get average ranks);
- ``entity_scores``: seqeval's default (conlleval-compatible) mode, IOB1/IOB2/IOE/BIOES tags read the way it
  reads them;
- ``squad_v1`` / ``squad_v2``: the official SQuAD v1.1 and v2.0 evaluation scripts (scores in percent).
"""

from __future__ import annotations

import collections
import re
import string
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

# --------------------------------------------------------------------------- classification and regression


def accuracy(labels: Sequence[Any], predictions: Sequence[Any]) -> float:
    """Fraction of predictions equal to the labels."""
    y_true, y_pred = _pair(labels, predictions)
    return float(np.mean(y_true == y_pred)) if len(y_true) else 0.0


def f1(labels: Sequence[Any], predictions: Sequence[Any], average: str = "binary", pos_label: Any = 1) -> float:
    """F1 score as scikit-learn's ``f1_score`` (undefined precision or recall count as 0).

    Args:
        labels: gold labels.
        predictions: predicted labels.
        average: "binary" (the F1 of ``pos_label``), "macro" (unweighted mean over the labels present in
            either list) or "micro" (pooled counts, which equals accuracy for single-label data).
        pos_label: the positive class for ``average="binary"``.

    Returns:
        The F1 score in [0, 1].
    """
    y_true, y_pred = _pair(labels, predictions)
    if average == "binary":
        return _f1_of(y_true, y_pred, pos_label)
    classes = np.unique(np.concatenate([y_true, y_pred]))
    if average == "macro":
        return float(np.mean([_f1_of(y_true, y_pred, c) for c in classes])) if len(classes) else 0.0
    if average == "micro":
        return accuracy(y_true, y_pred)
    raise ValueError(f"average must be 'binary', 'macro' or 'micro', got {average!r}")


def _f1_of(y_true: np.ndarray, y_pred: np.ndarray, positive: Any) -> float:
    tp = int(np.sum((y_true == positive) & (y_pred == positive)))
    predicted = int(np.sum(y_pred == positive))
    actual = int(np.sum(y_true == positive))
    return _harmonic(tp, predicted, actual)


def _harmonic(tp: int, predicted: int, actual: int) -> float:
    # 2tp / (pred + actual) is F1 with 0/0 precision or recall counted as 0, scikit-learn's zero_division result
    return 2.0 * tp / (predicted + actual) if tp else 0.0


def matthews_corrcoef(labels: Sequence[Any], predictions: Sequence[Any]) -> float:
    """Matthews correlation (multi-class form of scikit-learn); 0 when it is undefined."""
    y_true, y_pred = _pair(labels, predictions)
    classes, encoded = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
    true_idx, pred_idx = encoded[: len(y_true)], encoded[len(y_true) :]
    confusion = np.zeros((len(classes), len(classes)), dtype=np.float64)
    np.add.at(confusion, (true_idx, pred_idx), 1)
    t_sum, p_sum = confusion.sum(axis=1), confusion.sum(axis=0)
    n_correct, n_samples = np.trace(confusion), confusion.sum()
    cov_ytyp = n_correct * n_samples - np.dot(t_sum, p_sum)
    cov_ypyp = n_samples**2 - np.dot(p_sum, p_sum)
    cov_ytyt = n_samples**2 - np.dot(t_sum, t_sum)
    if cov_ypyp * cov_ytyt == 0:
        return 0.0
    return float(cov_ytyp / np.sqrt(cov_ytyt * cov_ypyp))


def pearson(labels: Sequence[float], predictions: Sequence[float]) -> float:
    """Pearson correlation coefficient (scipy.stats.pearsonr's statistic); nan for a constant input."""
    x = np.asarray(labels, dtype=np.float64)
    y = np.asarray(predictions, dtype=np.float64)
    if len(x) != len(y):
        raise ValueError(f"labels and predictions differ in length: {len(x)} vs {len(y)}")
    xm, ym = x - x.mean(), y - y.mean()
    denominator = np.sqrt(np.dot(xm, xm) * np.dot(ym, ym))
    if denominator == 0:
        return float("nan")
    return float(np.clip(np.dot(xm, ym) / denominator, -1.0, 1.0))


def spearman(labels: Sequence[float], predictions: Sequence[float]) -> float:
    """Spearman rank correlation (scipy.stats.spearmanr): Pearson of the average ranks."""
    return pearson(_average_ranks(labels), _average_ranks(predictions))


def _average_ranks(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    order = np.argsort(array, kind="mergesort")
    ranks = np.empty(len(array), dtype=np.float64)
    sorted_values = array[order]
    start = 0
    while start < len(array):
        stop = start
        while stop + 1 < len(array) and sorted_values[stop + 1] == sorted_values[start]:
            stop += 1
        ranks[order[start : stop + 1]] = (start + stop) / 2.0 + 1.0  # ties share the mean of their ranks
        start = stop + 1
    return ranks


def _pair(labels: Sequence[Any], predictions: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(labels), np.asarray(predictions)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"labels and predictions differ in shape: {y_true.shape} vs {y_pred.shape}")
    return y_true.reshape(-1), y_pred.reshape(-1)


def classification_metrics(labels: Sequence[Any], predictions: Sequence[Any], num_labels: int) -> dict[str, float]:
    """The GLUE set for a classification task: accuracy and Matthews correlation, plus F1 (binary or macro)."""
    scores = {"accuracy": accuracy(labels, predictions), "matthews_correlation": matthews_corrcoef(labels, predictions)}
    scores["f1"] = f1(labels, predictions, average="binary" if num_labels == 2 else "macro")
    return scores


def regression_metrics(labels: Sequence[float], predictions: Sequence[float]) -> dict[str, float]:
    """The STS-B set: Pearson, Spearman and their mean."""
    scores = {"pearson": pearson(labels, predictions), "spearman": spearman(labels, predictions)}
    scores["combined_score"] = (scores["pearson"] + scores["spearman"]) / 2
    return scores


# --------------------------------------------------------------------------- entity-level tagging (seqeval)


def get_entities(tags: Sequence[str] | Sequence[Sequence[str]]) -> list[tuple[str, int, int]]:
    """Entity chunks ``(type, first, last)`` in a tag sequence, as seqeval's default mode finds them.

    Tags are ``B-X``, ``I-X``, ``E-X``, ``S-X`` or ``O``; a chunk ends and starts where the prefix or the
    type changes, so IOB1 (``I-`` opening a chunk), IOB2, IOE and BIOES sequences all parse. A list of
    sentences is joined with an ``O`` after each one, so positions count across sentences.

    Args:
        tags: one sentence's tags, or a list of sentences.

    Returns:
        The chunks in order, with inclusive positions.
    """
    if any(isinstance(item, (list, tuple)) for item in tags):
        tags = [tag for sentence in tags for tag in [*sentence, "O"]]
    chunks = []
    prev_tag, prev_type, begin = "O", "", 0
    for i, chunk in enumerate([*tags, "O"]):
        tag = chunk[0]
        type_ = chunk[1:].split("-", maxsplit=1)[-1] or "_"
        if _end_of_chunk(prev_tag, tag, prev_type, type_):
            chunks.append((prev_type, begin, i - 1))
        if _start_of_chunk(prev_tag, tag, prev_type, type_):
            begin = i
        prev_tag, prev_type = tag, type_
    return chunks


_ENDS_AFTER = {"B": {"B", "S", "O"}, "I": {"B", "S", "O"}}
_STARTS_AFTER = {"E": {"E", "I"}, "S": {"E", "I"}, "O": {"E", "I"}}


def _end_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    if prev_tag in ("E", "S") or tag in _ENDS_AFTER.get(prev_tag, ()):
        return True
    return prev_tag not in ("O", ".") and prev_type != type_


def _start_of_chunk(prev_tag: str, tag: str, prev_type: str, type_: str) -> bool:
    if tag in ("B", "S") or tag in _STARTS_AFTER.get(prev_tag, ()):
        return True
    return tag not in ("O", ".") and prev_type != type_


def entity_scores(
    true_tags: Sequence[Sequence[str]], predicted_tags: Sequence[Sequence[str]]
) -> dict[str, float | dict[str, dict[str, float]]]:
    """Entity-level micro precision, recall and F1 (seqeval's default mode) and per-type scores.

    Args:
        true_tags: gold tag sequences, one list per sentence.
        predicted_tags: predicted tag sequences, shaped like ``true_tags``.

    Returns:
        ``{"precision", "recall", "f1", "accuracy", "per_type": {type: {"precision", "recall", "f1", "support"}}}``;
        an undefined ratio is 0, as seqeval reports it.
    """
    if len(true_tags) != len(predicted_tags) or any(
        len(t) != len(p) for t, p in zip(true_tags, predicted_tags, strict=True)
    ):
        raise ValueError("true_tags and predicted_tags must hold the same number of sentences and tags.")
    gold = set(get_entities([list(t) for t in true_tags]))
    pred = set(get_entities([list(p) for p in predicted_tags]))
    tp = len(gold & pred)
    flat_true = [tag for sentence in true_tags for tag in sentence]
    flat_pred = [tag for sentence in predicted_tags for tag in sentence]
    scores: dict[str, Any] = _prf(tp, len(pred), len(gold))
    scores["accuracy"] = accuracy(flat_true, flat_pred) if flat_true else 0.0
    per_type = {}
    for type_ in sorted({e[0] for e in gold | pred}):
        g = {e for e in gold if e[0] == type_}
        p = {e for e in pred if e[0] == type_}
        per_type[type_] = {**_prf(len(g & p), len(p), len(g)), "support": len(g)}
    scores["per_type"] = per_type
    return scores


def _prf(tp: int, predicted: int, actual: int) -> dict[str, float]:
    return {
        "precision": tp / predicted if predicted else 0.0,
        "recall": tp / actual if actual else 0.0,
        "f1": _harmonic(tp, predicted, actual),
    }


# --------------------------------------------------------------------------- SQuAD (official formulas)


def normalize_answer(text: str) -> str:
    """Lower-case, drop punctuation and the articles a/an/the, collapse whitespace (the official rule)."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


_PUNCTUATION = frozenset(string.punctuation)


def exact_match_score(prediction: str, gold: str) -> int:
    """1 when the normalised strings are equal."""
    return int(normalize_answer(prediction) == normalize_answer(gold))


def f1_score_squad(prediction: str, gold: str) -> float:
    """Token-overlap F1 of the normalised strings (v2.0 rule: an empty side scores 1 only against empty)."""
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = collections.Counter(pred_tokens) & collections.Counter(gold_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def squad_v1(predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]) -> dict[str, float]:
    """SQuAD v1.1 exact match and F1 in percent: the best score over each question's gold answers.

    Args:
        predictions: question id -> predicted answer text.
        references: question id -> the gold answer texts. Questions without a prediction score 0.

    Returns:
        ``{"exact_match": ..., "f1": ...}`` in percent.

    Raises:
        ValueError: no references, or a question without gold answers (an unanswerable one: use squad_v2).
    """
    if not references:
        raise ValueError("squad_v1 needs at least one reference question.")
    unanswerable = [qid for qid, golds in references.items() if not golds]
    if unanswerable:
        raise ValueError(
            f"{len(unanswerable)} question(s) have no gold answer (e.g. {unanswerable[0]!r}): SQuAD v1 has none; "
            "score them with squad_v2 (fine-tuning: version_2=True or --recipe squad2)."
        )
    em = f1_total = 0.0
    for qid, golds in references.items():
        if qid not in predictions:
            continue
        em += max(exact_match_score(predictions[qid], g) for g in golds)
        f1_total += max(f1_score_squad(predictions[qid], g) for g in golds)
    return {"exact_match": 100.0 * em / len(references), "f1": 100.0 * f1_total / len(references)}


def squad_v2(
    predictions: Mapping[str, str],
    references: Mapping[str, Sequence[str]],
    no_answer_probabilities: Mapping[str, float] | None = None,
    no_answer_threshold: float = 1.0,
) -> dict[str, float]:
    """SQuAD v2.0 exact match and F1 in percent, with HasAns/NoAns breakdowns.

    A question whose gold answers all normalise to "" is unanswerable; the right prediction is "".
    With ``no_answer_probabilities``, a question whose probability exceeds the threshold is scored as if
    predicted "" (the official ``apply_no_ans_threshold``).

    Args:
        predictions: question id -> predicted text ("" for no answer).
        references: question id -> gold answer texts (empty list for unanswerable).
        no_answer_probabilities: question id -> probability that there is no answer.
        no_answer_threshold: the threshold for the rule above.

    Returns:
        exact_match, f1, total, and HasAns_/NoAns_ exact, f1, total when such questions exist.
    """
    if not references:
        raise ValueError("squad_v2 needs at least one reference question.")
    exact, f1s, has_answer = {}, {}, {}
    for qid, golds in references.items():
        answers = [g for g in golds if normalize_answer(g)] or [""]
        has_answer[qid] = answers != [""]
        if qid not in predictions:
            continue
        prediction = predictions[qid]
        if no_answer_probabilities is not None and no_answer_probabilities.get(qid, 0.0) > no_answer_threshold:
            prediction = ""
        exact[qid] = max(exact_match_score(prediction, a) for a in answers)
        f1s[qid] = max(f1_score_squad(prediction, a) for a in answers)
    result = _squad_totals(exact, f1s, list(references))
    for prefix, wanted in (("HasAns", True), ("NoAns", False)):
        ids = [qid for qid, has in has_answer.items() if has == wanted]
        if ids:
            part = _squad_totals(exact, f1s, ids)
            result.update(
                {f"{prefix}_exact": part["exact_match"], f"{prefix}_f1": part["f1"], f"{prefix}_total": len(ids)}
            )
    return result


def _squad_totals(exact: Mapping[str, float], f1s: Mapping[str, float], ids: Sequence[str]) -> dict[str, float]:
    total = len(ids)
    return {
        "exact_match": 100.0 * sum(exact.get(q, 0.0) for q in ids) / total,
        "f1": 100.0 * sum(f1s.get(q, 0.0) for q in ids) / total,
        "total": total,
    }
