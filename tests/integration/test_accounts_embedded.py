"""A campaign over two accounts in embedded mode, against two sandboxes over real HTTP
(SQLite and Postgres): the weighted split (200 contacts here, 2,000 in
tests/unit/test_split.py), an outage of one account with and without --failover, counted at
the sandboxes; and the comparison.

Each account has its own sandbox server, so an outage (``POST /_sandbox/outage``) takes down
one account only. The outage outlasts the test: with --failover the list must finish on the
other account alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from campaigns import lifecycle
from campaigns.compare import compare
from campaigns.export import export_rows
from campaigns.importer import import_campaign
from campaigns.spec import CampaignSpec
from campaigns.status import campaign_report
from dialer import split
from dialer.ledger.engine import session_scope, utcnow
from dialer.models import Attempt, Contact
from dialer.sandbox import SandboxServer
from dialer.settings import AccountConfig, Settings
from dialer.wiring import build_service
from tests.draining import drain

SHARES = split.parse_shares(["main=70", "trial=30"])


@pytest.fixture
def trial_url() -> Iterator[str]:
    """A second sandbox, the ``trial`` account's provider."""
    with SandboxServer() as server:
        yield server.url


def _settings(database_url: str, main_url: str, trial_url: str, **main: object) -> Settings:
    def account(name: str, url: str, **more: object) -> AccountConfig:
        return AccountConfig.model_validate(
            {
                "name": name,
                "provider": "sandbox",
                "base_url": url,
                "rate": "400/s",
                "timeout": 2,
                "max_attempts": 3,
                "backoff_seconds": 0.2,
                **more,
            }
        )

    return Settings(
        database_url=database_url,
        accounts={
            "main": account("main", main_url, **main),
            "trial": account("trial", trial_url),
        },
        tick_seconds=0.1,
        poll_seconds=0.2,
    )


def _campaign(
    engine: Engine,
    settings: Settings,
    tmp_path: Path,
    count: int,
    *,
    failover: bool,
    name: str = "split",
    shares: tuple[split.Share, ...] = SHARES,
    first: int = 0,
) -> list[str]:
    phones = [f"+1212{200 + i // 10_000:03d}{i % 10_000:04d}" for i in range(first, first + count)]
    leads = tmp_path / f"{name}.csv"
    leads.write_text("phone\n" + "".join(f"{p}\n" for p in phones), encoding="utf-8")
    spec = CampaignSpec(
        name=name,
        account=shares[0].account,
        shares=shares if len(shares) > 1 else (),
        failover=failover,
        csv_path=leads,
        rejects_path=tmp_path / f"{name}-rejects.csv",
        window="00:00-24:00",
        days="all",
    )
    assert import_campaign(engine, settings, spec, now=utcnow()).accepted == count
    lifecycle.change(engine, name, "start", now=utcnow())
    return phones


def _placed(url: str) -> Counter[str]:
    records = httpx.get(f"{url}/_sandbox/requests").json()
    return Counter(r["phone"] for r in records if r["phone"] and r["status"] == 200)


def _contacts(engine: Engine) -> list[Contact]:
    with session_scope(engine) as session:
        return list(session.exec(select(Contact).order_by(col(Contact.id))).all())


def _run(engine: Engine, settings: Settings, *, timeout: float) -> None:
    service = build_service(settings, engine)
    try:
        drain(service, threads=8, timeout=timeout, poll_seconds=0.2)
    finally:
        service.close()


