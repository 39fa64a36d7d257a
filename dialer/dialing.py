"""``place_call``: one queued contact, at most one HTTP request, its result in the ledger.

The same function runs in a Celery task and in the embedded runner's thread pool. Its steps:

1. Re-read the contact and its campaign. Dial only a ``queued`` contact of a ``running``
   campaign whose number is not suppressed and whose calling window is open now; otherwise
   hand the claim back (``pending``) or cancel it (campaign cancelled, number suppressed).
2. Reserve the next slot of the account's global rate limiter and wait, still ``queued``,
   until :data:`BEGIN_LEAD` before it.
3. Win ``queued → dialing`` and write the attempt row, and COMMIT, before the request leaves.
   Losing that race (a redelivered task, a second worker, a pause) means no call: stop.
4. At the slot, send through the provider adapter and record what came back: placed, pending
   again with a backoff (the provider provably placed nothing), failed, or unknown.

Why this order. The rate limit is judged where the provider sees it, by when requests
arrive; anything between a slot and its send delays some requests more than others, and a
late request bunches up with the next ones. Taking the slot and then committing broke the
limit at the provider (a commit takes milliseconds, far more on a busy machine). Committing
and then waiting for the slot kept the pace but left every waiting contact in ``dialing``:
a worker killed then turned calls never sent into ``unknown``, and a pause landing during
the wait did not stop them. So the commit happens just before the slot, and only the send
follows it; a commit that ends more than :data:`SEND_JITTER` late takes a fresh slot. The
limiter paces ``SEND_JITTER`` seconds per second slower than the account's rate, so sends up
to that late still never put more than the rate into any one-second window.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dialer.backoff import RetryPolicy, next_attempt_at
from dialer.callbacks import callback_url
from dialer.clients import ProviderPool
from dialer.errors import (
    AccountBroken,
    AmbiguousOutcome,
    ProviderError,
    RejectedByProvider,
    RetryableProviderError,
    ServiceUnavailable,
)
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.dispatch import AttemptResult
from dialer.ledger.engine import session_scope, utcnow
from dialer.models import Campaign, CampaignStatus, Contact, ContactState
from dialer.providers.base import CallProvider, CallRequest
from dialer.ratelimit import RateLimiter, Reservation
from dialer.settings import AccountConfig, Settings
from dialer.templates import MessageTemplates, render
from dialer.windows import CallingWindow, zones_from_key

log = logging.getLogger("dialer.dialing")

SEND_JITTER = 0.02
"""How much later than its rate-limit slot a request may leave, in seconds (see above)."""
BEGIN_LEAD = 0.1
"""How long before its slot a call begins, in seconds: enough for the commit of step 3."""


@runtime_checkable
class SlotReserving(Protocol):
    """A limiter that can reserve a slot without waiting for it (both of
    :mod:`dialer.ratelimit` can)."""

    def reserve(self, key: str, rate_per_second: float, *, max_wait: float | None) -> Reservation:
        """See :meth:`dialer.ratelimit.LocalRateLimiter.reserve`."""
        ...


@dataclass
class Dialer:
    """What ``place_call`` needs from its process: ledger, settings, limiter, HTTP clients."""

    engine: Engine
    settings: Settings
    limiter: RateLimiter
    providers: ProviderPool = field(default_factory=ProviderPool)
    clock: Callable[[], datetime] = utcnow
    rng: random.Random = field(default_factory=random.Random)


def place_call(dialer: Dialer, contact_id: int) -> str:
    """Dial one queued contact at most once. Returns what happened, as a word for logs."""
    with session_scope(dialer.engine) as session:
        found = ledger_dispatch.load_for_dispatch(session, contact_id=contact_id)
        if found is None or found.contact.state != ContactState.QUEUED:
            return "not-queued"
        contact, campaign = found.contact, found.campaign
        refusal = _refusal(session, contact, campaign, dialer.clock())
        if refusal is not None:
            return refusal
    account = dialer.settings.account(campaign.account)
    pace = account.rate_per_second / (1 + SEND_JITTER)
    # Built before the slot: the first use in a process builds the HTTP client under a lock.
    provider = dialer.providers.provider(account)
    try:
        slot = _next_slot(dialer.limiter, account.name, pace)
    except ServiceUnavailable:
        # Nothing begun: the claim goes back now, for the next tick, not for the reaper.
        with session_scope(dialer.engine) as session:
            ledger_dispatch.release_claim(session, contact_id=contact_id, now=dialer.clock())
        log.warning("rate limiter unavailable: contact %s handed back", contact_id)
        return "limiter-unavailable"
    _sleep_until(slot - BEGIN_LEAD)
    now = dialer.clock()
    attempt_key = str(uuid.uuid4())
    with session_scope(dialer.engine) as session:
        attempt = ledger_dispatch.begin_attempt(
            session, contact_id=contact_id, account=account.name, attempt_key=attempt_key, now=now
        )
    if attempt is None or attempt.id is None:
        # Another worker won (then this is a no-op), or the campaign stopped meanwhile.
        with session_scope(dialer.engine) as session:
            released = ledger_dispatch.release_claim(session, contact_id=contact_id, now=now)
        return "released" if released else "lost-race"
    callback = callback_url(dialer.settings, account, campaign.callback_token)
    request = replace(_request(contact, campaign, attempt_key), callback_url=callback)
    result, account_broken = _send(
        dialer, account, provider, request, slot=slot, attempts_made=contact.attempts + 1
    )
    with session_scope(dialer.engine) as session:
        ledger_dispatch.finish_attempt(
            session, attempt_id=attempt.id, contact_id=contact_id, result=result, now=dialer.clock()
        )
        if account_broken:
            paused = ledger_campaigns.pause_account(
                session, account=account.name, reason=result.error, now=dialer.clock()
            )
            log.error(
                "account %s refused our credentials: paused %d campaign(s)", account.name, paused
            )
    log.info(
        "attempt campaign=%s contact=%s account=%s result=%s status=%s latency_ms=%s",
        campaign.name,
        contact_id,
        account.name,
        result.state,
        result.http_status,
        result.latency_ms,
    )
    return str(result.state)


def _next_slot(limiter: RateLimiter, key: str, pace: float) -> float:
    """Take the next rate-limit slot for ``key``; return when it comes, on ``time.monotonic``.

    Raises ServiceUnavailable when the limiter cannot be reached.
    """
    if isinstance(limiter, SlotReserving):
        reservation = limiter.reserve(key, pace, max_wait=None)
        # Counted from the answer, not the question: a slot estimated late by the round trip
        # at worst, never early.
        return time.monotonic() + reservation.wait
    limiter.acquire(key, pace)  # a limiter that can only wait: the slot is when it returns
    return time.monotonic()


def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def _refusal(session: Session, contact: Contact, campaign: Campaign, now: datetime) -> str | None:
    """Why this contact must not be dialed now (its claim handed back or cancelled), or None."""
    assert contact.id is not None and campaign.id is not None
    if campaign.status == CampaignStatus.CANCELLED:
        ledger_dispatch.cancel_contact(
            session, contact_id=contact.id, now=now, reason="campaign cancelled"
        )
        return "cancelled"
    if campaign.status != CampaignStatus.RUNNING or (campaign.end_at and now >= campaign.end_at):
        ledger_dispatch.release_claim(session, contact_id=contact.id, now=now)
        return "campaign-not-running"
    if ledger_contacts.is_suppressed(session, phone=contact.phone, campaign_id=campaign.id):
        ledger_dispatch.cancel_contact(
            session, contact_id=contact.id, now=now, reason=ledger_dispatch.SUPPRESSED_REASON
        )
        return "suppressed"
    window = CallingWindow.parse(campaign.window, campaign.days)
    if not window.is_open_for(zones_from_key(contact.zone_key, campaign.timezone), now):
        ledger_dispatch.release_claim(session, contact_id=contact.id, now=now)
        return "window-closed"
    return None


def _request(contact: Contact, campaign: Campaign, attempt_key: str) -> CallRequest:
    templates = MessageTemplates.from_json(campaign.templates)
    values = {key: str(value) for key, value in contact.variables.items()}
    return CallRequest(
        attempt_key=attempt_key,
        campaign=campaign.name,
        phone=contact.phone,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        variables={**templates.variables, **values},
        messages=render(templates, values),
    )


def _send(
    dialer: Dialer,
    account: AccountConfig,
    provider: CallProvider,
    request: CallRequest,
    *,
    slot: float,
    attempts_made: int,
) -> tuple[AttemptResult, bool]:
    """``request`` through the adapter at its rate-limit ``slot``, the answer (and how long it
    took) turned into the contact's next state, and whether the account's credentials were
    refused."""
    try:
        _sleep_until(slot)
        if time.monotonic() - slot > SEND_JITTER:
            # The begin ended late: leaving now could crowd the next slot's request.
            pace = account.rate_per_second / (1 + SEND_JITTER)
            _sleep_until(_next_slot(dialer.limiter, account.name, pace))
    except ServiceUnavailable as exc:
        # Begun, but nothing was sent: due again at the next tick.
        return AttemptResult(state=ContactState.PENDING, error=f"not sent: {exc}"), False
    started = time.monotonic()
    result, account_broken = _answer(dialer, account, provider, request, attempts_made)
    latency = int((time.monotonic() - started) * 1000)
    return replace(result, latency_ms=latency), account_broken


def _answer(
    dialer: Dialer,
    account: AccountConfig,
    provider: CallProvider,
    request: CallRequest,
    attempts_made: int,
) -> tuple[AttemptResult, bool]:
    """Send ``request`` now; see :func:`_send`."""
    try:
        placed = provider.place(request)
    except RetryableProviderError as exc:
        policy = RetryPolicy(
            max_attempts=account.max_attempts,
            base_seconds=account.backoff_seconds,
            cap_seconds=max(3600.0, account.backoff_seconds),
        )
        if attempts_made >= policy.max_attempts:
            gave_up = f"gave up after {attempts_made} attempts: "
            return _failure(ContactState.FAILED, exc, gave_up), False
        now = dialer.clock()
        retry = next_attempt_at(policy, attempts_made, now, retry_at=exc.retry_at, rng=dialer.rng)
        return _failure(ContactState.PENDING, exc, next_attempt_at=retry), False
    except AccountBroken as exc:
        # Nothing was placed and the contact is not at fault: it waits for the account's fix.
        return _failure(ContactState.PENDING, exc, "account refused: "), True
    except RejectedByProvider as exc:
        return _failure(ContactState.FAILED, exc), False
    except AmbiguousOutcome as exc:
        return _failure(ContactState.UNKNOWN, exc), False
    except Exception as exc:
        # A bug after the request may have left: the honest state is unknown, never a redial.
        log.exception("unexpected error placing attempt %s", request.attempt_key)
        error = f"internal error: {type(exc).__name__}"
        return AttemptResult(state=ContactState.UNKNOWN, error=error), False
    placed_result = AttemptResult(
        state=ContactState.PLACED,
        http_status=placed.http_status,
        provider_call_id=placed.provider_call_id,
        body=placed.body,
    )
    return placed_result, False


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
