"""``dialer.ledger.outcomes`` on SQLite and Postgres, over attempts really placed at the sandbox:
recording once, re-calling within the campaign's limits, finding attempts, listing polls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from campaigns.export import export_rows
from dialer.ledger import campaigns as ledger_campaigns
from dialer.ledger import outcomes as ledger_outcomes
from dialer.ledger.engine import session_scope, utcnow
from dialer.ledger.outcomes import Recorded
from dialer.models import Attempt, Campaign, CampaignStatus, Contact
from dialer.outcomes import Outcome
from dialer.service import CallService
from dialer.wiring import build_service
from tests.outcome_support import attempts, dial_all, make_campaign, outcome_settings, snapshot
from tests.sandbox_fixture import SandboxControl

PHONE, OTHER = "+12125550111", "+12125550112"
PAYLOAD = {"status": "no-answer", "note": "raw"}


@pytest.fixture
def dialer(engine: Engine, database_url: str, sandbox_url: str) -> Iterator[CallService]:
    with SandboxControl(sandbox_url) as control:
        control.configure(call_duration_ms=3_600_000, webhooks=False)
    made = build_service(outcome_settings(database_url, sandbox_url), engine)
    yield made
    made.providers.close()


def _placed(
    engine: Engine, dialer: CallService, tmp_path: Path, name: str = "spring", **options: Any
) -> list[Attempt]:
    """Dial PHONE and OTHER in a new campaign; their attempts, PHONE's first."""
    phones = [PHONE, OTHER]
    make_campaign(
        engine, dialer.settings, tmp_path, phones, name=name, account="sandbox", **options
    )
    dial_all(dialer)
    return sorted(attempts(engine, name), key=lambda attempt: (attempt.phone, attempt.id))


def _record(engine: Engine, attempt: Attempt, outcome: Outcome, now: datetime) -> Recorded:
    assert attempt.id is not None
    with session_scope(engine) as session:
        return ledger_outcomes.record_outcome(
            session, attempt_id=attempt.id, outcome=outcome, payload=PAYLOAD, now=now
        )


def _contact(engine: Engine, attempt: Attempt) -> Contact:
    with session_scope(engine) as session:
        found = session.get(Contact, attempt.contact_id)
        assert found is not None
        return found


def _campaign(engine: Engine, name: str = "spring") -> Campaign:
    with session_scope(engine) as session:
        return ledger_campaigns.get_campaign(session, name=name)


def test_an_outcome_is_recorded_once_on_attempt_and_contact(
    engine: Engine, dialer: CallService, tmp_path: Path
) -> None:
    first, _ = _placed(engine, dialer, tmp_path)
    now = utcnow()
    assert _record(engine, first, Outcome.COMPLETED, now) is Recorded.RECORDED
    stored = next(a for a in attempts(engine, "spring") if a.id == first.id)
    assert (stored.outcome, stored.outcome_payload, stored.outcome_at) == (
        "completed",
        PAYLOAD,
        now,
    )
    contact = _contact(engine, first)
    assert (contact.state, contact.outcome) == ("placed", "completed")

    before = snapshot(engine)
    assert _record(engine, first, Outcome.FAILED, utcnow()) is Recorded.DUPLICATE
    assert snapshot(engine) == before


def test_no_answer_goes_back_to_pending_after_the_wait_and_reopens_the_campaign(
    engine: Engine, dialer: CallService, tmp_path: Path
) -> None:
    first, _ = _placed(engine, dialer, tmp_path, max_attempts=2, retry_after="10m")
    assert _campaign(engine).status == CampaignStatus.COMPLETED
    now = utcnow()
    assert _record(engine, first, Outcome.NO_ANSWER, now) is Recorded.RECALLED
    contact = _contact(engine, first)
    assert (contact.state, contact.outcome) == ("pending", "no-answer")
    assert contact.next_attempt_at == now + timedelta(minutes=10)
    campaign = _campaign(engine)
    assert campaign.status == CampaignStatus.RUNNING
    assert "reopened" in campaign.status_reason

    header, *rows = export_rows(engine, "spring")
    row = next(dict(zip(header, r, strict=True)) for r in rows if r[1] == first.phone)
    assert (row["status"], row["outcome"], row["attempts"]) == ("pending", "no-answer", 1)


def test_recalls_stop_at_max_attempts_placed_calls(
    engine: Engine, dialer: CallService, tmp_path: Path
) -> None:
    first, _ = _placed(engine, dialer, tmp_path, max_attempts=2, retry_after="10m")
    # Reported long ago, so the re-call is due now and the runner dials it again.
    assert _record(engine, first, Outcome.BUSY, utcnow() - timedelta(hours=1)) is Recorded.RECALLED
    dial_all(dialer)
    made = [a for a in attempts(engine, "spring") if a.contact_id == first.contact_id]
    assert [a.result for a in made] == ["placed", "placed"]
    assert _record(engine, made[1], Outcome.NO_ANSWER, utcnow()) is Recorded.RECORDED
    contact = _contact(engine, first)
    assert (contact.state, contact.outcome, contact.attempts) == ("placed", "no-answer", 2)


