"""What ``dialer run`` shows per campaign: how far it is, and why nothing is due when it waits.

:func:`read_progress` is one grouped count per campaign; callers sample it on a timer (once a
second on a terminal), never per scheduler tick. :func:`why_waiting` is a pure function of the
campaign and the zone keys of its pending contacts; :func:`waiting_reasons` reads those keys,
and is meant for when nothing is due (one query per campaign, not per tick).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dialer.errors import InputError, UnknownCampaign
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger.engine import session_scope
from dialer.models import FINAL_STATES, IN_FLIGHT_STATES, Campaign, CampaignStatus, ContactState
from dialer.windows import CallingWindow, zones_from_key

SHOWN_UNNAMED = (CampaignStatus.RUNNING, CampaignStatus.PAUSED)
"""The campaigns ``dialer run`` with no names reports on (drafts are not dialed)."""


@dataclass(frozen=True)
class CampaignProgress:
    """One campaign's contacts: ``done`` (in a final state) of ``total``, ``in_progress``
    (claimed or on the wire) and ``pending``."""

    name: str
    status: str
    total: int
    done: int
    in_progress: int
    pending: int
    counts: dict[str, int]


def campaigns_to_show(engine: Engine, names: Sequence[str]) -> list[str]:
    """The campaigns named (UnknownCampaign for one that does not exist), else the running
    and paused ones, oldest first."""
    with session_scope(engine) as session:
        if names:
            for name in names:
                ledger_campaigns.get_campaign(session, name=name)
            return list(dict.fromkeys(names))
        shown = ledger_campaigns.campaigns_with_status(session, statuses=SHOWN_UNNAMED)
        return [campaign.name for campaign in shown]


def _existing(session: Session, names: Sequence[str]) -> Iterator[tuple[Campaign, int]]:
    """The named campaigns that exist (one may have been removed meanwhile), with their ids."""
    for name in names:
        try:
            campaign = ledger_campaigns.get_campaign(session, name=name)
        except UnknownCampaign:
            continue
        assert campaign.id is not None
        yield campaign, campaign.id


def read_progress(engine: Engine, names: Sequence[str]) -> list[CampaignProgress]:
    """Each named campaign's progress, in the order given."""
    found = []
    with session_scope(engine) as session:
        for campaign, campaign_id in _existing(session, names):
            counts = ledger_campaigns.state_counts(session, campaign_id=campaign_id)
            found.append(
                CampaignProgress(
                    name=campaign.name,
                    status=campaign.status,
                    total=sum(counts.values()),
                    done=sum(counts[state] for state in FINAL_STATES),
                    in_progress=sum(counts[state] for state in IN_FLIGHT_STATES),
                    pending=counts[ContactState.PENDING],
                    counts=counts,
                )
            )
    return found


def waiting_reasons(engine: Engine, names: Sequence[str], *, now: datetime) -> dict[str, str]:
    """Why each named campaign with pending contacts has none due at ``now`` (see
    :func:`why_waiting`); campaigns with nothing pending, or something due, are left out."""
    reasons = {}
    with session_scope(engine) as session:
        for campaign, campaign_id in _existing(session, names):
            keys = ledger_campaigns.zone_key_counts(
                session, campaign_id=campaign_id, states=[ContactState.PENDING]
            )
            reason = why_waiting(campaign, keys, now=now) if keys else ""
            if reason:
                reasons[campaign.name] = reason
    return reasons


def why_waiting(campaign: Campaign, pending_zone_keys: Collection[str], *, now: datetime) -> str:
    """One phrase saying why ``campaign``'s pending contacts (of ``pending_zone_keys``) are
    not due at ``now`` and when they will be, or ``""`` when some are due (or wait only for
    a retry's backoff). E.g. ``"window opens 09:00 America/New_York (14:00 UTC)"``."""
    if campaign.status == CampaignStatus.DRAFT:
        return f"draft: not started (dialer campaign start {campaign.name})"
    if campaign.status == CampaignStatus.PAUSED:
        return f"paused: {campaign.status_reason}" if campaign.status_reason else "paused"
    if campaign.status != CampaignStatus.RUNNING:
        return ""
    if campaign.end_at is not None and _aware(campaign.end_at) <= now:
        return f"ended at {_utc(campaign.end_at)}"
    begin = now
    if campaign.start_at is not None and _aware(campaign.start_at) > now:
        begin = _aware(campaign.start_at)
    window = CallingWindow.parse(campaign.window, campaign.days)
    opening = _next_opening(window, pending_zone_keys, campaign.timezone, begin)
    if opening is None:
        return f"the window {window.describe()} does not open in its contacts' zones"
    when, zone = opening
    if when <= now:
        return ""
    local = when.astimezone(ZoneInfo(zone))
    said = f"window opens {local:%H:%M} {zone} ({when:%H:%M} UTC{_day(when, now)})"
    if begin > now:
        return f"starts at {_utc(begin)}" + ("" if when == begin else f"; {said}")
    return said


def _next_opening(
    window: CallingWindow, keys: Collection[str], fallback: str, begin: datetime
) -> tuple[datetime, str] | None:
    """The earliest instant from ``begin`` at which some key's zones are all open, and the
    zone of that key whose clock then reads the window's start (its first zone otherwise)."""
    best: tuple[datetime, str] | None = None
    for key in keys:
        zones = zones_from_key(key, fallback)
        try:
            when = window.next_opening(zones, begin)
        except InputError:
            continue  # a zone this machine's tz database lacks is never open
        if when is not None and (best is None or when < best[0]):
            opener = next(
                (z for z in zones if when.astimezone(ZoneInfo(z)).time() == window.start),
                zones[0],
            )
            best = (when, opener)
    return best


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _utc(moment: datetime) -> str:
    return f"{_aware(moment).astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _day(when: datetime, now: datetime) -> str:
    """``""`` for later today (UTC), else the date: `` on 2026-12-07``."""
    return "" if when.date() == now.astimezone(UTC).date() else f" on {when:%Y-%m-%d}"
