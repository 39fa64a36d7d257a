"""A campaign as the user asked for it on ``campaign create``, validated before anything is read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dialer.backoff import parse_duration
from dialer.errors import InputError
from dialer.leads.regions import check_region
from dialer.recalls import ClaimOrder, RecallRules, max_calls_for, parse_order, parse_rules
from dialer.settings import Settings
from dialer.split import DEFAULT_WEIGHT, Share
from dialer.templates import MessageTemplates
from dialer.windows import DEFAULT_DAYS, DEFAULT_WINDOW, CallingWindow, validate_timezone


@dataclass(frozen=True)
class CampaignSpec:
    """The options of ``dialer campaign create`` (DESIGN.md §4)."""

    name: str
    account: str
    csv_path: Path
    region: str = "US"
    phone_column: str | tuple[str, ...] | None = None
    """One phone column, or several in order of preference; None: found by name."""
    country_column: str | None = None
    suppress_files: tuple[Path, ...] = ()
    rejects_path: Path | None = None
    start: str | None = None
    end: str | None = None
    window: str = DEFAULT_WINDOW
    days: str = DEFAULT_DAYS
    timezone: str | None = None
    max_attempts: int | None = None
    retry_after: str | None = None
    recall: tuple[str, ...] = ()
    """``--recall OUTCOME=WAIT,...`` options (dialer.recalls); none: the flat ladder."""
    order: str | None = None
    templates: MessageTemplates = field(default_factory=MessageTemplates)
    append: bool = False
    shares: tuple[Share, ...] = ()
    """Several accounts and their weights (``--account NAME=W``, repeated), ``account`` the
    first; empty: ``account`` alone."""
    failover: bool = False

    def account_shares(self) -> tuple[Share, ...]:
        """The campaign's accounts with their weights."""
        return self.shares or (Share(self.account, DEFAULT_WEIGHT),)

    @property
    def rejects(self) -> Path:
        return self.rejects_path or Path(f"{self.name}-rejects.csv")


@dataclass(frozen=True)
class CampaignTimes:
    """The spec's time options, parsed."""

    window: CallingWindow
    timezone: str
    start_at: datetime | None
    end_at: datetime | None
    retry_after_seconds: int | None
    recall_rules: RecallRules | None = None
    """None: the flat ladder of ``--max-calls``/``--retry-after``."""
    order: ClaimOrder = ClaimOrder.INTERLEAVE

    def max_calls(self, asked: int | None) -> int:
        """The campaign's calls per contact: ``--max-calls`` when given, else what the
        recall rules allow (1 without them)."""
        if asked is not None:
            return asked
        return max_calls_for(self.recall_rules) if self.recall_rules else 1


def parse_times(spec: CampaignSpec, settings: Settings) -> CampaignTimes:
    """Validate the spec's name, account and time options. InputError/ConfigError if bad."""
    if not spec.name.strip() or len(spec.name) > 200:
        raise InputError("campaign name must be 1 to 200 characters")
    for share in spec.account_shares():
        settings.account(share.account)
    if spec.failover and len(spec.account_shares()) < 2:
        raise InputError("--failover needs two accounts or more (repeat --account)")
    check_region(spec.region)
    if spec.max_attempts is not None and spec.max_attempts < 1:
        raise InputError("--max-calls must be at least 1")
    window = CallingWindow.parse(spec.window, spec.days)
    timezone = validate_timezone(spec.timezone or "UTC")
    start_at = _instant(spec.start, "--start", timezone)
    end_at = _instant(spec.end, "--end", timezone)
    if start_at and end_at and end_at <= start_at:
        raise InputError("--end must be after --start")
    retry_after = None
    if spec.retry_after:
        retry_after = int(parse_duration(spec.retry_after).total_seconds())
    if retry_after is not None and spec.recall:
        raise InputError("--retry-after goes with --max-calls; with --recall give each wait")
    if retry_after is not None and (spec.max_attempts or 1) < 2:
        raise InputError("--retry-after needs --max-calls of 2 or more")
    return CampaignTimes(
        window=window,
        timezone=timezone,
        start_at=start_at,
        end_at=end_at,
        retry_after_seconds=retry_after,
        recall_rules=parse_rules(spec.recall) if spec.recall else None,
        order=parse_order(spec.order),
    )


def _instant(text: str | None, option: str, timezone: str) -> datetime | None:
    """ISO 8601; without an offset it is read in the campaign's time zone."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {text!r} is not an ISO 8601 date or time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment
