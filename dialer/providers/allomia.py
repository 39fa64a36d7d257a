"""AlloMia: ``POST /api/outbound`` with ``Authorization: Bearer <api_key>``.

The call id is ``outboundCallId``. AlloMia takes no message texts (the assistant holds the
script); the lead's columns go to ``dynamicVariables``, whose values must be strings.

Outcomes: AlloMia POSTs to ``callbackUrl`` when a call reaches a terminal state (completed,
failed, busy, no-answer), with a body that mirrors its "Get Outbound Call Status" answer, which
:meth:`AllomiaProvider.poll` asks for as well (a missed webhook is caught up that way).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr

from dialer.errors import MalformedOutcome
from dialer.outcomes import Outcome, StatusTable, outcome_of
from dialer.providers.account import WebhookAccount
from dialer.providers.base import (
    BadNumberError,
    CallRequest,
    Capabilities,
    PlaceResult,
    ProviderOutcome,
)
from dialer.providers.http import HttpProvider
from dialer.providers.status import fetch_status, status_url

if TYPE_CHECKING:
    import httpx  # imported where requests are sent: loading settings needs none

PHONE_LENGTH = range(10, 21)
"""``phoneNumber`` must be 10 to 20 characters long."""

STATUSES: StatusTable = {
    # Terminal states, as the callbackUrl documentation names them.
    "completed": Outcome.COMPLETED,
    "failed": Outcome.FAILED,
    "busy": Outcome.BUSY,
    "no-answer": Outcome.NO_ANSWER,
    # "calling" is the documented initial status; the others are read as in progress too.
    "calling": None,
    "queued": None,
    "ringing": None,
    "in-progress": None,
}
"""AlloMia's ``status`` (webhook and ``GET /api/outbound/{id}``). The sandbox's own kind
reports its calls in these same words."""


class AllomiaAccount(WebhookAccount):
    """``provider = "allomia"``: the API key, the assistant, the number it calls from."""

    provider: Literal["allomia"] = "allomia"
    api_key: SecretStr
    assistant_id: str
    phone_number_id: str


class AllomiaProvider(HttpProvider[AllomiaAccount]):
    """An AlloMia account (``api_key``, ``assistant_id``, ``phone_number_id``, ``callback_url``)."""

    kind = "allomia"
    account_model = AllomiaAccount
    document = "allomia.txt"
    default_base_url = "https://allomia.com"
    path = "/api/outbound"
    capabilities = Capabilities(
        call_id_fields=("outboundCallId",),
        takes_callback_url=True,
        # ASSUMPTION, to verify with AlloMia: its document names "Get Outbound Call Status"
        # but shows neither its path nor how long a call's status is kept. We GET
        # /api/outbound/{outboundCallId} (as the sandbox serves it) for a day after the call.
        poll_window=timedelta(hours=24),
        # Its one error about the number called: a validation error listing phoneNumber. (Its
        # 404 "Assistant or phone number not found" is about phoneNumberId, our own line.)
        # ASSUMPTION, to verify with AlloMia: the document shows no status for it; 400.
        bad_numbers=(BadNumberError(400, '"field": "phoneNumber"'),),
    )
    webhook_statuses = STATUSES
    poll_statuses = STATUSES

    def __init__(self, account: AllomiaAccount, client: httpx.Client | None) -> None:
        super().__init__(account, client)
        self._headers = {"Authorization": f"Bearer {account.api_key.get_secret_value()}"}
        self._assistant_id = account.assistant_id
        self._phone_number_id = account.phone_number_id

    def check(self, request: CallRequest) -> str | None:
        """The number must be 10 to 20 characters; no message texts."""
        if len(request.phone) not in PHONE_LENGTH:
            return f"allomia needs a phone number of 10 to 20 characters, got {len(request.phone)}"
        return self.unsupported(request)

    def place(self, request: CallRequest) -> PlaceResult:
        """Send the call; the result's ``provider_call_id`` is AlloMia's ``outboundCallId``."""
        return self.post(self._payload(request), headers=self._headers)

    @staticmethod
    def number_refused(status: int, payload: Any) -> bool:
        """A validation error ("Invalid request data", a 4xx) whose ``details`` name the
        ``phoneNumber`` field."""
        if not 400 <= status < 500 or status in (401, 403, 429) or not isinstance(payload, dict):
            return False
        details = payload.get("details")
        return isinstance(details, list) and any(
            isinstance(item, dict) and item.get("field") == "phoneNumber" for item in details
        )

    @staticmethod
    def outcome_from_webhook(payload: Mapping[str, Any]) -> ProviderOutcome | None:
        """The terminal state a ``callbackUrl`` POST reports (None for a non-terminal one)."""
        return _outcome(payload, call_id=None)

    def poll(self, call_id: str) -> ProviderOutcome | None:
        """``GET /api/outbound/{outboundCallId}`` (an assumed path, see above)."""
        document = fetch_status(
            self.client,
            status_url(self.url, call_id),
            provider=self.kind,
            headers=self._headers,
            secrets=self.secrets(),
        )
        return None if document is None else _outcome(document, call_id=call_id)

    def _payload(self, request: CallRequest) -> dict[str, Any]:
        body: dict[str, Any] = {
            "phoneNumber": request.phone,
            "assistantId": self._assistant_id,
            "phoneNumberId": self._phone_number_id,
        }
        name = f"{request.first_name} {request.last_name}".strip()
        if name:
            body["customerName"] = name
        body["dynamicVariables"] = {key: str(value) for key, value in request.variables.items()}
        callback_url = request.callback_url or self.account.callback_url
        if callback_url:
            body["callbackUrl"] = callback_url
        return body


def _outcome(document: Mapping[str, Any], *, call_id: str | None) -> ProviderOutcome | None:
    """A status document as an outcome; its ``outboundCallId`` names the call (``call_id``,
    the one asked about, when the document leaves it out)."""
    named = document.get("outboundCallId", call_id)
    if not isinstance(named, str) or not named:
        raise MalformedOutcome("allomia: the status names no outboundCallId")
    outcome = outcome_of(document.get("status"), STATUSES, provider="allomia")
    if outcome is None:
        return None
    return ProviderOutcome(outcome=outcome, payload=document, provider_call_id=named)
