"""libby (``providers/libby.txt``): ``POST /api/v1/outbound/call`` with an ``x-api-key``."""

from __future__ import annotations

from typing import Any

from dialer.sandbox.apis._fields import missing_strings, not_object, not_strings
from dialer.sandbox.http import Response
from dialer.sandbox.routing import Exchange, Reject, Route, json_object, message_field

KIND = "libby"
ACCEPTED = "Your call has been scheduled and will be placed shortly."


def place_call(exchange: Exchange) -> Response:
    key = exchange.request.headers.get("x-api-key", "")
    if not key or key in exchange.state.config.invalid_keys:
        raise Reject(message_field(401, "Unauthorized"))
    problem = _problem(json_object(exchange, message_field))
    if problem:
        raise Reject(message_field(400, problem))
    return Response.json(200, {"success": True, "message": ACCEPTED})


def _problem(body: dict[str, Any]) -> str | None:
    contact = body.get("contact")
    if not isinstance(contact, dict):
        return missing_strings(body, ["agentId"]) or "contact is required"
    return (
        missing_strings(body, ["agentId"])
        or missing_strings(contact, ["phoneNumber"], within="contact.")
        or not_strings(contact, ["firstName", "lastName", "email"], within="contact.")
        or not_object(body, "metadata", values=(str, int, float, bool))
        or not_strings(body, ["introMessage", "voicemailMessage", "callInstructions"])
        or _message_choice(body)
    )


def _message_choice(body: dict[str, Any]) -> str | None:
    """Either the intro/voicemail pair, or callInstructions alone (libby.txt, Body)."""
    intro, voicemail = bool(body.get("introMessage")), bool(body.get("voicemailMessage"))
    if body.get("callInstructions"):
        if intro or voicemail:
            return "callInstructions must be used alone, without introMessage or voicemailMessage"
        return None
    if intro != voicemail:
        return "introMessage and voicemailMessage must be sent together"
    if not intro:
        return "introMessage and voicemailMessage, or callInstructions, are required"
    return None


ROUTES = [
    Route(
        KIND,
        "POST",
        "/api/v1/outbound/call",
        place_call,
        message_field,
        phone=("contact", "phoneNumber"),
    )
]
