"""AlloMia: ``POST /api/outbound`` with ``Authorization: Bearer <api_key>``.

The call id is ``outboundCallId``. AlloMia takes no message texts (the assistant holds the
script); the lead's columns go to ``dynamicVariables``, whose values must be strings.
"""

from __future__ import annotations

from typing import Any

import httpx

from dialer.providers.base import CallRequest, PlaceResult
from dialer.providers.http import HttpProvider, required
from dialer.settings import AccountConfig

PHONE_LENGTH = range(10, 21)
"""``phoneNumber`` must be 10 to 20 characters long."""


class AllomiaProvider(HttpProvider):
    """An AlloMia account (``api_key``, ``assistant_id``, ``phone_number_id``, ``callback_url``)."""

    kind = "allomia"
    default_base_url = "https://allomia.com"
    path = "/api/outbound"

    def __init__(self, account: AccountConfig, client: httpx.Client) -> None:
        super().__init__(account, client)
        self._headers = {"Authorization": f"Bearer {required(account, 'api_key')}"}
        self._assistant_id = required(account, "assistant_id")
        self._phone_number_id = required(account, "phone_number_id")

    def check(self, request: CallRequest) -> str | None:
        """The number must be 10 to 20 characters; no message texts."""
        if len(request.phone) not in PHONE_LENGTH:
            return f"allomia needs a phone number of 10 to 20 characters, got {len(request.phone)}"
        return request.messages.unsupported((), self.kind)

    def place(self, request: CallRequest) -> PlaceResult:
        """Send the call; the result's ``provider_call_id`` is AlloMia's ``outboundCallId``."""
        return self.post(
            self._payload(request), headers=self._headers, call_id_fields=("outboundCallId",)
        )

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
