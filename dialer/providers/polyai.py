"""PolyAI: ``POST /v1/outbound-calling`` with ``X-PolyAi-Auth-Token``.

Everything about the contact goes to ``metadata`` (delivered to the agent as SIP headers), whose
values must all be strings and whose base64 form must stay under 26 KB. The call id is
``call_sid``.
"""

from __future__ import annotations

import base64
import json

import httpx

from dialer.providers.base import ATTEMPT_FIELD, CAMPAIGN_FIELD, CallRequest, PlaceResult
from dialer.providers.http import HttpProvider, required
from dialer.settings import AccountConfig

METADATA_LIMIT = 26_000
"""Bytes the base64 of the metadata's JSON must stay under (26 KB, read as the smaller 1000s)."""


class PolyaiProvider(HttpProvider):
    """A PolyAI connector (``token``, ``encryption``)."""

    kind = "polyai"
    default_base_url = "https://api.us-1.platform.polyai.app"
    path = "/v1/outbound-calling"

    def __init__(self, account: AccountConfig, client: httpx.Client) -> None:
        super().__init__(account, client)
        self._headers = {"X-PolyAi-Auth-Token": required(account, "token")}

    def check(self, request: CallRequest) -> str | None:
        """The metadata must fit PolyAI's size limit; no message texts."""
        encoded = json.dumps(_metadata(request), ensure_ascii=False, separators=(",", ":"))
        size = len(base64.b64encode(encoded.encode()))
        if size >= METADATA_LIMIT:
            return f"polyai metadata is {size} bytes in base64, over the {METADATA_LIMIT} limit"
        return request.messages.unsupported((), self.kind)

    def place(self, request: CallRequest) -> PlaceResult:
        """Send the call; the result's ``provider_call_id`` is PolyAI's ``call_sid``."""
        payload = {
            "to_number": request.phone,
            "metadata": _metadata(request),
            "encryption": self.account.encryption,
        }
        return self.post(payload, headers=self._headers, call_id_fields=("call_sid",))


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
