"""Outcome polling in process: statuses served through httpx.MockTransport, a fake clock,
a SQLite file. What each kind of answer does to the round: record, skip a call, skip an
account."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from dialer.dispatch.protocol import place_calls
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.engine import session_scope
from dialer.polling import poll_outcomes
from dialer.service import CallService
from tests import fakes
from tests.fakes import NEW_YORK, FakeClock, FakeProvider

SPRING = ["+12125550101", "+12125550102", "+12125550103"]
OTHER = ["+12125550201", "+12125550202"]


@pytest.fixture
def service(engine: Engine, clock: FakeClock, provider: FakeProvider) -> Iterator[CallService]:
    """Both campaigns placed: ``spring`` on the ``sandbox`` account, ``other`` on ``other``."""
    made = fakes.service(engine, clock, provider, also=["other"])
    fakes.campaign(engine, clock.now(), SPRING)
    fakes.campaign(engine, clock.now(), OTHER, name="other", account="other")
    for campaign_id, count in ((1, len(SPRING)), (2, len(OTHER))):
        with session_scope(engine) as session:
            claimed = ledger_dispatch.claim_due(
                session, campaign_id=campaign_id, zone_keys=[NEW_YORK], now=clock.now(), limit=9
            )
        assert len(claimed) == count
        place_calls(made, claimed)
    assert provider.calls.total() == len(SPRING) + len(OTHER)
    yield made
    made.close()


def _outcomes(engine: Engine) -> dict[str, str | None]:
    return {attempt.phone: attempt.outcome for attempt in fakes.attempts(engine)}


def test_every_final_outcome_is_recorded_once(
    engine: Engine, clock: FakeClock, provider: FakeProvider, service: CallService
) -> None:
    provider.outcomes.update({SPRING[0]: "busy", SPRING[1]: "no-answer", OTHER[0]: "calling"})
    assert poll_outcomes(service, clock.now()) == 4
    assert _outcomes(engine) == {
        SPRING[0]: "busy",
        SPRING[1]: "no-answer",
        SPRING[2]: "completed",
        OTHER[0]: None,  # still in progress: asked again next round
        OTHER[1]: "completed",
    }
    assert provider.polls == dict.fromkeys([*SPRING, *OTHER], 1)
    # A call whose outcome is known is never asked about again.
    assert poll_outcomes(service, clock.now()) == 0
    assert provider.polls[OTHER[0]] == 2
    assert provider.polls.total() == len(SPRING) + len(OTHER) + 1


@pytest.mark.parametrize("answer", ["503", "429", "401"])
def test_an_account_that_cannot_answer_sits_out_the_rest_of_the_round(
    engine: Engine,
    clock: FakeClock,
    provider: FakeProvider,
    service: CallService,
    answer: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # 5xx and 429: the provider cannot answer now. 401: its credentials are refused, which
    # is an account problem, not a refusal about this one call.
    provider.status_answers[SPRING[0]] = answer
    with caplog.at_level("WARNING", logger="dialer.polling"):
        assert poll_outcomes(service, clock.now()) == len(OTHER)
    assert provider.polls == {SPRING[0]: 1, OTHER[0]: 1, OTHER[1]: 1}
    assert set(_outcomes(engine)[p] for p in SPRING) == {None}
    assert "account sandbox skipped this round" in caplog.text
    assert not any(phone[2:] in caplog.text for phone in [*SPRING, *OTHER])


@pytest.mark.parametrize("answer", ["400", "garbage"])
def test_an_unusable_answer_about_one_call_skips_only_that_call(
    engine: Engine,
    clock: FakeClock,
    provider: FakeProvider,
    service: CallService,
    answer: str,
) -> None:
    provider.status_answers[SPRING[0]] = answer
    assert poll_outcomes(service, clock.now()) == len(SPRING) + len(OTHER) - 1
    assert _outcomes(engine)[SPRING[0]] is None
    assert provider.polls == dict.fromkeys([*SPRING, *OTHER], 1)


def test_calls_past_the_providers_retention_are_not_polled(
    engine: Engine, clock: FakeClock, provider: FakeProvider, service: CallService
) -> None:
    # The sandbox keeps a call's status for two hours.
    assert poll_outcomes(service, clock.now() + timedelta(hours=3)) == 0
    assert provider.polls == {}


def test_a_round_asks_at_most_its_limit(
    engine: Engine, clock: FakeClock, provider: FakeProvider, service: CallService
) -> None:
    assert poll_outcomes(service, clock.now(), limit=2) == 2
    assert provider.polls.total() == 2
    assert poll_outcomes(service, clock.now()) == len(SPRING) + len(OTHER) - 2
