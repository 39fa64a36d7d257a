"""``dialer campaign status``: what a campaign has done and what it still has to do.

Its reads (:mod:`dialer.ledger.overview`) run through SQLAlchemy Core (:func:`campaign_report`)
or, for the command on a ledger at the newest revision, on a plain DBAPI connection
(:func:`report_from`, :mod:`dialer.ledger.plainread`): the command then imports no SQLAlchemy
and starts in a fraction of a second (``bench/bench_startup.py``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dialer import recalls, split
from dialer.capacity import accounts as capacity
from dialer.capacity.gate import Gate
from dialer.feasibility import estimate_finish
from dialer.ledger import overview, sums
from dialer.ledger.overview import CampaignView, Fetch
from dialer.settings import Settings
from dialer.states import OPEN_STATES, CampaignStatus, ContactState
from dialer.windows import CallingWindow

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


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
    accounts: list[dict[str, Any]] = field(default_factory=list)
    """Several accounts: each one's ``name``, ``weight`` and ``out`` (why it takes no new
    contacts, or empty); empty for a campaign over one (:mod:`dialer.split`)."""
    failover: bool = False
    reassigned: int = 0
    """First attempts sent to another account than the contact's weighted one."""

    def accounts_line(self) -> str:
        """ "a 70 %, b 30 % (out: ...); failover on, reassigned 12", or empty for one account."""
        if not self.accounts:
            return ""
        total = sum(a["weight"] for a in self.accounts) or 1
        parts = [
            f"{a['name']} {a['weight'] * 100 / total:.0f} %"
            + (f" (out: {a['out']})" if a.get("out") else "")
            for a in self.accounts
        ]
        tail = f"failover on, reassigned {self.reassigned:,}" if self.failover else "no failover"
        return f"{', '.join(parts)}; {tail}"

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
    # Here: report_from's callers need not import SQLAlchemy.
    from dialer.ledger.engine import read_scope
    from dialer.ledger.statements import core_fetch

    with read_scope(engine) as connection:
        read = _read(core_fetch(connection), name)
    return _report(read, settings, now, gate)


def report_from(
    fetch: Fetch, settings: Settings, name: str, *, now: datetime, gate: Gate | None = None
) -> CampaignReport:
    """:func:`campaign_report` read by ``fetch`` (all its reads made before it returns)."""
    return _report(_read(fetch, name), settings, now, gate)


@dataclass(frozen=True)
class _Read:
    """What a status reads of the ledger, in one transaction."""

    campaign: CampaignView
    counts: dict[sums.Key, int]
    call_seconds: dict[str, float | None]
    """The recent call length of each of the campaign's accounts."""
    pending: dict[str, int]
    next_due: datetime | None


def _read(fetch: Fetch, name: str) -> _Read:
    campaign = overview.campaign_view(fetch, name=name)
    counts = overview.campaign_counts(fetch, campaign_id=campaign.id)
    pending = sums.by_zone_key(counts, states=[ContactState.PENDING])
    shares = split.shares_from_json(campaign.accounts, campaign.account)
    return _Read(
        campaign=campaign,
        counts=counts,
        call_seconds={
            s.account: overview.recent_call_seconds(fetch, account=s.account) for s in shares
        },
        pending=pending,
        next_due=overview.next_due(fetch, campaign_id=campaign.id, zone_keys=pending),
    )


def _report(read: _Read, settings: Settings, now: datetime, gate: Gate | None) -> CampaignReport:
    campaign, pending, call_seconds = read.campaign, read.pending, read.call_seconds
    shares = split.shares_from_json(campaign.accounts, campaign.account)
    lines = []
    for share in shares:
        account = settings.accounts.get(share.account)
        found = None
        if gate is not None and account is not None:
            found = capacity.capacity_of(gate, account, now)
        if found is not None:
            named = f"{share.account}: " if len(shares) > 1 else ""
            lines.append(named + capacity.describe(found))
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
        contacts=sums.by_state(read.counts, [campaign.id])[campaign.id],
        outcomes=sums.by_outcome(read.counts),
        estimate=_estimate(campaign, settings, window, pending, now, call_seconds),
        capacity=" | ".join(lines),
        accounts=[share.to_json() for share in shares] if len(shares) > 1 else [],
        failover=campaign.failover,
        reassigned=campaign.reassigned,
        recall_rules=recalls.describe(
            recalls.campaign_rules(
                campaign.recall_rules, campaign.max_attempts, campaign.retry_after_seconds
            )
        ),
        order=recalls.parse_order(campaign.claim_order).value,
        recalls_waiting=sums.recalls_waiting(read.counts),
        next_due=read.next_due,
    )


def _estimate(
    campaign: CampaignView,
    settings: Settings,
    window: CallingWindow,
    pending: dict[str, int],
    now: datetime,
    call_seconds: dict[str, float | None],
) -> str:
    """The finish estimate at what the campaign's accounts sustain together."""
    if campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED) or not pending:
        return ""
    for name in call_seconds:
        if name not in settings.accounts:
            return f"account {name!r} is not configured here"
    estimate = estimate_finish(
        pending_by_zone_key=pending,
        window=window,
        fallback_zone=campaign.timezone,
        rate_per_second=_combined_rate(campaign, settings, call_seconds),
        now=now,
        start=campaign.start_at,
        end=campaign.end_at,
    )
    return estimate.message


def _combined_rate(
    campaign: CampaignView, settings: Settings, call_seconds: dict[str, float | None]
) -> float:
    """Calls per second the campaign's accounts sustain together: failing over, the sum of
    theirs; else each takes its weight's share, so the slowest for its share sets the pace."""
    rates = {
        name: capacity.calls_per_second(settings.accounts[name], seconds)
        for name, seconds in call_seconds.items()
    }
    if campaign.failover:
        return sum(rates.values())
    shares = split.shares_from_json(campaign.accounts, campaign.account)
    total = sum(share.weight for share in shares)
    return min(rates[s.account] * total / s.weight for s in shares)
