"""Routes, the router, and what a route handler is given.

A handler is a plain function from an :class:`Exchange` to a :class:`Response`; to refuse a
request it raises :class:`Reject` with the answer, which keeps validation code linear. Every route
carries its provider's error shape, so faults injected on it look like that provider's errors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from dialer.sandbox.http import Body, Request, Response
from dialer.sandbox.state import SandboxState

ErrorShape = Callable[[int, str], Response]


@dataclass(frozen=True, slots=True)
class Exchange:
    request: Request
    params: Mapping[str, str]
    body: Body
    state: SandboxState


class Reject(Exception):
    """Raised by a handler to answer with ``response`` instead of going on."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


Handler = Callable[[Exchange], Response]


@dataclass(frozen=True, slots=True)
class Route:
    """``template`` is a path where ``{name}`` matches one segment. ``phone`` is where the dialed
    number sits in the JSON body, for routes that place calls (fault rules match on it).
    ``invalid_number`` is the API's answer for a number that cannot be called, for APIs whose
    document gives one (the ``invalid-number`` fault)."""

    kind: str
    method: str
    template: str
    handler: Handler
    error: ErrorShape
    phone: tuple[str, ...] = ()
    invalid_number: Callable[[], Response] | None = None
    pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    def dialed(self, body: Body) -> str | None:
        """The number this request dials, if it is a call-placing request that names one."""
        if not self.phone or body[0] != "json":
            return None
        value: Any = body[1]
        for key in self.phone:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value if isinstance(value, str) else None


Found = tuple[Route, dict[str, str]] | Route | None
"""A router's answer: ``(route, params)`` on a match; a route of that path when only the method
is wrong (answer 405 in its shape); None when no route has that path (answer 404)."""


class Router:
    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = tuple(routes)

    def find(self, method: str, path: str) -> Found:
        same_path: Route | None = None
        for route in self._routes:
            match = route.pattern.match(path)
            if match is None:
                continue
            if route.method == method:
                return route, match.groupdict()
            same_path = same_path or route
        return same_path


def run_handler(route: Route, exchange: Exchange) -> Response:
    try:
        return route.handler(exchange)
    except Reject as reject:
        return reject.response
    except Exception:
        # A bug in the sandbox must look like a provider's 500, not kill the connection: clients
        # under test would otherwise see a dropped request, which means something else entirely.
        return route.error(500, HTTPStatus.INTERNAL_SERVER_ERROR.phrase)


def error_field(status: int, message: str) -> Response:
    """The common error shape ``{"error": message}``."""
    return Response.json(status, {"error": message})


def message_field(status: int, message: str) -> Response:
    """API Gateway's error shape ``{"message": message}``."""
    return Response.json(status, {"message": message})


def json_object(exchange: Exchange, error: ErrorShape) -> dict[str, Any]:
    """The body as a JSON object, or Reject with a 400 in the route's error shape."""
    if exchange.request.content_type != "application/json":
        raise Reject(error(400, "Content-Type must be application/json"))
    kind, value = exchange.body
    if kind != "json":
        raise Reject(error(400, "Request body is not valid JSON"))
    if not isinstance(value, dict):
        raise Reject(error(400, "Request body must be a JSON object"))
    return value
