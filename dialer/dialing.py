"""``place_calls``: a batch of queued contacts, at most one HTTP request each, every answer
in the ledger.

The same function runs in a Celery task and in the embedded runner's threads. Its steps:

1. Read the batch's contacts and campaigns together. Dial only ``queued`` contacts of a
   ``running`` campaign whose number is not suppressed and whose calling window is open now;
   hand the other claims back (``pending``) or cancel them (campaign cancelled, number
   suppressed).
2. Reserve one slot of the account's global rate limiter per contact, all in one step.
3. In slot order, :data:`BEGIN_LEAD` before a slot: win ``queued → dialing`` and write the
   attempt row of every contact whose slot comes within that lead, in one transaction, and
   COMMIT before any of their requests leaves. A contact lost there (a redelivered task, a
   second worker, a pause) gets no call.
4. The account's sending threads wait for each begun contact's slot, send its request through
   the provider adapter and hand back the answer; this thread records the answers in groups
   as they arrive: placed, pending again with a backoff (the provider provably placed
   nothing), failed, or unknown.

Why this order. The rate limit is judged where the provider sees it, by when requests
arrive; anything between a slot and its send delays some requests more than others, and a
late request bunches up with the next ones. Taking the slot and then committing broke the
limit at the provider (a commit takes milliseconds, far more on a busy machine). Committing
and then waiting for the slot kept the pace but left every waiting contact in ``dialing``:
a worker killed then turned calls never sent into ``unknown``, and a pause landing during
the wait did not stop them. So the commit happens just before the slot, and only the send
follows it; a request that leaves more than :data:`SEND_JITTER` late takes a fresh slot. The
limiter paces ``SEND_JITTER`` seconds per second slower than the account's rate, so sends up
to that late still never put more than the rate into any one-second window.

Why batches. Per contact, a Celery message, a read, a begin and a finish transaction cost
~25 ms of CPU, capping two cores near 75 calls/s. Per batch they cost about what they cost
per contact, so a batch of a hundred pays each once (docs/decisions.md, bench/README.md).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime
from queue import Empty, SimpleQueue

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
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.dispatch import AttemptResult, Dispatchable
from dialer.ledger.engine import session_scope, utcnow
from dialer.models import Campaign, CampaignStatus, Contact, ContactState
from dialer.providers.base import CallProvider, CallRequest
from dialer.ratelimit import RateLimiter
from dialer.settings import AccountConfig, Settings
from dialer.templates import MessageTemplates, render
from dialer.windows import CallingWindow, zones_from_key

log = logging.getLogger("dialer.dialing")

SEND_JITTER = 0.025
"""How much later than its rate-limit slot a request may leave, in seconds (see above)."""
BEGIN_LEAD = 0.1
"""How long before its slot a call begins, in seconds: enough for the commit of step 3."""


@dataclass
class Dialer:
    """What ``place_calls`` needs from its process: ledger, settings, limiter, HTTP clients.

    Setting ``stopping`` makes batches hand back every claim not yet begun.
    """

    engine: Engine
    settings: Settings
    limiter: RateLimiter
    providers: ProviderPool = field(default_factory=ProviderPool)
    clock: Callable[[], datetime] = utcnow
    rng: random.Random = field(default_factory=random.Random)
    stopping: threading.Event = field(default_factory=threading.Event)


def place_call(dialer: Dialer, contact_id: int) -> str:
    """:func:`place_calls` for one contact: what happened to it, as a word for logs."""
    return place_calls(dialer, [contact_id]).get(contact_id, "not-queued")


def place_calls(dialer: Dialer, contact_ids: Sequence[int]) -> dict[int, str]:
    """Dial a batch of queued contacts, each at most once (see the module docstring).

    Returns what happened to each contact found, as a word for logs.
    """
    outcomes: dict[int, str] = {}
    with session_scope(dialer.engine) as session:
        ready = _admit(session, contact_ids, dialer.clock(), outcomes)
    by_account: dict[str, list[Dispatchable]] = {}
    for item in ready:
        by_account.setdefault(item.campaign.account, []).append(item)
    for name, items in by_account.items():
        _dial(dialer, dialer.settings.account(name), items, outcomes)
    return outcomes


def _admit(
    session: Session, contact_ids: Sequence[int], now: datetime, outcomes: dict[int, str]
) -> list[Dispatchable]:
    """The batch's contacts that may be dialed now. Every other claim is handed back or
    cancelled here, and ``outcomes`` says why."""
    by_campaign: dict[int, list[Dispatchable]] = {}
    for item in ledger_dispatch.load_for_dispatch(session, contact_ids=contact_ids):
        assert item.contact.id is not None and item.campaign.id is not None
        if item.contact.state != ContactState.QUEUED:
            outcomes[item.contact.id] = "not-queued"
        else:
            by_campaign.setdefault(item.campaign.id, []).append(item)
    ready: list[Dispatchable] = []
    release: list[int] = []
    cancel: dict[str, list[int]] = {}
    for campaign_id, items in by_campaign.items():
        campaign = items[0].campaign
        ids = [_contact_id(item) for item in items]
        if campaign.status == CampaignStatus.CANCELLED:
            cancel.setdefault("campaign cancelled", []).extend(ids)
            outcomes.update(dict.fromkeys(ids, "cancelled"))
            continue
        if campaign.status != CampaignStatus.RUNNING or (
            campaign.end_at and now >= campaign.end_at
        ):
            release.extend(ids)
            outcomes.update(dict.fromkeys(ids, "campaign-not-running"))
            continue
        blocked = ledger_dispatch.suppressed_among(
            session, campaign_id=campaign_id, phones=[item.contact.phone for item in items]
        )
        window = CallingWindow.parse(campaign.window, campaign.days)
        open_now: dict[str, bool] = {}
        for item, contact_id in zip(items, ids, strict=True):
            key = item.contact.zone_key
            if key not in open_now:
                open_now[key] = window.is_open_for(zones_from_key(key, campaign.timezone), now)
            if item.contact.phone in blocked:
                cancel.setdefault(ledger_dispatch.SUPPRESSED_REASON, []).append(contact_id)
                outcomes[contact_id] = "suppressed"
            elif not open_now[key]:
                release.append(contact_id)
                outcomes[contact_id] = "window-closed"
            else:
                ready.append(item)
    for reason, ids in cancel.items():
        ledger_dispatch.cancel_contacts(session, contact_ids=ids, now=now, reason=reason)
    ledger_dispatch.release_claims(session, contact_ids=release, now=now)
    return ready


def _dial(
    dialer: Dialer, account: AccountConfig, items: list[Dispatchable], outcomes: dict[int, str]
) -> None:
    """Steps 2-4 of the module docstring for one account's contacts of the batch."""
    sender = dialer.providers.sender(account)
    pace = _pace(account)
    try:
        waits = (
            [0.0] * len(items)
            if pace is None
            else dialer.limiter.reserve_many(account.name, pace, len(items))
        )
    except ServiceUnavailable:
        # Nothing begun: the claims go back now, for the next tick, not for the reaper.
        _hand_back(dialer, items, outcomes, "limiter-unavailable")
        log.warning("rate limiter unavailable: %d contacts handed back", len(items))
        return
    # Counted from the answer, not the question: slots estimated late by the round trip at
    # worst, never early.
    reserved = time.monotonic()
    slots = [reserved + wait for wait in waits]
    recorder = _Recorder(dialer, account)
    start = 0
    while start < len(items):
        recorder.record_until(slots[start] - BEGIN_LEAD)
        if dialer.stopping.is_set():
            _hand_back(dialer, items[start:], outcomes, "stopped")
            break
        horizon = time.monotonic() + BEGIN_LEAD
        end = start + 1
        while end < len(items) and slots[end] <= horizon:
            end += 1
        group = [
            _Claim(item, slot, round(wait * 1000))
            for item, slot, wait in zip(
                items[start:end], slots[start:end], waits[start:end], strict=True
            )
        ]
        for claim, attempt_id, request in _begin(dialer, account, group, outcomes):
            future = sender.submit(
                _send,
                dialer,
                account,
                request,
                slot=claim.slot,
                attempts_made=claim.item.contact.attempts + 1,
            )
            recorder.expect(future, attempt_id, claim.item)
        start = end
    recorder.record_all()
    outcomes.update(recorder.outcomes)


