"""What each route computes, given a validated request: these run in a request's thread, never on the event loop.

Predictions go through the model's pipelines (:mod:`albertlite.inference.pipelines`), whose forward passes the
batching worker runs; what is here is only the translation between the wire formats and the pipelines' calls.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import numpy as np

from albertlite.serve import schemas
from albertlite.serve.batching import current_job
from albertlite.serve.errors import ApiError, validation_error
from albertlite.serve.model import ServedModel
from albertlite.serve.settings import ServeSettings


def _batch(inputs: Any, name: str, settings: ServeSettings) -> tuple[list[Any], bool]:
    """The inputs as a list, and whether one input (not a list) was sent; empty or too many -> 422 / 413."""
    single = not isinstance(inputs, list)
    items = [inputs] if single else list(inputs)
    if not items:
        raise validation_error(f"`{name}` cannot be empty.")
    if len(items) > settings.max_client_batch_size:
        raise ApiError(
            413, f"batch size {len(items)} > maximum allowed batch size {settings.max_client_batch_size} "
            "(--max-client-batch-size).", "validation",
        )  # fmt: skip
    for index, item in enumerate(items):
        if isinstance(item, str) and not item.strip():
            raise validation_error(f"`{name}` {index} is empty.")
    return items, single


def _token_counts(served: ServedModel, texts: Sequence[str], pairs: Sequence[str] | None, truncate: bool) -> list[int]:
    """Tokens per input (with special tokens); an input over the limit without ``truncate`` -> 413 naming it."""
    encoded = served.tokenizer(list(texts), text_pair=list(pairs) if pairs is not None else None)
    counts = [len(ids) for ids in encoded["input_ids"]]
    limit = served.max_input_length
    if not truncate:
        for index, count in enumerate(counts):
            if count > limit:
                raise ApiError(
                    413, f"Input validation error: input {index} has {count} tokens, more than the "
                    f"--max-input-length of {limit}; send \"truncate\": true to cut it.", "validation",
                )  # fmt: skip
    return [min(count, limit) for count in counts]


# ------------------------------------------------------------------------------------------------ the encoder
def embeddings(
    served: ServedModel,
    settings: ServeSettings,
    inputs: Any,
    *,
    pooling: str,
    normalize: bool,
    truncate: bool,
    name: str,
) -> tuple[np.ndarray, list[int]]:
    """One float32 embedding per input (rows of the result), and each input's tokens."""
    texts, _ = _batch(inputs, name, settings)
    counts = _token_counts(served, texts, None, truncate)
    vectors = np.stack(served.embedder(texts, pooling=pooling, return_tensors=True)).astype(np.float32)
    if normalize:
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors, counts


def embed(served: ServedModel, settings: ServeSettings, body: schemas.EmbedRequest) -> list[list[float]]:
    vectors, _ = embeddings(
        served, settings, body.inputs, pooling=body.pooling, normalize=body.normalize, truncate=body.truncate,
        name="inputs",
    )  # fmt: skip
    return vectors.tolist()


def openai_embeddings(served: ServedModel, settings: ServeSettings, body: schemas.OpenAIEmbeddingRequest) -> dict:
    vectors, counts = embeddings(
        served, settings, body.input, pooling="mean", normalize=True, truncate=False, name="input"
    )
    if body.encoding_format == "base64":
        data: list[Any] = [base64.b64encode(v.astype("<f4").tobytes()).decode("ascii") for v in vectors]
    else:
        data = vectors.tolist()
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": e} for i, e in enumerate(data)],
        "model": body.model or served.name,
        "usage": {"prompt_tokens": sum(counts), "total_tokens": sum(counts)},
    }


