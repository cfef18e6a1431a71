"""Errors as JSON: ``{"error", "error_type"}`` (text-embeddings-inference), OpenAI's shape on ``/v1/...``.

The client never sees a traceback; unexpected errors are logged here and answered 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

logger = logging.getLogger("albertlite.serve")

# error_type by status, for the errors that do not name their own
_KINDS = {400: "validation", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed", 413: "validation",
          422: "validation", 429: "overloaded", 500: "backend", 503: "unhealthy"}  # fmt: skip


class ApiError(Exception):
    """An error the client should see: its HTTP status, message and kind (``error_type``)."""

    def __init__(self, status: int, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type or _KINDS.get(status, "backend")


def validation_error(message: str) -> ApiError:
    """422: the request is well-formed JSON but not a valid request."""
    return ApiError(422, message, "validation")


def error_response(path: str, status: int, message: str, error_type: str, headers: Any = None) -> JSONResponse:
    """The JSON error body for a route (OpenAI's under ``/v1/``)."""
    if path.startswith("/v1/"):
        body: dict[str, Any] = {"error": {"message": message, "type": error_type, "param": None, "code": None}}
    else:
        body = {"error": message, "error_type": error_type}
    return JSONResponse(body, status_code=status, headers=headers)


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _schema_message(error: RequestValidationError) -> str:
    """One line naming the first wrong field: ``body.inputs: Input should be a valid string``."""
    problems = error.errors()
    if not problems:
        return "Invalid request."
    problem = problems[0]
    if problem.get("type") == "json_invalid":
        return f"Malformed JSON: {problem.get('ctx', {}).get('error', problem.get('msg'))}."
    where = ".".join(str(part) for part in problem.get("loc", ()))
    return f"{where}: {problem.get('msg')}" if where else str(problem.get("msg"))


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error with the JSON body of its route."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, error: ApiError) -> JSONResponse:
        return error_response(request.url.path, error.status, error.message, error.error_type)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return error_response(request.url.path, 422, _schema_message(error), "validation")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> JSONResponse:
        kind = _KINDS.get(error.status_code, "backend")
        return error_response(request.url.path, error.status_code, str(error.detail), kind, error.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.error("%s %s failed", request.method, request.url.path, exc_info=error)
        return error_response(request.url.path, 500, "Internal error (the server's log has the details).", "backend")
