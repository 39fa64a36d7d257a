"""Campaign lifecycle: start, pause, resume, cancel, retry, recycle. Each is one ledger
transition.

Pause and cancel are ledger state, not messages to workers: every claim and every
``place_calls`` re-reads the campaign, so a task already in a queue cannot escape them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from dialer.errors import InputError, InvalidTransition
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger import recycle as ledger_recycle
from dialer.ledger.engine import session_scope
from dialer.models import Campaign, CampaignStatus, ContactState
from dialer.names import campaign_name
from dialer.outcomes import Outcome

S = CampaignStatus

_TRANSITIONS: dict[str, tuple[tuple[CampaignStatus, ...], CampaignStatus]] = {
    "start": ((S.DRAFT, S.PAUSED), S.RUNNING),
    "pause": ((S.RUNNING,), S.PAUSED),
    "resume": ((S.PAUSED,), S.RUNNING),
    "cancel": ((S.DRAFT, S.RUNNING, S.PAUSED), S.CANCELLED),
}

RETRYABLE_STATES = (ContactState.FAILED, ContactState.UNKNOWN, ContactState.CANCELLED)


@dataclass(frozen=True, slots=True)
class Recycled:
    """What :func:`recycle` did: the campaign the contacts are pending in, and how many."""

    campaign: str
    contacts: int
    created: bool


def change(engine: Engine, name: str, action: str, *, now: datetime) -> Campaign:
    """Apply ``action`` (start, pause, resume, cancel) to the campaign. InvalidTransition if
    its current status does not allow it. Cancel also cancels every contact not yet dialed."""
    allowed, new = _TRANSITIONS[action]
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        if not ledger_campaigns.set_status(
            session, campaign_id=campaign.id, expected=allowed, new=new, now=now
        ):
            raise InvalidTransition(
                f"cannot {action} campaign {name!r}: it is {campaign.status}"
                + (f" ({campaign.status_reason})" if campaign.status_reason else "")
            )
        if new is S.RUNNING:
            ledger_campaigns.reinstate_accounts(campaign)
        if new is S.CANCELLED:
            ledger_dispatch.cancel_open_contacts(
                session, campaign_id=campaign.id, now=now, reason="campaign cancelled"
            )
        session.flush()
        session.refresh(campaign)
        return campaign


def retry(engine: Engine, name: str, states: Collection[str], *, now: datetime) -> int:
    """Put the campaign's contacts in ``states`` back to ``pending``; the only way an
    ``unknown`` contact is ever dialed again. A finished campaign is reopened as paused."""
    bad = sorted(set(states) - {s.value for s in RETRYABLE_STATES})
    if bad or not states:
        allowed = ", ".join(s.value for s in RETRYABLE_STATES)
        raise InputError(f"--status takes {allowed}; not {', '.join(bad) or 'nothing'}")
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        count = ledger_contacts.reset_contacts(
            session, campaign_id=campaign.id, states=states, now=now
        )
        if count:
            ledger_campaigns.set_status(
                session,
                campaign_id=campaign.id,
                expected=[S.COMPLETED, S.CANCELLED],
                new=S.PAUSED,
                now=now,
                reason=f"{count} contact{'' if count == 1 else 's'} put back to pending; "
                "start it to dial them",
            )
        return count


def recycle(
    engine: Engine, name: str, outcomes: Collection[str], *, into: str | None, now: datetime
) -> Recycled:
    """Call again the contacts of ``name`` whose call ended with one of ``outcomes``: in the
    same campaign (reopened, paused if it had finished), or copied into a new draft campaign
    ``into`` (see :mod:`dialer.ledger.recycle`). InputError for an outcome that is not one."""
    known = [outcome.value for outcome in Outcome]
    bad = sorted(set(outcomes) - set(known))
    if bad or not outcomes:
        raise InputError(f"--outcome takes {', '.join(known)}; not {', '.join(bad) or 'nothing'}")
    with session_scope(engine) as session:
        source = ledger_campaigns.get_campaign(session, name=name)
        if into is None:
            count = ledger_recycle.reopen(session, campaign=source, outcomes=outcomes, now=now)
            return Recycled(campaign=source.name, contacts=count, created=False)
        created, count = ledger_recycle.copy_into(
            session, source=source, name=campaign_name(into), outcomes=outcomes, now=now
        )
        return Recycled(campaign=created.name, contacts=count, created=True)