def test_contacts_split_by_weight_and_keep_their_account(
    engine: Engine, database_url: str, sandbox_url: str, trial_url: str, tmp_path: Path
) -> None:
    settings = _settings(database_url, sandbox_url, trial_url)
    phones = _campaign(engine, settings, tmp_path, 200, failover=False)
    _run(engine, settings, timeout=90)

    contacts = _contacts(engine)
    assert {c.state for c in contacts} == {"placed"}
    by_account = Counter(c.account for c in contacts)
    assert abs(by_account["main"] / 200 - 0.7) <= 0.03
    assert abs(by_account["trial"] / 200 - 0.3) <= 0.03
    # Each contact on its weighted account, called once, where the ledger says.
    assert all(c.account == split.weighted_account(SHARES, c.id or 0) for c in contacts)
    main, trial = _placed(sandbox_url), _placed(trial_url)
    assert main + trial == dict.fromkeys(phones, 1)
    assert set(main) == {c.phone for c in contacts if c.account == "main"}
    with session_scope(engine) as session:
        attempts = session.exec(select(col(Attempt.account))).all()
    assert Counter(attempts) == by_account

    header, *rows = list(export_rows(engine, "split"))
    assert header[12] == "account"
    assert Counter(row[12] for row in rows) == by_account
    found = compare(engine, "split")
    assert [(a.account, a.contacts, a.placed) for a in found.accounts] == [
        ("main", by_account["main"], by_account["main"]),
        ("trial", by_account["trial"], by_account["trial"]),
    ]
    assert found.accounts[0].median_latency_ms is not None
    assert found.accounts[1].difference is not None


def test_failover_finishes_the_list_on_the_other_account_during_an_outage(
    engine: Engine, database_url: str, sandbox_url: str, trial_url: str, tmp_path: Path
) -> None:
    settings = _settings(database_url, sandbox_url, trial_url)
    phones = _campaign(engine, settings, tmp_path, 40, failover=True)
    httpx.post(f"{sandbox_url}/_sandbox/outage", json={"seconds": 600}).raise_for_status()
    _run(engine, settings, timeout=60)

    contacts = _contacts(engine)
    assert {c.state for c in contacts} == {"placed"}
    assert {c.account for c in contacts} == {"trial"}
    # No number called twice, and none placed by the account that was down.
    assert _placed(trial_url) == dict.fromkeys(phones, 1)
    assert _placed(sandbox_url) == {}
    moved = sum(split.weighted_account(SHARES, c.id or 0) == "main" for c in contacts)
    report = campaign_report(engine, settings, "split", now=utcnow())
    assert report.status == "completed"
    assert moved > 0 and report.reassigned >= moved
    assert f"reassigned {report.reassigned}" in report.accounts_line()


def test_without_failover_the_down_accounts_contacts_wait(
    engine: Engine, database_url: str, sandbox_url: str, trial_url: str, tmp_path: Path
) -> None:
    settings = _settings(database_url, sandbox_url, trial_url)
    phones = _campaign(engine, settings, tmp_path, 40, failover=False)
    httpx.post(f"{sandbox_url}/_sandbox/outage", json={"seconds": 600}).raise_for_status()
    # The drain cannot end while contacts wait for the account: stopped after a while.
    _run(engine, settings, timeout=8)

    contacts = _contacts(engine)
    weighted = {c.phone: split.weighted_account(SHARES, c.id or 0) for c in contacts}
    states = {c.phone: c.state for c in contacts}
    assert {states[p] for p in phones if weighted[p] == "trial"} == {"placed"}
    assert {states[p] for p in phones if weighted[p] == "main"} == {"pending"}
    assert _placed(trial_url) == {p: 1 for p in phones if weighted[p] == "trial"}
    assert _placed(sandbox_url) == {}
    assert campaign_report(engine, settings, "split", now=utcnow()).reassigned == 0


def test_an_accounts_cap_holds_across_the_campaigns_that_share_it(
    engine: Engine, database_url: str, sandbox_url: str, trial_url: str, tmp_path: Path
) -> None:
    config = {"max_concurrent_calls": 2, "call_duration_ms": 300}
    httpx.post(f"{sandbox_url}/_sandbox/config", json=config).raise_for_status()
    settings = _settings(database_url, sandbox_url, trial_url, concurrent_calls=2)
    phones = _campaign(engine, settings, tmp_path, 16, failover=False)
    solo = split.parse_shares(["main"])
    phones += _campaign(
        engine, settings, tmp_path, 8, failover=False, name="solo", shares=solo, first=100
    )
    _run(engine, settings, timeout=60)

    assert {c.state for c in _contacts(engine)} == {"placed"}
    assert _placed(sandbox_url) + _placed(trial_url) == dict.fromkeys(phones, 1)
    load = httpx.get(f"{sandbox_url}/_sandbox/load").json()
    # Counted at main's sandbox: never more than its 2 places, and not one refusal.
    assert load["refused"] == {} and load["most"] == {"sandbox": 2}
