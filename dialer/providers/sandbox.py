"""The sandbox: the dialer's own dry-run provider (``dialer sandbox``), ``POST /sandbox/call``.

No authentication. The body is ``{"to", "attempt", "campaign", "variables", "messages"}`` with
only the messages that were given; the answer is ``{"call_id"}``. ``GET /sandbox/call/{call_id}``
answers the call's status in AlloMia's words, which :meth:`SandboxProvider.poll` reads. A
number it cannot call is a 400 ``{"error", "code": "invalid_number"}``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from dialer.outcomes import outcome_of
from dialer.providers.account import AccountConfig
from dialer.providers.allomia import STATUSES as ALLOMIA_STATUSES
from dialer.providers.base import (
    MESSAGE_OPTIONS,
    BadNumberError,
    CallRequest,
    Capabilities,
    PlaceResult,
    ProviderOutcome,
)
from dialer.providers.http import HttpProvider
from dialer.providers.status import fetch_status, status_url

SANDBOX_PORT = 8765
SANDBOX_URL = f"http://127.0.0.1:{SANDBOX_PORT}"
"""Where ``dialer sandbox`` listens by default, and the sandbox account's default host."""


INVALID_NUMBER_CODE = "invalid_number"
"""The ``code`` of the sandbox's answer for a number it cannot call."""


class SandboxAccount(AccountConfig):
    """``provider = "sandbox"``: no credentials, only the common fields."""

    provider: Literal["sandbox"] = "sandbox"


class SandboxProvider(HttpProvider[SandboxAccount]):
    """The sandbox server at ``base_url`` (default :data:`SANDBOX_URL`)."""

    kind = "sandbox"
    account_model = SandboxAccount
    document = None  # our own: dialer/sandbox/ is its definition
    default_base_url = SANDBOX_URL
    path = "/sandbox/call"
    capabilities = Capabilities(
        messages=frozenset(MESSAGE_OPTIONS),
        call_id_fields=("call_id",),
        poll_window=timedelta(hours=2),
        # It accepts every contact: the import need not build a request per row to ask.
        checks_rows=False,
        bad_numbers=(BadNumberError(400, INVALID_NUMBER_CODE),),
    )
    poll_statuses = ALLOMIA_STATUSES

    def check(self, request: CallRequest) -> str | None:
        """The sandbox accepts every contact."""
        return None

    @staticmethod
    def number_refused(status: int, payload: Any) -> bool:
        """A 400 with ``"code": "invalid_number"``."""
        return (
            status == 400
            and isinstance(payload, dict)
            and payload.get("code") == INVALID_NUMBER_CODE
        )

    def place(self, request: CallRequest) -> PlaceResult:
        """Send the call; the result's ``provider_call_id`` is the sandbox's ``call_id``."""
        payload = {
            "to": request.phone,
            "attempt": request.attempt_key,
            "campaign": request.campaign,
            "variables": dict(request.variables),
            "messages": request.messages.given(),
        }
        return self.post(payload, headers={})

    def poll(self, call_id: str) -> ProviderOutcome | None:
        """``GET /sandbox/call/{call_id}``."""
        url = status_url(self.url, call_id)
        document = fetch_status(self.client, url, provider=self.kind, headers={})
        if document is None:
            return None
        outcome = outcome_of(document.get("status"), self.poll_statuses, provider=self.kind)
        if outcome is None:
            return None
        return ProviderOutcome(outcome=outcome, payload=document, provider_call_id=call_id)