def tokenize(served: ServedModel, settings: ServeSettings, body: schemas.TokenizeRequest) -> list[list[dict]]:
    texts, _ = _batch(body.inputs, "inputs", settings)
    tokenizer = served.tokenizer
    encoded = tokenizer(
        texts, add_special_tokens=body.add_special_tokens, return_offsets_mapping=True,
        return_special_tokens_mask=True,
    )  # fmt: skip
    result = []
    for text, ids, offsets, special in zip(
        texts, encoded["input_ids"], encoded["offset_mapping"], encoded["special_tokens_mask"]
    ):
        pieces = tokenizer.convert_ids_to_tokens(ids)
        result.append([
            {"id": int(i), "text": piece if s else text[a:b], "special": bool(s), "start": None if s else a,
             "stop": None if s else b}
            for i, piece, (a, b), s in zip(ids, pieces, offsets, special)
        ])  # fmt: skip
    return result


def decode(served: ServedModel, settings: ServeSettings, body: schemas.DecodeRequest) -> list[str]:
    sequences = [body.ids] if body.ids and isinstance(body.ids[0], int) else list(body.ids)
    _batch(sequences, "ids", settings)
    vocabulary = len(served.tokenizer)
    for index, ids in enumerate(sequences):
        bad = [i for i in ids if not 0 <= i < vocabulary]
        if bad:
            raise validation_error(f"ids {index}: {bad[0]} is not a token id (0 to {vocabulary - 1}).")
    return [served.tokenizer.decode(list(ids), skip_special_tokens=body.skip_special_tokens) for ids in sequences]


# --------------------------------------------------------------------------------------- sequence classification
def _sequences(inputs: Any) -> tuple[list[dict[str, str]], bool]:
    """/predict's grammar: a text, a pair [a, b], or a batch [[a], [a, b], ...] -> pipeline items."""
    if isinstance(inputs, str):
        return [{"text": inputs}], True
    if inputs and all(isinstance(x, str) for x in inputs):
        if len(inputs) > 2:
            raise validation_error("`inputs`: a list of strings is one text [a] or one pair [a, b]; send a batch "
                                   "as [[a], [a, b], ...].")  # fmt: skip
        return [_sequence(inputs, 0)], True
    return [_sequence(x, i) for i, x in enumerate(inputs)], False


def _sequence(parts: Sequence[str], index: int) -> dict[str, str]:
    if not 1 <= len(parts) <= 2:
        raise validation_error(f"`inputs` {index}: expected [text] or [text, text_pair], got {len(parts)} strings.")
    return {"text": parts[0], "text_pair": parts[1]} if len(parts) == 2 else {"text": parts[0]}


def _classified(
    served: ServedModel, settings: ServeSettings, items: list[dict], truncate: bool, name: str = "inputs"
) -> list[Any]:
    _batch(items, name, settings)
    for index, item in enumerate(items):
        if not all(text.strip() for text in item.values()):
            raise validation_error(f"`{name}` {index} is empty.")
    pairs = [item.get("text_pair", "") for item in items] if any("text_pair" in item for item in items) else None
    _token_counts(served, [item["text"] for item in items], pairs, truncate)
    return served.pipeline(items, top_k=None)


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


