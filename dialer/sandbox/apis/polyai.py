"""polyai (``providers/polyai.txt``): ``POST /v1/outbound-calling`` with ``X-PolyAi-Auth-Token``,
and ``GET /v1/outbound-calling/{call_sid}`` for status (``calling``, then ``success`` when the call
completed or ``failure`` when it did not).

The metadata size limit, "base64 of the metadata less than 26 KB", is taken as compact JSON and
26 000 bytes: the stricter reading, so an adapter that passes here passes there.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from typing import Any

from dialer.sandbox.apis._fields import missing_strings, not_e164, not_object, not_strings
from dialer.sandbox.calls import new_call
from dialer.sandbox.http import Response
from dialer.sandbox.routing import Exchange, Reject, Route, error_field, json_object

KIND = "polyai"
MAX_METADATA_BASE64 = 26_000
ENCRYPTIONS = frozenset({"TLS/SRTP", "TLS/RTP", "UDP/SRTP", "UDP/RTP"})
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_NATIONAL = re.compile(r"^[\d\s().+-]*\d[\d\s().+-]*$")


def place_call(exchange: Exchange) -> Response:
    _authorize(exchange)
    body = json_object(exchange, error_field)
    problem = _problem(body)
    if problem:
        raise Reject(error_field(400, problem))
    state = exchange.state
    call = new_call(
        kind=KIND,
        call_id=f"OUT-{uuid.uuid4()}",
        phone=body["to_number"],
        config=state.config,
        now=state.clock(),
    )
    state.calls.add(call)
    return Response.json(200, {"call_sid": call.call_id})


def call_status(exchange: Exchange) -> Response:
    _authorize(exchange)
    call = exchange.state.calls.get(KIND, exchange.params["call_sid"])
    if call is None:
        raise Reject(error_field(404, "Call not found"))
    status = call.status(exchange.state.clock())
    if status != "calling":
        ended = "success" if status == "completed" else "failure"
        return Response.json(200, {"call_sid": call.call_id, "status": ended})
    return Response.json(200, {"call_sid": call.call_id, "status": status})


def _authorize(exchange: Exchange) -> None:
    token = exchange.request.headers.get("x-polyai-auth-token", "")
    if not token or token in exchange.state.config.invalid_keys:
        raise Reject(error_field(401, "Invalid or missing authentication token"))


def _problem(body: dict[str, Any]) -> str | None:
    return (
        missing_strings(body, ["to_number"])
        or not_strings(body, ["country_code", "encryption"])
        or _number_problem(body)
        or not_object(body, "metadata", values=(str,))
        or _metadata_size_problem(body.get("metadata"))
        or (
            f"encryption must be one of {', '.join(sorted(ENCRYPTIONS))}"
            if body.get("encryption") is not None and body["encryption"] not in ENCRYPTIONS
            else None
        )
    )


def _number_problem(body: dict[str, Any]) -> str | None:
    """E.164, unless ``country_code`` says which country's national format it is in."""
    country = body.get("country_code")
    if country is None:
        return not_e164(body, ["to_number"])
    if not _COUNTRY.match(country):
        return "country_code must be an ISO 3166-1 alpha-2 code such as US"
    if not _NATIONAL.match(body["to_number"]):
        return "to_number is not a phone number"
    return None


def _metadata_size_problem(metadata: object) -> str | None:
    if not metadata:
        return None
    encoded = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False).encode()
    if len(base64.b64encode(encoded)) >= MAX_METADATA_BASE64:
        return "metadata exceeds the 26 KB base64 size limit"
    return None


def invalid_number() -> Response:
    """The document's 400 for "an unparseable to_number"."""
    return error_field(400, "Invalid request parameters: unparseable to_number")


ROUTES = [
    Route(
        KIND,
        "POST",
        "/v1/outbound-calling",
        place_call,
        error_field,
        phone=("to_number",),
        invalid_number=invalid_number,
    ),
    Route(KIND, "GET", "/v1/outbound-calling/{call_sid}", call_status, error_field),
]
