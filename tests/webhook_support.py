"""Outbound-webhook test helpers: an endpoint at a receiver, the outbox's rows, a fake clock
that jumps to the next due try."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from dialer.ledger.deliveries import aware
from dialer.ledger.engine import session_scope, utcnow
from dialer.models import WebhookEvent
from dialer.webhooks.endpoints import WebhookEndpoint
from tests.webhook_receiver import SECRET


def endpoint(url: str, **fields: Any) -> WebhookEndpoint:
    return WebhookEndpoint.model_validate(
        {"name": "crm", "url": url, "secret": SECRET, "timeout": 0.3, **fields}
    )


def events(engine: Engine) -> list[WebhookEvent]:
    with session_scope(engine) as session:
        return list(session.exec(select(WebhookEvent).order_by(col(WebhookEvent.id))))


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def jump_to_next_due(self, engine: Engine) -> bool:
        """Move to the earliest pending event's next try; False when none is pending."""
        with session_scope(engine) as session:
            due = session.exec(
                select(func.min(WebhookEvent.next_try_at)).where(
                    col(WebhookEvent.state) == "pending"
                )
            ).one()
        if due is None:
            return False
        self.now = max(self.now, aware(due))
        return True


def fake_clock() -> FakeClock:
    return FakeClock(utcnow())
