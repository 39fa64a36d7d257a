"""Where a request leaves, and what guarantees it leaves once: ``place_calls``.

A batch of queued contacts, at most one HTTP request each, every answer in the ledger. The
same function runs in a Celery task and in the embedded runner's threads. Its steps:

1. **Admit** (:mod:`.admission`): read the batch's contacts and campaigns together; dial only
   ``queued`` contacts of a ``running`` campaign whose number is not suppressed and whose
   calling window is open now; hand the other claims back or cancel them.
2. **Reserve** (:mod:`.pacing`): per contact, a slot of the account's global rate limiter
   and a call place (:mod:`dialer.capacity`), in one step; claims past them go back.
3. **Begin and commit**: in slot order, :data:`.pacing.BEGIN_LEAD` before a slot, win
   ``queued → dialing`` and write the attempt row of every contact whose slot comes within
   that lead, in one transaction, and COMMIT before any of their requests leaves. A contact
   lost there (a redelivered task, a second worker, a pause) gets no call.
4. **Send**: the account's sending threads wait for each begun contact's slot and send its
   request (:mod:`.requests`) through the provider adapter; the answer becomes the contact's
   next state (:mod:`.answers`).
5. **Record** (:mod:`.recorder`): this thread writes the answers in groups as they arrive:
   placed, pending again with a backoff (the provider provably placed nothing), failed, or
   unknown.

Why this order. The rate limit is judged where the provider sees it, by when requests
arrive; anything between a slot and its send delays some requests more than others, and a
late request bunches up with the next ones. Taking the slot and then committing broke the
limit at the provider (a commit takes milliseconds, far more on a busy machine). Committing
and then waiting for the slot kept the pace but left every waiting contact in ``dialing``:
a worker killed then turned calls never sent into ``unknown``, and a pause landing during
the wait did not stop them. So the commit happens just before the slot, and only the send
follows it; a request that leaves more than :data:`.pacing.SEND_JITTER` late takes a fresh
slot. The limiter paces ``SEND_JITTER`` seconds per second slower than the account's rate,
so sends up to that late still never put more than the rate into any one-second window.

Why batches. Per contact, a Celery message, a read, a begin and a finish transaction cost
~25 ms of CPU, capping two cores near 75 calls/s. Per batch they cost about what they cost
per contact, so a batch of a hundred pays each once (docs/decisions.md, bench/README.md).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from dialer import holds
from dialer.dispatch.admission import admit
from dialer.dispatch.answers import Answer, ask
from dialer.dispatch.pacing import BEGIN_LEAD, Pacer, Slot
from dialer.dispatch.recorder import Recorder
from dialer.dispatch.requests import build_request
from dialer.dispatch.results import DispatchResult
from dialer.dispatch.routing import begin_of, by_account
from dialer.errors import ServiceUnavailable
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.dispatch import AttemptResult, Dispatchable
from dialer.ledger.engine import session_scope
from dialer.models import ContactState
from dialer.providers.base import CallRequest
from dialer.service import CallService
from dialer.settings import AccountConfig

log = logging.getLogger("dialer.dialing")

Results = dict[int, DispatchResult]


def place_call(service: CallService, contact_id: int) -> DispatchResult:
    """:func:`place_calls` for one contact: what happened to it."""
    return place_calls(service, [contact_id]).get(contact_id, DispatchResult.NOT_QUEUED)


def place_calls(service: CallService, contact_ids: Sequence[int]) -> Results:
    """Dial a batch of queued contacts, each at most once (see the module docstring).
    Returns what happened to each contact found."""
    results: Results = {}
    with session_scope(service.engine) as session:
        ready = admit(session, contact_ids, service.clock.now(), results)
    for name, items in by_account(service, ready).items():
        _dial(service, service.settings.account(name), items, results)
    return results


def _dial(
    service: CallService, account: AccountConfig, items: list[Dispatchable], results: Results
) -> None:
    """Steps 2-5 for one account's contacts of the batch."""
    pacer = Pacer(service.limiter, service.clock, account, service.gate)
    try:
        slots = pacer.reserve(len(items))
    except ServiceUnavailable:
        # Nothing begun: the claims go back now, for the next tick, not for the reaper.
        _hand_back(service, items, results, DispatchResult.LIMITER_UNAVAILABLE)
        log.warning("rate limiter unavailable: %d contacts handed back", len(items))
        return
    if len(slots) < len(items):
        _hand_back(service, items[len(slots) :], results, DispatchResult.NO_CAPACITY)
        items = items[: len(slots)]
    sender = service.providers.sender(account)
    recorder = Recorder(service, account)
    start = 0
    while start < len(items):
        recorder.record_until(slots[start].at - BEGIN_LEAD)
        if service.stopping.is_set():
            _hand_back(service, items[start:], results, DispatchResult.STOPPED)
            pacer.give_back(slots[start:])
            break
        horizon = service.clock.monotonic() + BEGIN_LEAD
        end = start + 1
        while end < len(items) and slots[end].at <= horizon:
            end += 1
        group = list(zip(items[start:end], slots[start:end], strict=True))
        for call in _begin(service, account, pacer, group, results):
            attempts_made = call.item.contact.attempts + 1
            future = sender.submit(_send, service, account, pacer, call, attempts_made)
            recorder.expect(future, call.attempt_id, call.item)
        start = end
    recorder.record_all()
    results.update(recorder.results)


