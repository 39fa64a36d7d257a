"""Response bodies of the HTTP API (what the OpenAPI schema promises, field by field)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from campaigns.importer import ImportSummary
from campaigns.preview import ImportPreview
from campaigns.status import CampaignReport


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


class Account(BaseModel):
    """A configured provider account: its name and kind, never its credentials; its capacity
    when the server can read it (with a broker)."""

    name: str
    provider: str
    capacity: AccountCapacity | None = None


class Health(BaseModel):
    status: str = "ok"
