"""trillet (``providers/trillet.txt``): ``POST /v1/api/call`` with ``x-workspace-id`` (required)
and ``x-api-key`` (optional, as Trillet documents it). The call id is answered as ``callId`` or,
when configured so, ``call_id``: the real service has been seen to use both spellings.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from dialer.sandbox.apis._fields import missing_strings, not_object, not_strings
from dialer.sandbox.http import Response
from dialer.sandbox.routing import Exchange, Reject, Route, json_object

KIND = "trillet"
_ROOM_ALPHABET = string.ascii_lowercase + string.digits


def error(status: int, message: str) -> Response:
    return Response.json(status, {"status": "error", "message": message})


def place_call(exchange: Exchange) -> Response:
    headers, invalid = exchange.request.headers, exchange.state.config.invalid_keys
    workspace = headers.get("x-workspace-id", "")
    if not workspace:
        raise Reject(error(401, "Missing x-workspace-id header"))
    if workspace in invalid or headers.get("x-api-key") in invalid:
        raise Reject(error(401, "Unauthorized"))
    body = json_object(exchange, error)
    problem = _problem(body)
    if problem:
        raise Reject(error(400, problem))
    agent, to = body["call_agent_id"], body["to"]
    room = "".join(secrets.choice(_ROOM_ALPHABET) for _ in range(10))
    return Response.json(
        200,
        {
            "status": "success",
            "message": f"Outbound call job scheduled for agent {agent} to number {to}",
            exchange.state.config.trillet_call_id_field: secrets.token_hex(12),
            "roomName": f"{agent}-{room}",
            "jobId": str(next(exchange.state.job_ids)),
        },
    )


def _problem(body: dict[str, Any]) -> str | None:
    return (
        missing_strings(body, ["to", "call_agent_id"])
        or not_strings(body, ["callback_url"])
        or not_object(body, "dynamic_variables")
        or not_object(body, "metadata")
    )


ROUTES = [Route(KIND, "POST", "/v1/api/call", place_call, error, phone=("to",))]
