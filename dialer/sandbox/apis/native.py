"""The sandbox's own provider kind (the ``sandbox`` account): no auth, one call per request.

``POST /sandbox/call`` ``{"to", "attempt", "campaign", "variables", "messages"}`` answers
``{"call_id": "SBX-<uuid>"}``; ``GET /sandbox/call/{call_id}`` answers its status, in allomia's
words (``calling``, then ``completed``, ``failed``, ``busy`` or ``no-answer``).
"""

from __future__ import annotations

import uuid
from typing import Any

from dialer.sandbox.apis._fields import not_e164, not_object, not_strings
from dialer.sandbox.calls import new_call
from dialer.sandbox.http import Response
from dialer.sandbox.routing import Exchange, Reject, Route, error_field, json_object

KIND = "sandbox"


def place_call(exchange: Exchange) -> Response:
    body = json_object(exchange, error_field)
    problem = _problem(body)
    if problem:
        raise Reject(error_field(400, problem))
    state = exchange.state
    call = new_call(
        kind=KIND,
        call_id=f"SBX-{uuid.uuid4()}",
        phone=body["to"],
        config=state.config,
        now=state.clock(),
        details={"attempt": body.get("attempt"), "campaign": body.get("campaign")},
    )
    state.calls.add(call)
    return Response.json(200, {"call_id": call.call_id})


def call_status(exchange: Exchange) -> Response:
    call = exchange.state.calls.get(KIND, exchange.params["call_id"])
    if call is None:
        raise Reject(error_field(404, "Call not found"))
    return Response.json(
        200,
        {
            "call_id": call.call_id,
            "status": call.status(exchange.state.clock()),
            "to": call.phone,
            **call.details,
        },
    )


def _problem(body: dict[str, Any]) -> str | None:
    return (
        not_e164(body, ["to"])
        or not_strings(body, ["attempt", "campaign"])
        or not_object(body, "variables", values=(str,))
        or not_object(body, "messages")
    )


def invalid_number() -> Response:
    """A number the sandbox cannot call (what the sandbox account recognises as one)."""
    return Response.json(400, {"error": "to: number not in service", "code": "invalid_number"})


ROUTES = [
    Route(
        KIND,
        "POST",
        "/sandbox/call",
        place_call,
        error_field,
        phone=("to",),
        invalid_number=invalid_number,
    ),
    Route(KIND, "GET", "/sandbox/call/{call_id}", call_status, error_field),
]
