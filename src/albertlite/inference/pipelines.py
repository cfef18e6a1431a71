"""Inference pipelines: ``albertlite.pipeline(task, model=dir_or_hub_id)``, as Hugging Face's for ALBERT.

Every task of the registry (:mod:`albertlite.tasks.registry`) has one: "fill-mask" (masked-lm),
"text-classification", "token-classification", "question-answering", "multiple-choice" and
"feature-extraction". A fine-tuned directory records its task (task.json), so ``pipeline(model=dir)`` needs no
task name, and naming a task the directory was not trained for is refused. Every pipeline takes one input or a
list, encodes them, runs the model on batches of similar length (longest first, dynamic padding) and returns
results in input order, the same batched as one by one (up to float rounding of padded rows).

Example:
    >>> qa = pipeline(model="my-squad-model")  # doctest: +SKIP
    >>> qa(question="Where?", context="It is in Paris.")  # doctest: +SKIP
    {'score': 0.97, 'start': 9, 'end': 14, 'answer': 'Paris'}
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from albertlite.devices import resolve_device
from albertlite.inference.forward import Take, forward_features
from albertlite.inference.parameters import Parameters
from albertlite.tasks import registry
from albertlite.tasks.decoding import DecodeSettings, ranked_answers, word_tags
from albertlite.tasks.features import FeatureSettings, choice_features, token_features
from albertlite.tokenization_auto import load_tokenizer

if TYPE_CHECKING:
    from albertlite.tokenization_base import Tokenizer

PIPELINE_TASKS = registry.TASKS


def pipeline(
    task: str | None = None,
    model: str | os.PathLike | torch.nn.Module | None = None,
    *,
    tokenizer: Tokenizer | str | os.PathLike | None = None,
    device: str | int | torch.device | None = None,
    batch_size: int = 8,
    max_length: int | None = None,
    **kwargs: Any,
) -> Pipeline:
    """Build an inference pipeline.

    Args:
        task: a registry task or alias ("fill-mask", "text-classification"/"sentiment-analysis",
            "token-classification"/"ner", "question-answering"/"qa", "multiple-choice", "feature-extraction").
            Default: the task the model records (a fine-tuned directory's task.json, or config.json's head).
        model: a model directory or Hub id (its tokenizer is loaded from the same place), or a model object
            (then pass ``tokenizer``).
        tokenizer: a tokenizer object or directory (default: the model's; fast when it can be).
        device: "cpu", "cuda", "cuda:1", a CUDA index, or -1 for CPU (default: CPU).
        batch_size: inputs per forward pass.
        max_length: the longest encoded sequence (default: the model's ``max_position_embeddings``, capped by
            the tokenizer's ``model_max_length``).
        **kwargs: the pipeline's defaults (``top_k``, ``aggregation_strategy``, ``pooling`` ...); Hugging Face's
            names of the same parameters work too (``max_answer_len``).

    Returns:
        A callable pipeline.

    Raises:
        ValueError: no model; no task named and none recorded; a task the model was not trained for; a device
            this machine lacks.
        TypeError: a keyword argument the task's pipeline does not take (the message lists those it does).
    """
    if model is None:
        raise ValueError("pipeline() needs model=: a model directory, a Hub id or a model object.")
    device = _device(device)
    if isinstance(model, torch.nn.Module):
        if tokenizer is None:
            raise ValueError("Pass tokenizer= when model is a model object.")
        name = type(model).__name__
        entry = registry.resolve_task(task, registry.model_task(model), f"its class is {name}", f"the {name}")
    else:
        recorded, where = registry.directory_task(model)
        entry = registry.resolve_task(task, recorded, where, str(model))
        tokenizer = model if tokenizer is None else tokenizer
        model = entry.head_class().from_pretrained(model)
    return entry.pipeline_class()(
        model, load_tokenizer(tokenizer), device=device, batch_size=batch_size, max_length=max_length,
        **kwargs,
    )  # fmt: skip


def _device(device: str | int | torch.device | None) -> torch.device:
    return resolve_device(device, name="device")  # refused here, before the model is loaded


def default_max_length(config: Any, tokenizer: Tokenizer) -> int:
    """The longest input a model accepts: its position table, or the tokenizer's ``model_max_length`` if shorter."""
    return min(int(config.max_position_embeddings), int(getattr(tokenizer, "model_max_length", 1 << 62)))


def _text_of(item: Any, where: str) -> str:
    text = item.get("text") if isinstance(item, Mapping) else item
    if not isinstance(text, str):
        raise ValueError(f"{where}: expected a text (a string, or a dict with 'text'), got {type(text).__name__}.")
    return text


class Pipeline(ABC):
    """Base class: tokenizer + model + batched, length-sorted execution.

    Args:
        model: a PyTorch ALBERT model.
        tokenizer: its tokenizer.
        device: where to run.
        batch_size: inputs per forward pass.
        max_length: the longest encoded sequence (default: :func:`default_max_length`).
        **defaults: per-call parameters used when a call does not give them.

    Raises:
        TypeError: a parameter this pipeline does not take, or one of the wrong type.
        ValueError: a parameter out of range.
    """

    task_name = ""  # the registry task this pipeline runs
    parameters = Parameters("")  # the call parameters it takes, beside batch_size and max_length

    def __init__(
        self,
        model: torch.nn.Module,
        tokenizer: Tokenizer,
        *,
        device: torch.device | None = None,
        batch_size: int = 8,
        max_length: int | None = None,
        **defaults: Any,
    ) -> None:
        self.device = device or torch.device("cpu")
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.task = registry.get_task(self.task_name)
        self.limit = default_max_length(model.config, tokenizer)
        self.max_length = self._max_length(max_length, self.limit)
        self.defaults = self.parameters.check(defaults)

    def _max_length(self, max_length: int | None, default: int) -> int:
        """``max_length`` when given (the model must accept it), else ``default``."""
        self.parameters.check({"max_length": max_length})
        if max_length is not None and not 0 < max_length <= self.limit:
            raise ValueError(f"max_length={max_length} is outside what the model accepts (1 to {self.limit} tokens).")
        return default if max_length is None else int(max_length)

    def __call__(self, inputs: Any, **params: Any) -> Any:
        """Run on one input or a list of inputs; returns one result or a list of results.

        ``params`` are this pipeline's call parameters; ``max_length`` and ``batch_size`` apply to this call only.
        """
        params = {**self.defaults, **self.parameters.check(params)}
        batch_size = params.pop("batch_size", self.batch_size)
        params["max_length"] = self._max_length(params.get("max_length"), self.max_length)
        single = not isinstance(inputs, list)
        items = [inputs] if single else list(inputs)
        if not items:
            return []
        results = self._run(items, batch_size, params)
        return results[0] if single else results

    @abstractmethod
    def _run(self, items: list[Any], batch_size: int, params: dict[str, Any]) -> list[Any]:
        """One result per item, in order."""

    def _encode(self, texts: Sequence[str], max_length: int, **kwargs: Any) -> Any:
        return self.tokenizer(list(texts), truncation=True, max_length=max_length, **kwargs)

    def _forward(self, features: Sequence[Mapping[str, Any]], batch_size: int, output: str | Take) -> list[Any]:
        """One output per feature (see :func:`albertlite.inference.forward.forward_features`)."""
        return forward_features(
            self.model, features, output, pad_token_id=self.tokenizer.pad_token_id, batch_size=batch_size
        )

    def _features(self, max_length: int) -> FeatureSettings:
        """Feature settings of a call's maximum length (for the featurizers fine-tuning uses)."""
        return FeatureSettings(max_length=max_length)


def _rows(encoded: Mapping[str, list], count: int, keys: Sequence[str] = ("input_ids", "token_type_ids")) -> list[dict]:
    return [{k: encoded[k][i] for k in keys} for i in range(count)]


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class FillMaskPipeline(Pipeline):
    """Top-k predictions for each ``[MASK]``: ``[{"score", "token", "token_str", "sequence"}, ...]``.

    A text with one mask gives a list of k dicts; with several masks, one such list per mask. Parameters:
    ``top_k`` (5) and ``targets`` (a word or a list of words: only these are ranked, each scored by its probability
    over the whole vocabulary, as Hugging Face does; each must be one piece of the vocabulary).
    """

    task_name = "masked-lm"
    parameters = Parameters("fill-mask", ("top_k", "targets"))

    def _run(self, items, batch_size, params):
        top_k = params.get("top_k") or 5
        targets = self._target_ids(params.get("targets"))
        texts = [_text_of(item, f"input {i}") for i, item in enumerate(items)]
        features = _rows(self._encode(texts, params["max_length"]), len(texts))
        for i, (text, feature) in enumerate(zip(texts, features)):
            if self.tokenizer.mask_token_id not in feature["input_ids"]:
                self._no_mask(i, text, params["max_length"])
        logits = self._forward(features, batch_size, "tokens")
        return [self._top_k(f["input_ids"], scores, top_k, targets) for f, scores in zip(features, logits)]

    def _no_mask(self, index: int, text: str, max_length: int) -> None:
        """Say why a text's encoding holds no mask: it has none, or only past ``max_length`` (truncated away)."""
        mask = self.tokenizer.mask_token
        full = self.tokenizer(text)["input_ids"]
        if self.tokenizer.mask_token_id in full:
            position = full.index(self.tokenizer.mask_token_id) + 1
            raise ValueError(
                f"input {index}: the {mask} is token {position} of {len(full)}, beyond max_length={max_length}; "
                f"shorten the text before it, or pass a larger max_length (the model takes up to {self.limit})."
            )
        raise ValueError(f"No {mask} in the input {text!r}.")

    def _target_ids(self, targets: Any) -> list[int] | None:
        """The vocabulary ids of ``targets`` (a word or a list of words), or None for the whole vocabulary."""
        if targets is None:
            return None
        words = [targets] if isinstance(targets, str) else targets
        if not isinstance(words, (list, tuple)) or not words or not all(isinstance(w, str) for w in words):
            raise TypeError(f"targets must be a word or a non-empty list of words, got {targets!r}.")
        vocabulary = self.tokenizer.get_vocab()
        ids = []
        for word in words:
            if word in vocabulary:  # a piece as the vocabulary spells it ("▁paris")
                pieces = [vocabulary[word]]
            else:
                pieces = list(self.tokenizer(word, add_special_tokens=False)["input_ids"])
            if len(pieces) != 1:
                shown = [self.tokenizer.decode([piece]) for piece in pieces]
                raise ValueError(
                    f"targets: {word!r} is {len(pieces)} pieces of the vocabulary ({shown}), not one; a [MASK] is "
                    f"one piece, so give words that are single pieces."
                )
            ids.append(int(pieces[0]))
        return list(dict.fromkeys(ids))

    def _top_k(self, input_ids: list[int], logits: np.ndarray, top_k: int, targets: list[int] | None) -> list:
        positions = [i for i, token in enumerate(input_ids) if token == self.tokenizer.mask_token_id]
        per_mask = []
        for position in positions:
            probabilities = _softmax(logits[position].astype(np.float64))
            if targets is None:
                best = np.argsort(-probabilities, kind="stable")[:top_k]
            else:
                best = sorted(targets, key=lambda token: -probabilities[token])[:top_k]
            candidates = []
            for token in best:
                filled = list(input_ids)
                filled[position] = int(token)
                candidates.append(
                    {
                        "score": float(probabilities[token]),
                        "token": int(token),
                        "token_str": self.tokenizer.decode([int(token)]),
                        "sequence": self.tokenizer.decode(filled, skip_special_tokens=True),
                    }
                )
            per_mask.append(candidates)
        return per_mask[0] if len(per_mask) == 1 else per_mask


class TextClassificationPipeline(Pipeline):
    """``{"label", "score"}`` per text (``top_k=None``: every label, best first). Pairs: ``{"text", "text_pair"}``.

    Regression models (one output) give the raw score.
    """

    task_name = "text-classification"
    parameters = Parameters("text-classification", ("top_k",))

    def _run(self, items, batch_size, params):
        texts = [_text_of(item, f"input {i}") for i, item in enumerate(items)]
        pairs = [item.get("text_pair") if isinstance(item, Mapping) else None for item in items]
        use_pairs = any(p is not None for p in pairs)
        encoded = self._encode(texts, params["max_length"], text_pair=[p or "" for p in pairs] if use_pairs else None)
        features = _rows(encoded, len(items))
        logits = self._forward(features, batch_size, "sequence")
        top_k = params.get("top_k", 1)
        return [self._labels(row, top_k) for row in logits]

    def _labels(self, logits: np.ndarray, top_k: int | None) -> Any:
        config = self.model.config
        if config.num_labels == 1:
            return {"label": config.id2label[0], "score": float(logits[0])}
        probabilities = _softmax(logits.astype(np.float64))
        order = np.argsort(-probabilities, kind="stable")
        ranked = [{"label": config.id2label[int(i)], "score": float(probabilities[i])} for i in order]
        if top_k == 1:
            return ranked[0]
        return ranked if top_k is None else ranked[:top_k]


class TokenClassificationPipeline(Pipeline):
    """Entities with character spans: ``[{"entity_group", "score", "word", "start", "end"}, ...]``.

    ``aggregation_strategy``: "none" (one dict per piece, key ``entity``), "simple" (adjacent pieces of one type
    grouped), "first" / "average" / "max" (one label per word from its first piece, the mean or the max of its
    pieces' probabilities, then grouped). Long texts run in consecutive windows.

    Words already split (``{"tokens": [...]}``, as fine-tuning data holds them) give one tag per word instead:
    ``{"tokens", "tags"}``, each word tagged by its first piece; words past ``max_length`` are tagged "O".
    """

    task_name = "token-classification"
    parameters = Parameters("token-classification", ("aggregation_strategy",))

    def _run(self, items, batch_size, params):
        split = [isinstance(item, Mapping) and "tokens" in item for item in items]
        if all(split):
            return self._word_tags(items, batch_size, params["max_length"])
        if any(split):
            raise ValueError("Pass either texts or {'tokens': [...]} word lists in one call, not both.")
        strategy = params.get("aggregation_strategy", "simple")
        if strategy not in ("none", "simple", "first", "average", "max"):
            raise ValueError(f"aggregation_strategy must be none/simple/first/average/max, got {strategy!r}.")
        if not getattr(self.tokenizer, "is_fast", False):
            raise ValueError("token-classification needs character offsets: use AlbertTokenizerFast.")
        texts = [_text_of(item, f"input {i}") for i, item in enumerate(items)]
        encoded = self.tokenizer(
            texts, truncation=True, max_length=params["max_length"], return_overflowing_tokens=True,
            return_offsets_mapping=True, return_special_tokens_mask=True,
        )  # fmt: skip
        features = _rows(encoded, len(encoded["input_ids"]))
        probabilities = [_softmax(x.astype(np.float64)) for x in self._forward(features, batch_size, "tokens")]
        pieces: list[list[dict]] = [[] for _ in texts]
        for row, sample in enumerate(encoded["overflow_to_sample_mapping"]):
            words = encoded.word_ids(row)
            for k, (start, end) in enumerate(encoded["offset_mapping"][row]):
                if encoded["special_tokens_mask"][row][k]:
                    continue
                start = _skip_space(texts[sample], start, end)
                pieces[sample].append(
                    {"probs": probabilities[row][k], "start": start, "end": end, "word": words[k], "index": k}
                )
        return [self._entities(text, piece_list, strategy) for text, piece_list in zip(texts, pieces)]

    def _word_tags(self, items: list[Mapping[str, Any]], batch_size: int, max_length: int) -> list[dict[str, Any]]:
        examples = [self.task.normalise({"tokens": item["tokens"]}, f"input {i}", i) for i, item in enumerate(items)]
        features = token_features(examples, self.tokenizer, {}, self._features(max_length), False)
        logits = self._forward(features, batch_size, "tokens")
        id2label = self.model.config.id2label
        labels = [id2label[i] for i in range(len(id2label))]
        return [
            {"tokens": e["tokens"], "tags": word_tags(f["word_ids"], o, labels, len(e["tokens"]))}
            for e, f, o in zip(examples, features, logits)
        ]

    def _entities(self, text: str, pieces: list[dict], strategy: str) -> list[dict]:
        id2label = self.model.config.id2label
        if strategy == "none":
            out = []
            for piece in pieces:
                label = id2label[int(np.argmax(piece["probs"]))]
                if label != "O":
                    out.append(
                        _entity(text, label, float(piece["probs"].max()), piece["start"], piece["end"], piece["index"])
                    )
            return out
        units = pieces if strategy == "simple" else _words(pieces, strategy)
        tagged = []
        for unit in units:
            label_id = int(np.argmax(unit["probs"]))
            tagged.append((id2label[label_id], float(unit["probs"][label_id]), unit["start"], unit["end"]))
        return _group(text, tagged)


def _skip_space(text: str, start: int, end: int) -> int:
    # offsets of "▁word" pieces include the space before the word
    while start < end and text[start].isspace():
        start += 1
    return start


def _words(pieces: list[dict], strategy: str) -> list[dict]:
    words: list[dict] = []
    for piece in pieces:
        if words and piece["word"] is not None and piece["word"] == words[-1]["word"]:
            words[-1]["all"].append(piece["probs"])
            words[-1]["end"] = piece["end"]
        else:
            words.append({**piece, "all": [piece["probs"]]})
    for word in words:
        stacked = np.stack(word["all"])
        if strategy == "average":
            word["probs"] = stacked.mean(axis=0)
        elif strategy == "max":
            word["probs"] = stacked[int(np.argmax(stacked.max(axis=1)))]
    return words


def _split_tag(label: str) -> tuple[str, str]:
    if label[1:2] == "-" and label[0] in "BIES":
        return label[0], label[2:]
    return "I", label  # labels without a prefix: consecutive equal labels form one entity


def _group(text: str, tagged: list[tuple[str, float, int, int]]) -> list[dict]:
    """Group consecutive units of one type: B-/S- start a new entity, I-/E- continue one of the same type."""
    groups: list[dict] = []
    current = None
    for label, score, start, end in tagged:
        if label == "O":
            current = None
            continue
        prefix, type_ = _split_tag(label)
        if current is not None and current["type"] == type_ and prefix in ("I", "E"):
            current["scores"].append(score)
            current["end"] = end
        else:
            current = {"type": type_, "scores": [score], "start": start, "end": end}
            groups.append(current)
        if prefix in ("E", "S"):
            current = None
    return [
        {"entity_group": g["type"], "score": float(np.mean(g["scores"])), "word": text[g["start"] : g["end"]],
         "start": g["start"], "end": g["end"]}
        for g in groups
    ]  # fmt: skip


def _entity(text: str, label: str, score: float, start: int, end: int, index: int) -> dict:
    return {"entity": label, "score": score, "index": index, "word": text[start:end], "start": start, "end": end}


class QuestionAnsweringPipeline(Pipeline):
    """``{"score", "start", "end", "answer"}`` per question; contexts longer than ``max_length`` run in windows.

    Inputs: ``{"question", "context"}`` dicts, or ``question=`` and ``context=`` keywords. Parameters:
    ``top_k`` (1; more gives a list of the best distinct answers, best first), ``doc_stride`` (tokens shared by
    consecutive windows, default 128), ``max_answer_length`` (30), ``max_question_length`` (64),
    ``handle_impossible_answer`` (False: always a span), ``n_best`` (20) and ``null_score_threshold`` (0.0).
    Hugging Face's names ``max_answer_len``, ``max_question_len`` and ``max_seq_len`` (``max_length``) work too.
    """

    task_name = "question-answering"
    parameters = Parameters(
        "question-answering",
        ("top_k", "doc_stride", "max_answer_length", "max_question_length", "handle_impossible_answer", "n_best",
         "null_score_threshold"),
        {"max_answer_len": "max_answer_length", "max_question_len": "max_question_length", "max_seq_len": "max_length"},
    )  # fmt: skip

    def __call__(self, inputs: Any = None, **params: Any) -> Any:
        if inputs is None:
            question, context = params.pop("question", None), params.pop("context", None)
            if question is None or context is None:
                raise ValueError("Pass {'question', 'context'} dicts, or question= and context=.")
            if isinstance(question, list):
                inputs = [{"question": q, "context": c} for q, c in zip(question, context)]
            else:
                inputs = {"question": question, "context": context}
        return super().__call__(inputs, **params)

    def _run(self, items, batch_size, params):
        examples = []
        for i, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise ValueError(f"input {i}: expected a {{'question', 'context'}} dict, got {type(item).__name__}.")
            example = {"question": item.get("question"), "context": item.get("context")}
            examples.append(self.task.normalise(example, f"input {i}", i))
        settings = FeatureSettings(
            max_length=params["max_length"],
            doc_stride=int(params.get("doc_stride", 128)),
            max_query_length=int(params.get("max_question_length", 64)),
        )
        features = registry.prepare_features(self.task, examples, self.tokenizer, settings=settings, training=False)
        logits = self._forward(features, batch_size, "span")
        decode = DecodeSettings(
            n_best=int(params.get("n_best", 20)),
            max_answer_length=int(params.get("max_answer_length", 30)),
            null_score_threshold=float(params.get("null_score_threshold", 0.0)),
            allow_no_answer=bool(params.get("handle_impossible_answer", False)),
        )
        top_k = params.get("top_k") or 1
        ranked = ranked_answers(examples, features, [x[0] for x in logits], [x[1] for x in logits], decode, top_k)
        results = [[{k: a[k] for k in ("score", "start", "end", "answer")} for a in answers] for answers in ranked]
        return [answers if top_k > 1 else answers[0] for answers in results]


class MultipleChoicePipeline(Pipeline):
    """The best choice for a question: ``{"label", "choice", "score", "scores"}`` per input.

    Inputs: ``{"question", "choices"}`` dicts, with an optional ``"context"`` (a RACE article; a "_" in the question
    is a blank that each choice fills). ``label`` is the best choice's index, ``choice`` its text, ``score`` its
    probability and ``scores`` every choice's probability, in the input's order.
    """

    task_name = "multiple-choice"
    parameters = Parameters("multiple-choice")

    def _run(self, items, batch_size, params):
        examples = []
        for i, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise ValueError(f"input {i}: expected a {{'question', 'choices'}} dict, got {type(item).__name__}.")
            example = {key: item.get(key) for key in ("context", "question", "choices")}
            examples.append(self.task.normalise(example, f"input {i}", i))
        features = choice_features(examples, self.tokenizer, {}, self._features(params["max_length"]), False)
        logits: list[Any] = [None] * len(features)
        for count in sorted({len(e["choices"]) for e in examples}):  # a batch stacks inputs with as many choices
            indices = [i for i, e in enumerate(examples) if len(e["choices"]) == count]
            for index, row in zip(indices, self._forward([features[i] for i in indices], batch_size, "sequence")):
                logits[index] = row
        results = []
        for example, row in zip(examples, logits):
            probabilities = _softmax(row.astype(np.float64))
            best = int(np.argmax(probabilities))
            results.append({"label": best, "choice": example["choices"][best], "score": float(probabilities[best]),
                            "scores": [float(p) for p in probabilities]})  # fmt: skip
        return results


class FeatureExtractionPipeline(Pipeline):
    """Token features as Hugging Face returns them (a ``[1][tokens][hidden]`` nested list per text), or with
    ``pooling="mean"`` / ``"cls"`` one sentence embedding (a ``[hidden]`` list) per text.

    ``return_tensors=True`` gives numpy arrays instead of lists. Mean pooling averages every non-padding
    token, [CLS] and [SEP] included (sentence-transformers' convention).
    """

    task_name = "feature-extraction"
    parameters = Parameters("feature-extraction", ("pooling", "return_tensors"))

    def _run(self, items, batch_size, params):
        pooling = params.get("pooling")
        if pooling not in (None, "mean", "cls"):
            raise ValueError(f"pooling must be None, 'mean' or 'cls', got {pooling!r}.")
        texts = [_text_of(item, f"input {i}") for i, item in enumerate(items)]
        encoded = self._encode(texts, params["max_length"])
        hidden = self._forward(_rows(encoded, len(texts)), batch_size, "hidden")  # (tokens, H) each
        if pooling == "mean":
            vectors = [h.mean(axis=0) for h in hidden]
        elif pooling == "cls":
            vectors = [h[0] for h in hidden]
        else:
            vectors = [h[None] for h in hidden]  # (1, tokens, H), as Hugging Face's pipeline
        return vectors if params.get("return_tensors") else [v.tolist() for v in vectors]