@dataclass(frozen=True, slots=True)
class _Begun:
    """A contact whose attempt is committed: its request may leave at its slot."""

    item: Dispatchable
    slot: Slot
    attempt_id: int
    request: CallRequest


def _begin(
    service: CallService,
    account: AccountConfig,
    pacer: Pacer,
    group: list[tuple[Dispatchable, Slot]],
    results: Results,
) -> list[_Begun]:
    """Step 3 for ``group``: the contacts won, committed, each with its request."""
    now = service.clock.now()
    settings = service.settings
    with session_scope(service.engine) as session:
        # The numbers stay locked until this commit: another worker beginning a call to one
        # of them (another campaign) judges it after this one is recorded.
        held = holds.hold_back_queued(session, [item for item, _ in group], now, settings)
        kept = [(item, slot) for item, slot in group if item.contact_id not in held]
        begins = [begin_of(item, slot.key, slot.wait_ms, account.name) for item, slot in kept]
        won = ledger_dispatch.begin_attempts(session, begins=begins, account=account.name, now=now)
        lost = [begin.contact_id for begin in begins if begin.contact_id not in won]
        # Another worker won (then releasing is a no-op), the campaign stopped meanwhile, or
        # the contact is another account's now.
        released = set(ledger_dispatch.release_claims(session, contact_ids=lost, now=now))
    for contact_id in lost:
        results[contact_id] = (
            DispatchResult.RELEASED if contact_id in released else DispatchResult.LOST_RACE
        )
    results.update(dict.fromkeys(held, DispatchResult.HELD))
    pacer.give_back([slot for (item, slot) in group if item.contact_id not in won])
    return [
        _Begun(item, slot, won[begin.contact_id], build_request(settings, account, item, begin))
        for (item, slot), begin in zip(kept, begins, strict=True)
        if begin.contact_id in won
    ]


def _send(
    service: CallService, account: AccountConfig, pacer: Pacer, call: _Begun, attempts_made: int
) -> Answer:
    """Step 4, on a sending thread: the call's request at its slot, and what its answer
    (and how long it took) means for the contact."""
    # Before the slot: a thread's first use builds its HTTP client.
    provider = service.providers.provider(account)
    try:
        pacer.await_slot(call.slot)
    except ServiceUnavailable as exc:
        # Begun, but nothing was sent: due again at the next tick.
        pacer.give_back([call.slot])
        return Answer(AttemptResult(state=ContactState.PENDING, error=f"not sent: {exc}"))
    clock = service.clock
    started = clock.monotonic()
    answer = ask(
        provider,
        call.request,
        account=account,
        attempts_made=attempts_made,
        clock=clock,
        rng=service.rng,
    )
    latency = int((clock.monotonic() - started) * 1000)
    return pacer.settle(
        call.slot, replace(answer, result=replace(answer.result, latency_ms=latency))
    )


def _hand_back(
    service: CallService, items: Sequence[Dispatchable], results: Results, why: DispatchResult
) -> None:
    ids = [item.contact_id for item in items]
    with session_scope(service.engine) as session:
        ledger_dispatch.release_claims(session, contact_ids=ids, now=service.clock.now())
    results.update(dict.fromkeys(ids, why))
