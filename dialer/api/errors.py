"""The one place the HTTP API turns errors into status codes and JSON bodies.

Every error answer is ``{"error": "<one line>"}``; for a :class:`~dialer.errors.DialerError` the
line is the one the CLI prints after ``error:``, with CLI options named as form fields
(:func:`in_form_terms`). The mapping follows the exception tree::

    UnknownCampaign 404 · InvalidTransition, CampaignError 409 · InputError (CsvError,
    TemplateError) 422 · ConfigError 400 · ServiceUnavailable, database unreachable 503

Anything else is a bug: logged with its traceback, answered 500 with no detail.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.routing import Match, Route

from dialer.errors import (
    CampaignError,
    ConfigError,
    DialerError,
    InputError,
    InvalidTransition,
    ServiceUnavailable,
    UnknownCampaign,
)

log = logging.getLogger("dialer.api")

_STATUS: tuple[tuple[type[DialerError], int], ...] = (
    (UnknownCampaign, 404),
    (InvalidTransition, 409),
    (CampaignError, 409),
    (InputError, 422),
    (ConfigError, 400),
    (ServiceUnavailable, 503),
)

_DESCRIPTIONS = {
    400: "Malformed request, or an account that is not configured",
    401: "Missing or wrong X-API-Key header",
    404: "No such campaign (or file)",
    409: "The campaign cannot do that now (exists already, wrong status)",
    413: "The upload is larger than max_upload_mb",
    422: "The request, a form field or the file is unusable; the line says why",
    503: "The ledger database cannot be reached",
}


class ErrorBody(BaseModel):
    """What every error answer holds."""

    error: str = Field(description="One line saying what is wrong, as the CLI would print it.")


class ApiError(Exception):
    """An error answer decided by the API itself (auth, upload limits, malformed requests)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def status_for(exc: DialerError) -> int:
    """The HTTP status of a dialer error (500 for one no client can cause)."""
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 500)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the error statuses a route can answer."""
    return {s: {"model": ErrorBody, "description": _DESCRIPTIONS[s]} for s in statuses}


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": in_form_terms(" ".join(message.split()))}, status_code=status)


_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9]*(?:-[a-z0-9]+)*)")
_BOOLEAN_FIELDS = frozenset({"append"})


def in_form_terms(message: str) -> str:
    """A line written for the CLI, told in the API's words: each ``--option`` becomes the form
    field of the same name (``--phone-column`` -> ``phone_column``; a flag, ``append=true``).
    The one place CLI wording is translated: the core's messages are written once."""

    def field(match: re.Match[str]) -> str:
        name = match.group(1).replace("-", "_")
        return f"{name}=true" if name in _BOOLEAN_FIELDS else name

    return _FLAG.sub(field, message)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, str(exc))


async def _dialer_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DialerError)
    return error_response(status_for(exc), str(exc))


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"][1:]) or "request"
    return error_response(422, f"{where}: {first['msg']}")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own answers (no such route, wrong method) in the API's shape."""
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names only the first route matching the path; list every one's methods.
        headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=headers)


def _allowed_methods(request: Request) -> set[str]:
    allowed: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE and isinstance(route, Route) and route.methods:
            allowed |= route.methods
    return allowed


async def _database_down(_request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unreachable: %s", exc)
    return error_response(503, "database unreachable; try again later")


async def _bug(request: Request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal error")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` as :class:`ErrorBody`, and document it so."""
    _document_validation_errors(app)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(DialerError, _dialer_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(Exception, _bug)


def _document_validation_errors(app: FastAPI) -> None:
    """FastAPI documents a 422 body of its own on every route with parameters; this API's
    422 answers are :class:`ErrorBody` like every other error."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        error_body = {"$ref": "#/components/schemas/ErrorBody"}
        for item in schema["paths"].values():
            for operation in item.values():
                if "422" in operation["responses"]:
                    operation["responses"]["422"] = {
                        "description": _DESCRIPTIONS[422],
                        "content": {"application/json": {"schema": error_body}},
                    }
        for name in ("HTTPValidationError", "ValidationError"):
            schema["components"]["schemas"].pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
