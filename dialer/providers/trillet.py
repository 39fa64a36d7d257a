"""Trillet (the LiveKit-based agent API): ``POST /v1/api/call`` with ``x-workspace-id``.

Its document gives only the path; the host is Trillet's published one. ``x-api-key`` is sent
when the account has one. The lead goes to ``dynamic_variables`` (the agent sees them); the
attempt key and campaign go to ``metadata``, which reaches webhooks but not the agent. The call
id is ``callId``, or ``call_id`` as some deployments spell it.
"""

from __future__ import annotations

from typing import Any

import httpx

from dialer.providers.base import ATTEMPT_FIELD, CAMPAIGN_FIELD, CallRequest, PlaceResult
from dialer.providers.http import HttpProvider, required
from dialer.settings import AccountConfig


class TrilletProvider(HttpProvider):
    """A Trillet workspace (``workspace_id``, ``agent_id``, ``api_key``?, ``callback_url``?)."""

    kind = "trillet"
    default_base_url = "https://api.trillet.ai"  # the document shows only the path
    path = "/v1/api/call"

    def __init__(self, account: AccountConfig, client: httpx.Client) -> None:
        super().__init__(account, client)
        self._headers = {"x-workspace-id": required(account, "workspace_id")}
        if account.api_key is not None:
            self._headers["x-api-key"] = account.api_key.get_secret_value()
        self._agent_id = required(account, "agent_id")

    def check(self, request: CallRequest) -> str | None:
        """No message texts: the agent holds the script."""
        return request.messages.unsupported((), self.kind)

    def place(self, request: CallRequest) -> PlaceResult:
        """Send the call; the result's ``provider_call_id`` is ``callId`` (or ``call_id``)."""
        return self.post(
            self._payload(request), headers=self._headers, call_id_fields=("callId", "call_id")
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
