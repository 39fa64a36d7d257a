"""The retry schedule, on a fake clock: 24 h of tries with backoff and jitter, then dead;
Retry-After honoured; which answers are worth another try."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dialer.webhooks.schedule import (
    FIRST_DELAY,
    JITTER,
    MAX_DELAY,
    MAX_RETRY_AFTER,
    RETRY_FOR,
    Verdict,
    after_failure,
    verdict_for,
)

START = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _fail_forever(seed: int) -> list[datetime]:
    """Try times of an event whose endpoint never answers, until it is dead."""
    rng = random.Random(seed)
    tries = [START]
    while True:
        following = after_failure(tries=len(tries), first_tried_at=START, now=tries[-1], rng=rng)
        if following.dead:
            return tries
        assert following.at is not None
        tries.append(following.at)


@given(st.integers(min_value=0, max_value=10_000))
def test_an_event_is_tried_for_at_least_24_hours_then_dead(seed: int) -> None:
    tries = _fail_forever(seed)
    assert tries[-1] - START >= RETRY_FOR
    assert tries[-2] - START < RETRY_FOR
    # ... and not much longer: the last wait is at most the longest delay with its jitter.
    assert tries[-1] - START <= RETRY_FOR + MAX_DELAY * (1 + JITTER)
    assert 30 <= len(tries) <= 45


@given(st.integers(min_value=0, max_value=10_000))
def test_delays_double_from_the_first_up_to_the_cap_with_jitter(seed: int) -> None:
    tries = _fail_forever(seed)
    for n, (before, after) in enumerate(itertools.pairwise(tries)):
        nominal = min(FIRST_DELAY * 2**n, MAX_DELAY)
        assert nominal * (1 - JITTER) <= after - before <= nominal * (1 + JITTER)


def test_jitter_spreads_a_burst_of_failures() -> None:
    rng = random.Random(7)
    nexts = {after_failure(tries=3, first_tried_at=START, now=START, rng=rng).at for _ in range(50)}
    assert len(nexts) == 50


def test_retry_after_replaces_the_backoff_up_to_a_cap() -> None:
    rng = random.Random(1)
    asked = after_failure(
        tries=1, first_tried_at=START, now=START, retry_at=START + timedelta(minutes=7), rng=rng
    )
    assert asked.at == START + timedelta(minutes=7)
    greedy = after_failure(
        tries=1, first_tried_at=START, now=START, retry_at=START + timedelta(days=5), rng=rng
    )
    assert greedy.at == START + MAX_RETRY_AFTER
    past = after_failure(
        tries=1, first_tried_at=START, now=START, retry_at=START - timedelta(hours=1), rng=rng
    )
    assert past.at == START


def test_a_never_tried_event_starts_its_24_hours_now() -> None:
    rng = random.Random(1)
    following = after_failure(tries=1, first_tried_at=None, now=START, rng=rng)
    assert following.at is not None and following.at > START


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (None, Verdict.RETRY),
        (408, Verdict.RETRY),
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (503, Verdict.RETRY),
        (301, Verdict.REFUSED),
        (400, Verdict.REFUSED),
        (401, Verdict.REFUSED),
        (404, Verdict.REFUSED),
        (410, Verdict.REFUSED),
    ],
)
def test_which_answers_are_worth_another_try(status: int | None, verdict: Verdict) -> None:
    assert verdict_for(status) is verdict
