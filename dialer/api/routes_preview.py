"""``POST /campaigns/preview``: what ``POST /campaigns`` would do with a file, creating nothing.

A stand-in (see :mod:`campaigns.scratch_preview`) until the importer's dry run is merged; its
answer has that one's shape plus ``estimate``.

Same multipart body as ``POST /campaigns`` (the console sends the same form to both). The
answer is the dry run: rows read, accepted, rejected by reason, the phone column used, the
first contacts as they will be dialed, the messages for the first one and the finish estimate.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from campaigns.scratch_preview import ImportPreview, preview_import
from campaigns.spec import CampaignSpec
from dialer.api import errors
from dialer.api.auth import AUTHENTICATED
from dialer.api.context import ApiContext, Context
from dialer.api.errors import ApiError, status_for
from dialer.api.forms import REQUEST_BODY, CampaignForm
from dialer.api.upload import receive_upload
from dialer.errors import DialerError
from dialer.ledger.engine import utcnow

router = APIRouter(
    prefix="/campaigns",
    tags=["campaigns"],
    dependencies=AUTHENTICATED,
    responses=errors.responses(401),
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
    """What ``POST /campaigns`` would do, nothing written."""

    campaign: str
    appended: bool = Field(description="Always false: a preview is of a new campaign.")
    rows_read: int
    accepted: int
    rejected: int
    rejected_by_reason: dict[str, int] = Field(
        description="missing, unparseable, invalid, duplicate, suppressed or a provider rule."
    )
    phone_columns: dict[str, int] = Field(
        description="Each phone column used (its header): contacts it gave."
    )
    contacts: list[PreviewContactItem] = Field(description="The first 10, in file order.")
    estimate: str = Field(description="When the campaign would finish, or why it cannot.")

    @classmethod
    def of(cls, preview: ImportPreview) -> ImportPreviewResult:
        return cls(
            campaign=preview.campaign,
            appended=False,
            rows_read=preview.rows_read,
            accepted=preview.accepted,
            rejected=sum(preview.rejected.values()),
            rejected_by_reason=dict(preview.rejected.most_common()),
            phone_columns={preview.phone_column: preview.accepted},
            contacts=[
                PreviewContactItem(
                    row=c.row,
                    phone=c.phone,
                    extension=c.extension,
                    timezones=list(c.timezones),
                    number_type=c.number_type,
                    variables=c.variables,
                )
                for c in preview.contacts
            ],
            estimate=preview.estimate,
        )


@router.post(
    "/preview",
    openapi_extra={"requestBody": REQUEST_BODY},
    responses=errors.responses(400, 409, 413, 422, 503),
)
async def preview_campaign(request: Request, ctx: Context) -> ImportPreviewResult:
    """Read, clean and check a leads file exactly as ``POST /campaigns`` would, and say what
    would be created; nothing is written to the ledger."""
    with ctx.files.upload_dir() as workdir:
        upload = await receive_upload(request, workdir, max_bytes=ctx.settings.max_upload_mb << 20)
        form = CampaignForm.from_fields(upload.fields)
        spec = form.to_spec(upload.path, workdir / "rejects.csv")
        preview = await run_in_threadpool(_preview, ctx, spec, workdir)
    return ImportPreviewResult.of(preview)


def _preview(ctx: ApiContext, spec: CampaignSpec, workdir: Path) -> ImportPreview:
    try:
        return preview_import(ctx.engine, ctx.settings, spec, workdir=workdir, now=utcnow())
    except DialerError as exc:
        message = str(exc).replace(f"{workdir}{os.sep}", "")
        raise ApiError(status_for(exc), message) from exc
