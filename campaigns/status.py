"""``dialer campaign status``: what a campaign has done and what it still has to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from dialer import recalls
from dialer.capacity import accounts as capacity
from dialer.capacity.gate import Gate
from dialer.feasibility import estimate_finish
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import outcomes as ledger_outcomes
from dialer.ledger.engine import session_scope
from dialer.models import OPEN_STATES, Campaign, CampaignStatus, ContactState
from dialer.settings import Settings
from dialer.windows import CallingWindow


@dataclass(frozen=True)
class CampaignReport:
    name: str
    account: str
    status: str
    status_reason: str
    window: str
    timezone: str
    start_at: datetime | None
    end_at: datetime | None
    source_file: str
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    contacts: dict[str, int]
    outcomes: dict[str, int]
    estimate: str
    capacity: str = ""
    """The account's capacity now (dialer/capacity), when known."""
    recall_rules: str = ""
    """The campaign's recall ladders (dialer.recalls.describe)."""
    order: str = ""
    recalls_waiting: int = 0
    """Pending contacts that were called and wait to be called again."""
    next_due: datetime | None = None
    """When the earliest of the contacts waiting for a time (recall, retry, put off) is due."""

    @property
    def total(self) -> int:
        return sum(self.contacts.values())

    @property
    def done(self) -> int:
        return self.total - sum(self.contacts[s] for s in OPEN_STATES)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("start_at", "end_at", "next_due"):
            data[key] = data[key].isoformat() if data[key] else None
        data["total"] = self.total
        data["done"] = self.done
        return data


def campaign_report(
    engine: Engine, settings: Settings, name: str, *, now: datetime, gate: Gate | None = None
) -> CampaignReport:
    """The status of campaign ``name``, with its account's capacity read from ``gate`` when
    given. UnknownCampaign if there is none."""
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        counts = ledger_campaigns.state_counts(session, campaign_id=campaign.id)
        outcomes = ledger_campaigns.outcome_counts(session, campaign_id=campaign.id)
        pending = ledger_campaigns.zone_key_counts(
            session, campaign_id=campaign.id, states=[ContactState.PENDING]
        )
        call_seconds = ledger_outcomes.recent_call_seconds(session, account=campaign.account)
        waiting = ledger_campaigns.recalls_waiting(session, campaign_id=campaign.id)
        next_due = ledger_campaigns.next_due(session, campaign_id=campaign.id, zone_keys=pending)
    account = settings.accounts.get(campaign.account)
    found = None
    if gate is not None and account is not None:
        found = capacity.capacity_of(gate, account, now)
    window = CallingWindow.parse(campaign.window, campaign.days)
    return CampaignReport(
        name=campaign.name,
        account=campaign.account,
        status=campaign.status,
        status_reason=campaign.status_reason,
        window=window.describe(),
        timezone=campaign.timezone,
        start_at=campaign.start_at,
        end_at=campaign.end_at,
        source_file=campaign.source_file,
        rows_read=campaign.rows_read,
        rows_accepted=campaign.rows_accepted,
        rows_rejected=campaign.rows_rejected,
        contacts=counts,
        outcomes=outcomes,
        estimate=_estimate(campaign, settings, window, pending, now, call_seconds),
        capacity="" if found is None else capacity.describe(found),
        recall_rules=recalls.describe(
            recalls.campaign_rules(
                campaign.recall_rules, campaign.max_attempts, campaign.retry_after_seconds
            )
        ),
        order=recalls.parse_order(campaign.claim_order).value,
        recalls_waiting=waiting,
        next_due=next_due,
    )


def _estimate(
    campaign: Campaign,
    settings: Settings,
    window: CallingWindow,
    pending: dict[str, int],
    now: datetime,
    call_seconds: float | None,
) -> str:
    if campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED) or not pending:
        return ""
    if campaign.account not in settings.accounts:
        return f"account {campaign.account!r} is not configured here"
    estimate = estimate_finish(
        pending_by_zone_key=pending,
        window=window,
        fallback_zone=campaign.timezone,
        rate_per_second=capacity.calls_per_second(
            settings.accounts[campaign.account], call_seconds
        ),
        now=now,
        start=campaign.start_at,
        end=campaign.end_at,
    )
    return estimate.message
