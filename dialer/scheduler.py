"""The scheduler tick: which contacts are due now, claimed in batches, handed to dispatch.

One tick, for every running campaign: start it only once its start time has come; end it at
its end time (what remains is cancelled as not reached); compute once which of the campaign's
distinct time-zone keys are inside the calling window now; claim a batch of due contacts in
those zones with one conditional UPDATE; commit; only then enqueue them, in dispatch batches
(:func:`dispatch_batches`). A campaign with no open contact left completes. Safe to run from
several processes at once: claims are disjoint.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from dialer import holds, split
from dialer.capacity import accounts as capacity
from dialer.capacity.gate import Gate
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import counts as ledger_counts
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger import numbers as ledger_numbers
from dialer.ledger.engine import session_scope
from dialer.models import OPEN_STATES, Campaign, CampaignStatus, ContactState
from dialer.recalls import parse_order
from dialer.settings import AccountConfig, Settings
from dialer.windows import CallingWindow

log = logging.getLogger("dialer.scheduler")

Enqueue = Callable[[list[int]], None]
"""Hands one dispatch batch (contact ids) to :func:`dialer.dispatch.protocol.place_calls`."""

BATCH_SECONDS = 1.0
"""A dispatch batch holds at most what the account's rate sends in this many seconds."""


@dataclass
class TickReport:
    claimed: int = 0
    completed: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)
    held_back: bool = False
    """A campaign has due contacts its account cannot start now (places, hold, breaker)."""


def tick(
    engine: Engine,
    settings: Settings,
    *,
    now: datetime,
    enqueue: Enqueue,
    names: Sequence[str] = (),
    capacity: Callable[[str], int] | None = None,
    gate: Gate | None = None,
) -> TickReport:
    """Run one scheduler tick over the running campaigns (only ``names`` when given).

    ``capacity(account)`` caps how many contacts may be claimed for an account this tick
    (the embedded runner passes its free thread slots). By default a tick tops the account's
    claimed and dialing contacts up to what its rate sends until the next tick and a second
    after, and never past ``settings.claim_batch``. Claiming more would only lengthen the
    queue: its tail would wait past ``queued_timeout``, be reaped and be claimed again while
    its task still waits in the broker, and every waiting task holds a future rate-limit slot.
    With the account ``gate``, never more than the account can start now (its free places;
    none while held or open, but a due probe), and its campaigns pause after an outage.
    """
    report = TickReport()
    _reap(engine, settings, now)
    with session_scope(engine) as session:
        running = ledger_campaigns.campaigns_with_status(session, statuses=[CampaignStatus.RUNNING])
        ledger_counts.compact(session, campaign_ids=[c.id for c in running if c.id is not None])
        ledger_counts.compact_attempts(session)
        unfinished = set(ledger_counts.campaigns_with(session, states=sorted(OPEN_STATES)))
    budget: dict[str, int] = {}
    for campaign in running:
        if names and campaign.name not in names:
            continue
        if campaign.start_at is not None and now < campaign.start_at:
            continue
        if campaign.end_at is not None and now >= campaign.end_at:
            _end(engine, campaign, now)
            report.ended.append(campaign.name)
            continue
        shares = split.shares_from_json(campaign.accounts, campaign.account)
        for share in shares:
            if share.account not in budget:
                account = settings.account(share.account)
                budget[account.name] = (
                    _room(engine, settings, account, running)
                    if capacity is None
                    else capacity(account.name)
                )
                if gate is not None:
                    budget[account.name] = _startable(
                        engine, gate, account, now, budget[account.name]
                    )
        takes = [s for s in shares if budget[s.account] > 0 and not s.out]
        if gate is not None and len(takes) < len(shares):
            report.held_back = report.held_back or _has_due(engine, campaign, now)
        limit = sum(budget[s.account] for s in takes)
        claimed = _claim(engine, settings, campaign, now, limit, _filter(campaign, shares, takes))
        _spend(budget, takes, len(claimed))
        report.claimed += len(claimed)
        if claimed:
            slowest = min(
                (settings.account(s.account) for s in takes), key=lambda a: a.rate_per_second
            )
            for batch in dispatch_batches(claimed, settings, slowest):
                enqueue(batch)
        elif campaign.id not in unfinished and _complete_if_done(engine, campaign, now):
            report.completed.append(campaign.name)
    return report


def _filter(
    campaign: Campaign, shares: Sequence[split.Share], takes: Sequence[split.Share]
) -> ledger_dispatch.AccountFilter | None:
    """Which contacts of a campaign over several accounts to claim: those of the accounts
    that can take calls now (``takes``), and the ones not assigned yet that would go to
    them (any, when the campaign fails over). None for a campaign over one account."""
    if len(shares) == 1:
        return None
    names = frozenset(s.account for s in takes)
    if campaign.failover:
        return ledger_dispatch.AccountFilter(names, None)
    cut = split.intervals(shares)
    return ledger_dispatch.AccountFilter(names, tuple(cut[name] for name in sorted(names)))


def _spend(budget: dict[str, int], takes: Sequence[split.Share], claimed: int) -> None:
    """Take ``claimed`` off the budgets of the accounts that take them, first ones first
    (dispatch decides each contact's account; the account gate holds the real limits)."""
    for share in takes:
        spent = min(claimed, budget[share.account])
        budget[share.account] -= spent
        claimed -= spent