@pytest.mark.parametrize("case", ["one attempt", "cancelled", "ends first", "completed call"])
def test_no_recall_when_the_campaign_does_not_allow_one(
    engine: Engine, dialer: CallService, tmp_path: Path, case: str
) -> None:
    options: dict[str, object] = {"max_attempts": 2, "retry_after": "2h"}
    if case == "one attempt":
        options = {}
    first, _ = _placed(engine, dialer, tmp_path, **options)
    outcome = Outcome.COMPLETED if case == "completed call" else Outcome.NO_ANSWER
    if case == "cancelled":
        with session_scope(engine) as session:
            ledger_campaigns.set_status(
                session,
                campaign_id=first.campaign_id,
                expected=[CampaignStatus.COMPLETED],
                new=CampaignStatus.CANCELLED,
                now=utcnow(),
            )
    if case == "ends first":
        with session_scope(engine) as session:
            campaign = session.get(Campaign, first.campaign_id)
            assert campaign is not None
            campaign.end_at = utcnow() + timedelta(hours=1)
    assert _record(engine, first, outcome, utcnow()) is Recorded.RECORDED
    assert _contact(engine, first).state == "placed"


def test_an_outcome_proves_an_unknown_call_was_placed(
    engine: Engine, dialer: CallService, tmp_path: Path, sandbox_url: str
) -> None:
    with SandboxControl(sandbox_url) as control:
        control.add_rule(PHONE, "drop")
    first, _ = _placed(engine, dialer, tmp_path)
    assert (first.phone, first.result) == (PHONE, "unknown")
    assert _record(engine, first, Outcome.COMPLETED, utcnow()) is Recorded.RECORDED
    stored = next(a for a in attempts(engine, "spring") if a.id == first.id)
    contact = _contact(engine, first)
    assert (stored.result, contact.state, contact.outcome, contact.last_error) == (
        "placed",
        "placed",
        "completed",
        "",
    )


def test_an_attempt_that_placed_nothing_takes_no_outcome(
    engine: Engine, dialer: CallService, tmp_path: Path, sandbox_url: str
) -> None:
    with SandboxControl(sandbox_url) as control:
        control.add_rule(PHONE, "400")
    first, _ = _placed(engine, dialer, tmp_path)
    assert first.result == "failed"
    before = snapshot(engine)
    assert _record(engine, first, Outcome.COMPLETED, utcnow()) is Recorded.NOT_PLACED
    assert snapshot(engine) == before


def test_attempts_are_found_by_key_or_call_id_within_their_campaign_only(
    engine: Engine, dialer: CallService, tmp_path: Path
) -> None:
    first, _ = _placed(engine, dialer, tmp_path)
    (other, _) = _placed(engine, dialer, tmp_path, name="autumn")
    with session_scope(engine) as session:

        def find(campaign: int, key: str | None, call: str | None) -> int | None:
            found = ledger_outcomes.find_attempt(
                session, campaign_id=campaign, attempt_key=key, provider_call_id=call
            )
            return None if found is None else found.id

        cid = first.campaign_id
        assert find(cid, first.key, None) == first.id
        assert find(cid, None, first.provider_call_id) == first.id
        assert find(cid, first.key, "whatever") == first.id
        assert find(other.campaign_id, first.key, first.provider_call_id) is None
        assert find(cid, None, None) is None
        assert find(cid, "\x00", "x" * 500) is None


def test_campaigns_are_found_by_their_callback_token_only(
    engine: Engine, dialer: CallService, tmp_path: Path
) -> None:
    campaign = make_campaign(
        engine, dialer.settings, tmp_path, [PHONE], name="s", account="sandbox"
    )
    token = campaign.callback_token
    with session_scope(engine) as session:
        found = ledger_outcomes.campaign_for_token(session, token=token)
        assert found is not None and found.id == campaign.id
        for wrong in ("", token[:-1] + ("A" if token[-1] != "A" else "B"), token[:10], "\x00" * 32):
            assert ledger_outcomes.campaign_for_token(session, token=wrong) is None


def test_attempts_to_poll_are_placed_unreported_within_the_window_oldest_first(
    engine: Engine, dialer: CallService, tmp_path: Path
) -> None:
    first, second = sorted(_placed(engine, dialer, tmp_path), key=lambda attempt: attempt.id or 0)
    now = utcnow()

    def ids(**windows: datetime) -> list[int]:
        with session_scope(engine) as session:
            targets = ledger_outcomes.attempts_to_poll(session, started_after=windows, limit=10)
        return [t.attempt_id for t in targets]

    assert ids(sandbox=now - timedelta(hours=1)) == [first.id, second.id]
    assert ids(sandbox=now + timedelta(seconds=1)) == []
    assert ids(allomia=now - timedelta(hours=1)) == []
    with session_scope(engine) as session:
        window = {"sandbox": now - timedelta(hours=1)}
        page = ledger_outcomes.attempts_to_poll(
            session, started_after=window, after_id=first.id or 0, limit=1
        )
    assert [(t.attempt_id, t.account, t.provider_call_id) for t in page] == [
        (second.id, "sandbox", second.provider_call_id)
    ]
    _record(engine, first, Outcome.COMPLETED, now)
    assert ids(sandbox=now - timedelta(hours=1)) == [second.id]
