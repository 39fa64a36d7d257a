"""What ``campaign create`` would do with a leads file, without creating anything.

A stand-in for the console's "preview before create" until the importer's own dry run
(``campaign create --dry-run``, being written on another branch) is merged: then this module
and :mod:`dialer.api.routes_preview` go, and ``POST /campaigns/preview`` is the importer's.
The answer's shape is that one's, plus ``estimate``.

The file goes through the real import
(:func:`campaigns.importer.import_campaign`: the same reading, normalizing, de-duplication,
do-not-call and provider checks) into a throwaway SQLite ledger in ``workdir`` that holds a
copy of the real ledger's global do-not-call list; the real ledger is only read. Then the
preview reads the first contacts back and estimates the finish.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from campaigns.importer import import_campaign
from campaigns.spec import CampaignSpec, parse_times
from dialer.errors import CampaignError, InputError, UnknownCampaign
from dialer.feasibility import estimate_finish
from dialer.leadsfile import open_leads
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger.engine import make_engine
from dialer.models import Contact, ContactState
from dialer.settings import Settings
from dialer.windows import zones_from_key

FIRST_CONTACTS = 10


@dataclass(frozen=True)
class PreviewContact:
    """A contact as it will be dialed."""

    row: int
    phone: str
    extension: str | None
    timezones: tuple[str, ...]
    number_type: str
    variables: dict[str, str]


@dataclass(frozen=True)
class ImportPreview:
    campaign: str
    rows_read: int
    accepted: int
    rejected: Counter[str]
    phone_column: str
    contacts: list[PreviewContact]
    estimate: str


def preview_import(
    engine: Engine, settings: Settings, spec: CampaignSpec, *, workdir: Path, now: datetime
) -> ImportPreview:
    """Import ``spec`` into a scratch ledger in ``workdir`` and describe the result.

    Raises what ``import_campaign`` would (InputError, CsvError, TemplateError, ConfigError),
    and CampaignError when the name is taken in the real ledger (previews are of new
    campaigns: an append is refused).
    """
    if spec.append:
        raise InputError("a preview is of a new campaign: leave out append")
    times = parse_times(spec, settings)
    with Session(engine) as session:
        try:
            ledger_campaigns.get_campaign(session, name=spec.name)
        except UnknownCampaign:
            pass
        else:
            raise CampaignError(f"campaign {spec.name!r} already exists")
        do_not_call = ledger_contacts.suppressed_phones(session, campaign_id=None)
    scratch = make_engine(f"sqlite:///{workdir / 'preview.db'}")
    try:
        SQLModel.metadata.create_all(scratch)
        if do_not_call:
            with Session(scratch) as session:
                ledger_contacts.add_suppressions(
                    session, phones=do_not_call, source="the server's do-not-call list", now=now
                )
                session.commit()
        scratch_spec = replace(spec, rejects_path=workdir / "preview-rejects.csv")
        summary = import_campaign(scratch, settings, scratch_spec, now=now)
        with Session(scratch) as session:
            campaign = ledger_campaigns.get_campaign(session, name=spec.name)
            assert campaign.id is not None
            first = list(
                session.exec(
                    select(Contact)
                    .where(col(Contact.campaign_id) == campaign.id)
                    .order_by(col(Contact.row))
                    .limit(FIRST_CONTACTS)
                )
            )
            pending = ledger_campaigns.zone_key_counts(
                session, campaign_id=campaign.id, states=[ContactState.PENDING]
            )
    finally:
        scratch.dispose()
    leads = open_leads(
        spec.csv_path, phone_column=spec.phone_column, country_column=spec.country_column
    )
    contacts = [
        PreviewContact(
            row=contact.row,
            phone=contact.phone,
            extension=contact.extension,
            timezones=zones_from_key(contact.zone_key, times.timezone),
            number_type=contact.number_type,
            variables={key: str(value) for key, value in contact.variables.items()},
        )
        for contact in first
    ]
    estimate = estimate_finish(
        pending_by_zone_key=pending,
        window=times.window,
        fallback_zone=times.timezone,
        rate_per_second=settings.account(spec.account).rate_per_second,
        now=now,
        start=times.start_at,
        end=times.end_at,
    )
    return ImportPreview(
        campaign=spec.name,
        rows_read=summary.rows_read,
        accepted=summary.accepted,
        rejected=summary.rejected,
        phone_column=leads.phone_column,
        contacts=contacts,
        estimate=estimate.message,
    )
