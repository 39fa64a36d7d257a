"""What a campaign and an account have been doing: the operator console's live reads.

``GET /campaigns/{name}/attempts``, ``/calls``, ``/window``, ``/rejects/rows`` and
``GET /accounts/{name}``. Each is one call into :mod:`campaigns.activity` whose reads are
bounded by a LIMIT or a time range (never a scan of a campaign's whole history per request).
"""

from __future__ import annotations

import csv
import itertools
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query

from campaigns import activity
from dialer.api import errors
from dialer.api.activity_schemas import (
    AccountHealthBody,
    AttemptItem,
    CallSeriesBody,
    RejectRow,
    RejectRows,
    WindowReport,
)
from dialer.api.auth import AUTHENTICATED
from dialer.api.context import Context
from dialer.api.errors import ApiError
from dialer.api.routes_accounts import capacity_now
from dialer.ledger.engine import utcnow

router = APIRouter(dependencies=AUTHENTICATED, responses=errors.responses(401))


@router.get("/campaigns/{name}/attempts", tags=["campaigns"], responses=errors.responses(404, 503))
def campaign_attempts(
    name: str, ctx: Context, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[AttemptItem]:
    """The campaign's latest provider requests, newest first."""
    lines = activity.recent_attempts(ctx.engine, name, limit=limit)
    return [AttemptItem.of(line) for line in lines]


@router.get(
    "/campaigns/{name}/calls", tags=["campaigns"], responses=errors.responses(404, 422, 503)
)
def campaign_calls(
    name: str,
    ctx: Context,
    since: Annotated[datetime | None, Query(description="Default: the first request.")] = None,
    until: Annotated[datetime | None, Query(description="Default: now.")] = None,
    bucket: Annotated[
        int | None,
        Query(
            ge=1,
            le=activity.MAX_BUCKET_SECONDS,
            description="Seconds per point. Default: about 240 points at most.",
        ),
    ] = None,
) -> CallSeriesBody:
    """Provider requests over time by result, in buckets aligned on the Unix epoch; at most
    2000 buckets. Times without an offset are UTC."""
    series = activity.call_series(
        ctx.engine,
        name,
        now=utcnow(),
        since=_utc(since),
        until=_utc(until),
        bucket_seconds=bucket,
    )
    return CallSeriesBody.of(series)


@router.get("/campaigns/{name}/window", tags=["campaigns"], responses=errors.responses(404, 503))
def campaign_window(name: str, ctx: Context) -> WindowReport:
    """The calling window in words, and for how many pending contacts it is open now."""
    return WindowReport.of(activity.campaign_window(ctx.engine, name, now=utcnow()))


@router.get("/campaigns/{name}/rejects/rows", tags=["campaigns"], responses=errors.responses(404))
def campaign_reject_rows(
    name: str, ctx: Context, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> RejectRows:
    """The first rows of ``GET /campaigns/{name}/rejects`` as JSON (same availability: the
    latest import through this server, until it restarts)."""
    path = ctx.files.rejects_path(name)
    if not path.is_file():
        raise ApiError(404, f"no rejects file of campaign {name!r} on this server")
    rows, more = _first_rows(path, limit)
    return RejectRows(rows=rows, more=more)


# As in GET /accounts, capacity fields that do not apply are left out, not null.
@router.get(
    "/accounts/{name}",
    tags=["accounts"],
    responses=errors.responses(404, 503),
    response_model_exclude_none=True,
)
def account_health(name: str, ctx: Context) -> AccountHealthBody:
    """An account's configured rate, how its requests of the last minutes went, the message
    fields its provider takes, and its capacity now as in ``GET /accounts``."""
    account = ctx.settings.accounts.get(name)
    if account is None:
        raise ApiError(404, f"no account named {name!r} on this server")
    now = utcnow()
    health = activity.account_health(ctx.engine, ctx.settings, name, now=now)
    return AccountHealthBody.of(health, capacity_now(ctx, account, now))


def _first_rows(path: Path, limit: int) -> tuple[list[RejectRow], bool]:
    with path.open(newline="", encoding="utf-8") as stream:
        records = csv.reader(stream)
        next(records, None)  # the header
        taken = list(itertools.islice(records, limit + 1))
    rows = [
        RejectRow(row=int(row), value=value, reason=reason, detail=detail[0] if detail else "")
        for row, value, reason, *detail in taken
    ]
    return rows[:limit], len(rows) > limit


def _utc(moment: datetime | None) -> datetime | None:
    """An instant in UTC (given without an offset: already UTC). 422 past year 1 or 9999."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ApiError(422, f"{moment.isoformat()} is out of range") from None