def _startable(engine: Engine, gate: Gate, account: AccountConfig, now: datetime, room: int) -> int:
    """``room`` bounded by what the account can start now (after an outage long enough to
    pause its campaigns: nothing)."""
    if capacity.pause_after_outage(engine, gate, account, now):
        return 0
    free = capacity.startable(gate, account)
    return room if free is None else min(room, free)


def _has_due(engine: Engine, campaign: Campaign, now: datetime) -> bool:
    assert campaign.id is not None
    with session_scope(engine) as session:
        return ledger_dispatch.has_due(session, campaign_id=campaign.id, now=now)


def _reap(engine: Engine, settings: Settings, now: datetime) -> None:
    """Lost claims back to ``pending``, calls stuck in ``dialing`` to ``unknown`` (see
    :func:`dialer.ledger.dispatch.reap`); logged, as either means a worker was lost."""
    with session_scope(engine) as session:
        returned, unknown = ledger_dispatch.reap(
            session,
            now=now,
            queued_timeout=settings.queued_timeout,
            dialing_timeout=settings.dialing_timeout,
        )
    if returned or unknown:
        log.warning(
            "reaper: %d lost claims back to pending, %d stuck calls unknown", returned, unknown
        )


def dispatch_batches(
    contact_ids: list[int], settings: Settings, account: AccountConfig
) -> list[list[int]]:
    """``contact_ids`` cut into dispatch batches: ``settings.dispatch_batch`` at most, and no
    more than the account's rate sends in :data:`BATCH_SECONDS`, so that a slow account's
    batch does not hold its last contacts (still ``queued``) for long, and several workers
    share the account's work."""
    size = settings.dispatch_batch
    if math.isfinite(account.rate_per_second):
        size = max(1, min(size, int(account.rate_per_second * BATCH_SECONDS)))
    return [contact_ids[start : start + size] for start in range(0, len(contact_ids), size)]


def _room(
    engine: Engine, settings: Settings, account: AccountConfig, running: Sequence[Campaign]
) -> int:
    """How many more contacts the account may claim this tick (see :func:`tick`)."""
    rate = account.rate_per_second
    ahead = settings.claim_batch
    if math.isfinite(rate):
        ahead = min(ahead, int(rate * (settings.tick_seconds + 1.0)) + 1)
    ids = [
        c.id
        for c in running
        if c.id is not None
        and any(s.account == account.name for s in split.shares_from_json(c.accounts, c.account))
    ]
    with session_scope(engine) as session:
        busy = ledger_dispatch.in_flight(session, campaign_ids=ids)
    return max(0, ahead - busy)


def _claim(
    engine: Engine,
    settings: Settings,
    campaign: Campaign,
    now: datetime,
    limit: int,
    accounts: ledger_dispatch.AccountFilter | None = None,
) -> list[int]:
    assert campaign.id is not None
    if limit <= 0:
        return []
    window = CallingWindow.parse(campaign.window, campaign.days)
    with session_scope(engine) as session:
        keys = ledger_campaigns.zone_key_counts(
            session, campaign_id=campaign.id, states=[ContactState.PENDING]
        )
        open_keys = window.open_zone_keys(keys, campaign.timezone, now)
        claimed = ledger_dispatch.claim_due(
            session,
            campaign_id=campaign.id,
            zone_keys=open_keys,
            now=now,
            limit=limit,
            accounts=accounts,
            order=parse_order(campaign.claim_order),
        )
        held = holds.hold_back(
            session,
            candidates=[
                holds.Candidate(contact_id, phone, zone_key, campaign)
                for contact_id, phone, zone_key in ledger_numbers.numbers_of(
                    session, contact_ids=claimed
                )
            ],
            expected=ContactState.QUEUED,
            now=now,
            frequency_cap=settings.frequency_cap,
            min_call_gap=settings.min_call_gap,
            lock=False,
        )
        return [contact_id for contact_id in claimed if contact_id not in held]


def _complete_if_done(engine: Engine, campaign: Campaign, now: datetime) -> bool:
    assert campaign.id is not None
    with session_scope(engine) as session:
        if ledger_dispatch.has_open_contacts(session, campaign_id=campaign.id):
            return False
        done = ledger_campaigns.set_status(
            session,
            campaign_id=campaign.id,
            expected=[CampaignStatus.RUNNING],
            new=CampaignStatus.COMPLETED,
            now=now,
            reason="every contact reached a final state",
        )
    if done:
        log.info("campaign %s completed", campaign.name)
    return done


def _end(engine: Engine, campaign: Campaign, now: datetime) -> None:
    """The end time has come: stop dialing; what was never reached is cancelled as such."""
    assert campaign.id is not None
    with session_scope(engine) as session:
        won = ledger_campaigns.set_status(
            session,
            campaign_id=campaign.id,
            expected=[CampaignStatus.RUNNING],
            new=CampaignStatus.COMPLETED,
            now=now,
            reason="end time reached",
        )
        if won:
            left = ledger_dispatch.cancel_open_contacts(
                session, campaign_id=campaign.id, now=now, reason="not reached before the end time"
            )
            log.info(
                "campaign %s ended at its end time; %d contacts not reached", campaign.name, left
            )
