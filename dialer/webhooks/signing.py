"""Standard Webhooks signatures (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``:
HMAC-SHA256 of ``id.timestamp.body`` with the endpoint's ``whsec_`` secret), made by the
specification's reference library, so any receiver's official verifier accepts them."""

from __future__ import annotations

import math
from datetime import datetime

from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook

USER_AGENT = "dialer-webhooks/1"


def signed_headers(
    secret: SecretStr, *, message_id: str, timestamp: datetime, body: bytes
) -> dict[str, str]:
    """The request headers of one try: the same ``message_id`` on every try of an event,
    ``timestamp`` the moment of this try (receivers refuse ones more than 5 minutes off)."""
    signature = Webhook(secret.get_secret_value()).sign(message_id, timestamp, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(math.floor(timestamp.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }
