"""Contacts held back by their number's recent calls: put off to the moment they may be
called, never re-examined before then (DESIGN.md §5, issue 16).

Two rules, across every campaign: at most ``frequency_cap`` calls to a number in any 24 h,
and at least ``min_call_gap`` between two calls to it. They are judged when a tick claims a
batch (the cheap filter) and again, with the batch's numbers locked, just before the attempts
begin (what holds when two workers or two campaigns reach one number at once). A held contact
goes back to ``pending`` due at the first instant both rules allow *and* its calling window is
open in all its zones on a campaign day (DST-correct, :meth:`CallingWindow.next_opening`) and
its campaign has started.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlmodel import Session

from dialer.ledger import numbers as ledger_numbers
from dialer.models import Campaign, ContactState
from dialer.windows import CallingWindow, zones_from_key

if TYPE_CHECKING:
    from dialer.ledger.dispatch import Dispatchable
    from dialer.settings import Settings

CAP_SPAN = timedelta(hours=24)

HELD_REASON = "held back: number called recently (frequency cap / minimum gap)"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A contact about to be dialed, and what its hold depends on."""

    contact_id: int
    phone: str
    zone_key: str
    campaign: Campaign


def number_free_at(
    calls: Sequence[datetime], *, now: datetime, frequency_cap: int, min_call_gap: timedelta
) -> datetime | None:
    """When a number called at ``calls`` may be called again, or None if it may be now.

    ``calls``: its calls' start times, any order. The cap (0: off) frees the number when the
    ``frequency_cap``-th newest call of the last 24 h leaves that span; the gap (0: off) when
    ``min_call_gap`` has passed since its newest call.
    """
    free = now
    newest_first = sorted(calls, reverse=True)
    if min_call_gap > timedelta(0) and newest_first:
        free = max(free, newest_first[0] + min_call_gap)
    if frequency_cap > 0:
        in_span = [call for call in newest_first if call > now - CAP_SPAN]
        if len(in_span) >= frequency_cap:
            free = max(free, in_span[frequency_cap - 1] + CAP_SPAN)
    return free if free > now else None


def callable_from(campaign: Campaign, zone_key: str, moment: datetime) -> datetime:
    """The first instant at or after ``moment`` when the contact may be called: its campaign
    started, its window open in every one of its zones. ``moment`` itself when no opening
    comes within the window's horizon (the claim then judges it again at that time)."""
    if campaign.start_at is not None:
        moment = max(moment, _aware(campaign.start_at))
    window = CallingWindow.parse(campaign.window, campaign.days)
    opening = window.next_opening(zones_from_key(zone_key, campaign.timezone), moment)
    return moment if opening is None else opening


def hold_back(
    session: Session,
    *,
    candidates: Sequence[Candidate],
    expected: ContactState,
    now: datetime,
    frequency_cap: int,
    min_call_gap: timedelta,
    lock: bool,
) -> set[int]:
    """Put off the ``candidates`` (in state ``expected``) whose number may not be called now;
    returns their ids. With ``lock``, the numbers stay locked until the caller's transaction
    ends (:func:`dialer.ledger.numbers.lock_numbers`): take it when beginning calls."""
    if not candidates or (frequency_cap <= 0 and min_call_gap <= timedelta(0)):
        return set()
    phones = {c.phone for c in candidates}
    if lock:
        ledger_numbers.lock_numbers(session, phones=phones)
    span = max(CAP_SPAN if frequency_cap > 0 else timedelta(0), min_call_gap)
    calls = ledger_numbers.recent_calls(session, phones=phones, since=now - span)
    due: dict[int, datetime] = {}
    for candidate in candidates:
        free = number_free_at(
            [_aware(call) for call in calls.get(candidate.phone, [])],
            now=now,
            frequency_cap=frequency_cap,
            min_call_gap=min_call_gap,
        )
        if free is not None:
            due[candidate.contact_id] = callable_from(candidate.campaign, candidate.zone_key, free)
    moved = ledger_numbers.reschedule(
        session, due=due, expected=expected, now=now, reason=HELD_REASON
    )
    return set(moved)


def hold_back_queued(
    session: Session, items: Sequence[Dispatchable], now: datetime, settings: Settings
) -> set[int]:
    """:func:`hold_back` of queued contacts about to begin, their numbers locked until the
    caller's transaction ends."""
    return hold_back(
        session,
        candidates=[
            Candidate(item.contact_id, item.contact.phone, item.contact.zone_key, item.campaign)
            for item in items
        ],
        expected=ContactState.QUEUED,
        now=now,
        frequency_cap=settings.frequency_cap,
        min_call_gap=settings.min_call_gap,
        lock=True,
    )


def _aware(moment: datetime) -> datetime:
    """Ledger times are naive UTC on SQLite."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
