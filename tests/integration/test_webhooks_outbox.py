"""The outbox is written by the transitions themselves, in their transaction: exactly the
events they made true, for exactly the endpoints subscribed; SQLite and Postgres."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import counts as ledger_counts
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger import outbox
from dialer.ledger import outcomes as ledger_outcomes
from dialer.ledger.dispatch import AttemptResult, Begin, Finish
from dialer.ledger.engine import session_scope, utcnow
from dialer.models import Campaign, CampaignStatus, Contact, ContactState
from dialer.outcomes import Outcome
from tests.webhook_support import events

EVERYTHING = [
    "call.placed",
    "call.failed",
    "call.unknown",
    "call.outcome",
    "campaign.completed",
    "campaign.paused",
]
NOW = utcnow()


def _campaign(engine: Engine, wanted: dict[str, list[str]], contacts: int = 3) -> dict[int, int]:
    """A running campaign of ``contacts`` queued contacts, begun; {contact id: attempt id}."""
    with session_scope(engine) as session:
        outbox.sync_subscriptions(session, wanted=wanted)
        campaign = ledger_campaigns.create_campaign(
            session,
            campaign=Campaign(name="spring", account="sandbox", status="running", created_at=NOW),
        )
        rows = [
            Contact(campaign_id=campaign.id or 0, row=i + 2, phone=f"+121255501{i:02d}")
            for i in range(contacts)
        ]
        for row in rows:
            row.state = ContactState.QUEUED
        session.add_all(rows)
        session.flush()
        ledger_counts.recount(session, campaign_ids=[campaign.id or 0])  # as an import does
        begins = [Begin(contact_id=c.id or 0, attempt_key=f"key-{c.id}") for c in rows]
        return ledger_dispatch.begin_attempts(session, begins=begins, account="sandbox", now=NOW)


def _finish(engine: Engine, begun: dict[int, int], states: list[ContactState]) -> None:
    finishes = [
        Finish(attempt_id=a, contact_id=c, result=AttemptResult(state=s, provider_call_id="p"))
        for (c, a), s in zip(sorted(begun.items()), states, strict=False)
    ]
    with session_scope(engine) as session:
        ledger_dispatch.finish_attempts(session, finishes=finishes, now=NOW)


P, F, R = ContactState.PLACED, ContactState.FAILED, ContactState.PENDING


def test_finishing_writes_each_result_event_for_each_subscribed_endpoint(engine: Engine) -> None:
    begun = _campaign(engine, {"a": EVERYTHING, "b": ["call.failed"]})
    _finish(engine, begun, [P, F, R])
    written = {(e.endpoint, e.event_type, e.attempt_id, e.status) for e in events(engine)}
    attempt = sorted(begun.values())
    assert written == {
        ("a", "call.placed", attempt[0], "placed"),
        ("a", "call.failed", attempt[1], "failed"),
        ("b", "call.failed", attempt[1], "failed"),
    }
    ids = {(e.endpoint, e.message_id) for e in events(engine)}
    key = f"key-{sorted(begun)[1]}"
    assert ("a", f"msg_{key}_failed") in ids and ("b", f"msg_{key}_failed") in ids
    assert {e.state for e in events(engine)} == {"pending"}


def test_a_rolled_back_transition_leaves_no_event(engine: Engine) -> None:
    begun = _campaign(engine, {"a": EVERYTHING})
    finishes = [
        Finish(attempt_id=a, contact_id=c, result=AttemptResult(state=P)) for c, a in begun.items()
    ]
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        ledger_dispatch.finish_attempts(session, finishes=finishes, now=NOW)
        raise RuntimeError("crash before commit")
    assert events(engine) == []


def test_the_same_answer_recorded_twice_is_one_event(engine: Engine) -> None:
    begun = _campaign(engine, {"a": EVERYTHING})
    _finish(engine, begun, [P, P, P])
    _finish(engine, begun, [P, P, P])
    assert len(events(engine)) == 3


def test_with_no_endpoint_nothing_is_written(engine: Engine) -> None:
    begun = _campaign(engine, {})
    _finish(engine, begun, [P, F, P])
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name="spring")
        assert campaign.id is not None
        ledger_campaigns.set_status(
            session,
            campaign_id=campaign.id,
            expected=["running"],
            new=CampaignStatus.PAUSED,
            now=NOW,
        )
    assert events(engine) == []


def test_reaped_then_answered_is_unknown_then_placed(engine: Engine) -> None:
    begun = _campaign(engine, {"a": EVERYTHING}, contacts=1)
    later = NOW + timedelta(hours=1)
    with session_scope(engine) as session:
        ledger_dispatch.reap(session, now=later, queued_timeout=60, dialing_timeout=60)
        ledger_dispatch.reap(
            session, now=later + timedelta(seconds=1), queued_timeout=60, dialing_timeout=60
        )
    _finish(engine, begun, [P])
    assert [(e.event_type, e.status) for e in events(engine)] == [
        ("call.unknown", "unknown"),
        ("call.placed", "placed"),
    ]


def test_an_outcome_is_one_event_whoever_reports_it(engine: Engine) -> None:
    begun = _campaign(engine, {"a": ["call.outcome"]}, contacts=1)
    _finish(engine, begun, [P])
    (attempt_id,) = begun.values()
    for _ in range(2):  # a webhook, then a poll: the second changes nothing
        with session_scope(engine) as session:
            ledger_outcomes.record_outcome(
                session, attempt_id=attempt_id, outcome=Outcome.COMPLETED, payload={}, now=NOW
            )
    assert [(e.event_type, e.status, e.attempt_id) for e in events(engine)] == [
        ("call.outcome", "completed", attempt_id)
    ]


def test_campaign_pauses_and_completion_are_events(engine: Engine) -> None:
    _campaign(engine, {"a": ["campaign.paused", "campaign.completed"]}, contacts=1)
    with session_scope(engine) as session:
        paused = ledger_campaigns.pause_account(
            session, account="sandbox", reason="credentials refused", now=NOW
        )
        assert paused == 1
        ledger_campaigns.pause_account(session, account="sandbox", reason="again", now=NOW)
        campaign = ledger_campaigns.get_campaign(session, name="spring")
        assert campaign.id is not None
        for new in (CampaignStatus.RUNNING, CampaignStatus.COMPLETED, CampaignStatus.COMPLETED):
            ledger_campaigns.set_status(
                session,
                campaign_id=campaign.id,
                expected=["paused", "running"],
                new=new,
                now=NOW,
            )
    written = events(engine)
    assert [(e.event_type, e.status, e.reason) for e in written] == [
        ("campaign.paused", "paused", "credentials refused"),
        ("campaign.completed", "completed", ""),
    ]
    assert written[0].message_id != written[1].message_id


def test_subscriptions_follow_the_configuration(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert outbox.sync_subscriptions(session, wanted={"a": EVERYTHING, "b": ["call.placed"]})
        assert not outbox.sync_subscriptions(
            session, wanted={"a": EVERYTHING, "b": ["call.placed"]}
        )
        assert outbox.sync_subscriptions(session, wanted={"b": ["call.failed"]})
    begun = _campaign(engine, {"b": ["call.failed"]})
    _finish(engine, begun, [P, F, P])
    assert [(e.endpoint, e.event_type) for e in events(engine)] == [("b", "call.failed")]
