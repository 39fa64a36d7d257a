"""libby-legacy (``providers/libby-legacy.txt``): a Cognito-style client-credentials token
endpoint, ``POST /oauth2/token``, and ``POST /outbound`` authorised by its bearer tokens.

A token is good for ``token_ttl`` seconds and only if one of its scopes is a ``call.out`` scope
(omitting ``scope`` grants the documented one, as Cognito grants all allowed scopes). Anything else
on ``/outbound`` — no token, an unknown or expired one — gets the documented 403.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from dialer.sandbox.apis._fields import missing_strings, not_e164, not_string_list, not_strings
from dialer.sandbox.http import Response
from dialer.sandbox.routing import (
    Exchange,
    Reject,
    Route,
    error_field,
    json_object,
    message_field,
)

KIND = "libby-legacy"
DEFAULT_SCOPE = "external-api-resource-server-1/call.out"
FORBIDDEN = "Forbidden: Incorrect scopes"


def issue_token(exchange: Exchange) -> Response:
    if exchange.request.content_type != "application/x-www-form-urlencoded":
        raise Reject(error_field(400, "invalid_request"))
    kind, form = exchange.body
    fields: dict[str, str] = form if kind == "form" else {}
    client_id, secret = _client_credentials(exchange, fields)
    invalid = exchange.state.config.invalid_keys
    if not client_id or not secret or client_id in invalid or secret in invalid:
        raise Reject(error_field(400, "invalid_client"))
    if fields.get("grant_type") != "client_credentials":
        raise Reject(error_field(400, "unsupported_grant_type"))
    scopes = frozenset(fields.get("scope", "").split()) or frozenset([DEFAULT_SCOPE])
    ttl = exchange.state.config.token_ttl
    token = exchange.state.tokens.issue(scopes, ttl=ttl, now=exchange.state.clock())
    return Response.json(200, {"access_token": token, "expires_in": ttl, "token_type": "Bearer"})


def _client_credentials(exchange: Exchange, fields: dict[str, str]) -> tuple[str, str]:
    """From the form, or from HTTP Basic auth, which Cognito accepts as well."""
    scheme, _, encoded = exchange.request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return client_id, secret
    return fields.get("client_id", ""), fields.get("client_secret", "")


def place_call(exchange: Exchange) -> Response:
    scheme, _, token = exchange.request.headers.get("authorization", "").partition(" ")
    scopes = None
    if scheme.lower() == "bearer":
        scopes = exchange.state.tokens.scopes(token.strip(), now=exchange.state.clock())
    if not scopes or not any(scope.endswith("/call.out") for scope in scopes):
        raise Reject(message_field(403, FORBIDDEN))
    problem = _problem(json_object(exchange, message_field))
    if problem:
        raise Reject(message_field(400, problem))
    return Response.json(200, {"message": "Outbound call processed"})


def _problem(body: dict[str, Any]) -> str | None:
    form_info = body.get("formInfo")
    return (
        missing_strings(body, ["name", "toPhoneNumber", "fromPhoneNumber"])
        or not_e164(body, ["toPhoneNumber", "fromPhoneNumber"])
        or not_strings(body, ["introNotes", "introMessage", "introVoicemail"])
        or not_string_list(body, ["customQuestions", "customRules"])
        or (
            "formInfo must be an array of objects"
            if form_info is not None
            and not (isinstance(form_info, list) and all(isinstance(i, dict) for i in form_info))
            else None
        )
    )


ROUTES = [
    Route(KIND, "POST", "/oauth2/token", issue_token, error_field),
    Route(KIND, "POST", "/outbound", place_call, message_field, phone=("toPhoneNumber",)),
]
