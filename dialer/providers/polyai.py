"""PolyAI: ``POST /v1/outbound-calling`` with ``X-PolyAi-Auth-Token``.

Everything about the contact goes to ``metadata`` (delivered to the agent as SIP headers), whose
values must all be strings and whose base64 form must stay under 26 KB. The call id is
``call_sid``.

Outcomes: PolyAI sends no webhook; :meth:`PolyaiProvider.poll` asks for the call's status
(queued, calling, then success or failure), which PolyAI keeps about two hours after the call.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr

from dialer.outcomes import Outcome, StatusTable, outcome_of
from dialer.providers.account import AccountConfig
from dialer.providers.base import (
    ATTEMPT_FIELD,
    CAMPAIGN_FIELD,
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

METADATA_LIMIT = 26_000
"""Bytes the base64 of the metadata's JSON must stay under (26 KB, read as the smaller 1000s)."""

STATUSES: StatusTable = {
    "success": Outcome.COMPLETED,
    "failure": Outcome.FAILED,
    "queued": None,
    "calling": None,
}
"""PolyAI's call status: ``success`` (the call completed) or ``failure`` (it did not)."""


class PolyaiAccount(AccountConfig):
    """``provider = "polyai"``: the connector's token and the media encryption."""

    provider: Literal["polyai"] = "polyai"
    token: SecretStr
    encryption: Literal["TLS/SRTP", "TLS/RTP", "UDP/SRTP", "UDP/RTP"] = "TLS/SRTP"


class PolyaiProvider(HttpProvider[PolyaiAccount]):
    """A PolyAI connector (``token``, ``encryption``)."""

    kind = "polyai"
    account_model = PolyaiAccount
    document = "polyai.txt"
    default_base_url = "https://api.us-1.platform.polyai.app"
    path = "/v1/outbound-calling"
    capabilities = Capabilities(
        call_id_fields=("call_sid",),
        # ASSUMPTION, to verify with PolyAI: its document points to "Get call status" by
        # call_sid without showing the path; we GET /v1/outbound-calling/{call_sid} (as the
        # sandbox serves it). Status is kept ~2 h after the call ends: calls started within
        # 2 h are polled.
        poll_window=timedelta(hours=2),
        # Its 400 names "an unparseable to_number" among its causes; the others (metadata)
        # are about our request, so only an error that names to_number lists the number.
        bad_numbers=(BadNumberError(400, "an unparseable to_number"),),
    )
    poll_statuses = STATUSES

    def __init__(self, account: PolyaiAccount, client: httpx.Client | None) -> None:
        super().__init__(account, client)
        self._headers = {"X-PolyAi-Auth-Token": account.token.get_secret_value()}

    def check(self, request: CallRequest) -> str | None:
        """The metadata must fit PolyAI's size limit; no message texts."""
        encoded = json.dumps(_metadata(request), ensure_ascii=False, separators=(",", ":"))
        size = len(base64.b64encode(encoded.encode()))
        if size >= METADATA_LIMIT:
            return f"polyai metadata is {size} bytes in base64, over the {METADATA_LIMIT} limit"
        return self.unsupported(request)

    @staticmethod
    def number_refused(status: int, payload: Any) -> bool:
        """A 400 whose error text names ``to_number``. ASSUMPTION, to verify with PolyAI: its
        document shows no error body; we read ``error`` (or ``message``/``detail``)."""
        if status != 400 or not isinstance(payload, dict):
            return False
        return any(
            isinstance(payload.get(key), str) and "to_number" in payload[key]
            for key in ("error", "message", "detail")
        )

    def place(self, request: CallRequest) -> PlaceResult:
        """Send the call; the result's ``provider_call_id`` is PolyAI's ``call_sid``."""
        payload = {
            "to_number": request.phone,
            "metadata": _metadata(request),
            "encryption": self.account.encryption,
        }
        return self.post(payload, headers=self._headers)

    def poll(self, call_id: str) -> ProviderOutcome | None:
        """``GET /v1/outbound-calling/{call_sid}`` (an assumed path, see above)."""
        document = fetch_status(
            self.client,
            status_url(self.url, call_id),
            provider=self.kind,
            headers=self._headers,
            secrets=self.secrets(),
        )
        if document is None:
            return None
        outcome = outcome_of(document.get("status"), STATUSES, provider=self.kind)
        if outcome is None:
            return None
        return ProviderOutcome(outcome=outcome, payload=document, provider_call_id=call_id)


def _metadata(request: CallRequest) -> dict[str, str]:
    contact = {
        "first_name": request.first_name,
        "last_name": request.last_name,
        "email": request.email,
    }
    return {
        **{key: value for key, value in contact.items() if value},
        **{key: str(value) for key, value in request.variables.items()},
        ATTEMPT_FIELD: request.attempt_key,
        CAMPAIGN_FIELD: request.campaign,
    }
