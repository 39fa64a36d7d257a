"""allomia (``providers/allomia.txt``): ``POST /api/outbound`` with ``Authorization: Bearer KEY``,
``GET /api/outbound/{outboundCallId}`` for status, and a terminal-state webhook to
``callbackUrl``. Validation errors list every bad field, zod-style, as the document shows.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

from dialer.sandbox.calls import PlacedCall, new_call
from dialer.sandbox.http import Response
from dialer.sandbox.routing import Exchange, Reject, Route, error_field, json_object

KIND = "allomia"
Detail = dict[str, str]


def place_call(exchange: Exchange) -> Response:
    _authorize(exchange)
    body = json_object(exchange, error_field)
    details = _details(body)
    if details:
        raise Reject(Response.json(400, {"error": "Invalid request data", "details": details}))
    state = exchange.state
    call = new_call(
        kind=KIND,
        call_id=str(uuid.uuid4()),
        phone=body["phoneNumber"],
        config=state.config,
        now=state.clock(),
        details={"contactId": str(uuid.uuid4()), "customerName": body.get("customerName")},
    )
    state.calls.add(call)
    if body.get("callbackUrl") and state.config.webhooks:
        state.webhooks.schedule(
            body["callbackUrl"],
            delay=call.ends - call.started,
            payload=lambda: _status(call, state.clock()),
        )
    return Response.json(
        200,
        {
            "outboundCallId": call.call_id,
            "contactId": call.details["contactId"],
            "status": "calling",
            "message": "Outbound call dispatched",
        },
    )


def call_status(exchange: Exchange) -> Response:
    _authorize(exchange)
    call = exchange.state.calls.get(KIND, exchange.params["call_id"])
    if call is None:
        raise Reject(error_field(404, "Outbound call not found"))
    return Response.json(200, _status(call, exchange.state.clock()))


def _status(call: PlacedCall, now: float) -> dict[str, Any]:
    """The status document, which the webhook mirrors."""
    ended = call.ended_at(now)
    return {
        "outboundCallId": call.call_id,
        "contactId": call.details["contactId"],
        "status": call.status(now),
        "phoneNumber": call.phone,
        "customerName": call.details["customerName"],
        "createdAt": call.started_at.isoformat(),
        "endedAt": ended.isoformat() if ended else None,
    }


def _authorize(exchange: Exchange) -> None:
    scheme, _, key = exchange.request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip() or key in exchange.state.config.invalid_keys:
        raise Reject(error_field(401, "Invalid or missing API key"))


def _details(body: dict[str, Any]) -> list[Detail]:
    details: list[Detail] = []
    phone = body.get("phoneNumber")
    if _typed(details, body, "phoneNumber", required=True) and isinstance(phone, str):
        if len(phone) < 10:
            details.append(
                _detail("phoneNumber", "Phone number must be at least 10 digits", "too_small")
            )
        elif len(phone) > 20:
            details.append(
                _detail("phoneNumber", "Phone number must be at most 20 digits", "too_big")
            )
    for name in ("assistantId", "phoneNumberId"):
        if _typed(details, body, name, required=True) and not body[name]:
            details.append(
                _detail(name, "String must contain at least 1 character(s)", "too_small")
            )
    _typed(details, body, "customerName")
    if _typed(details, body, "callbackUrl") and "callbackUrl" in body:
        url = urlsplit(body["callbackUrl"])
        if url.scheme not in {"http", "https"} or not url.netloc:
            details.append(_detail("callbackUrl", "Invalid url", "invalid_string"))
    variables = body.get("dynamicVariables")
    if isinstance(variables, dict):
        for key, value in variables.items():
            if not isinstance(value, str):
                details.append(_type_detail(f"dynamicVariables.{key}", "string", value))
    elif variables is not None:
        details.append(_type_detail("dynamicVariables", "object", variables))
    return details


def _typed(
    details: list[Detail], body: dict[str, Any], name: str, *, required: bool = False
) -> bool:
    """Note a problem if ``name`` is missing (when required) or not a string; True if fine."""
    if name not in body:
        if required:
            details.append(_detail(name, "Required", "invalid_type"))
        return not required
    if not isinstance(body[name], str):
        details.append(_type_detail(name, "string", body[name]))
        return False
    return True


def _type_detail(field: str, expected: str, value: object) -> Detail:
    return _detail(field, f"Expected {expected}, received {_zod_type(value)}", "invalid_type")


def _zod_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "string"


def _detail(field: str, message: str, code: str) -> Detail:
    return {"field": field, "message": message, "code": code}


def invalid_number() -> Response:
    """The document's validation error for the number (its own example)."""
    detail = _detail("phoneNumber", "Phone number must be at least 10 digits", "too_small")
    return Response.json(400, {"error": "Invalid request data", "details": [detail]})


ROUTES = [
    Route(
        KIND,
        "POST",
        "/api/outbound",
        place_call,
        error_field,
        phone=("phoneNumber",),
        invalid_number=invalid_number,
    ),
    Route(KIND, "GET", "/api/outbound/{call_id}", call_status, error_field),
]
