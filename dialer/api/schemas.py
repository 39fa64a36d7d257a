"""Response bodies of the HTTP API (what the OpenAPI schema promises, field by field)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from campaigns.importer import ImportSummary
from campaigns.preview import ImportPreview
from campaigns.status import CampaignReport
from dialer.capacity.accounts import Capacity
from dialer.providers import PROVIDERS
from dialer.providers.base import MESSAGE_OPTIONS


class ImportResult(BaseModel):
    """``POST /campaigns``: what the import did with every row of the file."""

    campaign: str
    appended: bool = Field(description="True when the leads were added to an existing campaign.")
    rows_read: int
    accepted: int
    rejected: int
    rejected_by_reason: dict[str, int] = Field(
        description="missing, unparseable, invalid, duplicate, suppressed or a provider rule."
    )
    phone_columns: dict[str, int] = Field(
        description="Each phone column used (its header), preferred first: contacts it gave."
    )
    rejects_url: str = Field(
        description="Where this import's rejected rows (row, value, reason, detail) are."
    )

    @classmethod
    def of(cls, summary: ImportSummary, rejects_url: str) -> ImportResult:
        return cls(
            campaign=summary.campaign,
            appended=summary.appended,
            rows_read=summary.rows_read,
            accepted=summary.accepted,
            rejected=summary.rejected_total,
            rejected_by_reason=dict(summary.rejected.most_common()),
            phone_columns=dict(summary.phone_columns),
            rejects_url=rejects_url,
        )


class PreviewContactItem(BaseModel):
    """A contact as it will be dialed."""

    row: int = Field(description="The row of the file it comes from (1-based data row).")
    phone: str = Field(description="E.164.")
    extension: str | None
    timezones: list[str] = Field(description="Where its calling window is checked.")
    number_type: str = Field(description="mobile, fixed_line, fixed_line_or_mobile, voip, ...")
    variables: dict[str, str] = Field(description="The lead's columns, as templates see them.")


class ImportPreviewResult(BaseModel):
    """``POST /campaigns/preview``: what ``POST /campaigns`` would do, nothing written."""

    campaign: str
    appended: bool
    rows_read: int
    accepted: int
    rejected: int
    rejected_by_reason: dict[str, int] = Field(
        description="missing, unparseable, invalid, duplicate, suppressed or a provider rule."
    )
    phone_columns: dict[str, int] = Field(
        description="Each phone column used (its header), preferred first: contacts it gave."
    )
    contacts: list[PreviewContactItem] = Field(description="The first contacts, in file order.")
    estimate: str = Field(description="When the campaign would finish, or why it cannot.")

    @classmethod
    def of(cls, preview: ImportPreview) -> ImportPreviewResult:
        return cls.model_validate(preview.to_json())


class CampaignStatusReport(BaseModel):
    """``GET /campaigns/{name}``: counters, progress and the finish estimate."""

    name: str
    account: str
    status: str = Field(description="draft, running, paused, completed or cancelled.")
    status_reason: str
    window: str
    timezone: str
    start_at: datetime | None
    end_at: datetime | None
    source_file: str
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    contacts: dict[str, int] = Field(description="Contacts by state; every state is present.")
    outcomes: dict[str, int] = Field(description="Placed calls by provider-reported outcome.")
    total: int = Field(description="Contacts in the campaign.")
    done: int = Field(description="Contacts in a final state.")
    estimate: str = Field(description="When the campaign should finish, or why it cannot.")
    dialing: str = Field(
        description="Who dials this server's campaigns, or why nobody does (the estimate "
        "assumes somebody does)."
    )
    capacity: str = Field(
        default="",
        description="The account's calls in progress of its cap, breaker and hold, when known.",
    )
    accounts: list[dict[str, str | int]] = Field(
        default_factory=list,
        description="A campaign over several accounts: each one's name, weight and, when it "
        "takes no new contacts (credentials refused), out; empty for one account.",
    )
    failover: bool = Field(default=False, description="Contacts not yet attempted fail over.")
    reassigned: int = Field(
        default=0, description="First attempts sent to another account than the weighted one."
    )
    recall_rules: str = Field(
        default="", description="Recall ladders, e.g. 'no-answer=1h,4h,1d busy=15m', or none."
    )
    order: str = Field(default="", description="fresh-first, recalls-first or interleave.")
    recalls_waiting: int = Field(
        default=0, description="Contacts called already that wait to be called again."
    )
    next_due: datetime | None = Field(
        default=None,
        description="When the earliest contact waiting for a time (recall, retry, put off "
        "by the frequency cap or minimum gap) is due.",
    )

    @classmethod
    def of(cls, report: CampaignReport, *, dialing: str) -> CampaignStatusReport:
        return cls.model_validate(report.to_json() | {"dialing": dialing})


class CampaignListItem(BaseModel):
    """One campaign of ``GET /campaigns``."""

    name: str
    account: str
    status: str
    status_reason: str = Field(description="Why it is in that status, when it is not obvious.")
    total: int
    done: int
    contacts: dict[str, int]
    outcomes: dict[str, int] = Field(description="Placed calls by provider-reported outcome.")
    calls_last_minute: int = Field(description="Provider requests sent in the last minute.")
    estimate: str = Field(description="When the campaign should finish, or why it cannot.")


class AccountCapacity(BaseModel):
    """An account's capacity now (dialer/capacity): calls in progress of its cap (None: no
    cap), its outage breaker, and the hold a 429's Retry-After put on it."""

    in_progress: int
    cap: int | None
    breaker: str = Field(description="closed, or open: no requests but one probe at a time")
    open_since: datetime | None
    next_probe_at: datetime | None
    held_until: datetime | None

    @classmethod
    def of(cls, found: Capacity | None) -> AccountCapacity | None:
        if found is None:
            return None
        return cls(
            in_progress=found.in_progress,
            cap=found.cap,
            breaker=found.breaker,
            open_since=found.open_since,
            next_probe_at=found.next_probe_at,
            held_until=found.held_until,
        )


MESSAGES = (
    "The message fields its provider's call request has a place for (the form fields of "
    "POST /campaigns: intro, voicemail, instructions, intro_notes, questions as question, "
    "rules as rule); a campaign giving any other is refused."
)


def messages_of(provider: str) -> list[str]:
    """The message fields ``provider`` takes, in the order ``campaign create`` lists them."""
    taken = PROVIDERS[provider].capabilities.messages
    return [name for name in MESSAGE_OPTIONS if name in taken]


class Account(BaseModel):
    """A configured provider account: its name and kind, never its credentials; its capacity
    when the server can read it (a broker, or the runner of this server)."""

    name: str
    provider: str
    messages: list[str] = Field(description=MESSAGES)
    capacity: AccountCapacity | None = None


class Health(BaseModel):
    status: str = "ok"
