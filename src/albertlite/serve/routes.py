"""The HTTP routes: the task routes (looked up in the task registry), the encoder's, and health/info/metrics."""

from __future__ import annotations

import hmac
import os
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import ValidationError

import albertlite
from albertlite.serve import schemas
from albertlite.serve.errors import ApiError
from albertlite.serve.handlers import HANDLERS, ROOT_HANDLERS
from albertlite.serve.state import ServerState
from albertlite.tasks.registry import REGISTRY

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": schemas.ErrorBody} for status in (400, 401, 413, 422, 429, 503)
}


def server(request: Request) -> ServerState:
    return request.app.state.server


async def check_api_key(request: Request) -> None:
    """401 unless ``Authorization: Bearer <--api-key>`` (when the server has a key)."""
    key = server(request).settings.api_key
    if key is None:
        return
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key.encode()):
        raise ApiError(401, "Missing or wrong API key: send the header Authorization: Bearer <key>.", "unauthorized")


api = APIRouter(dependencies=[Depends(check_api_key)], responses=_ERRORS)


async def _answer(request: Request, route: str, body: Any, handlers: dict[str, Any] = HANDLERS) -> JSONResponse:
    state = server(request)
    served = state.served
    if not served.serves(route):
        owners = [task.name for task in REGISTRY if route in task.routes]
        raise ApiError(
            400, f"{route} needs a {' or '.join(owners)} model; {served.name} is a {served.task.name} model, which "
            f"serves {', '.join(served.routes)}.", "validation",
        )  # fmt: skip
    result = await state.answer(request, handlers[route], served, state.settings, body)
    return JSONResponse(result)


@api.post("/embed", summary="Embeddings (text-embeddings-inference)")
async def embed(request: Request, body: schemas.EmbedRequest) -> JSONResponse:
    return await _answer(request, "/embed", body)


@api.post("/v1/embeddings", summary="Embeddings (OpenAI)", responses={200: {"model": schemas.OpenAIEmbeddingResponse}})
async def openai_embeddings(request: Request, body: schemas.OpenAIEmbeddingRequest) -> JSONResponse:
    return await _answer(request, "/v1/embeddings", body)


@api.post("/tokenize", summary="Tokens with offsets (text-embeddings-inference)")
async def tokenize(request: Request, body: schemas.TokenizeRequest) -> JSONResponse:
    return await _answer(request, "/tokenize", body)


@api.post("/decode", summary="Texts of token ids (text-embeddings-inference)")
async def decode(request: Request, body: schemas.DecodeRequest) -> JSONResponse:
    return await _answer(request, "/decode", body)


@api.post("/predict", summary="Labels with scores (text-embeddings-inference)")
async def predict(request: Request, body: schemas.PredictRequest) -> JSONResponse:
    return await _answer(request, "/predict", body)


@api.post("/rerank", summary="Texts ranked against a query (text-embeddings-inference)")
async def rerank(request: Request, body: schemas.RerankRequest) -> JSONResponse:
    return await _answer(request, "/rerank", body)


@api.post("/fill-mask", summary="Candidates for each [MASK] (Inference API)")
async def fill_mask(request: Request, body: schemas.FillMaskRequest) -> JSONResponse:
    return await _answer(request, "/fill-mask", body)


@api.post("/token-classification", summary="Entities (Inference API)")
async def token_classification(request: Request, body: schemas.TokenClassificationRequest) -> JSONResponse:
    return await _answer(request, "/token-classification", body)


@api.post("/question-answering", summary="The answer span in a context (Inference API)")
async def question_answering(request: Request, body: schemas.QuestionAnsweringRequest) -> JSONResponse:
    return await _answer(request, "/question-answering", body)


@api.post("/multiple-choice", summary="The best choice (Inference API)")
async def multiple_choice(request: Request, body: schemas.MultipleChoiceRequest) -> JSONResponse:
    return await _answer(request, "/multiple-choice", body)


@api.post("/", summary="The model's own task route (for huggingface_hub.InferenceClient)")
async def default(request: Request) -> JSONResponse:
    """As the model's task route; a classifier's answers a list of labels per input even for one input and takes
    ``parameters.top_k`` and ``parameters.function_to_apply``, as the Inference API's text classification."""
    route = server(request).served.default_route
    try:
        payload = await request.json()
    except ValueError as error:
        raise ApiError(422, f"Malformed JSON: {error}.", "validation") from None
    try:
        body = schemas.ROOT_REQUESTS[route].model_validate(payload)
    except ValidationError as error:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in error.errors()]) from None
    return await _answer(request, route, body, ROOT_HANDLERS)


@api.get("/info", summary="Model, task, labels, limits, dtype and version")
async def info(request: Request) -> dict[str, Any]:
    state = server(request)
    served, settings = state.served, state.settings
    return {
        "model_id": served.name,
        "task": served.task.name,
        "labels": served.labels,
        "routes": [*served.routes, "/"],
        "default_route": served.default_route,
        "model_dtype": served.dtype,
        "quantize": served.quantize,
        "max_input_length": served.max_input_length,
        "max_batch_tokens": settings.max_batch_tokens,
        "max_batch_requests": settings.max_batch_requests,
        "max_wait_ms": settings.max_wait_ms,
        "max_concurrent_requests": settings.max_concurrent_requests,
        "max_client_batch_size": settings.max_client_batch_size,
        "auth": settings.api_key is not None,
        "version": albertlite.__version__,
        "process_id": os.getpid(),  # limits and /metrics are per process (--workers N)
    }


@api.get("/metrics", summary="Prometheus metrics of this process")
async def metrics(request: Request) -> Response:
    return Response(server(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)


public = APIRouter()  # no key needed: a load balancer's health check


@public.get("/health", summary="200 once the model is loaded, warmed up and its batching worker alive")
async def health(request: Request) -> dict[str, str]:
    if not server(request).healthy:
        raise ApiError(503, "The model is not ready (loading, warming up or shutting down).", "unhealthy")
    return {"status": "ok"}
