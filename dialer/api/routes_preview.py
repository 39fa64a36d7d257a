"""``POST /campaigns/preview``: what ``POST /campaigns`` would do with a file, creating nothing.

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

from campaigns.preview import ImportPreview, preview_import
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


class PreviewContactBody(BaseModel):
    row: int = Field(description="Data row in the file (from 1).")
    phone: str = Field(description="E.164, as it will be dialed.")
    zones: list[str] = Field(description="The time zones the number may be in.")
    number_type: str
    variables: dict[str, str] = Field(description="The lead's own columns.")


class PhoneColumnBody(BaseModel):
    column: str
    accepted: int = Field(description="Contacts whose number came from this column.")


class ImportPreviewBody(BaseModel):
    """The dry run of an import."""

    rows_read: int
    accepted: int
    rejected: int
    rejected_by_reason: dict[str, int]
    phone_columns: list[PhoneColumnBody]
    country_column: str | None
    columns: list[str] = Field(description="The file's columns, in snake_case.")
    first_contacts: list[PreviewContactBody] = Field(description="Up to 10, in file order.")
    messages: dict[str, str | list[str]] = Field(
        description="The message fields given, rendered for the first contact."
    )
    estimate: str = Field(description="When the campaign would finish, or why it cannot.")

    @classmethod
    def of(cls, preview: ImportPreview) -> ImportPreviewBody:
        return cls(
            rows_read=preview.rows_read,
            accepted=preview.accepted,
            rejected=sum(preview.rejected.values()),
            rejected_by_reason=dict(preview.rejected.most_common()),
            phone_columns=[PhoneColumnBody(column=preview.phone_column, accepted=preview.accepted)],
            country_column=preview.country_column,
            columns=list(preview.columns),
            first_contacts=[
                PreviewContactBody(
                    row=c.row,
                    phone=c.phone,
                    zones=list(c.zones),
                    number_type=c.number_type,
                    variables=c.variables,
                )
                for c in preview.first_contacts
            ],
            messages=preview.messages,
            estimate=preview.estimate,
        )


@router.post(
    "/preview",
    openapi_extra={"requestBody": REQUEST_BODY},
    responses=errors.responses(400, 409, 413, 422, 503),
)
async def preview_campaign(request: Request, ctx: Context) -> ImportPreviewBody:
    """Read, clean and check a leads file exactly as ``POST /campaigns`` would, and say what
    would be created; nothing is written to the ledger."""
    with ctx.files.upload_dir() as workdir:
        upload = await receive_upload(request, workdir, max_bytes=ctx.settings.max_upload_mb << 20)
        form = CampaignForm.from_fields(upload.fields)
        spec = form.to_spec(upload.path, workdir / "rejects.csv")
        preview = await run_in_threadpool(_preview, ctx, spec, workdir)
    return ImportPreviewBody.of(preview)


def _preview(ctx: ApiContext, spec: CampaignSpec, workdir: Path) -> ImportPreview:
    try:
        return preview_import(ctx.engine, ctx.settings, spec, workdir=workdir, now=utcnow())
    except DialerError as exc:
        message = str(exc).replace(f"{workdir}{os.sep}", "")
        raise ApiError(status_for(exc), message) from exc
