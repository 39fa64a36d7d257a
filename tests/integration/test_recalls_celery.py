"""The minimum gap between two calls to one number under Celery: two worker processes dial
two campaigns that share every number, both claimed at once. Each number gets one call; the
other campaign's contact is put off for the gap, not dropped (guarantee 3 across processes).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from celery import Celery
from procs import wait_until, write_leads
from sqlalchemy import select
from sqlmodel import col

from campaigns import lifecycle
from campaigns.importer import import_campaign
from campaigns.spec import CampaignSpec
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.engine import session_scope, utcnow
from dialer.models import Contact, ContactState

# The deployment fixture of the distributed tests: a private Redis, a sandbox, workers.
from tests.integration.test_distributed import Cluster, ClusterFactory, cluster  # noqa: F401

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]


def _campaign(deployment: Cluster, name: str, numbers: list[str]) -> list[int]:
    """Import ``numbers`` as campaign ``name`` (every hour, every day), start it and claim
    every contact as a tick would."""
    workdir = deployment.procs.workdir
    spec = CampaignSpec(
        name=name,
        account="sandbox",
        csv_path=write_leads(workdir / f"{name}.csv", numbers),
        rejects_path=workdir / f"{name}-rejects.csv",
        window="00:00-24:00",
        days="all",
    )
    assert import_campaign(deployment.engine, deployment.settings, spec, now=utcnow()).accepted
    lifecycle.change(deployment.engine, name, "start", now=utcnow())
    with session_scope(deployment.engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        return ledger_dispatch.claim_due(
            session,
            campaign_id=campaign.id,
            zone_keys=["America/New_York"],
            now=utcnow(),
            limit=100,
        )


def test_two_workers_two_campaigns_one_call_per_number(cluster: ClusterFactory) -> None:  # noqa: F811
    deployment = cluster(rate="200/s", latency_ms=50)
    numbers = [f"+1212{300 + i // 10_000:03d}{i % 10_000:04d}" for i in range(20)]
    spring = _campaign(deployment, "spring", numbers)
    autumn = _campaign(deployment, "autumn", numbers)
    assert len(spring) == len(autumn) == len(numbers)
    workers = deployment.workers(2, concurrency=8)
    sender = Celery("gap", broker=deployment.broker_url)
    try:
        # One contact of each campaign per task, side by side: the two workers race for
        # every number.
        for pair in zip(spring, autumn, strict=True):
            for contact_id in pair:
                sender.send_task("dialer.place_calls", args=[[contact_id]], queue="dialer.dial")
    finally:
        sender.close()
    done = 2 * len(numbers)
    wait_until(
        lambda: sum(w.log().count("succeeded in") for w in workers) == done,
        timeout=60,
        what="every task done",
    )
    assert deployment.calls() == Counter(dict.fromkeys(numbers, 1))
    with session_scope(deployment.engine) as session:
        rows = session.execute(
            select(col(Contact.phone), col(Contact.state), col(Contact.next_attempt_at))
        ).all()
    by_phone: dict[str, list[tuple[str, datetime | None]]] = {}
    for phone, state, due in rows:
        by_phone.setdefault(phone, []).append((state, due))
    for phone in numbers:
        states = sorted(state for state, _due in by_phone[phone])
        assert states == [ContactState.PENDING, ContactState.PLACED], phone
        [due] = [d for s, d in by_phone[phone] if s == ContactState.PENDING]
        assert due is not None
        assert due.replace(tzinfo=due.tzinfo or UTC) - utcnow() > timedelta(minutes=55)
