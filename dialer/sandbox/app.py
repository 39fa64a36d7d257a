"""The request pipeline: what happens to each request between the socket and a route handler.

Control requests (``/_sandbox/...``) go straight to their handler. Every other request is
recorded, then — if it dials a number some fault rule names — faulted; otherwise, after the
configured latency, answered by its provider route, or 404/405 in the error shape of the API the
path belongs to.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus

from dialer.sandbox import apis, control
from dialer.sandbox.http import Body, Misbehaviour, Reply, Request, Response, decode_body
from dialer.sandbox.routing import Exchange, Found, Route, Router, error_field, run_handler
from dialer.sandbox.rules import INVALID_NUMBER, FaultRule
from dialer.sandbox.state import SandboxState


class SandboxApp:
    """An ``http.Handler`` over one :class:`SandboxState`."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._providers = Router(apis.ROUTES)
        self._control = Router(control.ROUTES)

    async def __call__(self, request: Request) -> Reply:
        if request.path.startswith(control.PREFIX):
            found = self._control.find(request.method, request.path)
            return self._answer(found, request, decode_body(request))
        return await self._provider(request)

    async def _provider(self, request: Request) -> Reply:
        body = decode_body(request)
        found = self._providers.find(request.method, request.path)
        route = found[0] if isinstance(found, tuple) else found
        phone = found[0].dialed(body) if isinstance(found, tuple) else None
        entry = self.state.journal.record(request, route=route.kind if route else None, phone=phone)
        # Only a route that places calls yields a phone, so a rule implies a route.
        rule = self.state.rules.take(phone)
        if rule is not None:
            entry.fault = rule.action
            if rule.action == "hang":
                return Misbehaviour.HANG
        latency = self.state.config.latency_ms
        if latency:
            await asyncio.sleep(latency / 1000)
        if rule is not None and route is not None:
            if rule.action == "drop":
                return Misbehaviour.DROP
            response = _fault(route, rule)
        elif phone is not None and route is not None:
            response = self._place(route, found, request, body)
        else:
            response = self._answer(found, request, body)
        entry.status = response.status
        return response

    def _place(self, route: Route, found: Found, request: Request, body: Body) -> Response:
        """A call-placing request, within the account's cap and outside an outage
        (:mod:`dialer.sandbox.load`)."""
        state, now = self.state, self.state.clock()
        refusal = state.load.refusal(route.kind, now, state.config.max_concurrent_calls)
        if refusal is not None:
            return route.error(refusal, HTTPStatus(refusal).phrase)
        response = self._answer(found, request, body)
        if 200 <= response.status < 300:
            state.load.started(route.kind, now, state.config.call_duration_ms / 1000)
        return response

    def _answer(self, found: Found, request: Request, body: Body) -> Response:
        if found is None:
            return error_field(404, HTTPStatus.NOT_FOUND.phrase)
        if isinstance(found, Route):
            return found.error(405, HTTPStatus.METHOD_NOT_ALLOWED.phrase)
        route, params = found
        return run_handler(route, Exchange(request, params, body, self.state))


def _fault(route: Route, rule: FaultRule) -> Response:
    if rule.action == INVALID_NUMBER:
        if route.invalid_number is not None:
            return route.invalid_number()
        return route.error(400, HTTPStatus.BAD_REQUEST.phrase)
    status = int(rule.action)
    response = route.error(status, HTTPStatus(status).phrase)
    if rule.retry_after is not None:
        response = response.with_header("retry-after", rule.retry_after)
    return response
