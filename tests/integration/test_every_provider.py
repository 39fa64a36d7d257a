"""Create a one-contact campaign and dispatch it, for every provider kind, against the sandbox."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from campaigns import lifecycle
from campaigns.importer import import_campaign
from campaigns.spec import CampaignSpec
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger.engine import session_scope, utcnow
from dialer.runner import EmbeddedRunner
from dialer.settings import AccountConfig, Settings
from dialer.templates import MessageTemplates
from dialer.wiring import build_service

PHONE = "+12125552671"
ACCOUNTS: dict[str, dict[str, object]] = {
    "libby": {"api_key": "lk-1", "agent_id": "agent-1"},
    "libby-legacy": {"client_id": "cid", "client_secret": "cs-1", "from_number": "+12125550000"},
    "allomia": {"api_key": "ak-1", "assistant_id": "as-1", "phone_number_id": "pn-1"},
    "trillet": {"workspace_id": "ws-1", "agent_id": "ag-1"},
    "polyai": {"token": "pt-1"},
    "sandbox": {},
}
TEMPLATES = {
    "libby": MessageTemplates(intro="Hi {first_name}", voicemail="Sorry we missed you"),
    "libby-legacy": MessageTemplates(intro_notes="Gym follow-up for {first_name}"),
}
ROUTE_PATHS = {
    "libby": "/api/v1/outbound/call",
    "libby-legacy": "/outbound",
    "allomia": "/api/outbound",
    "trillet": "/v1/api/call",
    "polyai": "/v1/outbound-calling",
    "sandbox": "/sandbox/call",
}


@pytest.mark.parametrize("kind", sorted(ACCOUNTS))
def test_one_contact_campaign_is_placed(
    kind: str, engine: Engine, database_url: str, sandbox_url: str, tmp_path: Path
) -> None:
    fields: dict[str, object] = {"name": "acct", "provider": kind, "base_url": sandbox_url}
    if kind == "libby-legacy":
        fields["token_url"] = f"{sandbox_url}/oauth2/token"
    account = AccountConfig.model_validate({**fields, **ACCOUNTS[kind]})
    settings = Settings(database_url=database_url, accounts={"acct": account}, tick_seconds=0.1)
    leads = tmp_path / "leads.csv"
    leads.write_text(
        f"First Name,Last Name,Phone,Goal\nAnn,Lee,{PHONE},strength\n", encoding="utf-8"
    )
    spec = CampaignSpec(
        name="one",
        account="acct",
        csv_path=leads,
        rejects_path=tmp_path / "rejects.csv",
        window="00:00-24:00",
        days="all",
        templates=TEMPLATES.get(kind, MessageTemplates()),
    )
    assert import_campaign(engine, settings, spec, now=utcnow()).accepted == 1
    lifecycle.change(engine, "one", "start", now=utcnow())
    dialer = build_service(settings, engine)
    EmbeddedRunner(dialer, threads=2).run(drain=True)

    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name="one")
        assert campaign.id is not None
        (contact,) = ledger_contacts.iter_contacts(session, campaign_id=campaign.id)
    assert (contact.state, contact.attempts, contact.last_error) == ("placed", 1, "")
    if kind in ("libby", "libby-legacy"):
        assert contact.provider_call_id is None  # they return none: the attempt key correlates
    else:
        assert contact.provider_call_id
    records = httpx.get(f"{sandbox_url}/_sandbox/requests").json()
    calls = [r for r in records if r["path"] == ROUTE_PATHS[kind]]
    assert len(calls) == 1 and calls[0]["phone"] == PHONE
    assert campaign.status == "completed"
