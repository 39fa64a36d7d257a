"""The counts kept with the transitions equal a full count of the contacts, after any sequence
of transitions, on SQLite and Postgres (dialer.ledger.counts)."""

from __future__ import annotations

import json
import random
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger import counts as ledger_counts
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger import outcomes as ledger_outcomes
from dialer.ledger import recycle as ledger_recycle
from dialer.ledger.dispatch import AttemptResult, Begin, Finish
from dialer.ledger.engine import session_scope
from dialer.ledger.metrics import ledger_metrics
from dialer.models import GLOBAL_SCOPE, Attempt, Campaign, CampaignStatus, Contact, ContactState
from dialer.outcomes import Outcome

START = datetime(2027, 1, 13, 18, 0, tzinfo=UTC)
ZONES = ["America/New_York", "America/Chicago", "America/Los_Angeles", ""]
FINAL_RESULTS = [
    ContactState.PLACED,
    ContactState.PLACED,
    ContactState.FAILED,
    ContactState.UNKNOWN,
    ContactState.PENDING,
]


class Walk:
    """Random transitions through the ledger's own functions, over two campaigns."""

    def __init__(self, engine: Engine, seed: int) -> None:
        self.engine = engine
        self.rng = random.Random(seed)
        self.now = START
        self.phones = 0
        self.campaigns = [self._campaign(f"walk-{seed}-{i}") for i in range(2)]

    def _campaign(self, name: str) -> int:
        with session_scope(self.engine) as session:
            campaign = ledger_campaigns.create_campaign(
                session,
                campaign=Campaign(
                    name=name,
                    account="sandbox",
                    created_at=START,
                    status=CampaignStatus.RUNNING,
                    max_attempts=3,
                    retry_after_seconds=60,
                ),
            )
            assert campaign.id is not None
            return campaign.id

    def _ids(self, session: Session, campaign_id: int, state: str) -> list[int]:
        query = select(col(Contact.id)).where(
            col(Contact.campaign_id) == campaign_id, col(Contact.state) == state
        )
        found = sorted(session.execute(query).scalars())
        return self.rng.sample(found, self.rng.randint(0, len(found))) if found else []

    def step(self) -> str:
        action = self.rng.choice(
            [
                self.append,
                self.claim,
                self.claim,
                self.begin,
                self.begin,
                self.finish,
                self.finish,
                self.release,
                self.cancel,
                self.suppress,
                self.reap,
                self.outcome,
                self.retry,
                self.recycle,
                self.bad_number,
                self.compact,
                self.end,
            ]
        )
        self.now += timedelta(seconds=self.rng.randint(1, 400))
        campaign_id = self.rng.choice(self.campaigns)
        action(campaign_id)
        return action.__name__

    def append(self, campaign_id: int) -> None:
        count = self.rng.randint(1, 12)
        phones = [f"+1212555{self.phones + i:04d}" for i in range(count)]
        self.phones += count
        frame = pd.DataFrame(
            {
                "row": range(1, count + 1),
                "phone": phones,
                "raw_phone": phones,
                "extension": [None] * count,
                "number_type": "mobile",
                "zone_key": [self.rng.choice(ZONES) for _ in phones],
                "first_name": "",
                "last_name": "",
                "email": "",
                "variables": [json.dumps({})] * count,
            }
        )
        with session_scope(self.engine) as session:
            ledger_contacts.insert_contacts(
                session.connection(), campaign_id=campaign_id, frame=frame
            )

    def claim(self, campaign_id: int) -> None:
        zones = self.rng.sample(ZONES, self.rng.randint(1, len(ZONES)))
        with session_scope(self.engine) as session:
            ledger_dispatch.claim_due(
                session,
                campaign_id=campaign_id,
                zone_keys=zones,
                now=self.now,
                limit=self.rng.randint(1, 8),
            )

    def begin(self, campaign_id: int) -> None:
        with session_scope(self.engine) as session:
            ids = self._ids(session, campaign_id, ContactState.QUEUED)
            begins = [
                Begin(
                    contact_id=i,
                    attempt_key=str(uuid.uuid4()),
                    rate_wait_ms=self.rng.choice([None, 0, 1, 250]),
                )
                for i in ids
            ]
            ledger_dispatch.begin_attempts(session, begins=begins, account="sandbox", now=self.now)

    def finish(self, campaign_id: int) -> None:
        with session_scope(self.engine) as session:
            rows = session.execute(
                select(col(Attempt.id), col(Attempt.contact_id)).where(
                    col(Attempt.campaign_id) == campaign_id, col(Attempt.finished_at).is_(None)
                )
            ).all()
            chosen = self.rng.sample(rows, self.rng.randint(0, len(rows))) if rows else []
            finishes = []
            for attempt_id, contact_id in chosen:
                state = self.rng.choice(FINAL_RESULTS)
                later = self.now + timedelta(seconds=30) if state == ContactState.PENDING else None
                result = AttemptResult(state=state, provider_call_id="c", next_attempt_at=later)
                finishes.append(Finish(attempt_id=attempt_id, contact_id=contact_id, result=result))
            ledger_dispatch.finish_attempts(session, finishes=finishes, now=self.now)

    def release(self, campaign_id: int) -> None:
        with session_scope(self.engine) as session:
            ids = self._ids(session, campaign_id, ContactState.QUEUED)
            ledger_dispatch.release_claims(session, contact_ids=ids, now=self.now)

    def cancel(self, campaign_id: int) -> None:
        with session_scope(self.engine) as session:
            state = self.rng.choice([ContactState.PENDING, ContactState.QUEUED])
            ids = self._ids(session, campaign_id, state)
            expected = self.rng.choice([(ContactState.QUEUED,), (state, ContactState.QUEUED)])
            ledger_dispatch.cancel_contacts(
                session, contact_ids=ids, now=self.now, reason="test", expected=expected
            )

    def suppress(self, campaign_id: int) -> None:
        if self.phones == 0:
            return
        phone = f"+1212555{self.rng.randrange(self.phones):04d}"
        scope = self.rng.choice([campaign_id, GLOBAL_SCOPE])
        with session_scope(self.engine) as session:
            ledger_contacts.add_suppressions(
                session, phones=[phone], campaign_id=scope, source="t", now=self.now
            )
            if self.rng.random() < 0.5:  # else found when claimed
                ledger_dispatch.cancel_listed(
                    session, phones=[phone], now=self.now, campaign_id=scope
                )

    def reap(self, _campaign_id: int) -> None:
        with session_scope(self.engine) as session:
            ledger_dispatch.reap(
                session,
                now=self.now,
                queued_timeout=self.rng.choice([1, 600]),
                dialing_timeout=self.rng.choice([1, 600]),
            )

    def outcome(self, campaign_id: int) -> None:
        with session_scope(self.engine) as session:
            attempts = session.execute(
                select(col(Attempt.id)).where(
                    col(Attempt.campaign_id) == campaign_id,
                    col(Attempt.result).in_([ContactState.PLACED, ContactState.UNKNOWN]),
                )
            ).all()
            if not attempts:
                return
            [attempt_id] = self.rng.choice(attempts)
            ledger_outcomes.record_outcome(
                session,
                attempt_id=attempt_id,
                outcome=self.rng.choice(list(Outcome)),
                payload={},
                now=self.now,
            )

    def retry(self, campaign_id: int) -> None:
        states = self.rng.sample(
            [ContactState.FAILED, ContactState.UNKNOWN], self.rng.randint(1, 2)
        )
        with session_scope(self.engine) as session:
            ledger_contacts.reset_contacts(
                session, campaign_id=campaign_id, states=states, now=self.now
            )

    def recycle(self, campaign_id: int) -> None:
        outcomes = self.rng.sample([o.value for o in Outcome], self.rng.randint(1, 3))
        with session_scope(self.engine) as session:
            campaign = session.get(Campaign, campaign_id)
            assert campaign is not None
            if len(self.campaigns) >= 4 or self.rng.random() < 0.5:
                ledger_recycle.reopen(session, campaign=campaign, outcomes=outcomes, now=self.now)
                return
            copy, _ = ledger_recycle.copy_into(
                session,
                source=campaign,
                name=f"{campaign.name}-r{len(self.campaigns)}",
                outcomes=outcomes,
                now=self.now,
            )
            assert copy.id is not None
            # Running, so the walk's claims take its contacts too.
            copy.status = CampaignStatus.RUNNING
            self.campaigns.append(copy.id)

    def bad_number(self, _campaign_id: int) -> None:
        if self.phones == 0:
            return
        phone = f"+1212555{self.rng.randrange(self.phones):04d}"
        with session_scope(self.engine) as session:
            ledger_dispatch.list_bad_numbers(session, reasons={phone: "t: HTTP 400"}, now=self.now)

    def compact(self, campaign_id: int) -> None:
        with session_scope(self.engine) as session:
            ledger_counts.compact(session, campaign_ids=[campaign_id])
            ledger_counts.compact_attempts(session)

    def end(self, campaign_id: int) -> None:
        if self.rng.random() < 0.7:  # rarer than the rest: it empties the campaign
            return
        with session_scope(self.engine) as session:
            ledger_dispatch.cancel_open_contacts(
                session, campaign_id=campaign_id, now=self.now, reason="ended"
            )

    def check(self) -> None:
        with session_scope(self.engine) as session:
            for campaign_id in self.campaigns:
                states = session.execute(
                    select(col(Contact.state), func.count())
                    .where(col(Contact.campaign_id) == campaign_id)
                    .group_by(col(Contact.state))
                ).all()
                expected_states = {state.value: 0 for state in ContactState}
                expected_states.update(dict(states))
                assert (
                    ledger_campaigns.state_counts(session, campaign_id=campaign_id)
                    == expected_states
                )
                outcomes = session.execute(
                    select(col(Contact.outcome), func.count())
                    .where(
                        col(Contact.campaign_id) == campaign_id, col(Contact.outcome).is_not(None)
                    )
                    .group_by(col(Contact.outcome))
                ).all()
                assert ledger_campaigns.outcome_counts(session, campaign_id=campaign_id) == dict(
                    outcomes
                )
                zones = session.execute(
                    select(col(Contact.zone_key), func.count())
                    .where(
                        col(Contact.campaign_id) == campaign_id,
                        col(Contact.state) == ContactState.PENDING,
                    )
                    .group_by(col(Contact.zone_key))
                ).all()
                assert ledger_campaigns.zone_key_counts(
                    session, campaign_id=campaign_id, states=[ContactState.PENDING]
                ) == dict(zones)
                in_flight = [ContactState.QUEUED, ContactState.DIALING]
                busy = session.execute(
                    select(func.count()).where(
                        col(Contact.campaign_id) == campaign_id, col(Contact.state).in_(in_flight)
                    )
                ).scalar_one()
                assert ledger_dispatch.in_flight(session, campaign_ids=[campaign_id]) == busy
                pending = (
                    col(Contact.campaign_id) == campaign_id,
                    col(Contact.state) == ContactState.PENDING,
                )
                backing_off = session.execute(
                    select(func.count()).where(
                        *pending, col(Contact.attempts) > 0, col(Contact.next_attempt_at) > self.now
                    )
                ).scalar_one()
                assert ledger_dispatch.backlog(
                    session, campaign_ids=[campaign_id], now=self.now
                ) == ledger_dispatch.Backlog(busy, backing_off)
            by_state = session.execute(
                select(col(Contact.state), func.count()).group_by(col(Contact.state))
            ).all()
            metrics = ledger_metrics(session)
            assert {s: n for (_a, s), n in metrics.contacts.items()} == dict(by_state)
            by_result = session.execute(
                select(col(Attempt.result), func.count()).group_by(col(Attempt.result))
            ).all()
            assert {r: n for (_a, r), n in metrics.attempts.items()} == {
                result or "in_flight": n for result, n in by_result
            }
            waited = session.execute(
                select(func.count(), func.sum(col(Attempt.rate_wait_ms))).where(
                    col(Attempt.rate_wait_ms) > 0
                )
            ).one()
            expected_waits = {"sandbox": (waited[0], waited[1] / 1000)} if waited[0] else {}
            assert metrics.rate_limit_waits == expected_waits


