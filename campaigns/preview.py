"""``dialer campaign create --dry-run`` and ``POST /campaigns/preview``: an import read,
normalized and reported, with nothing written to the ledger.

The file goes through the same plan and pipeline as a real import (``plan_import``,
``split_chunks``), checked against what the ledger holds now (the do-not-call lists; on
``--append`` the campaign's numbers), so its summary is what ``create`` would report.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from campaigns.importer import ImportPlan, ImportSummary, plan_import
from campaigns.spec import CampaignSpec
from dialer.feasibility import estimate_finish
from dialer.leads.rejects import RejectsWriter, rejects_file
from dialer.leads.seen import SeenNumbers
from dialer.leads.stream import SplitChunk
from dialer.ledger.imports import numbers_known
from dialer.settings import Settings
from dialer.windows import zones_from_key


@dataclass(frozen=True)
class PreviewContact:
    """A contact as it would be dialed: its source ``row``, E.164 ``phone`` (and
    ``extension``), the ``timezones`` its calling window is checked in, its ``number_type``
    and its lead ``variables``."""

    row: int
    phone: str
    extension: str | None
    timezones: tuple[str, ...]
    number_type: str
    variables: dict[str, str]


@dataclass
class ImportPreview:
    """What an import would do: its ``summary`` (rows read, accepted, rejected by reason, the
    phone columns used), its first ``contacts`` and the ``estimate`` of when the campaign
    would finish (or why it cannot)."""

    summary: ImportSummary
    contacts: list[PreviewContact] = field(default_factory=list)
    estimate: str = ""

    def to_json(self) -> dict[str, Any]:
        summary = self.summary
        return {
            "campaign": summary.campaign,
            "appended": summary.appended,
            "rows_read": summary.rows_read,
            "accepted": summary.accepted,
            "rejected": summary.rejected_total,
            "rejected_by_reason": dict(summary.rejected.most_common()),
            "phone_columns": summary.phone_columns,
            "contacts": [
                {**contact.__dict__, "timezones": list(contact.timezones)}
                for contact in self.contacts
            ],
            "estimate": self.estimate,
        }


def preview_import(
    settings: Settings,
    spec: CampaignSpec,
    *,
    now: datetime,
    engine: Engine | None = None,
    sample: int = 10,
    rejects: Path | None = None,
    chunksize: int = 16_000,
) -> ImportPreview:
    """Read, normalize and check ``spec``'s file as ``import_campaign`` would, writing nothing
    to the ledger; the rejects go to ``rejects`` only when it is given. The estimate is of
    the new contacts alone, from ``now``.

    With ``engine``, the ledger is read: the do-not-call lists, and the campaign's numbers
    and state on ``spec.append`` (or that its name is free). Raises what ``import_campaign``
    raises for the same spec.
    """
    plan = plan_import(settings, spec)
    seen = SeenNumbers()
    suppressed: set[str] = set()
    if engine is not None:
        seen, suppressed = numbers_known(
            engine, name=spec.name, account=spec.account, append=spec.append
        )
    preview = ImportPreview(summary=plan.summary(spec))
    preview.summary.rejects_path = rejects
    zone_keys: Counter[str] = Counter()
    with (
        _rejects(rejects) as out,
        plan.chunks(
            spec, seen=seen, suppressed=suppressed | plan.listed, chunksize=chunksize
        ) as chunks,
    ):
        for chunk in chunks:
            if out is not None:
                out.write(chunk.rejects)
            preview.summary.add(chunk)
            zone_keys.update(chunk.contacts["zone_key"].tolist())
            preview.contacts += _sample(chunk, plan, sample - len(preview.contacts))
    preview.estimate = estimate_finish(
        pending_by_zone_key=zone_keys,
        window=plan.times.window,
        fallback_zone=plan.times.timezone,
        rate_per_second=settings.account(spec.account).rate_per_second,
        now=now,
        start=plan.times.start_at,
        end=plan.times.end_at,
    ).message
    return preview


@contextmanager
def _rejects(path: Path | None) -> Iterator[RejectsWriter | None]:
    if path is None:
        yield None
        return
    with rejects_file(path) as writer:
        yield writer


def _sample(chunk: SplitChunk, plan: ImportPlan, count: int) -> list[PreviewContact]:
    if count <= 0:
        return []
    rows = chunk.contacts.head(count)
    return [
        PreviewContact(
            row=int(row),
            phone=phone,
            # A missing extension comes out of pandas as NaN.
            extension=extension if isinstance(extension, str) else None,
            timezones=zones_from_key(zone_key, plan.times.timezone),
            number_type=number_type,
            variables=json.loads(variables),
        )
        for row, phone, extension, zone_key, number_type, variables in zip(
            rows["row"].tolist(),
            rows["phone"].tolist(),
            rows["extension"].tolist(),
            rows["zone_key"].tolist(),
            rows["number_type"].tolist(),
            rows["variables"].tolist(),
            strict=True,
        )
    ]
