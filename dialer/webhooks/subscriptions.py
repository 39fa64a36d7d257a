"""Telling the ledger which endpoint wants which events, so transitions write them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Engine

from dialer.ledger import outbox
from dialer.ledger.engine import session_scope
from dialer.webhooks.endpoints import WebhookEndpoint


def subscribe(engine: Engine, endpoints: Sequence[WebhookEndpoint]) -> None:
    """Make the ledger's subscriptions those of ``endpoints`` (every process that changes the
    ledger calls this with the settings it runs on; they should all read the same file)."""
    wanted = {endpoint.name: [str(event) for event in endpoint.events] for endpoint in endpoints}
    with session_scope(engine) as session:
        outbox.sync_subscriptions(session, wanted=wanted)