@pytest.mark.parametrize("seed", range(4))
def test_counts_equal_a_full_count_after_random_transitions(engine: Engine, seed: int) -> None:
    walk = Walk(engine, seed)
    done = []
    for _ in range(70):
        done.append(walk.step())
        walk.check()
    assert {"claim", "begin", "finish", "outcome"} <= set(done)


class Worker:
    """Claims, begins, finishes and releases only the contacts it claimed itself, while
    others do the same in the same campaigns: the counts of every key change concurrently."""

    def __init__(self, walk: Walk, seed: int) -> None:
        self.walk = walk
        self.rng = random.Random(seed)
        self.queued: list[int] = []
        self.dialing: list[tuple[int, int]] = []  # (attempt id, contact id)

    def step(self) -> None:
        engine, now = self.walk.engine, START + timedelta(seconds=self.rng.randint(0, 10))
        campaign_id = self.rng.choice(self.walk.campaigns)
        with session_scope(engine) as session:
            action = self.rng.randrange(5)
            if action == 0:
                self.queued += ledger_dispatch.claim_due(
                    session, campaign_id=campaign_id, zone_keys=ZONES, now=now, limit=5
                )
            elif action == 1 and self.queued:
                begins = [Begin(contact_id=i, attempt_key=str(uuid.uuid4())) for i in self.queued]
                won = ledger_dispatch.begin_attempts(
                    session, begins=begins, account="sandbox", now=now
                )
                self.dialing += [(attempt, contact) for contact, attempt in won.items()]
                self.queued = []
            elif action == 2 and self.dialing:
                finishes = [
                    Finish(a, c, AttemptResult(state=self.rng.choice(FINAL_RESULTS)))
                    for a, c in self.dialing
                ]
                ledger_dispatch.finish_attempts(session, finishes=finishes, now=now)
                self.dialing = []
            elif action == 3 and self.queued:
                ledger_dispatch.release_claims(session, contact_ids=self.queued, now=now)
                self.queued = []
            else:
                ledger_counts.compact(session, campaign_ids=self.walk.campaigns)
                ledger_counts.compact_attempts(session)


def test_counts_stay_exact_with_workers_at_once(engine: Engine) -> None:
    walk = Walk(engine, seed=99)
    for _ in range(8):
        walk.append(walk.campaigns[0])
        walk.append(walk.campaigns[1])
    workers = [Worker(walk, seed) for seed in range(4)]
    errors: list[BaseException] = []

    def work(worker: Worker) -> None:
        try:
            for _ in range(40):
                worker.step()
        except BaseException as exc:  # reported below, not lost with the thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    walk.check()
