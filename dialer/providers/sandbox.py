"""The sandbox: the dialer's own dry-run provider (``dialer sandbox``), ``POST /sandbox/call``.

No authentication. The body is ``{"to", "attempt", "campaign", "variables", "messages"}`` with
only the messages that were given; the answer is ``{"call_id"}``.
"""

from __future__ import annotations

from dialer.providers.base import CallRequest, PlaceResult
from dialer.providers.http import HttpProvider
from dialer.settings import SANDBOX_URL


class SandboxProvider(HttpProvider):
    """The sandbox server at ``base_url`` (default :data:`dialer.settings.SANDBOX_URL`)."""

    kind = "sandbox"
    default_base_url = SANDBOX_URL
    path = "/sandbox/call"

    def check(self, request: CallRequest) -> str | None:
        """The sandbox accepts every contact."""
        return None

    def place(self, request: CallRequest) -> PlaceResult:
        """Send the call; the result's ``provider_call_id`` is the sandbox's ``call_id``."""
        payload = {
            "to": request.phone,
            "attempt": request.attempt_key,
            "campaign": request.campaign,
            "variables": dict(request.variables),
            "messages": request.messages.given(),
        }
        return self.post(payload, headers={}, call_id_fields=("call_id",))
