"""A provider's documented answer for a number that cannot be called lists the number for
good (source ``provider``, the provider's words as the reason), and no campaign calls it
again: against the sandbox, for every provider kind, on SQLite and Postgres."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from campaigns import lifecycle
from campaigns.importer import import_campaign
from campaigns.spec import CampaignSpec
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import contacts as ledger_contacts
from dialer.ledger import counts as ledger_counts
from dialer.ledger import dispatch as ledger_dispatch
from dialer.ledger.engine import session_scope, utcnow
from dialer.models import Contact
from dialer.providers import PROVIDERS
from dialer.runner import EmbeddedRunner
from dialer.settings import AccountConfig, Settings
from dialer.templates import MessageTemplates
from dialer.wiring import build_service
from tests.integration.test_every_provider import ACCOUNTS, ROUTE_PATHS, TEMPLATES

BAD = "+12125552671"
GOOD = "+12125552672"
WORDS = {
    "allomia": "Invalid request data (phoneNumber: Phone number must be at least 10 digits)",
    "polyai": "Invalid request parameters: unparseable to_number",
    "sandbox": "to: number not in service",
}
"""What each provider that documents a bad-number error says, as the reason shows it."""


def _settings(kind: str, database_url: str, sandbox_url: str) -> Settings:
    fields: dict[str, object] = {"name": "acct", "provider": kind, "base_url": sandbox_url}
    if kind == "libby-legacy":
        fields["token_url"] = f"{sandbox_url}/oauth2/token"
    account = AccountConfig.model_validate({**fields, **ACCOUNTS[kind]})
    # Both campaigns hold the same numbers and drain at once: without the minimum gap between
    # calls to one number (tested in test_recalls.py), which would put the second off an hour.
    return Settings(
        database_url=database_url,
        accounts={"acct": account},
        tick_seconds=0.1,
        min_call_gap=timedelta(0),
    )


def _create(engine: Engine, settings: Settings, kind: str, name: str, tmp_path: Path) -> None:
    leads = tmp_path / f"{name}.csv"
    leads.write_text(f"First Name,Phone\nAnn,{BAD}\nBob,{GOOD}\n", encoding="utf-8")
    spec = CampaignSpec(
        name=name,
        account="acct",
        csv_path=leads,
        rejects_path=tmp_path / f"{name}-rejects.csv",
        window="00:00-24:00",
        days="all",
        templates=TEMPLATES.get(kind, MessageTemplates()),
    )
    assert import_campaign(engine, settings, spec, now=utcnow()).accepted == 2


def _contacts(engine: Engine, name: str) -> dict[str, Contact]:
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        return {c.phone: c for c in ledger_contacts.iter_contacts(session, campaign_id=campaign.id)}


def _state_counts(engine: Engine, name: str) -> dict[str, int]:
    with session_scope(engine) as session:
        campaign = ledger_campaigns.get_campaign(session, name=name)
        assert campaign.id is not None
        found = ledger_counts.counts(session, campaign_ids=[campaign.id])
    totals: dict[str, int] = {}
    for (_campaign, state, _zone, _outcome), n in found.items():
        totals[state] = totals.get(state, 0) + n
    return totals


@pytest.mark.parametrize("kind", sorted(ACCOUNTS))
def test_a_bad_number_answer_lists_the_number_and_no_campaign_calls_it_again(
    kind: str, engine: Engine, database_url: str, sandbox_url: str, tmp_path: Path
) -> None:
    settings = _settings(kind, database_url, sandbox_url)
    _create(engine, settings, kind, "first", tmp_path)
    _create(engine, settings, kind, "second", tmp_path)
    httpx.post(
        f"{sandbox_url}/_sandbox/rules", json={"phone": BAD, "action": "invalid-number"}
    ).raise_for_status()
    lifecycle.change(engine, "first", "start", now=utcnow())
    EmbeddedRunner(build_service(settings, engine), threads=2).run(drain=True)

    first = _contacts(engine, "first")
    assert first[GOOD].state == "placed"
    assert first[BAD].state == "failed"
    with session_scope(engine) as session:
        listed = ledger_contacts.list_suppressions(session, source="provider")
    documented = bool(PROVIDERS[kind].capabilities.bad_numbers)
    if not documented:
        # Its document names no such error: a plain rejection, nothing is listed.
        assert listed == []
        assert not first[BAD].last_error.startswith("bad number")
        return
    assert first[BAD].last_error == f"bad number: {kind}: HTTP 400: {WORDS[kind]}"
    assert [(row.phone, row.source) for row in listed] == [(BAD, "provider")]
    assert listed[0].reason == f"{kind}: HTTP 400: {WORDS[kind]}"
    # The second campaign's contact with that number was cancelled when it was listed.
    second = _contacts(engine, "second")
    assert (second[BAD].state, second[BAD].last_error) == (
        "cancelled",
        "suppressed (do-not-call list)",
    )
    assert _state_counts(engine, "second") == {"pending": 1, "cancelled": 1}

    lifecycle.change(engine, "second", "start", now=utcnow())
    EmbeddedRunner(build_service(settings, engine), threads=2).run(drain=True)
    calls = httpx.get(f"{sandbox_url}/_sandbox/requests").json()
    dialed = [r["phone"] for r in calls if r["path"] == ROUTE_PATHS[kind]]
    assert sorted(dialed) == sorted([BAD, GOOD, GOOD])
    assert _contacts(engine, "second")[GOOD].state == "placed"
    assert _state_counts(engine, "second") == {"placed": 1, "cancelled": 1}


def test_a_number_listed_as_bad_is_never_dialed_and_keeps_its_first_reason(
    engine: Engine, database_url: str, sandbox_url: str, tmp_path: Path
) -> None:
    settings = _settings("sandbox", database_url, sandbox_url)
    _create(engine, settings, "sandbox", "first", tmp_path)
    with session_scope(engine) as session:
        ledger_dispatch.list_bad_numbers(
            session, reasons={BAD: "sandbox: HTTP 400: to: number not in service"}, now=utcnow()
        )
        # A second listing of the same number keeps the first entry.
        assert ledger_dispatch.list_bad_numbers(session, reasons={BAD: "again"}, now=utcnow()) == 0
    lifecycle.change(engine, "first", "start", now=utcnow())
    EmbeddedRunner(build_service(settings, engine), threads=2).run(drain=True)
    calls = httpx.get(f"{sandbox_url}/_sandbox/requests").json()
    assert [r["phone"] for r in calls if r["path"] == "/sandbox/call"] == [GOOD]
    with session_scope(engine) as session:
        (row,) = ledger_contacts.list_suppressions(session, source="provider")
    assert row.reason == "sandbox: HTTP 400: to: number not in service"
