"""Reading a call's status document: one ``GET``, its answer classified for the poller.

A status request changes nothing at the provider, so unlike :func:`dialer.providers.http.send`
there is nothing ambiguous about a failure: whatever went wrong, the poller asks again at its
next round. Answers:

    2xx with a JSON object   the document
    404                      None: the provider does not know the call (or no longer does)
    transport failure, 429, 5xx              RetryableProviderError
    401, 403                                 AccountBroken
    any other answer, or a body that is not a JSON object   RejectedByProvider

Messages carry the status code and the provider's text with the account's secrets masked,
never our request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from dialer.errors import AccountBroken, RejectedByProvider, RetryableProviderError
from dialer.providers.http import BODY_LIMIT, mask, provider_text

if TYPE_CHECKING:
    import httpx  # imported where requests are sent: loading settings needs none

logger = logging.getLogger(__name__)


def status_url(endpoint_url: str, call_id: str) -> str:
    """``endpoint_url/<call_id>``, the id escaped so it stays one path segment."""
    return f"{endpoint_url.rstrip('/')}/{quote(call_id, safe='')}"


def fetch_status(
    client: httpx.Client,
    url: str,
    *,
    provider: str,
    headers: Mapping[str, str],
    secrets: Sequence[str] = (),
) -> dict[str, Any] | None:
    """GET ``url`` once with the client's timeouts; the JSON object it answers, or None on 404.
    Raises as the module docstring says."""
    import httpx

    try:
        response = client.get(url, headers=headers)
    except httpx.RequestError as exc:
        reason = mask(str(exc), secrets) or "no detail"
        raise RetryableProviderError(
            f"{provider}: status request failed ({type(exc).__name__}: {reason})"
        ) from exc
    status = response.status_code
    if status == 404:
        return None
    body = mask(response.text, secrets)[:BODY_LIMIT]
    if not response.is_success:
        message = f"{provider}: status HTTP {status}: {mask(provider_text(response), secrets)}"
        if status == 429 or status >= 500:
            raise RetryableProviderError(message, status=status, body=body)
        if status in (401, 403):
            raise AccountBroken(message, status=status, body=body)
        raise RejectedByProvider(message, status=status, body=body)
    try:
        document = json.loads(response.content)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        document = None
    if not isinstance(document, dict):
        message = f"{provider}: status HTTP {status} is not a JSON object"
        raise RejectedByProvider(message, status=status, body=body)
    logger.debug("%s: status of a call answered %s", provider, status)
    return document
