"""Recall ladders, the minimum gap and the frequency cap across campaigns, contacts put off to
the moment they may be called, and the claim order: on SQLite and Postgres, driven by a fake
clock through days, zones and the 2026 U.S. spring-forward (Sunday 8 March, 02:00 EST).

Each test runs the embedded path in process: the scheduler tick claims, ``place_calls``
dials through a fake provider (httpx.MockTransport) and the provider's outcome reports are
recorded as webhooks and polls record them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from campaigns.status import campaign_report
from dialer import scheduler
from dialer.dispatch.protocol import place_calls
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger import outcomes as ledger_outcomes
from dialer.ledger.engine import session_scope
from dialer.ledger.outcomes import Recorded
from dialer.models import Attempt, Campaign, Contact
from dialer.outcomes import Outcome
from dialer.ratelimit import LocalRateLimiter
from dialer.recalls import ClaimOrder
from dialer.service import CallService
from tests import fakes
from tests.fakes import NEW_YORK, FakeClock, FakeProvider

PHONE = "+12125552671"
OTHER = "+12125552672"
# Wednesday 4 March 2026, 10:00 in New York (EST, UTC-5).
WEDNESDAY_10AM = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)
# Saturday 7 March 2026, 19:30 EST: New York springs forward that night.
SATURDAY_7_30PM = datetime(2026, 3, 8, 0, 30, tzinfo=UTC)
# Sunday 8 March 2026, 09:00 EDT (UTC-4): an hour earlier in UTC than the day before.
SUNDAY_9AM = datetime(2026, 3, 8, 13, 0, tzinfo=UTC)


class Ledger:
    """A campaign world on one ledger: a fake clock, a fake provider, and the service."""

    def __init__(self, engine: Engine, start: datetime, **settings: object) -> None:
        self.engine = engine
        self.clock = FakeClock(start)
        self.provider = FakeProvider(self.clock)
        made = fakes.settings(engine).model_copy(update=settings)
        self.service = CallService(
            engine,
            made,
            LocalRateLimiter(),
            transport=self.provider.transport,
            clock=self.clock,
        )

    def campaign(
        self,
        name: str,
        phones: list[str],
        *,
        rules: dict[str, list[int]] | None = None,
        order: ClaimOrder | None = None,
        window: str = "09:00-20:00",
        end_at: datetime | None = None,
    ) -> list[int]:
        ids = fakes.campaign(self.engine, self.now, phones, name=name, window=window, end_at=end_at)
        with session_scope(self.engine) as session:
            session.execute(
                update(Campaign)
                .where(col(Campaign.name) == name)
                .values(
                    recall_rules=rules,
                    claim_order=None if order is None else order.value,
                    max_attempts=1 + sum(len(s) for s in (rules or {}).values()),
                )
            )
        return ids

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def at(self, moment: datetime) -> None:
        assert moment >= self.now, "the fake clock only moves forward"
        self.clock.advance((moment - self.now).total_seconds())

    def tick(self) -> list[int]:
        """One scheduler tick, then every batch it claimed dialed: the ids claimed."""
        batches: list[list[int]] = []
        scheduler.tick(self.engine, self.service.settings, now=self.now, enqueue=batches.append)
        for batch in batches:
            place_calls(self.service, batch)
        return [contact_id for batch in batches for contact_id in batch]

    def report(self, phone: str, outcome: Outcome, campaign: str = "spring") -> Recorded:
        """The provider reports the outcome of the latest call to ``phone`` in ``campaign``."""
        attempt = self.attempts(phone, campaign)[-1]
        assert attempt.id is not None
        with session_scope(self.engine) as session:
            return ledger_outcomes.record_outcome(
                session, attempt_id=attempt.id, outcome=outcome, payload={}, now=self.now
            )

    def attempts(self, phone: str, campaign: str | None = None) -> list[Attempt]:
        found = [a for a in fakes.attempts(self.engine) if a.phone == phone]
        if campaign is None:
            return found
        return [a for a in found if a.campaign_id == self.campaign_id(campaign)]

    def campaign_id(self, name: str) -> int:
        with session_scope(self.engine) as session:
            found = session.exec(select(Campaign).where(col(Campaign.name) == name)).one()
            assert found.id is not None
            return found.id

    def contact(self, contact_id: int) -> Contact:
        with session_scope(self.engine) as session:
            found = session.get(Contact, contact_id)
            assert found is not None
            return found

    def close(self) -> None:
        self.service.close()


@pytest.fixture
def world(engine: Engine) -> Iterator[Ledger]:
    made = Ledger(engine, WEDNESDAY_10AM, frequency_cap=0)
    yield made
    made.close()


def _due(contact: Contact) -> datetime | None:
    due = contact.next_attempt_at
    return None if due is None else due.replace(tzinfo=due.tzinfo or UTC)


HOUR = 3600


def test_the_nth_recall_of_an_outcome_waits_the_ladders_nth_step_then_the_contact_is_final(
    world: Ledger,
) -> None:
    [contact_id] = world.campaign(
        "spring", [PHONE], rules={"no-answer": [HOUR, 4 * HOUR], "busy": [HOUR // 4]}
    )
    assert world.tick() == [contact_id]
    world.at(world.now + timedelta(minutes=2))
    assert world.report(PHONE, Outcome.NO_ANSWER) is Recorded.RECALLED
    first_due = world.now + timedelta(hours=1)
    assert _due(world.contact(contact_id)) == first_due
    # Not due a minute before: the tick does not claim it.
    world.at(first_due - timedelta(minutes=1))
    assert world.tick() == []
    world.at(first_due)
    assert world.tick() == [contact_id]
    # A busy now: its own ladder's first step (15 min), but the minimum gap (1 h since the
    # call began) wins when the tick comes to it.
    world.at(world.now + timedelta(minutes=1))
    assert world.report(PHONE, Outcome.BUSY) is Recorded.RECALLED
    busy_due = world.now + timedelta(minutes=15)
    assert _due(world.contact(contact_id)) == busy_due
    world.at(busy_due)
    assert world.tick() == []
    held = world.contact(contact_id)
    assert held.state == "pending" and _due(held) == first_due + timedelta(hours=1)
    world.at(first_due + timedelta(hours=1))
    assert world.tick() == [contact_id]
    # The second no-answer waits the second step, 4 h.
    world.at(world.now + timedelta(minutes=1))
    assert world.report(PHONE, Outcome.NO_ANSWER) is Recorded.RECALLED
    second_due = world.now + timedelta(hours=4)
    assert _due(world.contact(contact_id)) == second_due
    world.at(second_due)
    assert world.tick() == [contact_id]
    # The third no-answer is past the ladder: final.
    world.at(world.now + timedelta(minutes=1))
    assert world.report(PHONE, Outcome.NO_ANSWER) is Recorded.RECORDED
    final = world.contact(contact_id)
    assert (final.state, final.outcome) == ("placed", "no-answer")
    assert world.provider.calls[PHONE] == 4


def test_an_outcome_without_a_rule_is_final(world: Ledger) -> None:
    [contact_id] = world.campaign("spring", [PHONE], rules={"busy": [HOUR]})
    world.tick()
    assert world.report(PHONE, Outcome.NO_ANSWER) is Recorded.RECORDED
    assert world.contact(contact_id).state == "placed"


def test_a_recall_that_falls_outside_the_window_is_due_when_it_opens_across_dst(
    engine: Engine,
) -> None:
    world = Ledger(engine, SATURDAY_7_30PM - timedelta(minutes=10), frequency_cap=0)
    try:
        [contact_id] = world.campaign("spring", [PHONE], rules={"busy": [15 * 60]})
        world.tick()
        world.at(SATURDAY_7_30PM)
        assert world.report(PHONE, Outcome.BUSY) is Recorded.RECALLED
        # 19:45 EST is inside the window: due then.
        assert _due(world.contact(contact_id)) == SATURDAY_7_30PM + timedelta(minutes=15)
        world.at(SATURDAY_7_30PM + timedelta(minutes=15))
        # The gap (1 h from 19:20 EST) ends at 20:20 EST, after the window closes: put off
        # to Sunday 09:00 EDT, which is 13:00 UTC (14:00 UTC the day before).
        assert world.tick() == []
        assert _due(world.contact(contact_id)) == SUNDAY_9AM
        world.at(SUNDAY_9AM - timedelta(seconds=1))
        assert world.tick() == []
        world.at(SUNDAY_9AM)
        assert world.tick() == [contact_id]
        assert world.provider.calls[PHONE] == 2
    finally:
        world.close()


def test_the_gap_holds_across_two_campaigns_claimed_in_one_tick(world: Ledger) -> None:
    [first] = world.campaign("spring", [PHONE])
    [second] = world.campaign("autumn", [PHONE, OTHER])[:1]
    # Both campaigns claim the number in one tick; the second's begin finds the first's call
    # (the numbers are locked while it is judged) and puts its contact off for the gap.
    claimed = world.tick()
    assert first in claimed and second in claimed
    assert world.provider.calls[PHONE] == 1 and world.provider.calls[OTHER] == 1
    held = world.contact(second)
    assert held.state == "pending" and _due(held) == WEDNESDAY_10AM + timedelta(hours=1)
    world.at(WEDNESDAY_10AM + timedelta(minutes=59))
    assert world.tick() == []
    world.at(WEDNESDAY_10AM + timedelta(hours=1))
    assert world.tick() == [second]
    starts = [a.started_at.replace(tzinfo=UTC) for a in world.attempts(PHONE)]
    assert starts == [WEDNESDAY_10AM, WEDNESDAY_10AM + timedelta(hours=1)]


def test_a_number_called_elsewhere_is_put_off_at_claim_to_the_next_opening(engine: Engine) -> None:
    world = Ledger(engine, SATURDAY_7_30PM, frequency_cap=0)
    try:
        world.campaign("spring", [PHONE])
        world.tick()
        world.at(SATURDAY_7_30PM + timedelta(minutes=5))
        [late] = world.campaign("autumn", [PHONE])
        # Claimed, judged on the claimed batch and put off (never handed to dispatch): the
        # gap ends at 20:30 EST, past the window.
        assert world.tick() == []
        held = world.contact(late)
        assert (held.state, _due(held)) == ("pending", SUNDAY_9AM)
        assert held.last_error.startswith("held back")
        assert world.provider.calls[PHONE] == 1
    finally:
        world.close()


def test_the_frequency_cap_puts_a_contact_off_until_its_oldest_call_leaves_the_24_hours(
    engine: Engine,
) -> None:
    world = Ledger(engine, WEDNESDAY_10AM, frequency_cap=2, min_call_gap=timedelta(0))
    try:
        world.campaign("a", [PHONE], window="00:00-24:00")
        world.tick()
        world.at(WEDNESDAY_10AM + timedelta(hours=2))
        world.campaign("b", [PHONE], window="00:00-24:00")
        world.tick()
        world.at(WEDNESDAY_10AM + timedelta(hours=3))
        [third] = world.campaign("c", [PHONE], window="00:00-24:00")
        world.tick()
        assert _due(world.contact(third)) == WEDNESDAY_10AM + timedelta(hours=24)
        assert world.provider.calls[PHONE] == 2
        world.at(WEDNESDAY_10AM + timedelta(hours=24))
        assert world.tick() == [third]
        assert world.provider.calls[PHONE] == 3
    finally:
        world.close()


def test_a_contact_put_off_past_the_end_is_cancelled_at_the_end_as_not_reached(
    world: Ledger,
) -> None:
    world.campaign("spring", [PHONE])
    end = WEDNESDAY_10AM + timedelta(minutes=30)
    [late] = world.campaign("autumn", [PHONE], end_at=end)
    world.tick()
    assert world.contact(late).state == "pending"
    world.at(end)
    world.tick()
    cancelled = world.contact(late)
    assert (cancelled.state, cancelled.last_error) == (
        "cancelled",
        "not reached before the end time",
    )
    assert world.provider.calls[PHONE] == 1


def test_status_shows_recalls_waiting_and_the_next_due(world: Ledger) -> None:
    world.campaign("spring", [PHONE, OTHER], rules={"no-answer": [HOUR, 2 * HOUR]})
    world.tick()
    world.report(PHONE, Outcome.NO_ANSWER)
    world.at(world.now + timedelta(minutes=10))
    world.report(OTHER, Outcome.NO_ANSWER)
    report = campaign_report(world.engine, world.service.settings, "spring", now=world.now)
    assert report.recalls_waiting == 2
    assert report.next_due == WEDNESDAY_10AM + timedelta(hours=1)
    assert report.recall_rules == "no-answer=1h,2h"
    assert report.to_json()["next_due"] == "2026-03-04T16:00:00+00:00"


@pytest.mark.parametrize(
    ("order", "first_two"),
    [
        (ClaimOrder.FRESH_FIRST, ["fresh", "fresh"]),
        (ClaimOrder.RECALLS_FIRST, ["again", "again"]),
        (ClaimOrder.INTERLEAVE, ["again", "fresh"]),
    ],
)
def test_the_claim_takes_due_contacts_in_the_campaigns_order(
    world: Ledger, order: ClaimOrder, first_two: list[str]
) -> None:
    phones = [f"+1212555{2700 + i}" for i in range(6)]
    ids = world.campaign("spring", phones, order=order)
    again = set(ids[3:])
    with session_scope(world.engine) as session:
        session.execute(
            update(Contact)
            .where(col(Contact.id).in_(sorted(again)))
            .values(next_attempt_at=WEDNESDAY_10AM - timedelta(minutes=5))
        )
        claimed = ledger_dispatch.claim_due(
            session,
            campaign_id=world.campaign_id("spring"),
            zone_keys=[NEW_YORK],
            now=WEDNESDAY_10AM,
            limit=2,
            order=order,
        )
    kinds = sorted("again" if i in again else "fresh" for i in claimed)
    assert kinds == sorted(first_two)
