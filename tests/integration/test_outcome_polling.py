"""Outcome polling over real HTTP against the sandbox: the adapters' status readers, then
``poll_outcomes`` writing outcomes into the ledger. What each kind of status answer does to
a round, and re-calls driven by the runner, run in process in tests/unit/test_polling.py
and tests/unit/test_runner.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from campaigns.export import export_rows
from dialer.errors import AccountBroken
from dialer.ledger.engine import utcnow
from dialer.outcomes import Outcome
from dialer.polling import poll_outcomes
from dialer.providers import build_provider
from dialer.providers.base import CallRequest
from dialer.service import CallService
from dialer.wiring import build_service
from tests.outcome_support import (
    accounts,
    attempts,
    dial_all,
    make_campaign,
    outcome_settings,
    sandbox_calls,
)
from tests.sandbox_fixture import SandboxControl

BUSY, NO_ANSWER, FINE = "+12125550101", "+12125550102", "+12125550103"


@pytest.fixture
def sandbox(sandbox_url: str) -> Iterator[SandboxControl]:
    """The sandbox with calls that end at once, two numbers that do not answer normally, and
    no webhooks (so every outcome here comes from polling)."""
    with SandboxControl(sandbox_url) as control:
        control.configure(
            call_duration_ms=0,
            webhooks=False,
            outcomes={BUSY: "busy", NO_ANSWER: "no-answer"},
        )
        yield control


@pytest.fixture
def dialer_for(
    engine: Engine, database_url: str, sandbox: SandboxControl
) -> Iterator[Callable[..., CallService]]:
    made: list[CallService] = []

    def make(**extra: object) -> CallService:
        made.append(build_service(outcome_settings(database_url, sandbox.url, **extra), engine))
        return made[-1]

    yield make
    for dialer in made:
        dialer.providers.close()


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("allomia", {BUSY: Outcome.BUSY, NO_ANSWER: Outcome.NO_ANSWER, FINE: Outcome.COMPLETED}),
        ("polyai", {BUSY: Outcome.FAILED, NO_ANSWER: Outcome.FAILED, FINE: Outcome.COMPLETED}),
        ("sandbox", {BUSY: Outcome.BUSY, NO_ANSWER: Outcome.NO_ANSWER, FINE: Outcome.COMPLETED}),
    ],
)
def test_adapters_poll_the_sandbox_status_endpoints(
    sandbox: SandboxControl, kind: str, expected: dict[str, Outcome]
) -> None:
    account = accounts(sandbox.url)[kind]
    with httpx.Client(timeout=5) as client:
        adapter = build_provider(account, client)
        for phone, outcome in expected.items():
            placed = adapter.place(CallRequest(attempt_key="k", campaign="c", phone=phone))
            assert placed.provider_call_id is not None
            found = adapter.poll(placed.provider_call_id)
            assert found is not None
            assert (found.outcome, found.provider_call_id) == (outcome, placed.provider_call_id)
            assert found.payload["status"]
        assert adapter.poll("no-such-call") is None
        sandbox.configure(call_duration_ms=60_000)
        ringing = adapter.place(CallRequest(attempt_key="k", campaign="c", phone=FINE))
        assert ringing.provider_call_id is not None
        assert adapter.poll(ringing.provider_call_id) is None
    assert sum(sandbox_calls(sandbox.url, "/", method="GET").values()) == len(expected) + 2


@pytest.mark.parametrize("kind", ["allomia", "polyai"])
def test_a_refused_credential_on_a_status_poll_is_account_broken(
    sandbox: SandboxControl, kind: str
) -> None:
    account = accounts(sandbox.url)[kind]
    with httpx.Client(timeout=5) as client:
        placed = build_provider(account, client).place(
            CallRequest(attempt_key="k", campaign="c", phone=FINE)
        )
        secret = {"allomia": "api_key", "polyai": "token"}[kind]
        broken = build_provider(account.model_copy(update={secret: SecretStr("bad")}), client)
        assert placed.provider_call_id is not None
        with pytest.raises(AccountBroken):
            broken.poll(placed.provider_call_id)


def test_poll_outcomes_records_every_final_outcome_once(
    engine: Engine, dialer_for: Callable[..., CallService], sandbox: SandboxControl, tmp_path: Path
) -> None:
    dialer = dialer_for()
    phones = [BUSY, NO_ANSWER, FINE]
    make_campaign(engine, dialer.settings, tmp_path, phones, name="poly", account="polyai")
    make_campaign(engine, dialer.settings, tmp_path, phones, name="allo", account="allomia")
    dial_all(dialer)
    sandbox.clear()

    assert poll_outcomes(dialer, utcnow()) == 6
    assert sum(sandbox_calls(sandbox.url, "/", method="GET").values()) == 6

    poly = {a.phone: a for a in attempts(engine, "poly")}
    assert {p: a.outcome for p, a in poly.items()} == {
        BUSY: "failed",
        NO_ANSWER: "failed",
        FINE: "completed",
    }
    assert poly[FINE].outcome_payload == {
        "call_sid": poly[FINE].provider_call_id,
        "status": "success",
    }
    allo = {a.phone: a for a in attempts(engine, "allo")}
    assert {p: a.outcome for p, a in allo.items()} == {
        BUSY: "busy",
        NO_ANSWER: "no-answer",
        FINE: "completed",
    }
    assert allo[BUSY].outcome_payload is not None
    assert allo[BUSY].outcome_payload["outboundCallId"] == allo[BUSY].provider_call_id
    assert all(a.outcome_at is not None for a in [*poly.values(), *allo.values()])

    rows = list(export_rows(engine, "allo"))
    header = rows[0]
    status = {row[header.index("phone")]: row[header.index("status")] for row in rows[1:]}
    assert status == {BUSY: "busy", NO_ANSWER: "no-answer", FINE: "completed"}

    sandbox.clear()
    assert poll_outcomes(dialer, utcnow()) == 0
    assert sandbox_calls(sandbox.url, "/", method="GET") == {}


def test_calls_past_the_providers_retention_are_not_polled(
    engine: Engine, dialer_for: Callable[..., CallService], sandbox: SandboxControl, tmp_path: Path
) -> None:
    dialer = dialer_for()
    make_campaign(engine, dialer.settings, tmp_path, [FINE], name="poly", account="polyai")
    make_campaign(engine, dialer.settings, tmp_path, [FINE], name="allo", account="allomia")
    dial_all(dialer)
    sandbox.clear()

    # Three hours on: PolyAI (2 h) has forgotten its call; AlloMia (assumed 24 h) has not.
    assert poll_outcomes(dialer, utcnow() + timedelta(hours=3)) == 1
    polled = sandbox_calls(sandbox.url, "/", method="GET")
    assert list(polled) == [f"/api/outbound/{attempts(engine, 'allo')[0].provider_call_id}"]
    assert attempts(engine, "poly")[0].outcome is None
