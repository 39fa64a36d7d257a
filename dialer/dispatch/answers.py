"""A provider's answer to one request, turned into the contact's next state.

2xx                                  placed, with the provider's call id
RetryableProviderError (5xx, 429,    pending, due again after a backoff (Retry-After
  connect failure)                     wins), or failed once its retries are spent
RejectedByProvider (other 4xx)       failed, with the provider's error text
BadNumber (a documented bad-number   failed, ``bad number: <the provider's words>``, and the
  error)                               number goes on the global do-not-call list
AccountProblem (401/403...)          pending, untouched: the account is at fault, and
                                       the account's campaigns pause
AmbiguousOutcome, or any bug once    unknown: the request may have left; never redialed
  the request may have left            automatically
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime

from dialer.backoff import RetryPolicy, next_attempt_at
from dialer.clock import Clock
from dialer.errors import (
    AccountProblem,
    AmbiguousOutcome,
    BadNumber,
    ProviderError,
    RejectedByProvider,
    RetryableProviderError,
)
from dialer.ledger.dispatch import AttemptResult
from dialer.models import ContactState
from dialer.providers.base import CallProvider, CallRequest
from dialer.settings import AccountConfig

log = logging.getLogger("dialer.dialing")

BAD_NUMBER_PREFIX = "bad number: "
"""Before the provider's words in the error of a contact whose number proved bad."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What one request led to, and whether it showed the account itself cannot call."""

    result: AttemptResult
    account_problem: bool = False
    retryable: bool = False
    """A retryable failure (5xx, 429, connect): it counts toward the account's breaker."""
    hold_for: float | None = None
    """Seconds a 429's Retry-After holds the whole account."""
    bad_number: str | None = None
    """The provider's words when its answer says the number cannot be called: the reason the
    number goes on the global do-not-call list."""


def ask(
    provider: CallProvider,
    request: CallRequest,
    *,
    account: AccountConfig,
    attempts_made: int,
    clock: Clock,
    rng: random.Random,
) -> Answer:
    """Send ``request`` through ``provider`` now; its answer as the contact's next state.
    ``attempts_made`` counts this one; a retry's backoff counts from the answer."""
    try:
        placed = provider.place(request)
    except ProviderError as exc:
        now = clock.now()
        return judge(exc, account=account, attempts_made=attempts_made, now=now, rng=rng)
    except Exception as exc:
        # A bug after the request may have left: the honest state is unknown, never a redial.
        log.exception("unexpected error placing attempt %s", request.attempt_key)
        return Answer(unknown_after_bug(exc))
    result = AttemptResult(
        state=ContactState.PLACED,
        http_status=placed.http_status,
        provider_call_id=placed.provider_call_id,
        body=placed.body,
    )
    return Answer(result)


def judge(
    exc: ProviderError,
    *,
    account: AccountConfig,
    attempts_made: int,
    now: datetime,
    rng: random.Random,
) -> Answer:
    """The contact's next state after ``exc`` (see the module docstring)."""
    if isinstance(exc, RetryableProviderError):
        policy = RetryPolicy(
            max_attempts=account.max_attempts,
            base_seconds=account.backoff_seconds,
            cap_seconds=max(3600.0, account.backoff_seconds),
        )
        hold_for = None
        if exc.status == 429 and exc.retry_at is not None:
            hold_for = max((exc.retry_at - now).total_seconds(), 0.0)
        if attempts_made >= policy.max_attempts:
            gave_up = f"gave up after {attempts_made} attempts: "
            failed = _failure(ContactState.FAILED, exc, gave_up)
            return Answer(failed, retryable=True, hold_for=hold_for)
        retry = next_attempt_at(policy, attempts_made, now, retry_at=exc.retry_at, rng=rng)
        pending = _failure(ContactState.PENDING, exc, next_attempt_at=retry)
        return Answer(pending, retryable=True, hold_for=hold_for)
    if isinstance(exc, AccountProblem):
        # Nothing was placed and the contact is not at fault: it waits for the account's fix.
        return Answer(_failure(ContactState.PENDING, exc, "account refused: "), True)
    if isinstance(exc, BadNumber):
        failed = _failure(ContactState.FAILED, exc, BAD_NUMBER_PREFIX)
        return Answer(failed, bad_number=str(exc))
    if isinstance(exc, RejectedByProvider):
        return Answer(_failure(ContactState.FAILED, exc))
    if isinstance(exc, AmbiguousOutcome):
        return Answer(_failure(ContactState.UNKNOWN, exc))
    # A ProviderError outside the tree's branches: as any bug, the honest state is unknown.
    log.error("unexpected provider error", exc_info=exc)
    return Answer(unknown_after_bug(exc))


def unknown_after_bug(exc: BaseException) -> AttemptResult:
    """An unexpected error once the request may have left: unknown, never a redial."""
    return AttemptResult(state=ContactState.UNKNOWN, error=f"internal error: {type(exc).__name__}")


def _failure(
    state: ContactState,
    exc: ProviderError,
    prefix: str = "",
    *,
    next_attempt_at: datetime | None = None,
) -> AttemptResult:
    return AttemptResult(
        state=state,
        http_status=exc.status,
        error=prefix + str(exc),
        body=exc.body,
        next_attempt_at=next_attempt_at,
    )
