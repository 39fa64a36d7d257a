"""Step 1 of dispatch: which of a batch's claims may be dialed now.

Dial only ``queued`` contacts of a ``running`` campaign (before its end time) whose number is
not suppressed and whose calling window is open now in the recipient's own zones; every
other claim is handed back to ``pending`` or cancelled (campaign cancelled, number
suppressed) here, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from dialer.dispatch.results import DispatchResult
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.dispatch import Dispatchable
from dialer.models import CampaignStatus, ContactState
from dialer.windows import CallingWindow, zones_from_key


def admit(
    session: Session,
    contact_ids: Sequence[int],
    now: datetime,
    results: dict[int, DispatchResult],
) -> list[Dispatchable]:
    """The batch's contacts that may be dialed now. Every other claim is handed back or
    cancelled, and ``results`` says why."""
    by_campaign: dict[int, list[Dispatchable]] = {}
    for item in ledger_dispatch.load_for_dispatch(session, contact_ids=contact_ids):
        assert item.campaign.id is not None
        if item.contact.state != ContactState.QUEUED:
            results[item.contact_id] = DispatchResult.NOT_QUEUED
        else:
            by_campaign.setdefault(item.campaign.id, []).append(item)
    ready: list[Dispatchable] = []
    release: list[int] = []
    cancel: dict[str, list[int]] = {}
    for items in by_campaign.values():
        campaign = items[0].campaign
        ids = [item.contact_id for item in items]
        if campaign.status == CampaignStatus.CANCELLED:
            cancel.setdefault("campaign cancelled", []).extend(ids)
            results.update(dict.fromkeys(ids, DispatchResult.CANCELLED))
        elif campaign.status != CampaignStatus.RUNNING or (
            campaign.end_at and now >= campaign.end_at
        ):
            release.extend(ids)
            results.update(dict.fromkeys(ids, DispatchResult.CAMPAIGN_NOT_RUNNING))
        else:
            ready.extend(_callable_now(session, items, now, results, release, cancel))
    for reason, cancelled in cancel.items():
        ledger_dispatch.cancel_contacts(session, contact_ids=cancelled, now=now, reason=reason)
    ledger_dispatch.release_claims(session, contact_ids=release, now=now)
    return ready


def _callable_now(
    session: Session,
    items: list[Dispatchable],
    now: datetime,
    results: dict[int, DispatchResult],
    release: list[int],
    cancel: dict[str, list[int]],
) -> list[Dispatchable]:
    """Those of one running campaign's ``items`` not suppressed and inside their window;
    the others are added to ``release`` or ``cancel``."""
    campaign = items[0].campaign
    assert campaign.id is not None
    blocked = ledger_dispatch.suppressed_among(
        session, campaign_id=campaign.id, phones=[item.contact.phone for item in items]
    )
    window = CallingWindow.parse(campaign.window, campaign.days)
    open_now: dict[str, bool] = {}
    callable_now: list[Dispatchable] = []
    for item in items:
        key = item.contact.zone_key
        if key not in open_now:
            open_now[key] = window.is_open_for(zones_from_key(key, campaign.timezone), now)
        if item.contact.phone in blocked:
            cancel.setdefault(ledger_dispatch.SUPPRESSED_REASON, []).append(item.contact_id)
            results[item.contact_id] = DispatchResult.SUPPRESSED
        elif not open_now[key]:
            release.append(item.contact_id)
            results[item.contact_id] = DispatchResult.WINDOW_CLOSED
        else:
            callable_now.append(item)
    return callable_now
