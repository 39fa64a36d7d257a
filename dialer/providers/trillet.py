"""Trillet (the LiveKit-based agent API): ``POST /v1/api/call`` with ``x-workspace-id``.

Its document gives only the path; the host is Trillet's published one. ``x-api-key`` is sent
when the account has one. The lead goes to ``dynamic_variables`` (the agent sees them); the
attempt key and campaign go to ``metadata``, which reaches webhooks but not the agent. The call
id is ``callId``, or ``call_id`` as some deployments spell it.

Outcomes come only by webhook to ``callback_url``; there is no status to poll. Trillet documents
the envelope ``{"event": "call.completed", "data": {"callId", "status", ...}}`` and the events
``call.started``, ``call.completed`` and ``call.failed``, little more. So the reader is lenient:
the fields may sit in ``data`` or at the top level, either call id spelling works, our attempt
key is read from ``metadata`` when it is echoed back, and the call's ``status`` (when given)
decides over the event name. Its document describes no error answer (only a ``message``
"describing an error"), so none of its answers marks a number as bad.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr

from dialer.errors import MalformedOutcome
from dialer.outcomes import Outcome, StatusTable, outcome_of
from dialer.providers.account import WebhookAccount
from dialer.providers.base import (
    ATTEMPT_FIELD,
    CAMPAIGN_FIELD,
    CallRequest,
    Capabilities,
    PlaceResult,
    ProviderOutcome,
)
from dialer.providers.http import HttpProvider

_C, _NA, _B, _F, _VM = (
    Outcome.COMPLETED,
    Outcome.NO_ANSWER,
    Outcome.BUSY,
    Outcome.FAILED,
    Outcome.VOICEMAIL,
)

if TYPE_CHECKING:
    import httpx  # imported where requests are sent: loading settings needs none

STATUSES: StatusTable = {
    "completed": _C,
    "ended": _C,
    "failed": _F,
    "error": _F,
    "busy": _B,
    "no-answer": _NA,
    "unanswered": _NA,
    "not-answered": _NA,
    "voicemail": _VM,
    "machine": _VM,
    "answering-machine": _VM,
    "queued": None,
    "initiated": None,
    "scheduled": None,
    "ringing": None,
    "started": None,
    "in-progress": None,
    "active": None,
    "ongoing": None,
    "calling": None,
}
"""Trillet's call ``status``. Its documents show only ``completed``; the rest is the set of
words voice platforms commonly use, accepted so a real event is not refused for a synonym."""

EVENTS: StatusTable = {
    "call.completed": _C,
    "call.ended": _C,
    "call.failed": _F,
    "call.started": None,
}
"""Trillet's webhook ``event`` names about calls (``call.started``, ``call.completed``,
``call.failed`` are documented); its status, when it gives one, is more precise and wins."""


class TrilletAccount(WebhookAccount):
    """``provider = "trillet"``: the workspace, the agent, and the optional API key Trillet
    documents. The workspace id is what authenticates a call (``x-workspace-id``; the key is
    optional), so it is a secret like any credential: masked wherever the account is printed
    and out of whatever Trillet echoes back."""

    provider: Literal["trillet"] = "trillet"
    workspace_id: SecretStr
    agent_id: str
    api_key: SecretStr | None = None


class TrilletProvider(HttpProvider[TrilletAccount]):
    """A Trillet workspace (``workspace_id``, ``agent_id``, ``api_key``?, ``callback_url``?)."""

    kind = "trillet"
    account_model = TrilletAccount
    document = "trillet.txt"
    default_base_url = "https://api.trillet.ai"  # the document shows only the path
    path = "/v1/api/call"
    capabilities = Capabilities(call_id_fields=("callId", "call_id"), takes_callback_url=True)
    webhook_statuses = STATUSES

    def __init__(self, account: TrilletAccount, client: httpx.Client | None) -> None:
        super().__init__(account, client)
        self._headers = {"x-workspace-id": account.workspace_id.get_secret_value()}
        if account.api_key is not None:
            self._headers["x-api-key"] = account.api_key.get_secret_value()
        self._agent_id = account.agent_id

    def check(self, request: CallRequest) -> str | None:
        """No message texts: the agent holds the script."""
        return self.unsupported(request)

    def place(self, request: CallRequest) -> PlaceResult:
        """Send the call; the result's ``provider_call_id`` is ``callId`` (or ``call_id``)."""
        return self.post(self._payload(request), headers=self._headers)

    @staticmethod
    def outcome_from_webhook(payload: Mapping[str, Any]) -> ProviderOutcome | None:
        """The outcome a ``callback_url`` event reports; None for events about something else
        (``sms.sent``) or a call not over yet (``call.started``, unknown ``call.*`` events)."""
        data = payload.get("data")
        fields: Mapping[str, Any] = data if isinstance(data, Mapping) else payload
        event = payload.get("event")
        if isinstance(event, str) and not event.strip().lower().startswith("call."):
            return None
        outcome = _outcome(fields.get("status", payload.get("status")), event)
        if outcome is None:
            return None
        call_id = _text(fields, "callId", "call_id") or _text(payload, "callId", "call_id")
        metadata = fields.get("metadata", payload.get("metadata"))
        key = _text(metadata, ATTEMPT_FIELD) if isinstance(metadata, Mapping) else None
        if call_id is None and key is None:
            raise MalformedOutcome("trillet: the event names no call (callId or metadata)")
        return ProviderOutcome(
            outcome=outcome, payload=payload, provider_call_id=call_id, attempt_key=key
        )

    def _payload(self, request: CallRequest) -> dict[str, Any]:
        contact = {
            "first_name": request.first_name,
            "last_name": request.last_name,
            "email": request.email,
        }
        body: dict[str, Any] = {
            "to": request.phone,
            "call_agent_id": self._agent_id,
            "dynamic_variables": {
                **{key: value for key, value in contact.items() if value},
                **request.variables,
            },
            "metadata": {ATTEMPT_FIELD: request.attempt_key, CAMPAIGN_FIELD: request.campaign},
        }
        callback_url = request.callback_url or self.account.callback_url
        if callback_url:
            body["callback_url"] = callback_url
        return body


def _outcome(status: object, event: object) -> Outcome | None:
    """What the event's ``status`` says, else what its name says (None: not final)."""
    if status is not None:
        return outcome_of(status, STATUSES, provider="trillet")
    if isinstance(event, str):
        return EVENTS.get(event.strip().lower())
    raise MalformedOutcome("trillet: the event has neither an event name nor a status")


def _text(fields: Mapping[str, Any], *names: str) -> str | None:
    """The first of ``names`` holding a non-empty string (or number) in ``fields``."""
    for name in names:
        value = fields.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            return str(value)
    return None
