"""``/campaigns``: import a leads CSV, start/pause/resume/cancel, status, export, rejects.

Each route parses its request and makes one call into :mod:`campaigns`; blocking work (the
import, ledger reads) runs in the thread pool, never on the event loop.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from campaigns import activity, lifecycle
from campaigns.export import BYTE_ORDER_MARK, export_batches
from campaigns.importer import ImportSummary, import_campaign
from campaigns.preview import ImportPreview, preview_import
from campaigns.spec import CampaignSpec
from campaigns.status import campaign_report
from dialer.api import errors
from dialer.api.auth import AUTHENTICATED
from dialer.api.context import ApiContext, Context
from dialer.api.errors import ApiError, status_for
from dialer.api.forms import REQUEST_BODY, CampaignForm
from dialer.api.schemas import (
    CampaignListItem,
    CampaignStatusReport,
    ImportPreviewResult,
    ImportResult,
)
from dialer.api.upload import receive_upload
from dialer.errors import DialerError
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger.engine import session_scope, utcnow

router = APIRouter(
    prefix="/campaigns",
    tags=["campaigns"],
    dependencies=AUTHENTICATED,
    responses=errors.responses(401),
)

_CSV = {"text/csv": {"schema": {"type": "string"}}}
_REJECTS_NAME = ".rejects.csv"  # upload names never start with a dot: no clash
_EXPORT_ROWS_PER_CHUNK = 1000


@router.post(
    "",
    status_code=201,
    openapi_extra={"requestBody": REQUEST_BODY},
    responses=errors.responses(400, 409, 413, 422, 503),
)
async def create_campaign(request: Request, ctx: Context) -> ImportResult:
    """Import a leads CSV (multipart field ``file``) into a new campaign, or with
    ``append=true`` into an existing one. Every row is accepted or rejected with a reason;
    the rejected rows of this import are at ``rejects_url``. Nothing is written unless the
    whole import succeeds."""
    with ctx.files.upload_dir() as workdir:
        upload = await receive_upload(request, workdir, max_bytes=ctx.settings.max_upload_mb << 20)
        form = CampaignForm.from_fields(upload.fields)
        rejects = workdir / _REJECTS_NAME
        spec = form.to_spec(upload.path, rejects)
        summary = await run_in_threadpool(_import, ctx, spec, workdir)
        ctx.files.keep_rejects(form.name, rejects)
    return ImportResult.of(summary, rejects_url=f"/campaigns/{quote(form.name, safe='')}/rejects")


def _import(ctx: ApiContext, spec: CampaignSpec, workdir: Path) -> ImportSummary:
    with _user_errors(workdir):
        return import_campaign(ctx.engine, ctx.settings, spec, now=utcnow())


@router.post(
    "/preview",
    openapi_extra={"requestBody": REQUEST_BODY},
    responses=errors.responses(400, 409, 413, 422, 503),
)
async def preview_campaign(
    request: Request, ctx: Context, sample: Annotated[int, Query(ge=0, le=100)] = 10
) -> ImportPreviewResult:
    """What ``POST /campaigns`` would do with the same form, writing nothing: rows read,
    accepted, rejected by reason, the phone columns used and the first ``sample`` contacts
    as they will be dialed (row, E.164, time zones, number type, lead variables)."""
    with ctx.files.upload_dir() as workdir:
        upload = await receive_upload(request, workdir, max_bytes=ctx.settings.max_upload_mb << 20)
        spec = CampaignForm.from_fields(upload.fields).to_spec(upload.path, workdir / _REJECTS_NAME)
        preview = await run_in_threadpool(_preview, ctx, spec, workdir, sample)
    return ImportPreviewResult.of(preview)


def _preview(ctx: ApiContext, spec: CampaignSpec, workdir: Path, sample: int) -> ImportPreview:
    with _user_errors(workdir):
        return preview_import(ctx.settings, spec, now=utcnow(), engine=ctx.engine, sample=sample)


@contextmanager
def _user_errors(workdir: Path) -> Iterator[None]:
    try:
        yield
    except DialerError as exc:
        # The CLI's line names the file as the user gave it: here, the upload's own name.
        message = str(exc).replace(f"{workdir}{os.sep}", "")
        raise ApiError(status_for(exc), message) from exc


@router.get("", responses=errors.responses(503))
def list_campaigns(ctx: Context) -> list[CampaignListItem]:
    """Every campaign, oldest first, with its contacts by state, outcomes, requests of the
    last minute and finish estimate."""
    now = utcnow()
    with session_scope(ctx.engine) as session:
        campaigns = ledger_campaigns.list_campaigns(session)
    items = []
    for campaign in campaigns:
        assert campaign.id is not None
        report = campaign_report(ctx.engine, ctx.settings, campaign.name, now=now)
        items.append(
            CampaignListItem(
                name=report.name,
                account=report.account,
                status=report.status,
                status_reason=report.status_reason,
                total=report.total,
                done=report.done,
                contacts=report.contacts,
                outcomes=report.outcomes,
                calls_last_minute=activity.calls_last_minute(ctx.engine, campaign.id, now=now),
                estimate=report.estimate,
            )
        )
    return items


@router.get("/{name}", responses=errors.responses(404, 503))
def get_campaign(name: str, ctx: Context) -> CampaignStatusReport:
    """Counters, progress (``done`` of ``total``) and the finish estimate."""
    report = campaign_report(ctx.engine, ctx.settings, name, now=utcnow(), gate=ctx.gate)
    return CampaignStatusReport.of(report, dialing=ctx.dialing)


_ACTIONS = {
    "start": "Start dialing (at the campaign's start time if that is later).",
    "pause": "Hold every call, including retries waiting for their backoff.",
    "resume": "Continue a paused campaign.",
    "cancel": "Stop for good: every contact not yet dialed becomes cancelled.",
}


def _action(action: str) -> Callable[[str, ApiContext], CampaignStatusReport]:
    def change(name: str, ctx: Context) -> CampaignStatusReport:
        now = utcnow()
        lifecycle.change(ctx.engine, name, action, now=now)
        report = campaign_report(ctx.engine, ctx.settings, name, now=now)
        return CampaignStatusReport.of(report, dialing=ctx.dialing)

    return change


for _name, _doc in _ACTIONS.items():
    router.post(
        f"/{{name}}/{_name}",
        operation_id=f"{_name}_campaign",
        summary=f"{_name.capitalize()} a campaign",
        description=f"{_doc} Answers the campaign's status afterwards.",
        responses=errors.responses(404, 409, 503),
    )(_action(_name))


@router.get(
    "/{name}/export",
    response_class=StreamingResponse,
    responses={
        200: {"content": _CSV, "description": "One row per contact"},
        **errors.responses(404, 503),
    },
)
def export_campaign(
    name: str, ctx: Context, excel: bool = False, attempts: bool = False
) -> StreamingResponse:
    """Every contact with its status, attempts, call id and error, then the lead's own
    columns; streamed from the ledger. Cells are neutralised against formula injection.
    ``?excel=1``: starts with a byte-order mark, so Excel reads the file as UTF-8.
    ``?attempts=1``: one row per provider request instead (``time, row, phone, account,
    http_status, result, outcome, provider_call_id, error, latency_ms, finished_at,
    outcome_at``), as ``campaign export --attempts``."""
    batches = export_batches(ctx.engine, name, attempts=attempts)
    header = next(batches)  # UnknownCampaign here, before the answer has started
    text = _csv_text(itertools.chain([header], batches))
    return StreamingResponse(
        itertools.chain([BYTE_ORDER_MARK], text) if excel else text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": _attachment(
                f"{name}-attempts.csv" if attempts else f"{name}-export.csv"
            )
        },
    )


def _csv_text(batches: Iterator[Sequence[Sequence[object]]]) -> Iterator[str]:
    """The rows as CSV text, :data:`_EXPORT_ROWS_PER_CHUNK` rows a piece."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for batch in batches:
        for start in range(0, len(batch), _EXPORT_ROWS_PER_CHUNK):
            writer.writerows(batch[start : start + _EXPORT_ROWS_PER_CHUNK])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()


@router.get(
    "/{name}/rejects",
    response_class=FileResponse,
    responses={
        200: {"content": _CSV, "description": "row, value, reason, detail"},
        **errors.responses(404),
    },
)
def campaign_rejects(name: str, ctx: Context) -> FileResponse:
    """The rejected rows (``row, value, reason, detail``) of the campaign's latest import through
    this server; kept until the server restarts."""
    path = ctx.files.rejects_path(name)
    if not path.is_file():
        raise ApiError(404, f"no rejects file of campaign {name!r} on this server")
    return FileResponse(
        path,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": _attachment(f"{name}-rejects.csv")},
    )


def _attachment(filename: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(filename, safe='')}"