_FUNCTIONS = {"none": lambda x: x, "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "softmax": _softmax}


def _scored(
    served: ServedModel, settings: ServeSettings, items: list[dict], truncate: bool, function: str | None
) -> list[list[dict]]:
    """Every label with its score per item, best first: the pipeline's scores, or ``function`` of the logits."""
    results = _classified(served, settings, items, truncate)
    if function is not None:
        id2label = served.pipeline.model.config.id2label
        logits = current_job().outputs[-1]  # the rows of this request's forward pass, before the softmax
        results = []
        for row in logits:
            scores = _FUNCTIONS[function](np.asarray(row, dtype=np.float64))
            results.append([
                {"label": id2label[int(i)], "score": float(scores[i])} for i in np.argsort(-scores, kind="stable")
            ])  # fmt: skip
    return [r if isinstance(r, list) else [r] for r in results]  # a regression model gives one score


def predict(served: ServedModel, settings: ServeSettings, body: schemas.PredictRequest) -> list:
    items, single = _sequences(body.inputs)
    results = _scored(served, settings, items, body.truncate, "none" if body.raw_scores else None)
    return results[0] if single else results


def text_classification(
    served: ServedModel, settings: ServeSettings, body: schemas.TextClassificationRequest
) -> list[list[dict]]:
    """``POST /`` of a classifier: as /predict, but a list of labels per input even for one (the Inference API's
    ``[[...]]``), ``parameters.top_k`` best labels and ``parameters.function_to_apply`` to the logits."""
    function = body.parameters.function_to_apply
    if body.raw_scores and function not in (None, "none"):
        raise validation_error(f"`raw_scores` gives the logits; `parameters.function_to_apply` {function!r} "
                               "contradicts it: send one of them.")  # fmt: skip
    items, _ = _sequences(body.inputs)
    results = _scored(served, settings, items, body.truncate, "none" if body.raw_scores else function)
    return [labels[: body.parameters.top_k] for labels in results]


def rerank(served: ServedModel, settings: ServeSettings, body: schemas.RerankRequest) -> list[dict]:
    labels = served.pipeline.model.config.num_labels
    if labels != 1:
        raise ApiError(
            400, f"/rerank needs a one-label (score) classifier; {served.name} is a {served.task.name} model with "
            f"{labels} labels: use /predict.", "validation",
        )  # fmt: skip
    if not body.query.strip():
        raise validation_error("`query` cannot be empty.")
    pairs = [{"text": body.query, "text_pair": t} for t in body.texts]
    results = _classified(served, settings, pairs, body.truncate, "texts")
    scores = np.array([r["score"] for r in results], dtype=np.float64)
    if not body.raw_scores:
        scores = _FUNCTIONS["sigmoid"](scores)
    ranks = []
    for index in np.argsort(-scores, kind="stable"):
        rank: dict[str, Any] = {"index": int(index), "score": float(scores[index])}
        if body.return_text:
            rank["text"] = body.texts[index]
        ranks.append(rank)
    return ranks


# -------------------------------------------------------------------------- the Inference API routes of the tasks
def _run_pipeline(served: ServedModel, settings: ServeSettings, inputs: Any, params: dict[str, Any]) -> Any:
    items, single = _batch(inputs, "inputs", settings)
    results = served.pipeline(items, **{k: v for k, v in params.items() if v is not None})
    return results[0] if single else results


def fill_mask(served: ServedModel, settings: ServeSettings, body: schemas.FillMaskRequest) -> Any:
    return _run_pipeline(served, settings, body.inputs, body.parameters.model_dump())


def token_classification(served: ServedModel, settings: ServeSettings, body: schemas.TokenClassificationRequest) -> Any:
    return _run_pipeline(served, settings, body.inputs, body.parameters.model_dump())


def question_answering(served: ServedModel, settings: ServeSettings, body: schemas.QuestionAnsweringRequest) -> Any:
    inputs = [x.model_dump() for x in body.inputs] if isinstance(body.inputs, list) else body.inputs.model_dump()
    p = body.parameters  # Hugging Face's parameter names -> the pipeline's
    params = {
        "top_k": p.top_k,
        "doc_stride": p.doc_stride,
        "max_answer_length": p.max_answer_len,
        "max_question_length": p.max_question_len,
        "handle_impossible_answer": p.handle_impossible_answer,
    }
    return _run_pipeline(served, settings, inputs, params)


def multiple_choice(served: ServedModel, settings: ServeSettings, body: schemas.MultipleChoiceRequest) -> Any:
    inputs = [x.model_dump() for x in body.inputs] if isinstance(body.inputs, list) else body.inputs.model_dump()
    return _run_pipeline(served, settings, inputs, {})


HANDLERS = {
    "/embed": embed,
    "/v1/embeddings": openai_embeddings,
    "/tokenize": tokenize,
    "/decode": decode,
    "/predict": predict,
    "/rerank": rerank,
    "/fill-mask": fill_mask,
    "/token-classification": token_classification,
    "/question-answering": question_answering,
    "/multiple-choice": multiple_choice,
}  # route -> what it computes (schemas.REQUESTS holds its request body)

ROOT_HANDLERS = {**HANDLERS, "/predict": text_classification}  # POST / as the model's own route (schemas.ROOT_REQUESTS)
