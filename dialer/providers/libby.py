"""Libby (heylibby.com): ``POST /api/v1/outbound/call`` with an ``x-api-key`` header.

The answer carries no call id: the attempt key sent in ``metadata`` is the correlation key.
Messages: ``introMessage`` and ``voicemailMessage`` together, or ``callInstructions`` alone (the
document describes the instructions as what to send when the pair is not: one is required).
Its document shows no error answer at all, so none of its answers marks a number as bad.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr

from dialer.providers.account import AccountConfig
from dialer.providers.base import (
    ATTEMPT_FIELD,
    CAMPAIGN_FIELD,
    CallRequest,
    Capabilities,
    PlaceResult,
)
from dialer.providers.http import HttpProvider
from dialer.providers.limits import too_long

if TYPE_CHECKING:
    import httpx  # imported where requests are sent: loading settings needs none


class LibbyAccount(AccountConfig):
    """``provider = "libby"``: the API key and the agent that places the calls."""

    provider: Literal["libby"] = "libby"
    api_key: SecretStr
    agent_id: str


class LibbyProvider(HttpProvider[LibbyAccount]):
    """A Libby account (``api_key``, ``agent_id``)."""

    kind = "libby"
    account_model = LibbyAccount
    document = "libby.txt"
    default_base_url = "https://api.heylibby.com"
    path = "/api/v1/outbound/call"
    capabilities = Capabilities(messages=frozenset({"intro", "voicemail", "instructions"}))

    def __init__(self, account: LibbyAccount, client: httpx.Client | None) -> None:
        super().__init__(account, client)
        self._headers = {"x-api-key": account.api_key.get_secret_value()}
        self._agent_id = account.agent_id

    def check(self, request: CallRequest) -> str | None:
        """Intro and voicemail as a pair, or instructions alone: one of the two is required."""
        messages = request.messages
        oversized = too_long(self.kind, messages)
        if oversized:
            return oversized
        unsupported = self.unsupported(request)
        if unsupported:
            return unsupported
        if bool(messages.intro) != bool(messages.voicemail):
            return "libby needs --intro and --voicemail together (one of them is empty)"
        if messages.instructions and messages.intro:
            return "libby takes --intro/--voicemail or --instructions, not both"
        if not (messages.instructions or messages.intro):
            return "libby needs --intro and --voicemail, or --instructions"
        return None

    def place(self, request: CallRequest) -> PlaceResult:
        """Send the call; the result's ``provider_call_id`` is always None."""
        return self.post(self._payload(request), headers=self._headers)

    def _payload(self, request: CallRequest) -> dict[str, Any]:
        contact = {
            "phoneNumber": request.phone,
            "firstName": request.first_name,
            "lastName": request.last_name,
            "email": request.email,
        }
        body: dict[str, Any] = {
            "agentId": self._agent_id,
            "contact": {key: value for key, value in contact.items() if value},
            "metadata": {
                **request.variables,
                ATTEMPT_FIELD: request.attempt_key,
                CAMPAIGN_FIELD: request.campaign,
            },
        }
        messages = request.messages
        if messages.intro or messages.voicemail:
            body["introMessage"] = messages.intro
            body["voicemailMessage"] = messages.voicemail
        elif messages.instructions:
            body["callInstructions"] = messages.instructions
        return body
