"""A provider's answer or exception → the contact's next state: pure, at chosen instants."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from dialer.dispatch.answers import Answer, ask, judge
from dialer.errors import (
    AccountBroken,
    AmbiguousOutcome,
    ProviderError,
    RejectedByProvider,
    RetryableProviderError,
)
from dialer.models import ContactState
from dialer.providers.base import CallRequest, PlaceResult, ProviderOutcome
from dialer.settings import AccountConfig
from tests.fakes import FakeClock

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ACCOUNT = AccountConfig.model_validate(
    {"name": "acme", "provider": "sandbox", "max_attempts": 3, "backoff_seconds": 10}
)
REQUEST = CallRequest(attempt_key="k", campaign="c", phone="+12125550101")


def _judge(exc: ProviderError, attempts_made: int = 1) -> Answer:
    return judge(exc, account=ACCOUNT, attempts_made=attempts_made, now=NOW, rng=random.Random(1))


def test_a_retryable_error_is_pending_after_a_backoff() -> None:
    answer = _judge(RetryableProviderError("acme: HTTP 503: down", status=503, body="down"))
    result = answer.result
    assert (result.state, result.http_status, result.body) == (ContactState.PENDING, 503, "down")
    assert result.error == "acme: HTTP 503: down"
    assert result.next_attempt_at is not None
    assert NOW + timedelta(seconds=8) <= result.next_attempt_at <= NOW + timedelta(seconds=12)
    assert not answer.account_problem


def test_retry_after_wins_over_the_backoff() -> None:
    later = NOW + timedelta(minutes=5)
    answer = _judge(RetryableProviderError("acme: HTTP 429", status=429, retry_at=later))
    assert answer.result.next_attempt_at == later


def test_a_retryable_error_on_the_last_attempt_fails() -> None:
    answer = _judge(RetryableProviderError("acme: HTTP 500", status=500), attempts_made=3)
    assert answer.result.state == ContactState.FAILED
    assert answer.result.error == "gave up after 3 attempts: acme: HTTP 500"
    assert answer.result.next_attempt_at is None


@pytest.mark.parametrize(
    ("exc", "state", "error", "account_problem"),
    [
        (RejectedByProvider("acme: HTTP 400: bad", status=400), ContactState.FAILED, "", False),
        (
            AccountBroken("acme: HTTP 401", status=401),
            ContactState.PENDING,
            "account refused: ",
            True,
        ),
        (AmbiguousOutcome("acme: no answer after sending"), ContactState.UNKNOWN, "", False),
    ],
)
def test_each_branch_of_the_tree_has_its_next_state(
    exc: ProviderError, state: ContactState, error: str, account_problem: bool
) -> None:
    answer = _judge(exc)
    assert answer.result.state == state
    assert answer.result.error == error + str(exc)
    assert answer.result.http_status == exc.status
    assert answer.account_problem is account_problem
    assert answer.result.next_attempt_at is None


class _Provider:
    """An adapter that answers with ``outcome`` (a PlaceResult, or an exception to raise)."""

    def __init__(self, outcome: PlaceResult | BaseException) -> None:
        self.outcome = outcome

    def check(self, request: CallRequest) -> str | None:
        return None

    def place(self, request: CallRequest) -> PlaceResult:
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome

    def poll(self, call_id: str) -> ProviderOutcome | None:
        return None


def _ask(outcome: PlaceResult | BaseException) -> Answer:
    provider = _Provider(outcome)
    return ask(
        provider,  # type: ignore[arg-type]
        REQUEST,
        account=ACCOUNT,
        attempts_made=1,
        clock=FakeClock(NOW),
        rng=random.Random(1),
    )


def test_a_2xx_is_placed_with_the_call_id() -> None:
    answer = _ask(PlaceResult(http_status=201, provider_call_id="C-1", body="{}"))
    result = answer.result
    assert (result.state, result.http_status, result.provider_call_id, result.body) == (
        ContactState.PLACED,
        201,
        "C-1",
        "{}",
    )


def test_a_bug_once_the_request_may_have_left_is_unknown() -> None:
    answer = _ask(KeyError("oops"))
    assert answer.result.state == ContactState.UNKNOWN
    assert answer.result.error == "internal error: KeyError"


def test_backoff_counts_from_the_clock_when_the_answer_came() -> None:
    answer = _ask(RetryableProviderError("acme: HTTP 503", status=503))
    assert answer.result.next_attempt_at is not None
    assert answer.result.next_attempt_at > NOW