@dataclass(frozen=True, slots=True)
class _Claim:
    item: Dispatchable
    slot: float  # on time.monotonic
    rate_wait_ms: int


def _begin(
    dialer: Dialer, account: AccountConfig, group: list[_Claim], outcomes: dict[int, str]
) -> list[tuple[_Claim, int, CallRequest]]:
    """Step 3 for ``group``: the claims won, each with its attempt id and request, committed."""
    begins = [
        ledger_dispatch.Begin(_contact_id(claim.item), str(uuid.uuid4()), claim.rate_wait_ms)
        for claim in group
    ]
    now = dialer.clock()
    with session_scope(dialer.engine) as session:
        won = ledger_dispatch.begin_attempts(session, begins=begins, account=account.name, now=now)
        lost = [begin.contact_id for begin in begins if begin.contact_id not in won]
        # Another worker won (then releasing is a no-op), or the campaign stopped meanwhile.
        released = set(ledger_dispatch.release_claims(session, contact_ids=lost, now=now))
    for contact_id in lost:
        outcomes[contact_id] = "released" if contact_id in released else "lost-race"
    begun: list[tuple[_Claim, int, CallRequest]] = []
    for claim, begin in zip(group, begins, strict=True):
        attempt_id = won.get(begin.contact_id)
        if attempt_id is None:
            continue
        campaign = claim.item.campaign
        callback = callback_url(dialer.settings, account, campaign.callback_token)
        request = replace(
            _request(claim.item.contact, campaign, begin.attempt_key), callback_url=callback
        )
        begun.append((claim, attempt_id, request))
    return begun


def _hand_back(
    dialer: Dialer, items: Sequence[Dispatchable], outcomes: dict[int, str], why: str
) -> None:
    ids = [_contact_id(item) for item in items]
    with session_scope(dialer.engine) as session:
        ledger_dispatch.release_claims(session, contact_ids=ids, now=dialer.clock())
    outcomes.update(dict.fromkeys(ids, why))


