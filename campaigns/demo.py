"""The demo: a whole campaign, end to end, on the embedded defaults against the sandbox.

SQLite ledger, no Redis, the in-process runner, and a sandbox server started here. A few
numbers are told to fail the way real providers do, so the demo shows every path: a 503 and a
429 retried after the provider's Retry-After, a 400 that fails for good, and a connection
dropped after sending that ends ``unknown`` (never redialed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine

from campaigns import lifecycle
from campaigns.export import export_to_file
from campaigns.importer import ImportSummary, import_campaign
from campaigns.spec import CampaignSpec
from campaigns.status import CampaignReport, campaign_report
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger.campaigns import get_campaign
from dialer.ledger.engine import make_engine, migrate, session_scope, utcnow
from dialer.private import private_dir
from dialer.runner import EmbeddedRunner, Progress
from dialer.sandbox import SandboxServer
from dialer.settings import AccountConfig, Settings
from dialer.templates import MessageTemplates
from dialer.wiring import build_service

DEMO_CAMPAIGN = "demo"
FAULTS: tuple[dict[str, str | int], ...] = (
    {"action": "503", "times": 1, "retry_after": "1"},
    {"action": "429", "times": 2, "retry_after": "1"},
    {"action": "400"},
    {"action": "drop"},
)


@dataclass(frozen=True)
class DemoResult:
    summary: ImportSummary
    report: CampaignReport
    export_path: Path
    requests_by_phone: Counter[str]


def run_demo(workdir: Path, *, on_progress: Callable[[Progress], None] | None = None) -> DemoResult:
    """Run the demo campaign in ``workdir`` (its ledger is recreated). Returns what happened."""
    private_dir(workdir)
    database = workdir / "demo.db"
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    with SandboxServer() as sandbox, httpx.Client(base_url=sandbox.url) as control:
        settings = Settings(
            database_url=f"sqlite:///{database}",
            accounts={
                "sandbox": AccountConfig(
                    name="sandbox", provider="sandbox", base_url=sandbox.url, rate="20/s"
                )
            },
        )
        engine = make_engine(settings.database_url)
        migrate(engine)
        with as_file(files("campaigns") / "demo_leads.csv") as leads:
            spec = CampaignSpec(
                name=DEMO_CAMPAIGN,
                account="sandbox",
                csv_path=leads,
                rejects_path=workdir / "demo-rejects.csv",
                # Open all day, every day, so the demo works at any hour.
                window="00:00-24:00",
                days="all",
                templates=MessageTemplates(
                    intro=(
                        "Hi {first_name}, this is Libby from Acme Fitness about your visit "
                        "to {location}."
                    ),
                    voicemail=(
                        "Hi {first_name}, sorry we missed you. Call Acme Fitness back any time."
                    ),
                ),
            )
            summary = import_campaign(engine, settings, spec, now=utcnow())
        _inject_faults(engine, control)
        lifecycle.change(engine, DEMO_CAMPAIGN, "start", now=utcnow())
        EmbeddedRunner(build_service(settings, engine), [DEMO_CAMPAIGN], threads=8).run(
            drain=True, on_progress=on_progress
        )
        seen = control.get("/_sandbox/requests").json()
        report = campaign_report(engine, settings, DEMO_CAMPAIGN, now=utcnow())
        export_path = workdir / "demo-export.csv"
        export_to_file(engine, DEMO_CAMPAIGN, export_path)
        engine.dispose()
    records = seen if isinstance(seen, list) else seen.get("requests", [])
    return DemoResult(
        summary=summary,
        report=report,
        export_path=export_path,
        requests_by_phone=Counter(r["phone"] for r in records if r.get("phone")),
    )


def _inject_faults(engine: Engine, control: httpx.Client) -> None:
    """Tell the sandbox to misbehave for the first few contacts of the campaign."""
    with session_scope(engine) as session:
        campaign = get_campaign(session, name=DEMO_CAMPAIGN)
        assert campaign.id is not None
        contacts = ledger_contacts.iter_contacts(session, campaign_id=campaign.id)
        phones = [contact.phone for contact, _ in zip(contacts, FAULTS, strict=False)]
    for phone, fault in zip(phones, FAULTS, strict=False):
        control.post("/_sandbox/rules", json={"phone": phone, **fault}).raise_for_status()
