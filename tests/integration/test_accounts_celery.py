"""A campaign over two accounts under Celery: two workers and beat over a private Redis, a
Postgres ledger, one sandbox per account. An outage of one account (longer than the test)
with --failover: the list finishes on the other account, no number called twice; without
--failover: the other account's contacts are all called and the down account's wait.
Counted at the sandboxes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from procs import (
    Processes,
    SandboxControl,
    free_port,
    phones,
    wait_beat_ready,
    wait_until,
    wait_worker_ready,
    write_leads,
)
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import col

from campaigns import lifecycle
from campaigns.importer import import_campaign
from campaigns.spec import CampaignSpec
from dialer import split
from dialer.ledger.engine import session_scope, utcnow
from dialer.models import Contact
from dialer.settings import load_settings

pytestmark = [
    pytest.mark.slow,
    pytest.mark.redis,
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]

SHARES = split.parse_shares(["main=70", "trial=30"])
COUNT = 60


@pytest.fixture
def deployment(
    tmp_path: Path, database_url: str, engine: Engine
) -> Iterator[tuple[Processes, SandboxControl, SandboxControl]]:
    """Redis, two sandboxes (main, trial) and the dialer.toml every process reads."""
    port = free_port()
    env = {
        "DIALER_DATABASE_URL": database_url,
        "DIALER_BROKER_URL": f"redis://127.0.0.1:{port}/0",
    }
    with Processes(tmp_path, env) as procs:
        procs.redis(port)
        _, main_url = procs.sandbox()
        _, trial_url = procs.sandbox()
        lines = ["tick_seconds = 0.5", "queued_timeout = 3", "dialing_timeout = 5"]
        for name, url in (("main", main_url), ("trial", trial_url)):
            lines += [
                f"[accounts.{name}]",
                'provider = "sandbox"',
                f"base_url = {json.dumps(url)}",
                'rate = "50/s"',
                "max_attempts = 3",
                "backoff_seconds = 0.2",
            ]
        config = tmp_path / "dialer.toml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        procs.env["DIALER_CONFIG"] = str(config)
        main, trial = SandboxControl(main_url), SandboxControl(trial_url)
        try:
            yield procs, main, trial
        finally:
            main.close()
            trial.close()


def _start(procs: Processes, engine: Engine, *, failover: bool) -> list[str]:
    numbers = phones(COUNT)
    settings = load_settings(Path(procs.env["DIALER_CONFIG"]), env=procs.env)
    spec = CampaignSpec(
        name="split",
        account="main",
        shares=SHARES,
        failover=failover,
        csv_path=write_leads(procs.workdir / "leads.csv", numbers),
        rejects_path=procs.workdir / "rejects.csv",
        window="00:00-24:00",
        days="all",
    )
    assert import_campaign(engine, settings, spec, now=utcnow()).accepted == COUNT
    lifecycle.change(engine, "split", "start", now=utcnow())
    workers = [procs.start_worker(f"w{i}", concurrency=8) for i in (1, 2)]
    beat = procs.start_beat()  # with the workers: each takes a second or more to import
    for worker in workers:
        wait_worker_ready(worker)
    wait_beat_ready(beat)
    return numbers


def _contacts(engine: Engine) -> dict[str, tuple[str, str | None, str]]:
    """phone -> (state, account, weighted account)."""
    with session_scope(engine) as session:
        rows = session.execute(
            select(col(Contact.phone), col(Contact.state), col(Contact.account), col(Contact.id))
        ).all()
    return {p: (s, a, split.weighted_account(SHARES, i or 0)) for p, s, a, i in rows}


def _placed(sandbox: SandboxControl) -> Counter[str]:
    return Counter(str(r["phone"]) for r in sandbox.requests() if r["status"] == 200)


def test_failover_under_celery_finishes_on_the_other_account(
    deployment: tuple[Processes, SandboxControl, SandboxControl], engine: Engine
) -> None:
    procs, main, trial = deployment
    main.outage(600)
    numbers = _start(procs, engine, failover=True)
    wait_until(
        lambda: {s for s, _a, _w in _contacts(engine).values()} == {"placed"},
        timeout=90,
        what=lambda: (
            f"every contact placed (now {Counter(s for s, _a, _w in _contacts(engine).values())})"
        ),
        every=0.25,
    )
    contacts = _contacts(engine)
    assert {a for _s, a, _w in contacts.values()} == {"trial"}
    assert _placed(trial) == dict.fromkeys(numbers, 1)
    assert _placed(main) == {}


def test_without_failover_under_celery_the_down_accounts_contacts_wait(
    deployment: tuple[Processes, SandboxControl, SandboxControl], engine: Engine
) -> None:
    procs, main, trial = deployment
    main.outage(600)
    numbers = _start(procs, engine, failover=False)
    contacts = _contacts(engine)
    theirs = {p for p, (_s, _a, w) in contacts.items() if w == "trial"}
    wait_until(
        lambda: _placed(trial) == dict.fromkeys(theirs, 1),
        timeout=90,
        what=lambda: f"the trial account's {len(theirs)} contacts placed",
        every=0.25,
    )
    contacts = _contacts(engine)
    assert {contacts[p][0] for p in numbers if p not in theirs} == {"pending"}
    assert _placed(main) == {}
    assert _placed(trial) == dict.fromkeys(theirs, 1)