def _contact_id(item: Dispatchable) -> int:
    assert item.contact.id is not None
    return item.contact.id


_Answer = tuple[int, Dispatchable, "Future[tuple[AttemptResult, bool]]"]


RECORD_GATHER = 0.05
"""How long answers are gathered after the first one, in seconds, to be recorded together."""


class _Recorder:
    """Writes the answers to a batch's requests to the ledger as they come back: those that
    arrive within :data:`RECORD_GATHER` of each other in one transaction. (Each transaction
    costs about what a dozen answers in it cost.)"""

    def __init__(self, dialer: Dialer, account: AccountConfig) -> None:
        self._dialer = dialer
        self._account = account
        self._answers: SimpleQueue[_Answer] = SimpleQueue()
        self._pending = 0
        self.outcomes: dict[int, str] = {}

    def expect(
        self, future: Future[tuple[AttemptResult, bool]], attempt_id: int, item: Dispatchable
    ) -> None:
        """Record ``future``'s answer once it comes (attempt ``attempt_id`` of ``item``)."""
        self._pending += 1
        future.add_done_callback(lambda done: self._answers.put((attempt_id, item, done)))

    def record_until(self, deadline: float) -> None:
        """Record answers as they arrive until ``deadline`` (``time.monotonic``)."""
        while self._pending:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                return
            try:
                first = self._answers.get(timeout=timeout)
            except Empty:
                return
            self._record(first, deadline)
        _sleep_until(deadline)

    def record_all(self) -> None:
        """Record every answer still to come."""
        while self._pending:
            self._record(self._answers.get(), math.inf)

    def _record(self, first: _Answer, deadline: float) -> None:
        """Record ``first`` and what else arrives within RECORD_GATHER, not past ``deadline``."""
        answers = [first]
        until = min(time.monotonic() + RECORD_GATHER, deadline)
        while len(answers) < self._pending:
            try:
                answers.append(self._answers.get(timeout=max(until - time.monotonic(), 0)))
            except Empty:
                break
        self._pending -= len(answers)
        finishes: list[ledger_dispatch.Finish] = []
        broken: AttemptResult | None = None
        for attempt_id, item, done in answers:
            result, account_broken = _result_of(done)
            finishes.append(ledger_dispatch.Finish(attempt_id, _contact_id(item), result))
            if account_broken:
                broken = result
        now = self._dialer.clock()
        with session_scope(self._dialer.engine) as session:
            ledger_dispatch.finish_attempts(session, finishes=finishes, now=now)
            if broken is not None:
                paused = ledger_campaigns.pause_account(
                    session, account=self._account.name, reason=broken.error, now=now
                )
        if broken is not None:
            log.error(
                "account %s refused our credentials: paused %d campaign(s)",
                self._account.name,
                paused,
            )
        for (_, item, _), finish in zip(answers, finishes, strict=True):
            result = finish.result
            self.outcomes[finish.contact_id] = str(result.state)
            log.info(
                "attempt campaign=%s contact=%s account=%s result=%s status=%s latency_ms=%s",
                item.campaign.name,
                finish.contact_id,
                self._account.name,
                result.state,
                result.http_status,
                result.latency_ms,
            )


def _result_of(done: Future[tuple[AttemptResult, bool]]) -> tuple[AttemptResult, bool]:
    exc = done.exception()
    if exc is None:
        return done.result()
    # A bug around the send: the request may have left, so the honest state is unknown.
    log.error("unexpected error sending a request", exc_info=exc)
    return AttemptResult(
        state=ContactState.UNKNOWN, error=f"internal error: {type(exc).__name__}"
    ), False


def _pace(account: AccountConfig) -> float | None:
    """The rate the limiter paces ``account`` at (see the module docstring); None when the
    account has no rate limit (``rate = "unlimited"``) and the limiter is not asked."""
    if math.isinf(account.rate_per_second):
        return None
    return account.rate_per_second / (1 + SEND_JITTER)


def _next_slot(limiter: RateLimiter, key: str, pace: float) -> float:
    """Take the next rate-limit slot for ``key``; return when it comes, on ``time.monotonic``.

    Raises ServiceUnavailable when the limiter cannot be reached.
    """
    reservation = limiter.reserve(key, pace, max_wait=None)
    # Counted from the answer, not the question: a slot estimated late by the round trip at
    # worst, never early.
    return time.monotonic() + reservation.wait


def _sleep_until(moment: float) -> None:
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


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
    dialer: Dialer, account: AccountConfig, request: CallRequest, *, slot: float, attempts_made: int
) -> tuple[AttemptResult, bool]:
    """``request`` through this thread's adapter at its rate-limit ``slot``, the answer (and
    how long it took) turned into the contact's next state, and whether the account's
    credentials were refused."""
    # Before the slot: a thread's first use builds its HTTP client.
    provider = dialer.providers.provider(account)
    try:
        _sleep_until(slot)
        pace = _pace(account)
        if pace is not None and time.monotonic() - slot > SEND_JITTER:
            # Leaving this late could crowd the next slot's request: take a fresh one.
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
